//! WebSocket frames (RFC 6455 section 5.2): the header (FIN, opcode, mask, 7/16/64-bit payload
//! length, masking key), a framer, and unmasking into a caller's buffer or as an iterator, so
//! that no payload is copied or allocated here. An RD Gateway's WebSocket transport carries
//! MS-TSGU packets in binary frames.

use super::byte_cursor::ByteCursor;
use super::{Framing, ProtoError};

const LAYER: &str = "websocket";
/// Frames longer than this are not taken for WebSocket frames (gateways send < 64 KiB).
pub const MAX_FRAME_LEN: u64 = 16 * 1024 * 1024;

/// Frame opcode (RFC 6455 section 5.2, 11.8); unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opcode(pub u8);

impl Opcode {
    pub const CONTINUATION: Opcode = Opcode(0x0);
    pub const TEXT: Opcode = Opcode(0x1);
    pub const BINARY: Opcode = Opcode(0x2);
    pub const CLOSE: Opcode = Opcode(0x8);
    pub const PING: Opcode = Opcode(0x9);
    pub const PONG: Opcode = Opcode(0xA);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0 => "continuation",
            0x1 => "text",
            0x2 => "binary",
            0x8 => "close",
            0x9 => "ping",
            0xA => "pong",
            _ => return None,
        })
    }

    /// Close, ping and pong (opcodes 0x8-0xF).
    pub fn is_control(self) -> bool {
        self.0 & 0x8 != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub fin: bool,
    /// RSV1-3 (bits 6-4 of the first byte): nonzero only with a negotiated extension.
    pub rsv: u8,
    pub opcode: Opcode,
    /// Set on every client-to-server frame (RFC 6455 section 5.3).
    pub masking_key: Option<[u8; 4]>,
    pub payload_len: u64,
    /// Bytes of the header: 2 to 14.
    pub header_len: usize,
}

impl FrameHeader {
    pub fn masked(&self) -> bool {
        self.masking_key.is_some()
    }

    /// Header plus payload, if it fits a usize.
    pub fn frame_len(&self) -> Option<usize> {
        usize::try_from(self.payload_len)
            .ok()?
            .checked_add(self.header_len)
    }
}

/// Decodes a frame header from the front of `b` (the payload need not be there).
pub fn parse_frame_header(b: &[u8]) -> Result<FrameHeader, ProtoError> {
    let mut c = ByteCursor::new(LAYER, b);
    let b0 = c.u8("FIN/opcode")?;
    let b1 = c.u8("MASK/payload len")?;
    let payload_len = match b1 & 0x7F {
        126 => u64::from(c.be_u16("extended payload length (16-bit)")?),
        127 => {
            let len = c.be_u64("extended payload length (64-bit)")?;
            if len >> 63 != 0 {
                return Err(c.invalid(
                    "extended payload length (64-bit)",
                    8,
                    "most significant bit set",
                ));
            }
            len
        }
        len => u64::from(len),
    };
    let masking_key = if b1 & 0x80 != 0 {
        let key = c.take(4, "masking-key")?;
        let mut k = [0u8; 4];
        k.iter_mut().zip(key).for_each(|(d, s)| *d = *s);
        Some(k)
    } else {
        None
    };
    let opcode = Opcode(b0 & 0x0F);
    if opcode.is_control() && (payload_len > 125 || b0 & 0x80 == 0) {
        return Err(c.invalid(
            "opcode",
            c.offset(),
            "control frame fragmented or over 125 bytes",
        ));
    }
    Ok(FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x07,
        opcode,
        masking_key,
        payload_len,
        header_len: c.offset(),
    })
}

