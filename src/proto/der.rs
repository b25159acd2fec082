//! A small, bounded DER reader (ITU-T X.690 clause 8 and 10) for the authentication layers:
//! CredSSP TSRequest (MS-CSSP 2.2.1), SPNEGO (RFC 4178 4.2) and Kerberos (RFC 4120 5).
//!
//! Values are slices of the input: a length field never sizes an allocation. Nesting is
//! limited to [`MAX_DEPTH`] and every SEQUENCE OF to the cap its caller gives, so hostile
//! input costs at most linear time and a bounded amount of memory.

use std::fmt;

use nom::bytes::complete::take;
use nom::number::complete::be_u8;
use nom::IResult;

use super::ProtoError;

/// Deepest nesting of constructed values a reader descends into. Kerberos messages inside
/// SPNEGO inside CredSSP reach about 14 levels (an AP-REQ ticket's principal name).
pub const MAX_DEPTH: u8 = 24;

/// Widest length field accepted (X.690 8.1.3.5): 4 bytes, values up to 4 GiB, far above
/// anything a capture holds; the value must also fit in the input.
const MAX_LENGTH_OCTETS: usize = 4;

/// X.690 8.1.2.2 tag class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Universal,
    Application,
    Context,
    Private,
}

/// An identifier octet (X.690 8.1.2): class, primitive/constructed and tag number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub class: Class,
    pub constructed: bool,
    pub number: u32,
}

impl Tag {
    pub const BOOLEAN: Tag = Tag::universal(1, false);
    pub const INTEGER: Tag = Tag::universal(2, false);
    pub const BIT_STRING: Tag = Tag::universal(3, false);
    pub const OCTET_STRING: Tag = Tag::universal(4, false);
    pub const OID: Tag = Tag::universal(6, false);
    pub const ENUMERATED: Tag = Tag::universal(10, false);
    pub const SEQUENCE: Tag = Tag::universal(16, true);
    pub const GENERALIZED_TIME: Tag = Tag::universal(24, false);
    pub const GENERAL_STRING: Tag = Tag::universal(27, false);

    pub const fn universal(number: u32, constructed: bool) -> Tag {
        Tag {
            class: Class::Universal,
            constructed,
            number,
        }
    }

    /// `[n]` EXPLICIT: a constructed context-specific tag.
    pub const fn context(number: u32) -> Tag {
        Tag {
            class: Class::Context,
            constructed: true,
            number,
        }
    }

    /// `[APPLICATION n]`, constructed (Kerberos messages, the GSS-API token).
    pub const fn application(number: u32) -> Tag {
        Tag {
            class: Class::Application,
            constructed: true,
            number,
        }
    }
}

/// One decoded element: its tag, its contents and where the contents start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: Tag,
    pub value: &'a [u8],
    /// Offset of `value` from the start of the outermost input.
    pub offset: usize,
    layer: &'static str,
}

/// A cursor over the elements of one constructed value (or of a whole message).
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    input: &'a [u8],
    offset: usize,
    depth: u8,
    layer: &'static str,
}

fn identifier(input: &[u8]) -> IResult<&[u8], Tag> {
    let (mut rest, first) = be_u8(input)?;
    let class = match first >> 6 {
        0 => Class::Universal,
        1 => Class::Application,
        2 => Class::Context,
        _ => Class::Private,
    };
    let constructed = first & 0x20 != 0;
    let mut number = u32::from(first & 0x1f);
    if number == 0x1f {
        // High tag number form (X.690 8.1.2.4): base-128, at most 4 octets here.
        number = 0;
        for _ in 0..4 {
            let (r, b) = be_u8(rest)?;
            rest = r;
            number = (number << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                return Ok((
                    rest,
                    Tag {
                        class,
                        constructed,
                        number,
                    },
                ));
            }
        }
        return Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::TooLarge,
        )));
    }
    Ok((
        rest,
        Tag {
            class,
            constructed,
            number,
        },
    ))
}

/// Definite length (X.690 8.1.3); the indefinite form (0x80) is not DER and is refused.
fn length(input: &[u8]) -> IResult<&[u8], usize> {
    let (rest, first) = be_u8(input)?;
    if first & 0x80 == 0 {
        return Ok((rest, usize::from(first)));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > MAX_LENGTH_OCTETS {
        return Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::LengthValue,
        )));
    }
    let (rest, bytes) = take(n)(rest)?;
    let len = bytes
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Ok((rest, len))
}

