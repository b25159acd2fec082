//! Gateway failures the shared captures do not show, built from the packets of the real
//! exchange (rdp-rdg-same-creds-kerberos-password-success1.pcapng, as tests/gateway_inside.rs
//! reads it) with the gateway's answer replaced: 401 User Account Restricted, a channel
//! refused with E_PROXY_RAP_ACCESSDENIED or E_PROXY_TS_CONNECTFAILED, 503 on `/KdcProxy`,
//! and the HTTP transport (RDG_OUT_DATA with a chunked body, RDG_IN_DATA with a sized one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

use std::net::{IpAddr, Ipv4Addr};

use rdpscope::diagnose::{self, DiagnoseConfig, Diagnosed, Facts, FindingCode};
use rdpscope::flow::{Endpoint, FinishedFlow, FlowMeta, PacketInfo, Side, Sides, TransportKind};
use rdpscope::proto::tsgu::TsguStatus;
use rdpscope::session::gateway::inside_facts::{HttpChannel, InsideTransport};
use rdpscope::session::gateway::route_plaintext;
use rdpscope::session::Connection;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// A stream of records, each with its frame number and side.
struct Feed {
    conn: Connection,
    frame: u64,
}

impl Feed {
    fn new() -> Self {
        Feed {
            conn: Connection::default(),
            frame: 0,
        }
    }

    fn send(&mut self, side: Side, data: &[u8]) -> &mut Self {
        self.frame += 1;
        let at = PacketInfo {
            file: 0,
            frame: self.frame,
            ts_ns: self.frame as i64 * 1_000_000,
        };
        route_plaintext(&mut self.conn, &at, side, 23, data);
        self
    }

    fn diagnosed(self) -> Diagnosed {
        let ep = |port| Endpoint {
            ip: IpAddr::V4(Ipv4Addr::new(10, 10, 0, if port == 443 { 7 } else { 131 })),
            port,
        };
        let at = |frame| PacketInfo {
            file: 0,
            frame,
            ts_ns: frame as i64 * 1_000_000,
        };
        let meta = FlowMeta {
            id: 7,
            transport: TransportKind::Tcp,
            client: ep(49790),
            server: ep(443),
            first: at(1),
            last: at(self.frame),
            packets: self.frame,
            bytes: 0,
            packets_by_side: Sides([0, 0]),
        };
        let flow = FinishedFlow {
            meta,
            tcp: None,
            handler: Box::new(self.conn),
            evicted: false,
        };
        diagnose::diagnose(flow, &DiagnoseConfig::default(), Default::default())
    }
}

/// Frame 39's upgrade request (its Negotiate token cut to the SPNEGO header) and frames
/// 42-48 of the tunnel, unmasked and re-sent unmasked (a parser must accept either).
const UPGRADE: &str = "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nConnection: Upgrade\r\n\
Upgrade: websocket\r\nRDG-Connection-Id: {EBB921D3-86CD-401F-8154-47360E45BF2F}\r\n\
Sec-WebSocket-Version: 13\r\nHost: it-help-gw.ad.it-help.ninja\r\n\
Authorization: Negotiate YIIHWwYGKwYBBQUCoIIHTzCCB0ugMDAuBgkqhkiC9xIBAgIG\r\n\r\n";
const SWITCHING: &str =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
const HANDSHAKE_REQUEST: &str = "010000000e000000010000000000";
const HANDSHAKE_RESPONSE: &str = "020000001200000000000000010000000700";
const TUNNEL_CREATE: &str = "04000000100000003f00000000000000";
const TUNNEL_RESPONSE: &str = "050000001a00000000000000000003000000040000003f000000";
const TUNNEL_AUTH: &str =
    "060000002a00000000001e00490054002d00480045004c0050002d0043004c00490045004e0054000000";
const TUNNEL_AUTH_RESPONSE: &str = "070000001800000000000000030000000000008000000000";
const CHANNEL_CREATE: &str = "080000004c00000001003d0d03003c00490054002d00480045004c0050002d0054004500530054002e00610064002e00690074002d00680065006c0070002e006e0069006e006a0061000000";

