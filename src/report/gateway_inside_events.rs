//! Words for the events read inside a decrypted RD Gateway stream (`GatewayEvent`).

use crate::proto::http::{AuthScheme, GatewayRequest};
use crate::proto::tsgu::TsguStatus;
use crate::session::gateway::inside_facts::{GatewayEvent, ProxiedKerberos};

/// The scheme as HTTP names it.
pub fn scheme_name(s: AuthScheme) -> &'static str {
    match s {
        AuthScheme::Negotiate => "Negotiate",
        AuthScheme::Ntlm => "NTLM",
        AuthScheme::Kerberos => "Kerberos",
        AuthScheme::Basic => "Basic",
        AuthScheme::Bearer => "Bearer",
        AuthScheme::Digest => "Digest",
        AuthScheme::Other => "other",
    }
}

fn request_name(r: Option<GatewayRequest>) -> &'static str {
    match r {
        Some(GatewayRequest::OutData { websocket: true }) => "RDG_OUT_DATA (WebSocket upgrade)",
        Some(GatewayRequest::OutData { websocket: false }) => "RDG_OUT_DATA",
        Some(GatewayRequest::InData) => "RDG_IN_DATA",
        Some(GatewayRequest::WebSocket) => "WebSocket upgrade to /remoteDesktopGateway/",
        Some(GatewayRequest::KdcProxy) => "POST /KdcProxy",
        Some(GatewayRequest::RpcOverHttp) => "RPC over HTTP",
        None => "HTTP request",
    }
}

/// A status with its name: `E_PROXY_RAP_ACCESSDENIED (0x800759DA)`.
pub fn status_text(s: TsguStatus) -> String {
    match s.name() {
        Some(n) => format!("{n} (0x{:08X})", s.0),
        None => format!("0x{:08X}", s.0),
    }
}

/// The Kerberos message type's name (RFC 4120 5.10).
pub fn krb_msg_name(msg_type: i32) -> &'static str {
    match msg_type {
        10 => "AS-REQ",
        11 => "AS-REP",
        12 => "TGS-REQ",
        13 => "TGS-REP",
        14 => "AP-REQ",
        15 => "AP-REP",
        30 => "KRB-ERROR",
        _ => "Kerberos message",
    }
}

fn proxied(k: &ProxiedKerberos) -> String {
    match k.error {
        Some(e) => format!("KDC proxy: KRB-ERROR {e}"),
        None => format!("KDC proxy: {}", krb_msg_name(k.msg_type)),
    }
}

pub fn gateway_event_text(e: &GatewayEvent) -> String {
    match e {
        GatewayEvent::HttpRequest { request, auth } => match auth {
            Some(a) => format!(
                "{} with {} credentials",
                request_name(*request),
                scheme_name(*a)
            ),
            None => request_name(*request).to_string(),
        },
        GatewayEvent::HttpResponse { status, challenge } => match challenge {
            Some(c) => format!("HTTP {status}, challenge {}", scheme_name(*c)),
            None => format!("HTTP {status}"),
        },
        GatewayEvent::Http2Preface => "HTTP/2 connection preface".into(),
        GatewayEvent::KdcProxy(k) => proxied(k),
        GatewayEvent::WebSocketClose { code: Some(c) } => format!("WebSocket close ({c})"),
        GatewayEvent::WebSocketClose { code: None } => "WebSocket close".into(),
        GatewayEvent::Tsgu { packet, status } => {
            let name = packet
                .name()
                .map(|n| n.trim_start_matches("PKT_TYPE_").to_string())
                .unwrap_or_else(|| format!("packet type 0x{:x}", packet.0));
            match status {
                Some(s) if !s.is_success() => format!("gateway {name}: {}", status_text(*s)),
                _ => format!("gateway {name}"),
            }
        }
        GatewayEvent::TunnelData => "first tunnelled RDP bytes".into(),
    }
}
