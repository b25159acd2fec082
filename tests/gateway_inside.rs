//! `session::gateway::inside` on the shared RD Gateway captures (a real Windows client, RD
//! Gateway and KDC; tshark decrypts the gateway TLS with the secrets embedded in each pcapng
//! and prints every record's plaintext with `-P -x`). tshark 4.0 does not read MS-TSGU
//! inside WebSocket: the values asserted here were checked by hand against MS-TSGU 2.2.10.
//!
//! Skips when the captures or tshark are absent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{have_tool, shared_captures};
use rdpscope::flow::{PacketInfo, Side};
use rdpscope::proto::http::AuthScheme;
use rdpscope::proto::kerberos::KrbErrorCode;
use rdpscope::proto::nego::Protocols;
use rdpscope::proto::tsgu::TsguStatus;
use rdpscope::session::gateway::inside_facts::{HttpChannel, InsideTransport};
use rdpscope::session::gateway::route_plaintext;
use rdpscope::session::{AuthMech, Connection};

/// Gateway port of the captures.
const GATEWAY_PORT: u16 = 443;

/// Every decrypted TLS record of `file`, per TCP connection (keyed by the client port), with
/// its frame and side.
/// One decrypted record: frame, time (ns), side, plaintext.
type Record = (u64, i64, Side, Vec<u8>);

fn decrypted(file: &Path) -> BTreeMap<u16, Vec<Record>> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-P", "-x"])
        .args([
            "-o",
            r#"gui.column.format:"No","%m","T","%Rt","SP","%S","DP","%D""#,
        ])
        .output()
        .expect("tshark runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut streams: BTreeMap<u16, Vec<Record>> = BTreeMap::new();
    let (mut frame, mut ts, mut side, mut client) = (0u64, 0i64, Side::Client, 0u16);
    let mut current = false;
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [no, t, sp, dp] = fields.as_slice() {
            if let (Ok(n), Ok(t), Ok(sp), Ok(dp)) = (
                no.parse::<u64>(),
                t.parse::<f64>(),
                sp.parse::<u16>(),
                dp.parse::<u16>(),
            ) {
                frame = n;
                ts = (t * 1e9) as i64;
                (side, client) = if sp == GATEWAY_PORT {
                    (Side::Server, dp)
                } else {
                    (Side::Client, sp)
                };
                current = false;
                continue;
            }
        }
        if line.starts_with("Decrypted TLS (") {
            streams
                .entry(client)
                .or_default()
                .push((frame, ts, side, Vec::new()));
            current = true;
            continue;
        }
        if line.trim().is_empty() || line.ends_with("):") {
            current = false;
            continue;
        }
        let Some(rec) = streams.get_mut(&client).and_then(|s| s.last_mut()) else {
            continue;
        };
        if !current {
            continue;
        }
        for tok in line.get(6..).unwrap_or("").split(' ').take(16) {
            match (tok.len(), u8::from_str_radix(tok, 16)) {
                (2, Ok(b)) => rec.3.push(b),
                _ => break,
            }
        }
    }
    streams
}

/// Each TLS connection's plaintext fed through the one entry point, record by record.
/// Handshake Finished records (type 0x14, 16 bytes) are not application data.
fn run(file: &Path) -> BTreeMap<u16, Connection> {
    decrypted(file)
        .into_iter()
        .map(|(port, records)| {
            let mut conn = Connection::default();
            for (frame, ts_ns, side, data) in records {
                let at = PacketInfo {
                    file: 0,
                    frame,
                    ts_ns,
                };
                let finished = data.first() == Some(&0x14) && data.len() == 16;
                if !finished {
                    route_plaintext(&mut conn, &at, side, 23, &data);
                }
            }
            (port, conn)
        })
        .collect()
}

fn capture(name: &str) -> Option<PathBuf> {
    if !have_tool("tshark") {
        eprintln!("skipping: tshark absent");
        return None;
    }
    let path = shared_captures()?
        .join("awakecoding_wireshark-rdp")
        .join(name);
    path.exists().then_some(path)
}

