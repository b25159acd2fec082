//! Fast-path PDUs (BCGR 2.2.8.1.2, 2.2.9.1.2): header-only framing. They only appear once a
//! Standard RDP Security session reached steady state; with TLS they are inside the tunnel.

use nom::number::complete::u8 as byte;

use super::wire::{field, run, Parsed, WireError};
use super::{Framing, ProtoError};

/// Largest fast-path PDU the spec allows.
pub const MAX_LEN: usize = 0x8000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FastPathHeader {
    /// 0 = fast-path (3 would be X.224, i.e. a TPKT).
    pub action: u8,
    /// For input PDUs: the event count in bits 2-5 (0 means a count byte follows).
    pub num_events: u8,
    pub secure_checksum: bool,
    pub encrypted: bool,
    pub length: u16,
    pub header_len: u8,
}

fn header(i: &[u8]) -> Parsed<'_, FastPathHeader> {
    let start = i;
    let (i, first) = field("fpOutputHeader", byte)(i)?;
    let action = first & 0x03;
    if action != 0 {
        return Err(WireError::invalid(
            start,
            "action",
            format!("{action} is not fast-path"),
        ));
    }
    let length_at = i;
    let (i, l1) = field("length1", byte)(i)?;
    let (i, (length, header_len)) = if l1 & 0x80 != 0 {
        let (i, l2) = field("length2", byte)(i)?;
        (i, ((u16::from(l1 & 0x7f) << 8) | u16::from(l2), 3))
    } else {
        (i, (u16::from(l1), 2))
    };
    if usize::from(length) < usize::from(header_len) || usize::from(length) > MAX_LEN {
        return Err(WireError::invalid(length_at, "length", format!("{length}")));
    }
    Ok((
        i,
        FastPathHeader {
            action,
            num_events: (first >> 2) & 0x0f,
            secure_checksum: first & 0x40 != 0,
            encrypted: first & 0x80 != 0,
            length,
            header_len,
        },
    ))
}

/// Reads the fast-path header (fpInputHeader / fpOutputHeader and its 1- or 2-byte length).
pub fn parse_header(buf: &[u8]) -> Result<FastPathHeader, ProtoError> {
    run("fastpath", buf, header)
}

pub fn find_size(buf: &[u8]) -> Framing {
    match buf {
        [] | [_] => Framing::NeedMore(2 - buf.len()),
        [_, l1] if l1 & 0x80 != 0 => Framing::NeedMore(1),
        _ => match parse_header(buf) {
            Ok(h) if buf.len() >= usize::from(h.length) => Framing::Complete(usize::from(h.length)),
            Ok(h) => Framing::NeedMore(usize::from(h.length) - buf.len()),
            Err(_) => Framing::Invalid,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::hex;
    use proptest::prelude::*;

    #[test]
    fn frames_real_fast_path_input() {
        // OISF_suricata-verify/RDP-003.pcap frame 37 (client): byte 0 = 0x90 (action 0,
        // 4 events, encrypted), byte 1 = length 0x16.
        let pdu = hex("90161886fb4828856af49f84c21a9374b3ce75025f56");
        let h = parse_header(&pdu).unwrap();
        assert!(h.encrypted);
        assert_eq!(h.num_events, 4);
        assert_eq!(h.length, 22);
        assert_eq!(find_size(&pdu), Framing::Complete(22));
        assert_eq!(find_size(&pdu[..5]), Framing::NeedMore(17));
    }

    #[test]
    fn rejects_x224_action_and_bad_lengths() {
        assert_eq!(find_size(&[0x03, 0x00, 0x00, 0x10]), Framing::Invalid);
        assert_eq!(find_size(&[0x00, 0x01]), Framing::Invalid);
        assert_eq!(find_size(&[0x00, 0x05, 1, 2, 3]), Framing::Complete(5));
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..16)) {
            let _ = find_size(&data);
            let _ = parse_header(&data);
        }
    }
}
