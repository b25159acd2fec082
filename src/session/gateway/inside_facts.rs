//! What the decrypted stream of an RD Gateway connection showed (`GatewayInsideFacts`) and
//! the typed events it puts on the connection's timeline (`GatewayEvent`). Values only: the
//! words are made in `report::gateway_inside`.

use crate::flow::{PacketInfo, Sides};
use crate::proto::http::{AuthScheme, GatewayRequest};
use crate::proto::kerberos::KrbErrorCode;
use crate::proto::tsgu::{PacketType, TsguStatus};
use crate::proto::ProtoError;
use crate::session::{AuthMech, AuthToken, Stamped};

/// How the client reached the gateway, as the HTTP requests inside the TLS say
/// (MS-TSGU 2.2.5; MS-KKDCP 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsideTransport {
    /// HTTP transport: RDG_OUT_DATA / RDG_IN_DATA on two TLS connections (MS-TSGU 3.3.5.1).
    Http,
    /// One TLS connection upgraded to WebSocket (MS-TSGU 3.3.5.1, RFC 6455).
    WebSocket,
    /// Legacy RPC over HTTP (RPC_IN_DATA / RPC_OUT_DATA).
    RpcOverHttp,
    /// Only `POST /KdcProxy` (MS-KKDCP), over HTTP/1.1 or HTTP/2.
    KdcProxy,
}

impl InsideTransport {
    /// The value of the JSON `gateway.transport` key.
    pub fn key(self) -> &'static str {
        match self {
            InsideTransport::Http => "http",
            InsideTransport::WebSocket => "websocket",
            InsideTransport::RpcOverHttp => "rpc-over-http",
            InsideTransport::KdcProxy => "kdc-proxy",
        }
    }
}

/// Which half of the HTTP transport a TLS connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpChannel {
    /// RDG_OUT_DATA: gateway-to-client bytes.
    Out,
    /// RDG_IN_DATA: client-to-gateway bytes.
    In,
}

/// HTTP authentication to the gateway (RFC 9110 11; MS-TSGU 3.3.5.1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthFacts {
    /// The scheme of the client's last Authorization header, else the first one the
    /// gateway offered.
    pub scheme: Option<AuthScheme>,
    /// The schemes of the gateway's WWW-Authenticate challenges (first 401), at most 8.
    pub offered: Vec<AuthScheme>,
    /// RDG-Auth-Scheme of the client's requests (PAA, SSPI_NTLM, ...).
    pub rdg_auth_scheme: Option<String>,
    /// The client sent an Authorization header.
    pub credentials_sent: Option<PacketInfo>,
    /// The package the tokens used (SPNEGO unwrapped).
    pub mechanism: Option<AuthMech>,
    /// The last token read from Authorization / WWW-Authenticate.
    pub last_token: Option<AuthToken>,
    /// The last answer to a gateway request (not `/KdcProxy`): its status and reason phrase.
    pub status: Option<Stamped<u16>>,
    pub reason: Option<String>,
    /// The first 401/403 answer after credentials were sent, or any 403 (a refusal, not the
    /// opening challenge).
    pub refusal: Option<Stamped<u16>>,
    pub refusal_reason: Option<String>,
    /// 101 Switching Protocols or 200 to a gateway request: authentication passed.
    pub accepted: Option<PacketInfo>,
}

/// One Kerberos message through the KDC proxy (MS-KKDCP 2.2.2, RFC 4120 5.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxiedKerberos {
    /// 10 AS-REQ, 11 AS-REP, 12 TGS-REQ, 13 TGS-REP, 30 KRB-ERROR.
    pub msg_type: i32,
    pub error: Option<KrbErrorCode>,
}

/// The KDC proxy (`POST /KdcProxy`, MS-KKDCP).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KdcProxyFacts {
    /// KDC-PROXY-MESSAGEs the client sent.
    pub requests: u32,
    /// KDC-PROXY-MESSAGEs the proxy answered with.
    pub responses: u32,
    /// The first non-2xx status of a `/KdcProxy` answer, else the last one.
    pub status: Option<Stamped<u16>>,
    pub reason: Option<String>,
    /// The proxied messages in order, at most `MAX_PROXIED`.
    pub messages: Vec<Stamped<ProxiedKerberos>>,
    /// The realm the client asked the proxy to reach.
    pub target_domain: Option<String>,
    /// The last KRB-ERROR the proxy carried back.
    pub krb_error: Option<Stamped<KrbErrorCode>>,
    /// Over HTTP/2 (RFC 9113).
    pub http2: bool,
    /// An HTTP/2 RST_STREAM or GOAWAY with an error code.
    pub http2_error: Option<Stamped<u32>>,
}

