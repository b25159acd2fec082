//! An RD Gateway connection read from its decrypted TLS stream (issue 16, with keys):
//! HTTP/1.1 heads and bodies (RFC 9112, chunked included), the WebSocket upgrade and frames
//! (RFC 6455), HTTP/2 for the KDC proxy (RFC 9113), MS-KKDCP messages, and the MS-TSGU
//! packets of the tunnel, whose DATA packets carry a whole RDP connection to the session
//! host. That tunnelled byte stream is fed, per direction and with the frame of the packet
//! that carried it, into a child [`Connection`] built by the same machinery as a direct TCP
//! RDP connection (`FlowHandler::on_stream`), so its X.224, TLS and CredSSP are read the
//! same way.
//!
//! # Entry point (one call per decrypted record)
//!
//! For each `Plaintext { side, content_type, frame, data }` the TLS layer yields for a
//! connection, call [`route_plaintext`]`(conn, at, side, content_type, data)`: it sends a
//! gateway connection's records here (creating [`GatewayInside`] on the first one that
//! starts like HTTP) and every other connection's to `session::inner::plaintext`. Records
//! must come per side in stream order; `at` is the packet that completed the record.
//! Afterwards `conn.gateway_inside` holds the facts (`GatewayInside::facts`) and the child
//! (`GatewayInside::child`, `take_child`); the report gives the child `via_gateway: <this
//! connection's id>`.
//!
//! Buffering is bounded: an HTTP head up to `MAX_HEAD`, a tunnel packet up to
//! `tsgu::MAX_PACKET_LEN`, a KDC-PROXY-MESSAGE up to `kkdcp::MAX_MESSAGE_LEN`; bodies and
//! WebSocket payloads are streamed, never held whole.

use super::inside_facts::*;
use super::inside_stream::body_mode;
use super::inside_tunnel;
use crate::flow::{PacketInfo, Side, Sides};
use crate::limits::Limits;
use crate::proto::http::{self, GatewayRequest};
use crate::proto::{http2, websocket, ProtoError};
use crate::session::{event::EventKind, inner, Connection, Stamped};

/// An HTTP head longer than this is not an RD Gateway's (a Kerberos Negotiate header is
/// about 8 KiB).
pub const MAX_HEAD: usize = 64 * 1024;
/// TLS content type of application data (RFC 8446 5.1).
const APPLICATION_DATA: u8 = 23;
/// Requests waiting for their response.
const MAX_PENDING: usize = 16;

/// Where the bytes of a body go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sink {
    Skip,
    /// MS-TSGU packets (HTTP transport body).
    Tunnel,
    /// One KDC-PROXY-MESSAGE.
    Kdc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Chunk {
    Size,
    Data(u64),
    /// The CRLF after a chunk's data.
    End,
}

/// What a side's next bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Mode {
    #[default]
    Head,
    Body {
        left: u64,
        sink: Sink,
    },
    Chunked {
        chunk: Chunk,
        sink: Sink,
    },
    /// A response body that runs to the end of the connection.
    ToEnd(Sink),
    /// The client asked to upgrade; its next bytes wait for the answer.
    AwaitUpgrade,
    WebSocket(Option<WsPayload>),
    Http2,
    /// Bytes that fit nothing: the rest of the side is counted, not read.
    Lost,
}

/// The rest of a WebSocket frame's payload still to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WsPayload {
    pub left: u64,
    pub key: Option<[u8; 4]>,
    pub offset: usize,
    pub opcode: websocket::Opcode,
}

/// The state of one gateway TLS connection's plaintext.
#[derive(Debug)]
pub struct GatewayInside {
    pub facts: GatewayInsideFacts,
    pub(super) mode: Sides<Mode>,
    input: Sides<Vec<u8>>,
    pub(super) tunnel: Sides<Vec<u8>>,
    pub(super) kdc: Sides<Vec<u8>>,
    /// The first bytes of a WebSocket close frame's payload.
    pub(super) close_payload: Vec<u8>,
    /// Reused for each piece of WebSocket payload as it is unmasked.
    pub(super) unmasked: Vec<u8>,
    pending: std::collections::VecDeque<Option<GatewayRequest>>,
    pub(super) h2_stream: Sides<u32>,
    pub(super) child: Option<Box<Connection>>,
    pub(super) limits: Limits,
    /// The run's TLS secrets, handed to the tunnelled connection so that its own TLS (inside
    /// the gateway's) is decrypted too when the capture holds its secrets.
    pub(super) keys: Option<crate::keys::KeyStore>,
}