/// A binary WebSocket frame around `payload` (unmasked, FIN).
fn ws(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x82];
    if payload.len() < 126 {
        f.push(payload.len() as u8);
    } else {
        f.push(126);
        f.extend((payload.len() as u16).to_be_bytes());
    }
    f.extend_from_slice(payload);
    f
}

/// The real tunnel set-up up to the channel request.
fn tunnel_to_channel_request() -> Feed {
    let mut feed = Feed::new();
    feed.send(Side::Client, UPGRADE.as_bytes())
        .send(Side::Server, SWITCHING.as_bytes());
    for (side, p) in [
        (Side::Client, HANDSHAKE_REQUEST),
        (Side::Server, HANDSHAKE_RESPONSE),
        (Side::Client, TUNNEL_CREATE),
        (Side::Server, TUNNEL_RESPONSE),
        (Side::Client, TUNNEL_AUTH),
        (Side::Server, TUNNEL_AUTH_RESPONSE),
        (Side::Client, CHANNEL_CREATE),
    ] {
        feed.send(side, &ws(&hex(p)));
    }
    feed
}

/// CHANNEL_RESPONSE with this errorCode and no optional fields (MS-TSGU 2.2.10.5).
fn channel_response(status: u32) -> Vec<u8> {
    let mut p = hex("09000000 10000000");
    p.extend(status.to_le_bytes());
    p.extend([0, 0, 0, 0]);
    ws(&p)
}

#[test]
fn synthetic_rap_denial_names_the_policy_and_the_target() {
    let mut feed = tunnel_to_channel_request();
    feed.send(Side::Server, &channel_response(0x8007_59DA));
    let d = feed.diagnosed();
    let f = d
        .findings
        .iter()
        .find(|f| f.code == FindingCode::GatewayPolicyDenied)
        .expect("gateway-policy-denied");
    let Facts::GatewayInside(g) = &f.facts else {
        panic!("{:?}", f.facts)
    };
    assert!(format!("{g:?}").contains("IT-HELP-TEST.ad.it-help.ninja"));
    assert_eq!(d.verdict, diagnose::Verdict::Failed);
    // Evidence: the channel request (frame 9) and the refusal (frame 10).
    let frames: Vec<u64> = f.evidence.iter().map(|e| e.frame).collect();
    assert_eq!(frames, [9, 10]);
    let gw = d.connection.gateway_inside.as_deref().unwrap();
    assert_eq!(
        gw.facts.channel.status.as_ref().map(|s| s.value),
        Some(TsguStatus::E_PROXY_RAP_ACCESSDENIED)
    );
    assert!(!d
        .findings
        .iter()
        .any(|f| f.code == FindingCode::GatewayAuthFailed));
}

#[test]
fn synthetic_connect_failed_is_target_unreachable() {
    let mut feed = tunnel_to_channel_request();
    // The low-word form some gateways send (HRESULT_CODE(E_PROXY_TS_CONNECTFAILED)).
    feed.send(Side::Server, &channel_response(0x59DD));
    let d = feed.diagnosed();
    let codes: Vec<FindingCode> = d.findings.iter().map(|f| f.code).collect();
    assert!(
        codes.contains(&FindingCode::GatewayTargetUnreachable),
        "{codes:?}"
    );
    assert!(!codes.contains(&FindingCode::GatewayPolicyDenied));
}

#[test]
fn synthetic_user_account_restricted_after_credentials() {
    let mut feed = Feed::new();
    feed.send(Side::Client, UPGRADE.as_bytes()).send(
        Side::Server,
        b"HTTP/1.1 401 User Account Restricted\r\nWWW-Authenticate: Negotiate\r\n\
WWW-Authenticate: NTLM\r\nContent-Length: 5\r\n\r\ndenied",
    );
    let d = feed.diagnosed();
    let f = d
        .findings
        .iter()
        .find(|f| f.code == FindingCode::GatewayAuthFailed)
        .expect("gateway-auth-failed");
    let text = format!("{:?}", f.facts);
    assert!(
        text.contains("401") && text.contains("User Account Restricted"),
        "{text}"
    );
    assert!(text.contains("credentials_sent: true"), "{text}");
    let gw = d.connection.gateway_inside.as_deref().unwrap();
    assert_eq!(gw.facts.auth.refusal.as_ref().map(|r| r.at.frame), Some(2));
    assert_eq!(gw.facts.auth.offered.len(), 2);
    assert_eq!(d.verdict, diagnose::Verdict::Failed);
}

