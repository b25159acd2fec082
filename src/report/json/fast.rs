//! A serde `Serializer` that writes compact JSON straight into a byte vector, byte for byte
//! what `serde_json::to_writer` writes (RFC 8259; the same escapes, integer and float
//! forms), only faster on the `--json` hot path: a string is checked for characters to
//! escape eight bytes at a time and copied in one piece when it has none (most have none),
//! and nothing goes through `io::Write`. The DTOs in `report::json` stay the contract; this
//! only changes how they are written. Anything this writer does not know how to write (a map
//! key that is not a string or a number) is an error, and the caller falls back to serde_json.

use serde::ser::{self, Serialize};

mod map_key;
#[cfg(test)]
mod tests;

use map_key::MapKey;

/// Why a value could not be written here (the caller then uses serde_json).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FastJsonError(String);

impl ser::Error for FastJsonError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        FastJsonError(msg.to_string())
    }
}

pub(super) type Result<T = ()> = std::result::Result<T, FastJsonError>;

/// Appends the compact JSON of `value` to `out`. On an error `out` may hold part of it.
pub fn append<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result {
    value.serialize(&mut Writer { out })
}

pub(super) struct Writer<'a> {
    pub(super) out: &'a mut Vec<u8>,
}

/// Bytes a JSON string cannot hold as they are (RFC 8259 section 7): controls, quote,
/// backslash. The same set serde_json escapes.
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether any of the eight bytes in `w` needs an escape (SWAR: a byte below 0x20, or equal
/// to `"` or `\`, sets its high bit in the result).
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    below_space | has_zero(w ^ (ONES * u64::from(b'"'))) | has_zero(w ^ (ONES * u64::from(b'\\')))
        != 0
}

/// Offset of the first byte of `s` that needs an escape, checking whole words first.
fn first_escape(s: &[u8]) -> Option<usize> {
    let mut at = 0;
    let mut words = s.chunks_exact(8);
    for chunk in words.by_ref() {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        if word_needs_escape(w) {
            break;
        }
        at += 8;
    }
    s.get(at..)?
        .iter()
        .position(|b| needs_escape(*b))
        .map(|i| at + i)
}

pub(super) fn escape_into(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut rest = s.as_bytes();
    while let Some(i) = first_escape(rest) {
        let (clean, tail) = rest.split_at(i);
        out.extend_from_slice(clean);
        let Some((&b, tail)) = tail.split_first() else {
            break;
        };
        push_escape(out, b);
        rest = tail;
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// One escaped byte, in the form serde_json writes it (short escapes where JSON has one,
/// else `\u00xx` in lower-case hex).
fn push_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match b {
        b'"' => Some(b'"'),
        b'\\' => Some(b'\\'),
        0x08 => Some(b'b'),
        0x0C => Some(b'f'),
        b'\n' => Some(b'n'),
        b'\r' => Some(b'r'),
        b'\t' => Some(b't'),
        _ => None,
    };
    match short {
        Some(c) => out.extend_from_slice(&[b'\\', c]),
        None => {
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 0xF)).copied().unwrap_or(b'0');
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hi, lo]);
        }
    }
}

impl Writer<'_> {
    pub(super) fn int(&mut self, v: impl itoa::Integer) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// `,"key":` (no comma before the first): one reservation for the whole of it, as a
    /// line has a couple of hundred keys.
    fn key(&mut self, first: bool, key: &'static str) {
        debug_assert!(first_escape(key.as_bytes()).is_none(), "{key}");
        self.out.reserve(key.len() + 4);
        if !first {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// A field or variant name from a derive: a Rust identifier or a `rename` of one, so
    /// never a byte to escape (the tests' debug builds check it). Written without the scan.
    fn name(&mut self, name: &'static str) {
        debug_assert!(first_escape(name.as_bytes()).is_none(), "{name}");
        self.out.reserve(name.len() + 3);
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'"');
    }
}

/// An array or object being written: whether the next item is its first.
pub struct Compound<'w, 'a> {
    w: &'w mut Writer<'a>,
    first: bool,
    /// Brackets still to close after the items (`]`, `}`, or `}}` for a variant).
    close: &'static [u8],
}

impl Compound<'_, '_> {
    fn comma(&mut self) {
        if !self.first {
            self.w.out.push(b',');
        }
        self.first = false;
    }

    fn end(self) -> Result {
        self.w.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = FastJsonError;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.int(v);
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.int(v);
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.int(v);
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.int(v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result {
        self.int(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.int(v);
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.int(v);
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.int(v);
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.int(v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result {
        self.int(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result {
        if v.is_finite() {
            self.out
                .extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
        } else {
            self.out.extend_from_slice(b"null");
        }
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result {
        if v.is_finite() {
            self.out
                .extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
        } else {
            self.out.extend_from_slice(b"null");
        }
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        escape_into(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result {
        escape_into(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Result {
        self.name(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.out.push(b'{');
        self.key(true, variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'w, 'a>> {
        self.out.push(b'[');
        Ok(Compound {
            w: self,
            first: true,
            close: b"]",
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'w, 'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'w, 'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>> {
        self.out.push(b'{');
        self.key(true, variant);
        self.out.push(b'[');
        Ok(Compound {
            w: self,
            first: true,
            close: b"]}",
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'w, 'a>> {
        self.out.push(b'{');
        Ok(Compound {
            w: self,
            first: true,
            close: b"}",
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'w, 'a>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>> {
        self.out.push(b'{');
        self.key(true, variant);
        self.out.push(b'{');
        Ok(Compound {
            w: self,
            first: true,
            close: b"}}",
        })
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = FastJsonError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.comma();
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = FastJsonError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = FastJsonError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = FastJsonError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = FastJsonError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.comma();
        key.serialize(MapKey { w: &mut *self.w })?;
        self.w.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = FastJsonError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.w.key(self.first, key);
        self.first = false;
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = FastJsonError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}
