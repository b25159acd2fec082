//! The payloads the gateway reader (`inside.rs`) unwraps: MS-TSGU packets (MS-TSGU 2.2.10)
//! and the tunnelled RDP bytes of their DATA packets, KDC-PROXY-MESSAGEs (MS-KKDCP 2.2.2)
//! with the Kerberos message inside (RFC 4120 5.10), HTTP/2 frames of the KDC proxy
//! (RFC 9113), and the tokens of HTTP authentication headers (read by the same
//! SPNEGO/NTLM/Kerberos readers as CredSSP's).

use super::inside::Cx;
use super::inside_facts::*;
use crate::flow::{FlowHandler, Side, StreamOutput};
use crate::proto::http2::{self, Frame, FrameHeader};
use crate::proto::kerberos::{KrbErrorCode, KrbMessage};
use crate::proto::tsgu::{self, TsguPacket};
use crate::proto::{kkdcp, Framing};
use crate::session::{inner, Connection, Stamped};

/// Bytes of a tunnel stream (HTTP body or WebSocket payload): framed into TSGU packets.
pub(super) fn tunnel_bytes(cx: &mut Cx<'_>, side: Side, bytes: &[u8]) {
    let stash = std::mem::take(cx.gw.tunnel.get_mut(side));
    let buf = super::inside::consume(stash, bytes, |input| {
        let mut used = 0;
        while let Some(rest) = input.get(used..) {
            match tsgu::find_size(rest) {
                Framing::Complete(n) => {
                    if let Some(p) = rest.get(..n) {
                        packet(cx, side, p);
                    }
                    used += n;
                }
                Framing::NeedMore(_) => break,
                Framing::Invalid => {
                    *cx.gw.facts.unknown_bytes.get_mut(side) += rest.len() as u64;
                    cx.error(
                        side,
                        crate::proto::ProtoError::invalid(
                            "tsgu",
                            "packetType/packetLength",
                            0,
                            "not an HTTP_PACKET_HEADER",
                        ),
                    );
                    used = input.len();
                    break;
                }
            }
        }
        used
    });
    *cx.gw.tunnel.get_mut(side) = buf;
}

fn stamp<T>(cx: &Cx<'_>, side: Side, value: T) -> Stamped<T> {
    Stamped {
        at: *cx.at,
        side,
        value,
    }
}

/// One whole TSGU packet.
fn packet(cx: &mut Cx<'_>, side: Side, b: &[u8]) {
    let (header, p) = match tsgu::parse_packet(b) {
        Ok(v) => v,
        Err(e) => return cx.error(side, e),
    };
    if !matches!(p, TsguPacket::Data { .. } | TsguPacket::Keepalive) {
        cx.event(
            side,
            GatewayEvent::Tsgu {
                packet: header.packet_type,
                status: p.status(),
            },
        );
    }
    let at = *cx.at;
    let st = |value| Stamped { at, side, value };
    let t = &mut cx.gw.facts.tunnel;
    match p {
        TsguPacket::HandshakeResponse {
            error_code,
            extended_auth,
            ..
        } => {
            t.extended_auth = Some(extended_auth);
            t.handshake = Some(st(error_code));
        }
        TsguPacket::TunnelResponse {
            status_code,
            tunnel_id,
            ..
        } => {
            t.tunnel_id = tunnel_id;
            t.create = Some(st(status_code));
        }
        TsguPacket::TunnelAuth { client_name, .. } => t.client_name = Some(client_name),
        TsguPacket::TunnelAuthResponse { error_code, .. } => t.auth = Some(st(error_code)),
        TsguPacket::ServiceMessage { message } => {
            t.service_message.get_or_insert(Stamped {
                at,
                side,
                value: message,
            });
        }
        TsguPacket::ReauthMessage { .. } => t.reauth += 1,
        TsguPacket::Keepalive => t.keepalives += 1,
        TsguPacket::ExtendedAuth { blob } => {
            let blob = blob.to_vec();
            auth_token(cx, side, &blob);
        }
        TsguPacket::Data { data } => tunnelled(cx, side, data),
        other => channel(cx, side, other),
    }
}

fn channel(cx: &mut Cx<'_>, side: Side, p: TsguPacket<'_>) {
    let at = *cx.at;
    let c = &mut cx.gw.facts.channel;
    match p {
        TsguPacket::ChannelCreate {
            resources,
            alt_resources,
            port,
            protocol,
        } => {
            c.requested = Some(at);
            c.target = resources.into_iter().next();
            c.alternatives = alt_resources;
            c.port = Some(port);
            c.protocol = Some(protocol);
        }
        TsguPacket::ChannelResponse {
            error_code,
            channel_id,
            udp_port,
            ..
        } => {
            c.channel_id = channel_id;
            c.udp_port = udp_port;
            c.status = Some(Stamped {
                at,
                side,
                value: error_code,
            });
        }
        TsguPacket::CloseChannel { status_code }
        | TsguPacket::CloseChannelResponse { status_code } => {
            c.close.get_or_insert(Stamped {
                at,
                side,
                value: status_code,
            });
        }
        _ => {}
    }
}