impl GatewayInside {
    pub fn new(limits: &Limits) -> Self {
        GatewayInside {
            facts: GatewayInsideFacts::default(),
            mode: Sides::default(),
            input: Sides::default(),
            tunnel: Sides::default(),
            kdc: Sides::default(),
            close_payload: Vec::new(),
            unmasked: Vec::new(),
            pending: Default::default(),
            h2_stream: Sides::default(),
            child: None,
            limits: *limits,
            keys: None,
        }
    }

    /// The tunnelled RDP connection, once a DATA packet went through.
    pub fn child(&self) -> Option<&Connection> {
        self.child.as_deref()
    }

    /// Takes the tunnelled connection out, for diagnosis as a connection of its own.
    pub fn take_child(&mut self) -> Option<Connection> {
        self.child.take().map(|mut c| {
            // Its decryption ends with it (secrets that came after its last record).
            crate::session::decrypt::finish(&mut c);
            *c
        })
    }

    /// One decrypted record from `side`, completed by packet `at`; `timeline` is the gateway
    /// connection's.
    pub fn plaintext(
        &mut self,
        timeline: &mut crate::session::Timeline,
        at: &PacketInfo,
        side: Side,
        content_type: u8,
        data: &[u8],
    ) {
        if content_type != APPLICATION_DATA {
            return;
        }
        let mut cx = Cx {
            gw: self,
            timeline,
            at,
        };
        cx.feed(side, data);
    }
}

/// Sends a decrypted record to the gateway reader or to the RDP reader (`session::inner`).
/// A connection is a gateway's when its first plaintext is HTTP (a request, a response or
/// the HTTP/2 preface) and no X.224 was seen on it.
pub fn route_plaintext(
    conn: &mut Connection,
    at: &PacketInfo,
    side: Side,
    content_type: u8,
    data: &[u8],
) {
    if conn.gateway_inside.is_none()
        && conn.x224.request.is_none()
        && conn.inner.is_none()
        && content_type == APPLICATION_DATA
        && looks_like_http(data)
    {
        let mut gw = GatewayInside::new(&Limits {
            max_timeline_events: conn.timeline.max,
            ..Limits::default()
        });
        gw.keys = conn.keys.clone();
        conn.gateway_inside = Some(Box::new(gw));
    }
    match conn.gateway_inside.as_deref_mut() {
        Some(gw) => gw.plaintext(&mut conn.timeline, at, side, content_type, data),
        None => inner::plaintext(conn, at, side, content_type, data),
    }
}

/// The start of an HTTP/1.1 request or response, or the HTTP/2 preface.
pub fn looks_like_http(b: &[u8]) -> bool {
    const STARTS: [&[u8]; 7] = [
        b"RDG_OUT_DATA ",
        b"RDG_IN_DATA ",
        b"RPC_IN_DATA ",
        b"RPC_OUT_DATA ",
        b"GET ",
        b"POST ",
        b"HTTP/1.",
    ];
    STARTS.iter().any(|s| b.starts_with(s))
        || b.starts_with(b"PRI * HTTP/2")
        || is_http2_settings(b)
}

/// An HTTP/2 SETTINGS frame on stream 0 (RFC 9113 6.5): a server's first bytes may come
/// before the client's preface has been read.
fn is_http2_settings(b: &[u8]) -> bool {
    http2::parse_frame_header(b).is_ok_and(|h| {
        h.frame_type == http2::FrameType::SETTINGS && h.stream_id == 0 && h.length % 6 == 0
    })
}

/// Hands `eat` the bytes left over from before (`stash`) followed by `data`, and returns what
/// it did not use, to be kept for next time. With nothing left over, `data` is read where it
/// lies: only the unused tail is copied.
pub(super) fn consume(
    mut stash: Vec<u8>,
    data: &[u8],
    eat: impl FnOnce(&[u8]) -> usize,
) -> Vec<u8> {
    if stash.is_empty() {
        let used = eat(data);
        stash.extend_from_slice(data.get(used..).unwrap_or_default());
    } else {
        stash.extend_from_slice(data);
        let used = eat(&stash);
        stash.drain(..used.min(stash.len()));
    }
    stash
}

