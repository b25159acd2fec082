//! The streamed parts of a gateway connection's plaintext (see `inside.rs`): chunked
//! bodies (RFC 9112 7.1), WebSocket frames unmasked as their payload arrives (RFC 6455 5),
//! and HTTP/2 frames (RFC 9113 4.1), so that no body or payload is held whole.

use super::inside::{Chunk, Cx, Mode, Sink, WsPayload};
use super::inside_facts::GatewayEvent;
use super::inside_tunnel;
use crate::flow::Side;
use crate::proto::{http, http2, websocket, Framing, ProtoError};

impl Cx<'_> {
    pub(super) fn chunked(
        &mut self,
        side: Side,
        chunk: Chunk,
        sink: Sink,
        b: &[u8],
    ) -> Option<usize> {
        let (used, next) = match chunk {
            Chunk::Size => match http::parse_chunk_size(b) {
                Ok(None) => return None,
                Ok(Some((n, 0))) => {
                    // The last chunk: its CRLF (no trailers from a gateway) ends the body.
                    if b.len() < n + 2 {
                        return None;
                    }
                    self.body_done(side, sink);
                    *self.gw.mode.get_mut(side) = Mode::Head;
                    return Some(n + 2);
                }
                Ok(Some((n, size))) => (n, Chunk::Data(size)),
                Err(e) => return self.lost(side, e),
            },
            Chunk::Data(left) => {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(b.len());
                self.body(side, sink, b.get(..n)?);
                let left = left - n as u64;
                (
                    n,
                    if left == 0 {
                        Chunk::End
                    } else {
                        Chunk::Data(left)
                    },
                )
            }
            Chunk::End => {
                if b.len() < 2 {
                    return None;
                }
                (2, Chunk::Size)
            }
        };
        *self.gw.mode.get_mut(side) = Mode::Chunked { chunk: next, sink };
        Some(used)
    }

    pub(super) fn websocket(
        &mut self,
        side: Side,
        payload: Option<WsPayload>,
        b: &[u8],
    ) -> Option<usize> {
        let Some(p) = payload else {
            return self.ws_header(side, b);
        };
        let n = usize::try_from(p.left).unwrap_or(usize::MAX).min(b.len());
        let bytes = b.get(..n)?;
        let mut unmasked = std::mem::take(&mut self.gw.unmasked);
        // A server's frames are not masked (RFC 6455 5.1): read in place, not copied. The
        // buffer for masked ones only grows, so it is not zeroed for every frame.
        let plain: &[u8] = if p.key.is_some() {
            if unmasked.len() < n {
                unmasked.resize(n, 0);
            }
            let out = unmasked.get_mut(..n).unwrap_or_default();
            websocket::unmask_into(bytes, p.key, p.offset, out);
            out
        } else {
            bytes
        };
        match p.opcode {
            websocket::Opcode::BINARY | websocket::Opcode::CONTINUATION => {
                inside_tunnel::tunnel_bytes(self, side, plain)
            }
            websocket::Opcode::CLOSE => {
                let room = 2usize.saturating_sub(self.gw.close_payload.len());
                self.gw
                    .close_payload
                    .extend(plain.iter().take(room).copied());
            }
            _ => {}
        }
        self.gw.unmasked = unmasked;
        let left = p.left - n as u64;
        let next = if left == 0 {
            if p.opcode == websocket::Opcode::CLOSE {
                self.ws_close(side);
            }
            None
        } else {
            Some(WsPayload {
                left,
                offset: p.offset + n,
                ..p
            })
        };
        *self.gw.mode.get_mut(side) = Mode::WebSocket(next);
        Some(n)
    }

    fn ws_header(&mut self, side: Side, b: &[u8]) -> Option<usize> {
        match websocket::find_size(b) {
            Framing::Invalid => {
                let e = websocket::parse_frame_header(b).err().unwrap_or_else(|| {
                    ProtoError::invalid("websocket", "payload length", 2, "not a frame")
                });
                return self.lost(side, e);
            }
            Framing::NeedMore(_) if websocket::parse_frame_header(b).is_err() => return None,
            _ => {}
        }
        let h = websocket::parse_frame_header(b).ok()?;
        if h.opcode == websocket::Opcode::CLOSE {
            self.gw.close_payload.clear();
        }
        let next = (h.payload_len > 0).then_some(WsPayload {
            left: h.payload_len,
            key: h.masking_key,
            offset: 0,
            opcode: h.opcode,
        });
        if next.is_none() && h.opcode == websocket::Opcode::CLOSE {
            self.ws_close(side);
        }
        *self.gw.mode.get_mut(side) = Mode::WebSocket(next);
        Some(h.header_len)
    }

    fn ws_close(&mut self, side: Side) {
        let code = websocket::close_code(&self.gw.close_payload);
        self.event(side, GatewayEvent::WebSocketClose { code });
        if let (None, Some(c)) = (&self.gw.facts.websocket_close, code) {
            self.gw.facts.websocket_close = Some(self.stamp(side, c));
        }
    }

    pub(super) fn http2(&mut self, side: Side, b: &[u8]) -> Option<usize> {
        match http2::find_size(b) {
            Framing::Complete(n) => {
                let frame = b.get(..n)?;
                match http2::parse_frame(frame) {
                    Ok((h, f)) => inside_tunnel::http2_frame(self, side, &h, f),
                    Err(e) => return self.lost(side, e),
                }
                Some(n)
            }
            Framing::NeedMore(_) => None,
            Framing::Invalid => self.lost(
                side,
                ProtoError::invalid("http2", "length", 0, "over the frame size cap"),
            ),
        }
    }
}

/// The mode for a body: chunked, sized, to the end (responses only), or none.
pub(super) fn body_mode(chunked: bool, length: Option<u64>, response: bool, sink: Sink) -> Mode {
    match (chunked, length) {
        (true, _) => Mode::Chunked {
            chunk: Chunk::Size,
            sink,
        },
        (false, Some(0)) => Mode::Head,
        (false, Some(left)) => Mode::Body { left, sink },
        (false, None) if response && sink == Sink::Tunnel => Mode::ToEnd(sink),
        (false, None) => Mode::Head,
    }
}