/// DATA: the tunnelled RDP bytes go to the child connection, as TCP payload would.
fn tunnelled(cx: &mut Cx<'_>, side: Side, data: &[u8]) {
    let at = *cx.at;
    let d = cx.gw.facts.data.get_mut(side);
    d.packets += 1;
    d.bytes += data.len() as u64;
    if d.first.is_none() {
        d.first = Some(at);
        cx.event(side, GatewayEvent::TunnelData);
    }
    if data.is_empty() {
        return;
    }
    let limits = cx.gw.limits;
    let keys = &cx.gw.keys;
    let child = cx.gw.child.get_or_insert_with(|| {
        let mut c = Box::new(Connection::with_limits(&limits));
        if let Some(k) = keys {
            crate::session::decrypt::attach(&mut c, k);
        }
        c
    });
    child.on_stream(&at, side, StreamOutput::Data(data));
}

/// An authentication token (HTTP header or EXTENDED_AUTH_MSG), read as CredSSP's are.
pub(super) fn auth_token(cx: &mut Cx<'_>, side: Side, token: &[u8]) {
    if token.is_empty() {
        return;
    }
    let mut scratch = inner::CredsspState::default();
    let kind = inner::read_token(&mut scratch, cx.at, side, token);
    let a = &mut cx.gw.facts.auth;
    a.last_token = Some(kind);
    if scratch.mechanism.is_some() {
        a.mechanism = scratch.mechanism;
    }
}

/// A whole `/KdcProxy` body from `side`.
pub(super) fn kdc_message(cx: &mut Cx<'_>, side: Side, body: &[u8]) {
    if body.is_empty() {
        return;
    }
    let m = match kkdcp::parse_message(body) {
        Ok(m) => m,
        Err(e) => return cx.error(side, e),
    };
    let k = &mut cx.gw.facts.kdc_proxy;
    match side {
        Side::Client => k.requests += 1,
        Side::Server => k.responses += 1,
    }
    if let (None, Some(d)) = (&k.target_domain, m.target_domain) {
        k.target_domain = Some(d.chars().take(256).collect());
    }
    let msg = match m.kerberos() {
        Ok(msg) => msg,
        Err(e) => return cx.error(side, e),
    };
    let error = match &msg {
        KrbMessage::Error(e) => Some(e.error_code),
        _ => None,
    };
    let proxied = ProxiedKerberos {
        msg_type: msg.msg_type(),
        error,
    };
    cx.event(side, GatewayEvent::KdcProxy(proxied));
    let at = *cx.at;
    let k = &mut cx.gw.facts.kdc_proxy;
    if k.messages.len() < MAX_PROXIED {
        k.messages.push(Stamped {
            at,
            side,
            value: proxied,
        });
    }
    if let Some(code) = error {
        k.krb_error = Some(Stamped {
            at,
            side,
            value: code,
        });
    }
    if cx.gw.facts.transport.is_none() {
        cx.gw.facts.transport = Some(InsideTransport::KdcProxy);
    }
}

/// One HTTP/2 frame: bodies are collected per side for the stream in progress; a KDC
/// proxy's bodies are KDC-PROXY-MESSAGEs (HPACK-coded paths are not read: the body says it).
pub(super) fn http2_frame(cx: &mut Cx<'_>, side: Side, h: &FrameHeader, f: Frame<'_>) {
    let end = h.flags & http2::FLAG_END_STREAM != 0;
    match f {
        Frame::Headers { block } => {
            if side == Side::Server {
                if let Ok(Some(status)) = http2::response_status(block) {
                    cx.event(
                        side,
                        GatewayEvent::HttpResponse {
                            status,
                            challenge: None,
                        },
                    );
                    let s = stamp(cx, side, status);
                    let k = &mut cx.gw.facts.kdc_proxy;
                    if k.status
                        .as_ref()
                        .is_none_or(|p| (200..300).contains(&p.value))
                    {
                        k.status = Some(s);
                    }
                }
            }
            *cx.gw.h2_stream.get_mut(side) = h.stream_id;
        }
        Frame::Data { data } => {
            if *cx.gw.h2_stream.get(side) != h.stream_id {
                h2_body_done(cx, side);
                *cx.gw.h2_stream.get_mut(side) = h.stream_id;
            }
            let buf = cx.gw.kdc.get_mut(side);
            let room = kkdcp::MAX_MESSAGE_LEN.saturating_sub(buf.len());
            buf.extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
        }
        Frame::RstStream { error } | Frame::GoAway { error, .. } => {
            if error != http2::ErrorCode::NO_ERROR {
                let s = stamp(cx, side, error.0);
                cx.gw.facts.kdc_proxy.http2_error.get_or_insert(s);
            }
        }
        Frame::Other => {}
    }
    if end {
        h2_body_done(cx, side);
    }
}

fn h2_body_done(cx: &mut Cx<'_>, side: Side) {
    let body = std::mem::take(cx.gw.kdc.get_mut(side));
    if kkdcp::looks_like_message(&body) {
        kdc_message(cx, side, &body);
    }
}

/// Is this Kerberos error one a client recovers from by itself (asks again)?
pub fn is_routine_krb_error(code: KrbErrorCode) -> bool {
    // KDC_ERR_PREAUTH_REQUIRED (25): the first AS-REQ without pre-authentication;
    // KRB_ERR_RESPONSE_TOO_BIG (52): retry over TCP (RFC 4120 7.2.1).
    matches!(code.0, 25 | 52)
}
