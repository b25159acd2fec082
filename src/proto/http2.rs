//! The parts of HTTP/2 (RFC 9113) a KDC proxy exchange needs: the client connection
//! preface, the 9-byte frame header, the payload of DATA and HEADERS frames (padding and
//! priority stripped), the error codes of RST_STREAM and GOAWAY, and the `:status` of a
//! response header block when it is in its first field (RFC 9113 8.3: pseudo-headers come
//! first). HPACK (RFC 7541) is read only that far: a static-table index (`0x88` = 200) or a
//! literal `:status` whose value is plain or Huffman-coded digits; a status that refers to
//! the dynamic table stays unknown. Windows' KDC proxy client speaks HTTP/2 to the gateway.

use super::byte_cursor::ByteCursor;
use super::{Framing, ProtoError};

const LAYER: &str = "http2";
/// The client connection preface (RFC 9113 3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
pub const FRAME_HEADER_LEN: usize = 9;
/// SETTINGS_MAX_FRAME_SIZE can be at most 2^24-1 (RFC 9113 6.5.2); peers keep the default
/// 16 KiB; frames claiming more than this are not taken for HTTP/2.
pub const MAX_FRAME_LEN: usize = 1 << 20;

/// Frame type (RFC 9113 6); unknown values kept (they must be ignored, 5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameType(pub u8);

impl FrameType {
    pub const DATA: FrameType = FrameType(0x0);
    pub const HEADERS: FrameType = FrameType(0x1);
    pub const PRIORITY: FrameType = FrameType(0x2);
    pub const RST_STREAM: FrameType = FrameType(0x3);
    pub const SETTINGS: FrameType = FrameType(0x4);
    pub const PUSH_PROMISE: FrameType = FrameType(0x5);
    pub const PING: FrameType = FrameType(0x6);
    pub const GOAWAY: FrameType = FrameType(0x7);
    pub const WINDOW_UPDATE: FrameType = FrameType(0x8);
    pub const CONTINUATION: FrameType = FrameType(0x9);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0 => "DATA",
            0x1 => "HEADERS",
            0x2 => "PRIORITY",
            0x3 => "RST_STREAM",
            0x4 => "SETTINGS",
            0x5 => "PUSH_PROMISE",
            0x6 => "PING",
            0x7 => "GOAWAY",
            0x8 => "WINDOW_UPDATE",
            0x9 => "CONTINUATION",
            _ => return None,
        })
    }
}

/// Frame flags (RFC 9113 6.1, 6.2).
pub const FLAG_END_STREAM: u8 = 0x1;
pub const FLAG_END_HEADERS: u8 = 0x4;
pub const FLAG_PADDED: u8 = 0x8;
pub const FLAG_PRIORITY: u8 = 0x20;

/// An error code of RST_STREAM / GOAWAY (RFC 9113 7); unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    pub const NO_ERROR: ErrorCode = ErrorCode(0x0);
    pub const PROTOCOL_ERROR: ErrorCode = ErrorCode(0x1);
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(0x2);
    pub const REFUSED_STREAM: ErrorCode = ErrorCode(0x7);
    pub const HTTP_1_1_REQUIRED: ErrorCode = ErrorCode(0xd);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0 => "NO_ERROR",
            0x1 => "PROTOCOL_ERROR",
            0x2 => "INTERNAL_ERROR",
            0x3 => "FLOW_CONTROL_ERROR",
            0x4 => "SETTINGS_TIMEOUT",
            0x5 => "STREAM_CLOSED",
            0x6 => "FRAME_SIZE_ERROR",
            0x7 => "REFUSED_STREAM",
            0x8 => "CANCEL",
            0x9 => "COMPRESSION_ERROR",
            0xa => "CONNECT_ERROR",
            0xb => "ENHANCE_YOUR_CALM",
            0xc => "INADEQUATE_SECURITY",
            0xd => "HTTP_1_1_REQUIRED",
            _ => return None,
        })
    }
}