#[test]
fn synthetic_503_on_kdc_proxy() {
    let mut feed = Feed::new();
    // A KDC-PROXY-MESSAGE carrying frame 28's KRB-ERROR bytes would do as well: the body's
    // content does not matter to the proxy's own HTTP failure.
    feed.send(
        Side::Client,
        b"POST /KdcProxy HTTP/1.1\r\nContent-Type: application/kerberos\r\nContent-Length: 0\r\n\r\n",
    )
    .send(
        Side::Server,
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
    );
    let d = feed.diagnosed();
    let f = d
        .findings
        .iter()
        .find(|f| f.code == FindingCode::KdcProxyFailed)
        .expect("kdc-proxy-failed");
    assert!(format!("{:?}", f.facts).contains("http_status: Some(503)"));
    let gw = d.connection.gateway_inside.as_deref().unwrap();
    assert_eq!(gw.facts.transport, Some(InsideTransport::KdcProxy));
    assert_eq!(
        gw.facts.kdc_proxy.reason.as_deref(),
        Some("Service Unavailable")
    );
    let json = rdpscope::report::json::to_line(&d);
    assert!(
        json.contains(r#""kdc_proxy":{"requests":0,"responses":0,"status":503"#),
        "{json}"
    );
}

#[test]
fn synthetic_http_transport_chunked_out_channel() {
    // RDG_OUT_DATA answered 200 with a chunked body: HANDSHAKE_RESPONSE split across two
    // chunks and two records, then a CHANNEL_RESPONSE E_PROXY_NAP_ACCESSDENIED.
    let mut feed = Feed::new();
    feed.send(
        Side::Client,
        b"RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nRDG-Connection-Id: {X}\r\nContent-Length: 0\r\n\r\n",
    );
    let hs = hex(HANDSHAKE_RESPONSE);
    let mut body = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    body.extend(format!("{:x}\r\n", 5).as_bytes());
    body.extend(&hs[..5]);
    body.extend(b"\r\n");
    feed.send(Side::Server, &body);
    let mut rest = format!("{:x}\r\n", hs.len() - 5).into_bytes();
    rest.extend(&hs[5..]);
    rest.extend(b"\r\n");
    let mut nap = hex("09000000 10000000");
    nap.extend(0x8007_59DBu32.to_le_bytes());
    nap.extend([0, 0, 0, 0]);
    rest.extend(format!("{:x}\r\n", nap.len()).as_bytes());
    rest.extend(&nap);
    rest.extend(b"\r\n0\r\n\r\n");
    feed.send(Side::Server, &rest);
    let d = feed.diagnosed();
    let gw = d.connection.gateway_inside.as_deref().unwrap();
    assert_eq!(gw.facts.transport, Some(InsideTransport::Http));
    assert_eq!(gw.facts.http_channel, Some(HttpChannel::Out));
    assert_eq!(gw.facts.connection_id.as_deref(), Some("{X}"));
    assert_eq!(gw.facts.tunnel.extended_auth, Some(7));
    assert!(
        gw.facts.decode_errors.is_empty(),
        "{:?}",
        gw.facts.decode_errors
    );
    assert!(d
        .findings
        .iter()
        .any(|f| f.code == FindingCode::GatewayPolicyDenied));
}

#[test]
fn synthetic_http_transport_in_channel_feeds_the_child() {
    // RDG_IN_DATA with a sized body: a DATA packet carrying frame 51's X.224 Connection
    // Request reaches the tunnelled connection.
    let data = hex("0a000000390000002f000300002f2ae00000000000436f6f6b69653a206d737473686173683d50726f7465637465640d0a010008000b000000");
    let mut feed = Feed::new();
    let mut req = format!(
        "RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        data.len() + 100
    )
    .into_bytes();
    req.extend(&data[..20]);
    feed.send(Side::Client, &req)
        .send(Side::Client, &data[20..]);
    let gw = feed.conn.gateway_inside.as_deref().unwrap();
    assert_eq!(gw.facts.http_channel, Some(HttpChannel::In));
    let child = gw.child().expect("child");
    assert_eq!(child.x224.request.as_ref().map(|r| r.at.frame), Some(2));
}