pub const MAX_PROXIED: usize = 32;

impl KdcProxyFacts {
    /// The last proxied reply (from the proxy).
    pub fn last_reply(&self) -> Option<&Stamped<ProxiedKerberos>> {
        self.messages
            .iter()
            .rev()
            .find(|m| !matches!(m.value.msg_type, 10 | 12))
    }
}

/// The tunnel (MS-TSGU 3.3.5.1): handshake, tunnel create and tunnel authorization.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TunnelFacts {
    pub handshake: Option<Stamped<TsguStatus>>,
    /// HANDSHAKE_RESPONSE extendedAuth: what the gateway accepts (SC 0x1, PAA 0x2, NTLM 0x4).
    pub extended_auth: Option<u16>,
    pub create: Option<Stamped<TsguStatus>>,
    pub tunnel_id: Option<u32>,
    pub auth: Option<Stamped<TsguStatus>>,
    pub client_name: Option<String>,
    pub service_message: Option<Stamped<String>>,
    pub reauth: u32,
    pub keepalives: u32,
}

impl TunnelFacts {
    /// The tunnel's status: the first failing response, else the last one.
    pub fn status(&self) -> Option<Stamped<TsguStatus>> {
        let all = [&self.handshake, &self.create, &self.auth];
        all.iter()
            .filter_map(|s| s.as_ref())
            .find(|s| !s.value.is_success())
            .or_else(|| all.iter().rev().find_map(|s| s.as_ref()))
            .cloned()
    }
}

/// The channel to the target host (MS-TSGU 2.2.10.2, 2.2.10.5).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelFacts {
    pub requested: Option<PacketInfo>,
    /// The session host the client asked for (the first resource name).
    pub target: Option<String>,
    pub alternatives: Vec<String>,
    pub port: Option<u16>,
    pub protocol: Option<u16>,
    pub status: Option<Stamped<TsguStatus>>,
    pub channel_id: Option<u32>,
    /// The gateway's UDP transport port, when it offered one.
    pub udp_port: Option<u16>,
    /// CLOSE_CHANNEL (either side) and its status.
    pub close: Option<Stamped<TsguStatus>>,
}

/// Tunnelled bytes per side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TunnelData {
    pub packets: u64,
    pub bytes: u64,
    pub first: Option<PacketInfo>,
}

/// Everything read inside one gateway TLS connection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GatewayInsideFacts {
    pub transport: Option<InsideTransport>,
    pub http_channel: Option<HttpChannel>,
    /// RDG-Connection-Id (ties the OUT and IN channels together), from the headers or the
    /// WebSocket query (`ConId`).
    pub connection_id: Option<String>,
    /// RDG-Correlation-Id: the same GUID as the RDP_NEG_CORRELATION_INFO of the tunnelled
    /// connection and the UDP transport.
    pub correlation_id: Option<String>,
    /// RDG-User-Id decoded (a user name: redacted like one).
    pub user_id: Option<String>,
    pub auth: AuthFacts,
    pub kdc_proxy: KdcProxyFacts,
    pub tunnel: TunnelFacts,
    pub channel: ChannelFacts,
    pub data: Sides<TunnelData>,
    /// RFC 6455 7.4 close code of the first close frame.
    pub websocket_close: Option<Stamped<u16>>,
    /// Bytes that fit no framing (per side), and the first few parse errors.
    pub unknown_bytes: Sides<u64>,
    pub decode_errors: Vec<Stamped<ProtoError>>,
}

pub const MAX_DECODE_ERRORS: usize = 4;

/// One gateway milestone on the timeline (`EventKind::Gateway`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayEvent {
    /// An HTTP/1.1 request; `request` None for one that is no gateway request.
    HttpRequest {
        request: Option<GatewayRequest>,
        auth: Option<AuthScheme>,
    },
    /// An HTTP/1.1 or HTTP/2 response with the first challenge's scheme.
    HttpResponse {
        status: u16,
        challenge: Option<AuthScheme>,
    },
    /// The client's HTTP/2 connection preface (RFC 9113 3.4).
    Http2Preface,
    /// A Kerberos message through the KDC proxy.
    KdcProxy(ProxiedKerberos),
    WebSocketClose {
        code: Option<u16>,
    },
    /// A tunnel packet other than DATA and KEEPALIVE, with its status if it is a response.
    Tsgu {
        packet: PacketType,
        status: Option<TsguStatus>,
    },
    /// The side's first DATA packet: the tunnelled RDP connection starts.
    TunnelData,
}