#[test]
fn websocket_tunnel_reaches_the_session_host() {
    let Some(file) = capture("rdp-rdg-same-creds-kerberos-password-success1.pcapng") else {
        return;
    };
    let conns = run(&file);
    let conn = &conns[&49790];
    let gw = conn.gateway_inside.as_deref().expect("read as a gateway");
    let f = &gw.facts;
    assert_eq!(f.transport, Some(InsideTransport::WebSocket));
    assert_eq!(
        f.connection_id.as_deref(),
        Some("{EBB921D3-86CD-401F-8154-47360E45BF2F}")
    );
    assert_eq!(
        f.correlation_id.as_deref(),
        Some("{198BC706-491F-4C19-BAC0-3B06F5E20000}")
    );
    // Authentication: Negotiate with a Kerberos AP-REQ, answered 101 in frame 41.
    assert_eq!(f.auth.scheme, Some(AuthScheme::Negotiate));
    assert_eq!(f.auth.mechanism, Some(AuthMech::Kerberos));
    assert_eq!(f.auth.credentials_sent.map(|p| p.frame), Some(39));
    assert_eq!(
        f.auth.status.as_ref().map(|s| (s.value, s.at.frame)),
        Some((101, 41))
    );
    assert_eq!(f.auth.reason.as_deref(), Some("Switching Protocols"));
    assert_eq!(f.user_id.as_deref(), Some("ProtectedUser@ad.it-help.ninja"));
    assert!(f.auth.refusal.is_none());
    // The tunnel: handshake (frame 43), tunnel 4 (45), authorised (47).
    let t = &f.tunnel;
    assert_eq!(
        t.handshake.as_ref().map(|s| (s.value, s.at.frame)),
        Some((TsguStatus::S_OK, 43))
    );
    assert_eq!(t.extended_auth, Some(7));
    assert_eq!(t.tunnel_id, Some(4));
    assert_eq!(t.create.as_ref().map(|s| s.at.frame), Some(45));
    assert_eq!(t.auth.as_ref().map(|s| s.at.frame), Some(47));
    assert_eq!(t.client_name.as_deref(), Some("IT-HELP-CLIENT"));
    assert_eq!(t.status().map(|s| s.value), Some(TsguStatus::S_OK));
    // The channel to the session host (frames 48, 49), with the UDP transport offered.
    let c = &f.channel;
    assert_eq!(c.target.as_deref(), Some("IT-HELP-TEST.ad.it-help.ninja"));
    assert_eq!((c.port, c.protocol), (Some(3389), Some(3)));
    assert_eq!(c.requested.map(|p| p.frame), Some(48));
    assert_eq!(
        c.status.as_ref().map(|s| (s.value, s.at.frame)),
        Some((TsguStatus::S_OK, 49))
    );
    assert_eq!((c.channel_id, c.udp_port), (Some(1), Some(3391)));
    assert!(f.decode_errors.is_empty(), "{:?}", f.decode_errors);
    assert!(f.data.get(Side::Client).packets > 10);
    assert!(f.data.get(Side::Server).packets > 10);
    // The tunnelled RDP connection: X.224 Connection Request (frame 51) and Confirm (53)
    // selecting HYBRID_EX, then its own TLS handshake inside the gateway's.
    let child = gw.child().expect("tunnelled connection");
    let cr = child.x224.request.as_ref().expect("X.224 CR");
    assert_eq!(cr.at.frame, 51);
    assert_eq!(child.x224.confirm.as_ref().map(|c| c.at.frame), Some(53));
    assert_eq!(
        child.x224.selected_protocol(),
        Some(Protocols(Protocols::HYBRID_EX))
    );
    assert!(child.tls.client_hello.is_some(), "inner ClientHello");
    assert!(child.tls.server_hello.is_some(), "inner ServerHello");
    assert_eq!(child.unknown_bytes.iter().sum::<u64>(), 0);
}

#[test]
fn kdc_proxy_over_http2_carries_the_kerberos_exchange() {
    let Some(file) = capture("rdp-rdg-same-creds-kerberos-password-success1.pcapng") else {
        return;
    };
    let conns = run(&file);
    let gw = conns[&49791].gateway_inside.as_deref().expect("KDC proxy");
    let k = &gw.facts.kdc_proxy;
    assert_eq!(gw.facts.transport, Some(InsideTransport::KdcProxy));
    assert!(k.http2);
    assert_eq!((k.requests, k.responses), (3, 3));
    assert_eq!(k.status.as_ref().map(|s| s.value), Some(200));
    assert_eq!(k.target_domain.as_deref(), Some("ad.it-help.ninja"));
    let types: Vec<(u64, i32)> = k
        .messages
        .iter()
        .map(|m| (m.at.frame, m.value.msg_type))
        .collect();
    // AS-REQ, KRB-ERROR (pre-authentication required), AS-REQ with it, AS-REP, TGS-REQ,
    // TGS-REP: tshark's kerberos dissector shows the same in frames 23-37.
    assert_eq!(
        types,
        [(23, 10), (28, 30), (30, 10), (32, 11), (35, 12), (37, 13)]
    );
    assert_eq!(
        k.krb_error.as_ref().map(|e| e.value),
        Some(KrbErrorCode(25))
    );
    assert!(
        gw.facts.decode_errors.is_empty(),
        "{:?}",
        gw.facts.decode_errors
    );
    assert!(gw.child().is_none());
    assert_eq!(gw.facts.http_channel, None::<HttpChannel>);
}