/// How long the frame at the front of `buf` is, from its header alone.
pub fn find_size(buf: &[u8]) -> Framing {
    match parse_frame_header(buf) {
        Ok(h) if h.payload_len > MAX_FRAME_LEN || h.opcode.name().is_none() => Framing::Invalid,
        Ok(h) => match h.frame_len() {
            Some(n) if n <= buf.len() => Framing::Complete(n),
            Some(n) => Framing::NeedMore(n - buf.len()),
            None => Framing::Invalid,
        },
        Err(ProtoError::Truncated { .. }) => {
            // Ask for the smallest header that could complete what is there.
            let want: usize = match buf.get(1) {
                None => 2,
                Some(b1) => {
                    2 + match b1 & 0x7F {
                        126 => 2,
                        127 => 8,
                        _ => 0,
                    } + if b1 & 0x80 != 0 { 4 } else { 0 }
                }
            };
            Framing::NeedMore(want.saturating_sub(buf.len()).max(1))
        }
        Err(_) => Framing::Invalid,
    }
}

/// A whole frame: its header and the payload as it is on the wire (still masked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub header: FrameHeader,
    pub payload: &'a [u8],
}

impl<'a> Frame<'a> {
    /// The payload unmasked, byte by byte, without allocating.
    pub fn unmasked(&self) -> Unmask<'a> {
        unmask(self.payload, self.header.masking_key, 0)
    }

    /// Unmasks the payload into `out` (at most `out.len()` bytes); returns the count written.
    pub fn unmask_into(&self, out: &mut [u8]) -> usize {
        unmask_into(self.payload, self.header.masking_key, 0, out)
    }
}

/// Decodes one whole frame from the front of `b` (as framed by `find_size`).
pub fn parse_frame(b: &[u8]) -> Result<Frame<'_>, ProtoError> {
    let header = parse_frame_header(b)?;
    let end = header
        .frame_len()
        .ok_or_else(|| ProtoError::invalid(LAYER, "payload length", 2, "does not fit memory"))?;
    let payload = b.get(header.header_len..end).ok_or(ProtoError::truncated(
        LAYER,
        "payload",
        header.header_len,
    ))?;
    Ok(Frame { header, payload })
}

/// Iterator over unmasked bytes; `offset` is the position of `bytes` within the payload
/// (for a payload handed over in pieces).
#[derive(Debug, Clone)]
pub struct Unmask<'a> {
    bytes: std::slice::Iter<'a, u8>,
    key: [u8; 4],
    pos: usize,
}

impl Iterator for Unmask<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let b = *self.bytes.next()?;
        let k = self.key.get(self.pos % 4).copied().unwrap_or(0);
        self.pos = self.pos.wrapping_add(1);
        Some(b ^ k)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.bytes.size_hint()
    }
}

/// Unmasks `bytes` (RFC 6455 section 5.3); an unmasked frame's bytes come out unchanged.
pub fn unmask(bytes: &[u8], key: Option<[u8; 4]>, offset: usize) -> Unmask<'_> {
    Unmask {
        bytes: bytes.iter(),
        key: key.unwrap_or([0; 4]),
        pos: offset,
    }
}

/// Unmasks `bytes` into `out`; returns how many bytes were written (the shorter length).
/// Eight bytes at a time: the key rotated to `offset`, repeated twice, XORed as one `u64`.
pub fn unmask_into(bytes: &[u8], key: Option<[u8; 4]>, offset: usize, out: &mut [u8]) -> usize {
    let n = bytes.len().min(out.len());
    let (Some(src), Some(dst)) = (bytes.get(..n), out.get_mut(..n)) else {
        return 0;
    };
    let Some(key) = key else {
        dst.copy_from_slice(src);
        return n;
    };
    let mut k = key;
    k.rotate_left(offset % 4);
    let wide = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut d8 = dst.chunks_exact_mut(8);
    let mut s8 = src.chunks_exact(8);
    for (d, s) in (&mut d8).zip(&mut s8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(s);
        d.copy_from_slice(&(u64::from_ne_bytes(w) ^ wide).to_ne_bytes());
    }
    for ((d, s), m) in d8
        .into_remainder()
        .iter_mut()
        .zip(s8.remainder())
        .zip(k.iter().cycle())
    {
        *d = s ^ m;
    }
    n
}