/// A gateway reader with the timeline and the packet at hand.
pub(super) struct Cx<'a> {
    pub gw: &'a mut GatewayInside,
    pub timeline: &'a mut crate::session::Timeline,
    pub at: &'a PacketInfo,
}

impl Cx<'_> {
    pub fn event(&mut self, side: Side, ev: GatewayEvent) {
        self.timeline
            .push(self.at, side, EventKind::Gateway(Box::new(ev)));
    }

    pub fn error(&mut self, side: Side, e: ProtoError) {
        if self.gw.facts.decode_errors.len() < MAX_DECODE_ERRORS {
            self.gw.facts.decode_errors.push(Stamped {
                at: *self.at,
                side,
                value: e,
            });
        }
    }

    pub(super) fn stamp<T>(&self, side: Side, value: T) -> Stamped<T> {
        Stamped {
            at: *self.at,
            side,
            value,
        }
    }

    fn feed(&mut self, side: Side, data: &[u8]) {
        let stash = std::mem::take(self.gw.input.get_mut(side));
        let mut buf = consume(stash, data, |input| {
            let mut used = 0;
            // Each step consumes bytes or changes mode; a mode change without bytes used
            // happens at most a few times in a row, so the loop is bounded by twice the input
            // plus that.
            for _ in 0..(input.len() * 2 + 8) {
                let Some(rest) = input.get(used..) else { break };
                if rest.is_empty() && !matches!(self.gw.mode.get(side), Mode::Head) {
                    break;
                }
                match self.step(side, rest) {
                    None => break,
                    Some(n) => used += n,
                }
            }
            used
        });
        if buf.len() > MAX_HEAD {
            *self.gw.facts.unknown_bytes.get_mut(side) += buf.len() as u64;
            *self.gw.mode.get_mut(side) = Mode::Lost;
            buf.clear();
        }
        *self.gw.input.get_mut(side) = buf;
    }

    /// Reads what the mode expects from the front of `b`: Some(bytes used), None to wait.
    fn step(&mut self, side: Side, b: &[u8]) -> Option<usize> {
        match *self.gw.mode.get(side) {
            Mode::Head if b.is_empty() => None,
            Mode::Head => self.head(side, b),
            Mode::Body { left, sink } => {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(b.len());
                self.body(side, sink, b.get(..n)?);
                let left = left - n as u64;
                *self.gw.mode.get_mut(side) = if left == 0 {
                    self.body_done(side, sink);
                    Mode::Head
                } else {
                    Mode::Body { left, sink }
                };
                Some(n)
            }
            Mode::Chunked { chunk, sink } => self.chunked(side, chunk, sink, b),
            Mode::ToEnd(sink) => {
                self.body(side, sink, b);
                Some(b.len())
            }
            Mode::AwaitUpgrade => None,
            Mode::WebSocket(payload) => self.websocket(side, payload, b),
            Mode::Http2 => self.http2(side, b),
            Mode::Lost => {
                *self.gw.facts.unknown_bytes.get_mut(side) += b.len() as u64;
                Some(b.len())
            }
        }
    }

    pub(super) fn lost(&mut self, side: Side, e: ProtoError) -> Option<usize> {
        self.error(side, e);
        *self.gw.mode.get_mut(side) = Mode::Lost;
        // No bytes used: the Lost mode counts them on the next step.
        Some(0)
    }

    fn head(&mut self, side: Side, b: &[u8]) -> Option<usize> {
        if side == Side::Client && b.starts_with(http2::PREFACE) {
            self.preface();
            return Some(http2::PREFACE.len());
        }
        if side == Side::Client && http2::PREFACE.starts_with(b) {
            return None;
        }
        if side == Side::Server && is_http2_settings(b) {
            self.gw.facts.kdc_proxy.http2 = true;
            *self.gw.mode.get_mut(Side::Server) = Mode::Http2;
            return Some(0);
        }
        let parsed = match side {
            Side::Client => http::parse_request(b).map(|r| r.map(|r| self.request(&r))),
            Side::Server => http::parse_response(b).map(|r| r.map(|r| self.response(&r))),
        };
        match parsed {
            Ok(Some(n)) => Some(n),
            Ok(None) => None,
            Err(e) => self.lost(side, e),
        }
    }

    fn preface(&mut self) {
        self.event(Side::Client, GatewayEvent::Http2Preface);
        self.gw.facts.kdc_proxy.http2 = true;
        *self.gw.mode.get_mut(Side::Client) = Mode::Http2;
        *self.gw.mode.get_mut(Side::Server) = Mode::Http2;
    }

    /// A request head: facts, event, and the mode for its body. Returns the head's length.
    fn request(&mut self, r: &http::RequestHead<'_>) -> usize {
        let kind = r.gateway_request();
        let auth = r.authorization();
        self.event(
            Side::Client,
            GatewayEvent::HttpRequest {
                request: kind,
                auth: auth.as_ref().map(|a| a.scheme),
            },
        );
        let f = &mut self.gw.facts;
        if f.transport.is_none() || f.transport == Some(InsideTransport::KdcProxy) {
            f.transport = match kind {
                Some(GatewayRequest::OutData { websocket: true } | GatewayRequest::WebSocket) => {
                    Some(InsideTransport::WebSocket)
                }
                Some(GatewayRequest::OutData { .. } | GatewayRequest::InData) => {
                    Some(InsideTransport::Http)
                }
                Some(GatewayRequest::RpcOverHttp) => Some(InsideTransport::RpcOverHttp),
                Some(GatewayRequest::KdcProxy) => Some(InsideTransport::KdcProxy),
                None => f.transport,
            };
        }
        match kind {
            Some(GatewayRequest::OutData { websocket: false }) => {
                f.http_channel = Some(HttpChannel::Out)
            }
            Some(GatewayRequest::InData) => f.http_channel = Some(HttpChannel::In),
            _ => {}
        }
        if kind.is_some() && kind != Some(GatewayRequest::KdcProxy) {
            self.rdg_headers(r);
            if let Some(a) = &auth {
                self.gw.facts.auth.scheme = Some(a.scheme);
                self.gw.facts.auth.credentials_sent = Some(*self.at);
                inside_tunnel::auth_token(self, Side::Client, &a.token);
            }
        }
        if self.gw.pending.len() < MAX_PENDING {
            self.gw.pending.push_back(kind);
        }
        let sink = match kind {
            Some(GatewayRequest::InData) => Sink::Tunnel,
            Some(GatewayRequest::KdcProxy) => Sink::Kdc,
            _ => Sink::Skip,
        };
        let upgrade = r.is_websocket_upgrade();
        let mode = body_mode(r.is_chunked(), r.content_length(), false, sink);
        *self.gw.mode.get_mut(Side::Client) = match mode {
            Mode::Head if upgrade => Mode::AwaitUpgrade,
            m => m,
        };
        r.head_len
    }

    fn rdg_headers(&mut self, r: &http::RequestHead<'_>) {
        let rdg = r.rdg();
        let query = |name: &str| query_value(r.target, name);
        let f = &mut self.gw.facts;
        if f.connection_id.is_none() {
            f.connection_id = rdg.connection_id.or_else(|| query("ConId"));
        }
        if f.correlation_id.is_none() {
            f.correlation_id = rdg.correlation_id.or_else(|| query("CorId"));
        }
        if f.user_id.is_none() {
            f.user_id = rdg.user_id.filter(|u| !u.is_empty());
        }
        if rdg.auth_scheme.is_some() {
            f.auth.rdg_auth_scheme = rdg.auth_scheme;
        }
    }

    /// A response head: facts, event, and the modes that follow. Returns the head's length.
    fn response(&mut self, r: &http::ResponseHead<'_>) -> usize {
        let interim = (100..200).contains(&r.status) && r.status != 101;
        let request = if interim {
            self.gw.pending.front().copied().flatten()
        } else {
            self.gw.pending.pop_front().flatten()
        };
        let challenges = r.www_authenticate();
        self.event(
            Side::Server,
            GatewayEvent::HttpResponse {
                status: r.status,
                challenge: challenges.first().map(|c| c.scheme),
            },
        );
        if interim {
            return r.head_len;
        }
        let status = self.stamp(Side::Server, r.status);
        let reason = (!r.reason.is_empty()).then(|| r.reason.chars().take(128).collect());
        if request == Some(GatewayRequest::KdcProxy) {
            self.kdc_status(status, reason);
        } else if request.is_some() {
            self.auth_answer(status, reason, &challenges);
        }
        if r.is_websocket_accept() {
            self.gw.facts.transport = Some(InsideTransport::WebSocket);
            *self.gw.mode.get_mut(Side::Server) = Mode::WebSocket(None);
            *self.gw.mode.get_mut(Side::Client) = Mode::WebSocket(None);
            return r.head_len;
        }
        if *self.gw.mode.get(Side::Client) == Mode::AwaitUpgrade {
            *self.gw.mode.get_mut(Side::Client) = Mode::Head;
        }
        let sink = match request {
            Some(GatewayRequest::OutData { .. }) if r.status == 200 => Sink::Tunnel,
            Some(GatewayRequest::KdcProxy) => Sink::Kdc,
            _ => Sink::Skip,
        };
        let no_body = matches!(r.status, 101 | 204 | 304);
        *self.gw.mode.get_mut(Side::Server) = if no_body {
            Mode::Head
        } else {
            body_mode(r.is_chunked(), r.content_length(), true, sink)
        };
        r.head_len
    }

    fn kdc_status(&mut self, status: Stamped<u16>, reason: Option<String>) {
        let k = &mut self.gw.facts.kdc_proxy;
        let failed_before = k
            .status
            .as_ref()
            .is_some_and(|s| !(200..300).contains(&s.value));
        if !failed_before {
            k.status = Some(status);
            k.reason = reason;
        }
    }

    fn auth_answer(
        &mut self,
        status: Stamped<u16>,
        reason: Option<String>,
        challenges: &[http::AuthToken],
    ) {
        let a = &mut self.gw.facts.auth;
        if a.offered.is_empty() {
            a.offered = challenges.iter().take(8).map(|c| c.scheme).collect();
            if a.scheme.is_none() {
                a.scheme = a.offered.first().copied();
            }
        }
        let refused = status.value == 403 || (status.value == 401 && a.credentials_sent.is_some());
        if refused && a.refusal.is_none() {
            a.refusal = Some(status.clone());
            a.refusal_reason = reason.clone();
        }
        if matches!(status.value, 101 | 200) && a.accepted.is_none() {
            a.accepted = Some(status.at);
        }
        a.status = Some(status);
        a.reason = reason;
        if let Some(token) = challenges.iter().find(|c| !c.token.is_empty()) {
            let token = token.token.clone();
            inside_tunnel::auth_token(self, Side::Server, &token);
        }
    }

    pub(super) fn body(&mut self, side: Side, sink: Sink, bytes: &[u8]) {
        match sink {
            Sink::Skip => {}
            Sink::Tunnel => inside_tunnel::tunnel_bytes(self, side, bytes),
            Sink::Kdc => {
                let buf = self.gw.kdc.get_mut(side);
                let room = crate::proto::kkdcp::MAX_MESSAGE_LEN.saturating_sub(buf.len());
                buf.extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
            }
        }
    }

    pub(super) fn body_done(&mut self, side: Side, sink: Sink) {
        if sink == Sink::Kdc {
            let body = std::mem::take(self.gw.kdc.get_mut(side));
            inside_tunnel::kdc_message(self, side, &body);
        }
    }
}

