//! Words for RD Gateway connections: their findings, evidence notes, and the names of
//! their transport, role and recognition basis (JSON values and table labels).

use crate::diagnose::gateway::{GatewayFinding, GatewayNote};
use crate::session::gateway::{GatewayBasis, GatewayRole, GatewayTransport};

use super::notes::close_text;

/// The JSON value of a transport (`gateway.transport`).
pub fn transport_name(t: GatewayTransport) -> &'static str {
    match t {
        GatewayTransport::Http => "http",
        GatewayTransport::WebSocket => "websocket",
        GatewayTransport::RpcOverHttp => "rpc-over-http",
        GatewayTransport::Udp => "udp",
    }
}

/// The JSON value of a role (`gateway.role`).
pub fn role_name(r: GatewayRole) -> &'static str {
    match r {
        GatewayRole::OutChannel => "out-channel",
        GatewayRole::InChannel => "in-channel",
        GatewayRole::WebSocket => "websocket",
        GatewayRole::KdcProxy => "kdc-proxy",
        GatewayRole::Udp => "udp",
    }
}

/// The JSON value of a basis (`gateway.basis[]`).
pub fn basis_name(b: GatewayBasis) -> &'static str {
    match b {
        GatewayBasis::DtlsOnGatewayPort => "dtls-on-3391",
        GatewayBasis::UdpTransportBeside => "udp-transport-beside",
        GatewayBasis::PairedChannels => "paired-channels",
        GatewayBasis::KdcProxyBeside => "kdc-proxy-beside",
        GatewayBasis::NamedInteractive => "named-interactive",
        GatewayBasis::NamedFailure => "named-failure",
        GatewayBasis::DecryptedGatewayHttp => "decrypted-gateway-http",
    }
}

/// What a table row says of a gateway connection: "RD Gateway websocket".
pub fn row_label(t: GatewayTransport, r: GatewayRole) -> String {
    match r {
        GatewayRole::KdcProxy => "RD Gateway KDC proxy".into(),
        GatewayRole::Udp => "RD Gateway UDP transport".into(),
        GatewayRole::OutChannel => "RD Gateway OUT channel".into(),
        GatewayRole::InChannel => "RD Gateway IN channel".into(),
        GatewayRole::WebSocket => format!("RD Gateway {}", transport_name(t)),
    }
}

/// How a gateway connection is named in the table and the findings header: "RD Gateway
/// websocket it-help-gw.example.com", "RD Gateway KDC proxy ... beside #1". None for others.
pub fn gateway_label(d: &crate::diagnose::Diagnosed) -> Option<String> {
    let g = d.connection.gateway.as_deref()?;
    let mut label = row_label(g.transport, g.role);
    if let Some(name) = &g.server_name {
        label.push(' ');
        label.push_str(name);
    }
    if let Some(p) = g.paired_with {
        let word = match g.role {
            GatewayRole::OutChannel | GatewayRole::InChannel => "paired with",
            _ => "beside",
        };
        label.push_str(&format!(" ({word} #{p})"));
    }
    Some(label)
}

/// The title and explanation of a gateway finding.
pub fn gateway_words(f: &GatewayFinding) -> (String, String) {
    match f {
        GatewayFinding::ClosedAfterShortExchange {
            client_records,
            server_records,
            after_tls_ms,
            close,
            kdc_proxy: false,
        } => (
            "The RD Gateway closed the connection after the client's first request (authentication refused, inferred)".into(),
            format!(
                "After TLS the client sent {client_records} encrypted record(s) (its HTTP request with \
                 credentials), the gateway {} and closed the connection ({}) {:.0} ms after \
                 TLS: the shape of a refused gateway logon. The status is inside the TLS: this \
                 is inferred from the packets.",
                match server_records {
                    0 => "sent nothing back".to_string(),
                    n => format!("answered with {n} record(s)"),
                },
                close_text(*close),
                after_tls_ms
            ),
        ),
        GatewayFinding::ClosedAfterShortExchange {
            client_records,
            close,
            after_tls_ms,
            ..
        } => (
            "The RD Gateway's KDC proxy closed without answering (inferred)".into(),
            format!(
                "The client sent {client_records} encrypted record(s) to the KDC proxy (POST \
                 /KdcProxy) and the gateway closed the connection ({}) {:.0} ms after TLS without \
                 an answer. Inferred from the packets: the proxy's status is inside the TLS.",
                close_text(*close),
                after_tls_ms
            ),
        ),
        GatewayFinding::UdpUnanswered { hellos, span_ms } => (
            format!("The RD Gateway's UDP transport (3391) never answered {hellos} DTLS handshake(s)"),
            format!(
                "The client sent {hellos} DTLS ClientHello(s) to UDP 3391 over {:.1} s and the \
                 gateway sent nothing back: UDP 3391 is blocked or the gateway's UDP transport is \
                 off. The session continues over the HTTPS tunnel.",
                span_ms / 1000.0
            ),
        ),
    }
}

/// The note of a gateway evidence frame.
pub fn gateway_note(n: &GatewayNote) -> String {
    match n {
        GatewayNote::TlsDone => "TLS handshake with the gateway finished".into(),
        GatewayNote::ClientRequest { bytes } => {
            format!("client's first request (encrypted, {bytes} B)")
        }
        GatewayNote::GatewayAnswer { bytes } => {
            format!("gateway's answer (encrypted, {bytes} B)")
        }
        GatewayNote::GatewayCloses(c) => format!("gateway closes ({})", close_text(*c)),
        GatewayNote::DtlsHello { n } => format!("DTLS ClientHello #{n} to 3391"),
    }
}