/// The 9-byte frame header (RFC 9113 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub length: usize,
    pub frame_type: FrameType,
    pub flags: u8,
    /// The reserved bit cleared.
    pub stream_id: u32,
}

/// What one frame says, as far as a KDC proxy reader cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// Body bytes of a request or response (padding stripped).
    Data {
        data: &'a [u8],
    },
    /// A header block fragment (padding and priority stripped).
    Headers {
        block: &'a [u8],
    },
    RstStream {
        error: ErrorCode,
    },
    GoAway {
        last_stream_id: u32,
        error: ErrorCode,
    },
    Other,
}

pub fn parse_frame_header(b: &[u8]) -> Result<FrameHeader, ProtoError> {
    let mut c = ByteCursor::new(LAYER, b);
    let len = c.take(3, "length")?;
    let length = len.iter().fold(0usize, |a, x| (a << 8) | usize::from(*x));
    let frame_type = FrameType(c.u8("type")?);
    let flags = c.u8("flags")?;
    let stream_id = c.be_u32("stream identifier")? & 0x7fff_ffff;
    Ok(FrameHeader {
        length,
        frame_type,
        flags,
        stream_id,
    })
}

/// How long the frame at the front of `buf` is, from its header alone.
pub fn find_size(buf: &[u8]) -> Framing {
    match parse_frame_header(buf) {
        Ok(h) if h.length > MAX_FRAME_LEN => Framing::Invalid,
        Ok(h) => {
            let total = h.length + FRAME_HEADER_LEN;
            if buf.len() >= total {
                Framing::Complete(total)
            } else {
                Framing::NeedMore(total - buf.len())
            }
        }
        Err(_) => Framing::NeedMore(FRAME_HEADER_LEN.saturating_sub(buf.len()).max(1)),
    }
}

/// The payload without its Pad Length byte and padding (RFC 9113 6.1).
fn unpadded<'a>(c: &mut ByteCursor<'a>, flags: u8) -> Result<&'a [u8], ProtoError> {
    if flags & FLAG_PADDED == 0 {
        return Ok(c.rest());
    }
    let pad = usize::from(c.u8("Pad Length")?);
    let rest = c.rest();
    rest.len()
        .checked_sub(pad)
        .and_then(|n| rest.get(..n))
        .ok_or_else(|| c.invalid("Pad Length", 0, "longer than the frame"))
}

/// Decodes one whole frame (as framed by `find_size`).
pub fn parse_frame(b: &[u8]) -> Result<(FrameHeader, Frame<'_>), ProtoError> {
    let h = parse_frame_header(b)?;
    let payload =
        b.get(FRAME_HEADER_LEN..FRAME_HEADER_LEN + h.length)
            .ok_or(ProtoError::truncated(
                LAYER,
                "frame payload",
                FRAME_HEADER_LEN,
            ))?;
    let mut c = ByteCursor::new(LAYER, payload);
    let frame = match h.frame_type {
        FrameType::DATA => Frame::Data {
            data: unpadded(&mut c, h.flags)?,
        },
        FrameType::HEADERS => {
            let mut block = unpadded(&mut c, h.flags)?;
            if h.flags & FLAG_PRIORITY != 0 {
                block = block
                    .get(5..)
                    .ok_or(ProtoError::truncated(LAYER, "priority", 1))?;
            }
            Frame::Headers { block }
        }
        FrameType::CONTINUATION => Frame::Headers { block: payload },
        FrameType::RST_STREAM => Frame::RstStream {
            error: ErrorCode(c.be_u32("Error Code")?),
        },
        FrameType::GOAWAY => Frame::GoAway {
            last_stream_id: c.be_u32("Last-Stream-ID")? & 0x7fff_ffff,
            error: ErrorCode(c.be_u32("Error Code")?),
        },
        _ => Frame::Other,
    };
    Ok((h, frame))
}