/// A query parameter of a request target (`/remoteDesktopGateway/?ConId=...`).
fn query_value(target: &str, name: &str) -> Option<String> {
    let (_, query) = target.split_once('?')?;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.chars().take(128).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_gateway_plaintext_and_query_ids() {
        assert!(looks_like_http(
            b"RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\n"
        ));
        assert!(looks_like_http(b"HTTP/1.1 401 Unauthorized\r\n"));
        assert!(looks_like_http(http2::PREFACE));
        // tshark, rdp-rdg-same-creds-kerberos-password-success1.pcapng frame 18: the
        // gateway's HTTP/2 SETTINGS, sent before the client's preface.
        let settings = crate::proto::test_util::hex(
            "000012040000000000000300000064001000000002000400100000000004080000000000000f0001",
        );
        assert!(looks_like_http(&settings));
        // A TPKT (X.224 CR) and a TSRequest are not HTTP.
        assert!(!looks_like_http(&[3, 0, 0, 0x2f, 0x2a, 0xe0]));
        assert!(!looks_like_http(&[0x30, 0x82, 0x01, 0x00]));
        assert_eq!(
            query_value("/remoteDesktopGateway/?ConId={A}&CorId={B}", "conid").as_deref(),
            Some("{A}")
        );
        assert_eq!(query_value("/remoteDesktopGateway/", "ConId"), None);
    }
}
