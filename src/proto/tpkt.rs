//! TPKT (RFC 1006 / T.123 section 8): the 4-byte header in front of every slow-path PDU.

use nom::number::complete::{be_u16, u8 as byte};
use nom::IResult;

use super::{Framing, ProtoError};

pub const HEADER_LEN: usize = 4;
/// FreeRDP rejects anything shorter: header plus the smallest X.224 TPDU.
pub const MIN_LEN: usize = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TpktHeader {
    pub version: u8,
    pub length: u16,
}

fn header(i: &[u8]) -> IResult<&[u8], TpktHeader> {
    let (i, version) = byte(i)?;
    let (i, _reserved) = byte(i)?;
    let (i, length) = be_u16(i)?;
    Ok((i, TpktHeader { version, length }))
}

/// How long the TPKT at the front of `buf` is, from its header alone.
pub fn find_size(buf: &[u8]) -> Framing {
    match buf {
        [] | [0x03] | [0x03, 0x00] | [0x03, 0x00, _] => Framing::NeedMore(HEADER_LEN - buf.len()),
        [0x03, 0x00, hi, lo, ..] => {
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            if len < MIN_LEN {
                Framing::Invalid
            } else if buf.len() >= len {
                Framing::Complete(len)
            } else {
                Framing::NeedMore(len - buf.len())
            }
        }
        _ => Framing::Invalid,
    }
}

/// Splits one whole TPKT into its header and payload (what follows the 4 header bytes).
pub fn parse_tpkt(buf: &[u8]) -> Result<(TpktHeader, &[u8]), ProtoError> {
    let (rest, h) = header(buf).map_err(|_| ProtoError::truncated("tpkt", "header", 0))?;
    if h.version != 3 {
        return Err(ProtoError::invalid(
            "tpkt",
            "version",
            0,
            format!("{} (expected 3)", h.version),
        ));
    }
    let len = usize::from(h.length);
    if len < MIN_LEN {
        return Err(ProtoError::invalid(
            "tpkt",
            "length",
            2,
            format!("{len} is below {MIN_LEN}"),
        ));
    }
    let payload = rest
        .get(..len - HEADER_LEN)
        .ok_or_else(|| ProtoError::truncated("tpkt", "payload", HEADER_LEN))?;
    Ok((h, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::proto::test_util::hex;

    /// zeek_zeek/rdp-to-ssl.pcap frame 4: X.224 CR; TPKT length 0x002f at offset 2.
    const CR: &str = "0300002f2ae00000000000436f6f6b69653a206d737473686173683d4157414b45434f44490d0a0100080003000000";

    #[test]
    fn frames_a_real_connection_request() {
        let cr = hex(CR);
        assert_eq!(find_size(&cr), Framing::Complete(47));
        assert_eq!(find_size(&cr[..10]), Framing::NeedMore(37));
        assert_eq!(find_size(&cr[..2]), Framing::NeedMore(2));
        let (h, payload) = parse_tpkt(&cr).unwrap();
        assert_eq!(
            h,
            TpktHeader {
                version: 3,
                length: 47
            }
        );
        assert_eq!(payload.len(), 43);
        assert_eq!(payload[1], 0xe0);
    }

    #[test]
    fn rejects_bad_versions_and_lengths() {
        assert_eq!(find_size(&[0x04, 0, 0, 9]), Framing::Invalid);
        assert_eq!(find_size(&[0x03, 0, 0, 3]), Framing::Invalid);
        assert!(parse_tpkt(&[0x03, 0, 0, 9, 1]).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..64), cut in 0usize..47) {
            let _ = find_size(&data);
            let _ = parse_tpkt(&data);
            let _ = parse_tpkt(&hex(CR)[..cut]);
        }
    }
}