/// The status code of a close frame's (unmasked) payload (RFC 6455 section 7.4), if any.
pub fn close_code(unmasked_payload: &[u8]) -> Option<u16> {
    match unmasked_payload {
        [hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::hex;
    use proptest::prelude::*;

    // rdp-rdg-same-creds-kerberos-password-success1.pcapng, decrypted by tshark: frame 42
    // (client, masked, 14-byte payload: HANDSHAKE_REQUEST) and frame 43 (gateway, unmasked).
    const CLIENT_FRAME: &str = "828efe5e7639ff5e7639f05e7639ff5e7639fe5e";
    const SERVER_FRAME: &str = "8212020000001200000000000000010000000700";

    #[test]
    fn unmasks_a_real_client_frame() {
        let b = hex(CLIENT_FRAME);
        assert_eq!(find_size(&b), Framing::Complete(20));
        let f = parse_frame(&b).unwrap();
        assert!(f.header.fin && f.header.masked());
        assert_eq!(f.header.opcode, Opcode::BINARY);
        assert_eq!((f.header.payload_len, f.header.header_len), (14, 6));
        assert_eq!(f.header.masking_key, Some([0xfe, 0x5e, 0x76, 0x39]));
        let payload: Vec<u8> = f.unmasked().collect();
        assert_eq!(payload, hex("010000000e000000010000000000"));
        let mut out = [0u8; 8];
        assert_eq!(f.unmask_into(&mut out), 8);
        assert_eq!(&out, &payload[..8]);
        // Unmasking in pieces gives the same bytes.
        let mut tail = [0u8; 6];
        unmask_into(&f.payload[8..], f.header.masking_key, 8, &mut tail);
        assert_eq!(&tail, &payload[8..]);
    }

    #[test]
    fn reads_a_real_server_frame_and_the_16_bit_length() {
        let b = hex(SERVER_FRAME);
        let f = parse_frame(&b).unwrap();
        assert!(!f.header.masked());
        assert_eq!(f.payload.len(), 18);
        assert_eq!(f.unmasked().next(), Some(0x02));
        // Frame 49: `82 7e 07 51`: a 1873-byte binary frame.
        let h = parse_frame_header(&hex("827e0751")).unwrap();
        assert_eq!((h.payload_len, h.header_len), (1873, 4));
        assert_eq!(find_size(&hex("827e0751")), Framing::NeedMore(1873));
    }

    #[test]
    fn synthetic_64_bit_lengths_close_frames_and_bad_headers() {
        let h = parse_frame_header(&hex("827f0000000000010000")).unwrap();
        assert_eq!(h.payload_len, 65536);
        assert_eq!(h.header_len, 10);
        assert!(parse_frame_header(&hex("827f8000000000000000")).is_err());
        assert_eq!(find_size(&hex("827f00000001")), Framing::NeedMore(4));
        assert_eq!(find_size(&hex("827f0000000100000000")), Framing::Invalid);
        assert_eq!(find_size(&hex("82")), Framing::NeedMore(1));
        assert_eq!(find_size(&hex("82fe00")), Framing::NeedMore(5));
        // A fragmented ping and a 126-byte close are not allowed.
        assert!(parse_frame_header(&hex("0900")).is_err());
        assert!(parse_frame_header(&hex("887e007e")).is_err());
        let b = hex("880203e8");
        let close = parse_frame(&b).unwrap();
        assert_eq!(close_code(close.payload), Some(1000));
        assert_eq!(find_size(&hex("8300")), Framing::Invalid);
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..64), off in 0usize..8) {
            let _ = find_size(&data);
            if let Ok(f) = parse_frame(&data) {
                let n = f.unmasked().count();
                prop_assert_eq!(n, f.payload.len());
                let mut out = [0u8; 16];
                let _ = unmask_into(f.payload, f.header.masking_key, off, &mut out);
            }
        }

        #[test]
        fn synthetic_wide_unmasking_matches_byte_by_byte(
            data in proptest::collection::vec(any::<u8>(), 0..64),
            key in any::<[u8; 4]>(),
            off in 0usize..8,
            room in 0usize..70,
        ) {
            let mut out = vec![0u8; room];
            let n = unmask_into(&data, Some(key), off, &mut out);
            let want: Vec<u8> = unmask(&data, Some(key), off).take(room).collect();
            prop_assert_eq!(n, want.len());
            prop_assert_eq!(out.get(..n), Some(&want[..]));
        }
    }
}
