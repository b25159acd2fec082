use super::*;
use crate::flow::{Endpoint, Sides};

const S: i64 = 1_000_000_000;

fn synthetic(candidate: u64, port: u16, records: [u64; 2], name: &str) -> FlowShape {
    FlowShape {
        candidate,
        transport: if port == 3391 {
            TransportKind::Udp
        } else {
            TransportKind::Tcp
        },
        client: [10, 0, 0, 2].into(),
        server: Endpoint {
            ip: [10, 0, 0, 7].into(),
            port,
        },
        first_ns: 0,
        last_ns: 10 * S,
        hello_ns: Some(S / 1000),
        handshake_done: true,
        records: Sides(records),
        bytes: Sides([records[0] * 200, records[1] * 900]),
        names: if name.is_empty() {
            Vec::new()
        } else {
            vec![name.to_string()]
        },
        alpn: Vec::new(),
        closed_by: None,
        tls_failed: false,
    }
}

fn other(shape: FlowShape, id: Option<u64>, open: bool) -> Other {
    Other {
        shape,
        id,
        role: None,
        open,
    }
}

#[test]
fn synthetic_named_interactive_connection_is_a_websocket_gateway() {
    let me = synthetic(1, 443, [310, 287], "it-help-gw.ad.it-help.ninja");
    let (f, partner) = recognise(&me, &[]).unwrap();
    assert_eq!(
        (f.transport, f.role),
        (GatewayTransport::WebSocket, GatewayRole::WebSocket)
    );
    assert_eq!(f.basis, vec![GatewayBasis::NamedInteractive]);
    assert_eq!(partner, None);
}

#[test]
fn synthetic_interactive_https_without_gateway_evidence_is_not_a_gateway() {
    // A busy WebSocket app or a video call to www.example.com: interactive, no RDG evidence.
    assert!(recognise(&synthetic(1, 443, [310, 287], "www.example.com"), &[]).is_none());
    // A short exchange to a server named like a gateway, closed by the client: no evidence.
    let short = FlowShape {
        closed_by: Some(Side::Client),
        ..synthetic(2, 443, [3, 3], "gw.example.com")
    };
    assert!(recognise(&short, &[]).is_none());
}

#[test]
fn synthetic_out_and_in_channels_pair_without_names() {
    let out = synthetic(1, 443, [3, 500], "");
    let inc = synthetic(2, 443, [480, 4], "");
    let (f, partner) = recognise(&out, &[other(inc.clone(), None, true)]).unwrap();
    assert_eq!(
        (f.transport, f.role),
        (GatewayTransport::Http, GatewayRole::OutChannel)
    );
    assert_eq!(f.basis, vec![GatewayBasis::PairedChannels]);
    assert_eq!(partner, Some(Partner::Open(2)));
    let (f, partner) = recognise(&inc, &[other(out, Some(7), false)]).unwrap();
    assert_eq!(f.role, GatewayRole::InChannel);
    assert_eq!(partner, Some(Partner::Known(7)));
}

#[test]
fn synthetic_two_downloads_at_once_are_not_channels() {
    let a = synthetic(1, 443, [3, 500], "");
    let b = synthetic(2, 443, [4, 480], "");
    assert!(recognise(&a, &[other(b, None, true)]).is_none());
}

#[test]
fn synthetic_kdc_proxy_beside_a_gateway_and_udp_transport() {
    let tunnel = synthetic(1, 443, [310, 287], "it-help-gw.ad.it-help.ninja");
    let kdc = synthetic(2, 443, [8, 5], "it-help-gw.ad.it-help.ninja");
    let (f, partner) = recognise(&kdc, &[other(tunnel.clone(), Some(3), false)]).unwrap();
    assert_eq!(f.role, GatewayRole::KdcProxy);
    assert_eq!(partner, Some(Partner::Known(3)));
    // The same short exchange beside an ordinary site: nothing.
    assert!(recognise(
        &kdc,
        &[other(synthetic(1, 443, [310, 287], ""), None, true)]
    )
    .is_none());
    // DTLS to 3391 beside the tunnel: the UDP transport, and evidence for the tunnel.
    let udp = FlowShape {
        first_ns: 2 * S,
        ..synthetic(4, 3391, [3, 0], "")
    };
    let (f, partner) = recognise(&udp, &[other(tunnel.clone(), Some(3), false)]).unwrap();
    assert_eq!(
        (f.transport, f.role),
        (GatewayTransport::Udp, GatewayRole::Udp)
    );
    assert_eq!(partner, Some(Partner::Known(3)));
    let unnamed = synthetic(1, 443, [310, 287], "");
    let (f, partner) = recognise(&unnamed, &[other(udp, None, true)]).unwrap();
    assert_eq!(f.basis, vec![GatewayBasis::UdpTransportBeside]);
    assert_eq!(partner, Some(Partner::Open(4)));
}

#[test]
fn synthetic_named_gateway_closing_after_a_short_exchange_is_recognised() {
    let refused = FlowShape {
        closed_by: Some(Side::Server),
        last_ns: S / 10,
        ..synthetic(1, 443, [2, 2], "rdg.example.com")
    };
    let (f, _) = recognise(&refused, &[]).unwrap();
    assert_eq!(f.basis, vec![GatewayBasis::NamedFailure]);
}