impl<'a> Reader<'a> {
    /// A reader over a whole message; `layer` names the protocol in errors.
    pub fn new(layer: &'static str, input: &'a [u8]) -> Self {
        Reader {
            input,
            offset: 0,
            depth: 0,
            layer,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.input
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The tag of the next element, without consuming it.
    pub fn peek_tag(&self) -> Option<Tag> {
        identifier(self.input).ok().map(|(_, t)| t)
    }

    /// Reads the next element, whatever its tag.
    pub fn read(&mut self, field: &'static str) -> Result<Tlv<'a>, ProtoError> {
        let truncated = || ProtoError::truncated(self.layer, field, self.offset);
        let (after_id, tag) = identifier(self.input).map_err(|_| truncated())?;
        let (after_len, len) = length(after_id).map_err(|e| match e {
            nom::Err::Error(err) if err.code == nom::error::ErrorKind::LengthValue => {
                ProtoError::invalid(self.layer, field, self.offset, "not a DER definite length")
            }
            _ => truncated(),
        })?;
        let header = self.input.len() - after_len.len();
        let (rest, value) =
            take::<_, _, nom::error::Error<&[u8]>>(len)(after_len).map_err(|_| truncated())?;
        let tlv = Tlv {
            tag,
            value,
            offset: self.offset + header,
            layer: self.layer,
        };
        self.offset += header + len;
        self.input = rest;
        Ok(tlv)
    }

    /// Reads the next element and checks its tag.
    pub fn expect(&mut self, tag: Tag, field: &'static str) -> Result<Tlv<'a>, ProtoError> {
        let at = self.offset;
        let tlv = self.read(field)?;
        if tlv.tag != tag {
            return Err(ProtoError::invalid(
                self.layer,
                field,
                at,
                format!("expected {tag:?}, found {:?}", tlv.tag),
            ));
        }
        Ok(tlv)
    }

    /// A reader over the contents of a constructed element, one level deeper.
    pub fn enter(&self, tlv: &Tlv<'a>, field: &'static str) -> Result<Reader<'a>, ProtoError> {
        if !tlv.tag.constructed {
            return Err(ProtoError::invalid(
                self.layer,
                field,
                tlv.offset,
                "primitive where a constructed value is required",
            ));
        }
        if self.depth >= MAX_DEPTH {
            return Err(ProtoError::invalid(
                self.layer,
                field,
                tlv.offset,
                format!("nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(Reader {
            input: tlv.value,
            offset: tlv.offset,
            depth: self.depth + 1,
            layer: self.layer,
        })
    }

    /// Reads an element with this constructed tag and returns a reader over its contents.
    pub fn constructed(&mut self, tag: Tag, field: &'static str) -> Result<Reader<'a>, ProtoError> {
        let tlv = self.expect(tag, field)?;
        self.enter(&tlv, field)
    }

    /// `SEQUENCE { ... }`: a reader over its fields.
    pub fn sequence(&mut self, field: &'static str) -> Result<Reader<'a>, ProtoError> {
        self.constructed(Tag::SEQUENCE, field)
    }

    /// An OPTIONAL `[n] EXPLICIT` field: a reader over what it wraps, or None when the next
    /// element has another tag (a later field, or the end).
    pub fn optional(
        &mut self,
        n: u32,
        field: &'static str,
    ) -> Result<Option<Reader<'a>>, ProtoError> {
        if self.peek_tag() != Some(Tag::context(n)) {
            return Ok(None);
        }
        self.constructed(Tag::context(n), field).map(Some)
    }

    /// A required `[n] EXPLICIT` field.
    pub fn field(&mut self, n: u32, field: &'static str) -> Result<Reader<'a>, ProtoError> {
        match self.optional(n, field)? {
            Some(r) => Ok(r),
            None if self.is_empty() => Err(ProtoError::truncated(self.layer, field, self.offset)),
            None => Err(ProtoError::invalid(
                self.layer,
                field,
                self.offset,
                format!("missing [{n}], found {:?}", self.peek_tag()),
            )),
        }
    }

    /// `SEQUENCE OF`: the elements read by `each`, refused past `cap` elements. The vector
    /// grows only with elements present in the input.
    pub fn sequence_of<T>(
        &mut self,
        field: &'static str,
        cap: usize,
        mut each: impl FnMut(&mut Reader<'a>) -> Result<T, ProtoError>,
    ) -> Result<Vec<T>, ProtoError> {
        let mut inner = self.sequence(field)?;
        let mut out = Vec::new();
        while !inner.is_empty() {
            if out.len() >= cap {
                return Err(ProtoError::invalid(
                    self.layer,
                    field,
                    inner.offset,
                    format!("more than {cap} elements"),
                ));
            }
            out.push(each(&mut inner)?);
        }
        Ok(out)
    }

    /// Skips any elements left (extensions after the known fields).
    pub fn skip_rest(&mut self) {
        self.offset += self.input.len();
        self.input = &[];
    }

    pub fn integer(&mut self, field: &'static str) -> Result<i64, ProtoError> {
        self.expect(Tag::INTEGER, field)?.as_i64(field)
    }

    pub fn octet_string(&mut self, field: &'static str) -> Result<&'a [u8], ProtoError> {
        Ok(self.expect(Tag::OCTET_STRING, field)?.value)
    }

    pub fn general_string(&mut self, field: &'static str) -> Result<&'a str, ProtoError> {
        self.expect(Tag::GENERAL_STRING, field)?.as_str(field)
    }

    pub fn oid(&mut self, field: &'static str) -> Result<Oid<'a>, ProtoError> {
        let tlv = self.expect(Tag::OID, field)?;
        tlv.as_oid(field)
    }
}

impl<'a> Tlv<'a> {
    fn invalid(&self, field: &'static str, reason: &str) -> ProtoError {
        ProtoError::invalid(self.layer, field, self.offset, reason.to_string())
    }

    /// INTEGER or ENUMERATED (X.690 8.3) that fits in 64 bits, two's complement.
    pub fn as_i64(&self, field: &'static str) -> Result<i64, ProtoError> {
        let first = match self.value.first() {
            Some(b) => *b,
            None => return Err(self.invalid(field, "empty INTEGER")),
        };
        if self.value.len() > 8 {
            return Err(self.invalid(field, "INTEGER wider than 64 bits"));
        }
        let init: i64 = if first & 0x80 != 0 { -1 } else { 0 };
        Ok(self
            .value
            .iter()
            .fold(init, |acc, b| (acc << 8) | i64::from(*b)))
    }

    /// A non-negative INTEGER of any width (serial numbers, nonces): its magnitude without
    /// the leading zero octet.
    pub fn as_unsigned_bytes(&self, field: &'static str) -> Result<&'a [u8], ProtoError> {
        match self.value {
            [] => Err(self.invalid(field, "empty INTEGER")),
            [b, ..] if b & 0x80 != 0 => Err(self.invalid(field, "negative INTEGER")),
            [0, rest @ ..] if !rest.is_empty() => Ok(rest),
            v => Ok(v),
        }
    }

    /// BIT STRING (X.690 8.6): unused bits in the last octet, and the octets.
    pub fn as_bit_string(&self, field: &'static str) -> Result<(u8, &'a [u8]), ProtoError> {
        match self.value {
            [unused, bits @ ..] if *unused < 8 && (*unused == 0 || !bits.is_empty()) => {
                Ok((*unused, bits))
            }
            _ => Err(self.invalid(field, "malformed BIT STRING")),
        }
    }

    /// A string type whose contents must be UTF-8 (Kerberos GeneralString is IA5 in
    /// practice, RFC 4120 5.2.1).
    pub fn as_str(&self, field: &'static str) -> Result<&'a str, ProtoError> {
        std::str::from_utf8(self.value).map_err(|_| self.invalid(field, "not UTF-8 text"))
    }

    pub fn as_time(&self, field: &'static str) -> Result<GeneralizedTime, ProtoError> {
        GeneralizedTime::parse(self.value).ok_or_else(|| self.invalid(field, "not YYYYMMDDHHMMSSZ"))
    }

    pub fn as_oid(&self, field: &'static str) -> Result<Oid<'a>, ProtoError> {
        // Each arc ends with an octet whose top bit is clear (X.690 8.19.2).
        match self.value.last() {
            Some(b) if b & 0x80 == 0 => Ok(Oid(self.value)),
            _ => Err(self.invalid(field, "malformed OBJECT IDENTIFIER")),
        }
    }
}

/// KerberosTime (RFC 4120 5.2.3): GeneralizedTime `YYYYMMDDHHMMSSZ`, UTC, no fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct GeneralizedTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl GeneralizedTime {
    fn parse(b: &[u8]) -> Option<Self> {
        // Windows and MIT both send exactly 15 octets; a fraction (X.680 46.2) is tolerated.
        let (digits, _) = b.split_at_checked(14)?;
        if b.last() != Some(&b'Z') || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let num = |from: usize, to: usize| {
            digits
                .get(from..to)
                .map(|d| d.iter().fold(0u16, |a, c| a * 10 + u16::from(c - b'0')))
        };
        let small = |from, to| num(from, to).and_then(|v| u8::try_from(v).ok());
        let t = GeneralizedTime {
            year: num(0, 4)?,
            month: small(4, 6)?,
            day: small(6, 8)?,
            hour: small(8, 10)?,
            minute: small(10, 12)?,
            second: small(12, 14)?,
        };
        let valid = (1..=12).contains(&t.month)
            && (1..=31).contains(&t.day)
            && t.hour < 24
            && t.minute < 60
            && t.second <= 60;
        valid.then_some(t)
    }

    /// Seconds since 1970-01-01 UTC (proleptic Gregorian calendar).
    pub fn unix_seconds(&self) -> i64 {
        // Days from civil (Howard Hinnant's algorithm), with March as the first month.
        let (y, m) = if self.month <= 2 {
            (i64::from(self.year) - 1, i64::from(self.month) + 9)
        } else {
            (i64::from(self.year), i64::from(self.month) - 3)
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

/// An OBJECT IDENTIFIER as its content octets; compared with the constants of the layers
/// above and shown in dotted form.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Oid<'a>(pub &'a [u8]);

impl Oid<'_> {
    /// The arcs, or None if one does not fit in 64 bits.
    fn arcs(&self) -> Option<Vec<u64>> {
        let mut arcs = Vec::new();
        let mut acc: u64 = 0;
        for b in self.0 {
            acc = acc.checked_mul(128)? | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                if arcs.is_empty() {
                    let first = (acc / 40).min(2);
                    arcs.push(first);
                    arcs.push(acc - first * 40);
                } else {
                    arcs.push(acc);
                }
                acc = 0;
            }
        }
        Some(arcs)
    }
}

impl fmt::Display for Oid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.arcs() {
            Some(arcs) => {
                let dotted: Vec<String> = arcs.iter().map(u64::to_string).collect();
                f.write_str(&dotted.join("."))
            }
            None => write!(f, "oid:{}", hex(self.0)),
        }
    }
}

impl fmt::Debug for Oid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::hex as unhex;

    #[test]
    fn synthetic_lengths_short_long_and_refused() {
        let mut r = Reader::new("t", &[0x04, 0x02, 0xaa, 0xbb, 0x04, 0x81, 0x01, 0xcc]);
        assert_eq!(r.octet_string("a").unwrap(), &[0xaa, 0xbb]);
        assert_eq!(r.octet_string("b").unwrap(), &[0xcc]);
        assert!(r.is_empty());
        // Indefinite length, a 5-octet length, a length past the end.
        for bad in [
            &[0x30, 0x80, 0, 0][..],
            &[0x04, 0x85, 1, 0, 0, 0, 0],
            &[0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0],
        ] {
            assert!(Reader::new("t", bad).read("x").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn synthetic_integers_and_oids() {
        let i = |b: &[u8]| Reader::new("t", b).integer("i").unwrap();
        assert_eq!(i(&[0x02, 0x01, 0x06]), 6);
        assert_eq!(i(&[0x02, 0x01, 0xff]), -1);
        assert_eq!(
            i(&[0x02, 0x04, 0x80, 0x09, 0x03, 0x02]),
            0x8009_0302u32 as i32 as i64
        );
        assert!(Reader::new("t", &[0x02, 0x00]).integer("i").is_err());
        let oid = unhex("06092a864882f712010202");
        assert_eq!(
            Reader::new("t", &oid).oid("o").unwrap().to_string(),
            "1.2.840.48018.1.2.2"
        );
    }

    #[test]
    fn synthetic_depth_is_capped() {
        // 40 nested SEQUENCEs.
        let mut v: Vec<u8> = Vec::new();
        for _ in 0..40 {
            let mut outer = vec![0x30, v.len() as u8];
            outer.extend_from_slice(&v);
            v = outer;
        }
        let mut r = Reader::new("t", &v);
        let mut depth = 0;
        let err = loop {
            match r.sequence("s") {
                Ok(inner) => {
                    r = inner;
                    depth += 1;
                }
                Err(e) => break e,
            }
        };
        assert_eq!(depth, MAX_DEPTH as usize);
        assert!(err.to_string().contains("deeper"), "{err}");
    }

    #[test]
    fn synthetic_time_to_unix() {
        let t = GeneralizedTime::parse(b"20240506201013Z").unwrap();
        assert_eq!(t.unix_seconds(), 1_715_026_213);
        assert!(GeneralizedTime::parse(b"20241306201013Z").is_none());
    }
}