/// An HPACK integer with an `n`-bit prefix (RFC 7541 5.1), at most 4 continuation bytes.
fn hpack_int(c: &mut ByteCursor, first: u8, n: u32) -> Result<u32, ProtoError> {
    let max = (1u32 << n) - 1;
    let mut v = u32::from(first) & max;
    if v < max {
        return Ok(v);
    }
    for shift in [0u32, 7, 14, 21] {
        let b = c.u8("integer")?;
        v = v.saturating_add(u32::from(b & 0x7f) << shift);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(c.invalid("integer", c.offset(), "longer than 4 continuation bytes"))
}

/// Huffman-coded decimal digits (RFC 7541 Appendix B: '0'-'2' are 5-bit codes 0-2, '3'-'9'
/// 6-bit codes 0x19-0x1f); None for any other symbol. Padding is the EOS prefix (all ones).
fn huffman_digits(b: &[u8]) -> Option<String> {
    let bits = b.len() * 8;
    let bit = |i: usize| b.get(i / 8).map(|x| (x >> (7 - i % 8)) & 1);
    let peek = |at: usize, n: usize| -> Option<u8> {
        (at..at + n).try_fold(0u8, |v, i| bit(i).map(|x| (v << 1) | x))
    };
    let mut out = String::new();
    let mut at = 0;
    while at < bits {
        let left = bits - at;
        if left < 8 && peek(at, left) == Some((1u8 << left) - 1) {
            break;
        }
        match peek(at, 5) {
            Some(v @ 0..=2) => {
                out.push(char::from(b'0' + v));
                at += 5;
            }
            _ => match peek(at, 6) {
                Some(v @ 0x19..=0x1f) => {
                    out.push(char::from(b'0' + v - 0x19 + 3));
                    at += 6;
                }
                _ => return None,
            },
        }
        if out.len() > 8 {
            return None;
        }
    }
    Some(out)
}

/// HPACK static table entries 8-14 (RFC 7541 Appendix A) are `:status` with these values.
fn static_status(index: u32) -> Option<u16> {
    Some(match index {
        8 => 200,
        9 => 204,
        10 => 206,
        11 => 304,
        12 => 400,
        13 => 404,
        14 => 500,
        _ => return None,
    })
}

/// The `:status` of a response header block, when its first field says it without the
/// dynamic table (see the module comment); Ok(None) otherwise.
pub fn response_status(block: &[u8]) -> Result<Option<u16>, ProtoError> {
    let mut c = ByteCursor::new(LAYER, block);
    loop {
        let Ok(first) = c.u8("header field") else {
            return Ok(None);
        };
        let (index, literal) = match first {
            f if f & 0x80 != 0 => (hpack_int(&mut c, f, 7)?, false),
            // Dynamic table size update (RFC 7541 6.3): skip it.
            f if f & 0xe0 == 0x20 => {
                hpack_int(&mut c, f, 5)?;
                continue;
            }
            f if f & 0xc0 == 0x40 => (hpack_int(&mut c, f, 6)?, true),
            f => (hpack_int(&mut c, f, 4)?, true),
        };
        if !literal {
            return Ok(static_status(index));
        }
        if static_status(index).is_none() {
            return Ok(None);
        }
        let head = c.u8("string length")?;
        let len = hpack_int(&mut c, head, 7)? as usize;
        let value = c.take(len, "status value")?;
        let text = if head & 0x80 != 0 {
            huffman_digits(value)
        } else {
            std::str::from_utf8(value).ok().map(str::to_string)
        };
        return Ok(text.and_then(|t| t.parse().ok()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::hex;
    use proptest::prelude::*;

    // rdp-rdg-same-creds-kerberos-password-success1.pcapng, TLS stream 1, decrypted by
    // tshark (`-P -x`): frame 21 (client SETTINGS ACK) and the start of frame 28 (the
    // gateway's HEADERS for stream 1, first field 0x88 = `:status: 200`, as tshark shows).
    const SETTINGS_ACK: &str = "000000040100000000";
    const RESPONSE_HEADERS: &str = "000034010400000001885f8210437690d06258741e54ad8f7efd70ebc8c097070f1296c361be940814d03f4a08026940bf71b0dc680a62d1bf5c82104300";
    /// Frame 29: the client's HEADERS for stream 3 (`POST /KdcProxy` from the dynamic table).
    const REQUEST_HEADERS: &str = "00000c01040000000383c3c287c1c0bf5c03333537";

    #[test]
    fn real_frames() {
        let b = hex(SETTINGS_ACK);
        assert_eq!(find_size(&b), Framing::Complete(9));
        let (h, f) = parse_frame(&b).unwrap();
        assert_eq!(
            (h.frame_type, h.flags, h.stream_id),
            (FrameType::SETTINGS, 1, 0)
        );
        assert_eq!(f, Frame::Other);
        let b = hex(RESPONSE_HEADERS);
        let (h, f) = parse_frame(&b[..9 + 0x34]).unwrap();
        assert_eq!(h.frame_type.name(), Some("HEADERS"));
        assert_eq!(h.stream_id, 1);
        assert_eq!(h.flags, FLAG_END_HEADERS);
        let Frame::Headers { block } = f else {
            panic!("{f:?}")
        };
        assert_eq!(response_status(block).unwrap(), Some(200));
        let b = hex(REQUEST_HEADERS);
        let (h, f) = parse_frame(&b).unwrap();
        assert_eq!((h.stream_id, h.length), (3, 12));
        // A request block: its first field (0x83, `:method: POST`) is no status.
        let Frame::Headers { block } = f else {
            panic!()
        };
        assert_eq!(response_status(block).unwrap(), None);
        assert!(PREFACE.starts_with(b"PRI * HTTP/2.0"));
    }

    #[test]
    fn synthetic_status_literals_and_errors() {
        // `:status: 503` literal with incremental indexing, name index 8, plain value.
        assert_eq!(response_status(&hex("4803353033")).unwrap(), Some(503));
        // The same, Huffman-coded: '5' 011011, '0' 00000, '3' 011001, then 7 bits of EOS
        // padding: 0x6c 0x0c 0xff.
        assert_eq!(huffman_digits(&hex("6c0cff")), Some("503".into()));
        assert_eq!(response_status(&hex("4883 6c0cff")).unwrap(), Some(503));
        // Padding that is not all ones, and a non-digit symbol ('a' = 00011), are refused.
        assert_eq!(huffman_digits(&hex("6c19")), None);
        assert_eq!(huffman_digits(&hex("1f")), None);
        // Size update then indexed 404.
        assert_eq!(response_status(&hex("3f e1 1f 8d")).unwrap(), Some(404));
        let rst = hex("00000403000000000100000007");
        assert_eq!(
            parse_frame(&rst).unwrap().1,
            Frame::RstStream {
                error: ErrorCode::REFUSED_STREAM
            }
        );
        let goaway = hex("0000080700000000000000000300000002");
        assert!(matches!(
            parse_frame(&goaway).unwrap().1,
            Frame::GoAway {
                last_stream_id: 3,
                error: ErrorCode::INTERNAL_ERROR
            }
        ));
        // PADDED DATA: pad length 2.
        let data = hex("000005000800000001 02 4142 0000");
        assert_eq!(parse_frame(&data).unwrap().1, Frame::Data { data: b"AB" });
        assert!(parse_frame(&hex("000001000800000001 05")).is_err());
        assert_eq!(find_size(&hex("ffffff00")), Framing::NeedMore(5));
        assert_eq!(find_size(&hex("ffffff000000000000")), Framing::Invalid);
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = find_size(&data);
            if let Ok((_, Frame::Headers { block })) = parse_frame(&data) {
                let _ = response_status(block);
            }
            let _ = response_status(&data);
            let _ = huffman_digits(&data);
        }
    }
}