#[test]
fn smartcard_tunnel_and_its_close() {
    let Some(file) = capture("rdp-rdg-diff-creds-kerberos-smartcard.pcapng") else {
        return;
    };
    let conns = run(&file);
    let gw = conns[&49909].gateway_inside.as_deref().expect("gateway");
    let f = &gw.facts;
    assert_eq!(f.transport, Some(InsideTransport::WebSocket));
    assert_eq!(
        f.connection_id.as_deref(),
        Some("{44E4D094-9E7C-4EBC-BF64-21C7B63C1233}")
    );
    assert_eq!(f.auth.accepted.map(|p| p.frame), Some(18));
    assert_eq!(f.tunnel.tunnel_id, Some(10));
    assert_eq!(
        f.channel.target.as_deref(),
        Some("IT-HELP-TEST.ad.it-help.ninja")
    );
    assert_eq!(f.channel.port, Some(3389));
    // The client closes the channel at the end (frame 1354), status S_OK.
    let close = f.channel.close.as_ref().expect("CLOSE_CHANNEL");
    assert_eq!(
        (close.at.frame, close.side, close.value),
        (1354, Side::Client, TsguStatus::S_OK)
    );
    let child = gw.child().expect("tunnelled connection");
    assert_eq!(child.x224.request.as_ref().map(|r| r.at.frame), Some(28));
    assert_eq!(child.x224.confirm.as_ref().map(|r| r.at.frame), Some(30));
    assert_eq!(
        child.tls.server_hello.as_ref().map(|r| r.at.frame),
        Some(39)
    );
    assert!(f.decode_errors.is_empty(), "{:?}", f.decode_errors);
}

/// The gateway connection diagnosed, its `gateway` JSON object, and the tunnelled connection
/// made a connection of its own with `via_gateway`.
#[test]
fn tunnelled_connection_is_diagnosed_as_a_child() {
    use rdpscope::diagnose::{self, gateway_inside::diagnose_tunnelled, DiagnoseConfig};
    use rdpscope::flow::{Endpoint, FinishedFlow, FlowMeta, Sides, TransportKind};
    let Some(file) = capture("rdp-rdg-same-creds-kerberos-password-success1.pcapng") else {
        return;
    };
    let mut conns = run(&file);
    let conn = conns.remove(&49790).unwrap();
    let ep = |ip: [u8; 4], port| Endpoint {
        ip: std::net::IpAddr::from(ip),
        port,
    };
    let at = |frame| PacketInfo {
        file: 0,
        frame,
        ts_ns: 0,
    };
    let meta = FlowMeta {
        id: 3,
        transport: TransportKind::Tcp,
        client: ep([10, 10, 0, 131], 49790),
        server: ep([10, 10, 0, 7], 443),
        first: at(1),
        last: at(766),
        packets: 766,
        bytes: 0,
        packets_by_side: Sides([360, 406]),
    };
    let config = DiagnoseConfig::default();
    let flow = FinishedFlow {
        meta,
        tcp: None,
        handler: Box::new(conn),
        evicted: false,
    };
    let mut parent = diagnose::diagnose(flow, &config, Default::default());
    assert!(
        !parent
            .findings
            .iter()
            .any(|f| f.code.as_str().starts_with("gateway")),
        "{:?}",
        parent.findings
    );
    let line = rdpscope::report::json::to_line(&parent);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let g = &v["gateway"];
    assert_eq!(g["transport"], "websocket");
    assert_eq!(g["connection_id"], "{EBB921D3-86CD-401F-8154-47360E45BF2F}");
    assert_eq!(g["auth"]["scheme"], "negotiate");
    assert_eq!(g["auth"]["status"], 101);
    assert_eq!(g["tunnel"]["status"]["code"], "0x00000000");
    assert_eq!(g["tunnel"]["status"]["name"], "S_OK");
    assert_eq!(g["channel"]["target"], "IT-HELP-TEST.ad.it-help.ninja");
    assert_eq!(g["channel"]["port"], 3389);
    assert_eq!(g["channel"]["status"]["name"], "S_OK");
    assert!(g.get("kdc_proxy").is_none());
    let child = diagnose_tunnelled(&mut parent, 4, &config).expect("child");
    assert_eq!(child.via_gateway, Some(3));
    assert_eq!(child.meta.server.port, 3389);
    assert!(parent
        .connection
        .gateway_inside
        .as_deref()
        .unwrap()
        .child()
        .is_none());
    let line = rdpscope::report::json::to_line(&child);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["via_gateway"], 3);
    assert_eq!(v["x224"]["selected_protocol"], "hybrid_ex");
    assert_eq!(v["x224"]["cookie"], "Protected");
    let events: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert!(
        events.iter().any(|e| e.contains("Connection Request")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e.contains("Connection Confirm")),
        "{events:?}"
    );
}
