//! Keyless rules on one flow's shape: what each says about a possible RD Gateway
//! connection (MS-TSGU 1.3 overview of the transports; FreeRDP rdg.c for the client's
//! channel use). No rule alone turns an HTTPS flow into a gateway except DTLS on 3391:
//! `correlate::gateway` combines them.

use super::{FlowShape, INTERACTIVE_RECORDS};
use crate::flow::{Side, TransportKind};
use crate::ports;

/// Labels that name a gateway in the first DNS label of a host name ("rdg", "rdgw",
/// "gateway", "gw", "gw01", "it-help-gw", "tsgateway"): weak evidence, never enough alone.
pub fn name_suggests_gateway(name: &str) -> bool {
    let first = name
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if first.contains("gateway") || first.starts_with("rdg") || first.contains("rdgw") {
        return true;
    }
    first.split(['-', '_']).any(|token| {
        let letters = token.trim_end_matches(|c: char| c.is_ascii_digit());
        matches!(letters, "gw" | "rdg" | "rdgw" | "tsg" | "tsgw" | "rdsgw")
    })
}

/// Any of the flow's names (SNI, certificate) names a gateway.
pub fn named_gateway(shape: &FlowShape) -> bool {
    shape.names.iter().any(|n| name_suggests_gateway(n))
}

/// A tunnelled session's traffic: many records both ways, the client's a sizeable share
/// (input, acknowledgements), unlike a download where the client only asks.
pub fn interactive(shape: &FlowShape) -> bool {
    let (c, s) = (
        *shape.records.get(Side::Client),
        *shape.records.get(Side::Server),
    );
    shape.handshake_done && c >= INTERACTIVE_RECORDS && s >= INTERACTIVE_RECORDS && c * 4 >= s
}

/// The direction that carried the flow's records, when one side sent at least eight
/// records and eight times as many as the other: an HTTP-transport channel (OUT carries
/// the server's bytes, IN the client's, MS-TSGU 3.3.5.1).
pub fn one_way(shape: &FlowShape) -> Option<Side> {
    let (c, s) = (
        *shape.records.get(Side::Client),
        *shape.records.get(Side::Server),
    );
    if !shape.handshake_done {
        None
    } else if s >= 8 && s >= c * 8 {
        Some(Side::Server)
    } else if c >= 8 && c >= s * 8 {
        Some(Side::Client)
    } else {
        None
    }
}

/// A short request/response exchange after TLS (a KDC proxy's `POST /KdcProxy` and its
/// answers, MS-KKDCP 2.1): both sides sent, and few records in all.
pub fn request_response(shape: &FlowShape) -> bool {
    let (c, s) = (
        *shape.records.get(Side::Client),
        *shape.records.get(Side::Server),
    );
    shape.transport == TransportKind::Tcp && shape.handshake_done && c >= 1 && s >= 1 && c + s <= 24
}

/// The gateway ended the connection during TLS or after at most a few records each way
/// (an authentication or policy refusal, MS-TSGU 3.3.5.1: the gateway answers 401/403 and
/// closes), or TLS failed.
pub fn failed_early(shape: &FlowShape) -> bool {
    if shape.tls_failed {
        return true;
    }
    let (c, s) = (
        *shape.records.get(Side::Client),
        *shape.records.get(Side::Server),
    );
    shape.closed_by == Some(Side::Server) && c <= 6 && s <= 6
}

/// A DTLS flow to the gateway's UDP port.
pub fn dtls_on_gateway_port(shape: &FlowShape) -> bool {
    shape.transport == TransportKind::Udp
        && shape.server.port == ports::GATEWAY_UDP
        && shape.hello_ns.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Endpoint, Sides};

    fn synthetic_shape(client: u64, server: u64) -> FlowShape {
        FlowShape {
            candidate: 1,
            transport: TransportKind::Tcp,
            client: [10, 0, 0, 2].into(),
            server: Endpoint {
                ip: [10, 0, 0, 1].into(),
                port: 443,
            },
            first_ns: 0,
            last_ns: 5_000_000_000,
            hello_ns: Some(1_000_000),
            handshake_done: true,
            records: Sides([client, server]),
            bytes: Sides([client * 100, server * 1000]),
            names: vec!["it-help-gw.ad.it-help.ninja".into()],
            alpn: Vec::new(),
            closed_by: None,
            tls_failed: false,
        }
    }

    #[test]
    fn synthetic_gateway_names_are_recognised_and_others_not() {
        for n in [
            "it-help-gw.ad.it-help.ninja",
            "rdg.example.com",
            "RDGW01.corp",
            "gateway.example.org",
            "gw2.example.org",
            "tsgateway.contoso.com",
        ] {
            assert!(name_suggests_gateway(n), "{n}");
        }
        for n in [
            "www.example.com",
            "gwendolyn.example.com",
            "api.github.com",
            "example.gw.com",
            "",
        ] {
            assert!(!name_suggests_gateway(n), "{n}");
        }
    }

    #[test]
    fn synthetic_interactive_needs_both_directions() {
        // The real WebSocket tunnel of rdp-rdg-same-creds: 310 client, 287 server records.
        assert!(interactive(&synthetic_shape(310, 287)));
        // A download: the client asks a few times, the server sends hundreds.
        assert!(!interactive(&synthetic_shape(40, 900)));
        assert!(!interactive(&synthetic_shape(10, 10)));
    }

    #[test]
    fn synthetic_channels_are_one_way() {
        assert_eq!(one_way(&synthetic_shape(3, 400)), Some(Side::Server));
        assert_eq!(one_way(&synthetic_shape(400, 3)), Some(Side::Client));
        assert_eq!(one_way(&synthetic_shape(310, 287)), None);
    }

    #[test]
    fn synthetic_short_exchange_closed_by_server_is_an_early_failure() {
        // The real KDC proxy beside it: 8 client, 5 server records, left open.
        let kdc = synthetic_shape(8, 5);
        assert!(request_response(&kdc));
        assert!(!failed_early(&kdc));
        let refused = FlowShape {
            closed_by: Some(Side::Server),
            ..synthetic_shape(2, 2)
        };
        assert!(failed_early(&refused));
        let reset = FlowShape {
            handshake_done: false,
            tls_failed: true,
            ..synthetic_shape(0, 0)
        };
        assert!(failed_early(&reset));
    }
}
