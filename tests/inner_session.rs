//! `session::inner` on whole decrypted streams of the shared Windows captures (tshark
//! decrypts them with the secrets embedded in each pcapng and prints the plaintext with
//! `-P -x`): CredSSP round by round, then the RDP connection sequence.
//!
//! Skips when the captures or tshark are absent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::path::Path;
use std::process::Command;

use common::{have_tool, shared_captures};
use rdpscope::diagnose::{FindingCode, Severity};
use rdpscope::flow::{PacketInfo, Side};
use rdpscope::proto::credssp::NtStatus;
use rdpscope::proto::rdp_pdu::ErrInfo;
use rdpscope::session::{inner, AuthMech, Connection, EventKind, InnerEvent};

/// Every decrypted TLS record of `file` with its frame and side (server port 3389).
fn decrypted(file: &Path) -> Vec<(u64, Side, Vec<u8>)> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-d", "tcp.port==3389,tls", "-P", "-x"])
        // tshark's EGFX dissector aborts the run on these captures (a dissector bug).
        .args([
            "--disable-protocol",
            "rdp_egfx",
            "--disable-protocol",
            "rdp_drdynvc",
        ])
        .args(["-o", r#"gui.column.format:"No","%m","SP","%S""#])
        .output()
        .expect("tshark runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut frame, mut side) = (0u64, Side::Client);
    let mut records: Vec<(u64, Side, Vec<u8>)> = Vec::new();
    let mut current = false;
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [no, port] = fields.as_slice() {
            if let (Ok(n), Ok(p)) = (no.parse::<u64>(), port.parse::<u16>()) {
                frame = n;
                side = if p == 3389 {
                    Side::Server
                } else {
                    Side::Client
                };
                current = false;
                continue;
            }
        }
        if line.starts_with("Decrypted TLS (") {
            records.push((frame, side, Vec::new()));
            current = true;
            continue;
        }
        if line.trim().is_empty() || line.ends_with("):") {
            current = false;
            continue;
        }
        let Some(rec) = records.last_mut().filter(|_| current) else {
            continue;
        };
        for tok in line.get(6..).unwrap_or("").split(' ').take(16) {
            match (tok.len(), u8::from_str_radix(tok, 16)) {
                (2, Ok(b)) => rec.2.push(b),
                _ => break,
            }
        }
    }
    records
}

/// A connection fed the capture's cleartext X.224 exchange is not needed: the decrypted
/// stream alone drives the module. Handshake Finished records (type 0x14) are skipped.
fn run(file: &Path) -> Connection {
    let mut conn = Connection::default();
    for (frame, side, data) in decrypted(file) {
        let at = PacketInfo {
            file: 0,
            frame,
            ts_ns: 0,
        };
        let finished = data.first() == Some(&0x14) && data.len() == 16;
        if !finished {
            inner::plaintext(&mut conn, &at, side, 23, &data);
        }
    }
    conn
}

fn capture(name: &str) -> Option<std::path::PathBuf> {
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
fn ntlm_rejected_names_the_error_code_and_the_identity() {
    let Some(file) = capture("rdp-nla-ntlm-rejected1.pcapng") else {
        return;
    };
    let conn = run(&file);
    let cs = &conn.inner().credssp;
    assert_eq!(cs.version, Some(6));
    assert_eq!(cs.mechanism, Some(AuthMech::Ntlm));
    assert!(!cs.kerberos_attempted);
    assert_eq!(cs.messages, 4);
    let err = cs.error.as_ref().expect("errorCode");
    // tshark: credssp.errorCode -2146893054 in frame 15.
    assert_eq!(err.value, NtStatus(0x8009_0302));
    assert_eq!(err.value.name(), Some("SEC_E_UNSUPPORTED_FUNCTION"));
    assert_eq!(err.at.frame, 15);
    let ntlm = cs.ntlm.as_ref().expect("AUTHENTICATE");
    assert_eq!(cs.credentials_sent.map(|p| p.frame), Some(14));
    assert!(!ntlm.user.is_empty());
    assert!(ntlm.version.is_some());
    assert!(cs.auth_info.is_none());
}

#[test]
fn kerberos_session_reads_the_whole_connection_sequence() {
    let Some(file) = capture("rdp-nla-kerberos-auth2.pcapng") else {
        return;
    };
    let conn = run(&file);
    let cs = &conn.inner().credssp;
    assert_eq!(cs.mechanism, Some(AuthMech::Kerberos));
    assert!(cs.kerberos_attempted);
    assert!(cs.error.is_none());
    assert!(cs.auth_info.is_some());
    assert!(conn.mcs.connect_initial.is_some());
    assert!(conn.mcs.connect_response.is_some());
    let rdp = &conn.inner().rdp;
    assert!(rdp.client_info.is_some());
    assert!(rdp.demand_active.is_some());
    assert!(rdp.confirm_active.is_some());
    assert!(rdp.finalised.is_some());
    let lic = rdp.licensing.as_ref().expect("licensing outcome");
    assert!(lic.value.valid);
    // tshark shows one Set Error Info PDU in this capture (frame 1111).
    let set_error_info: Vec<_> = conn
        .timeline
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Inner(InnerEvent::SetErrorInfo(code)) => Some((e.at.frame, *code)),
            _ => None,
        })
        .collect();
    assert_eq!(
        set_error_info,
        vec![(1111, ErrInfo::RPC_INITIATED_DISCONNECT_BYUSER)]
    );
    assert_eq!(
        rdp.errinfo.as_ref().map(|e| e.value),
        Some(ErrInfo::RPC_INITIATED_DISCONNECT_BYUSER)
    );
    assert!(rdp.fastpath_pdus.iter().sum::<u64>() > 0);
    assert!(conn.decode_errors.is_empty(), "{:?}", conn.decode_errors);
}

#[test]
fn tls_only_session_starts_with_rdp() {
    let Some(file) = capture("rdp-no-nla-smartcard-auth1.pcapng") else {
        return;
    };
    let conn = run(&file);
    assert_eq!(conn.inner().credssp.messages, 0);
    assert!(conn.mcs.connect_initial.is_some());
    assert!(conn.inner().rdp.client_info.is_some());
    assert!(conn.inner().rdp.demand_active.is_some());
    assert!(conn.decode_errors.is_empty(), "{:?}", conn.decode_errors);
}

/// The diagnosis of a connection made only of its decrypted stream.
fn diagnosed(conn: Connection) -> rdpscope::diagnose::Diagnosed {
    use rdpscope::flow::{Endpoint, FinishedFlow, FlowMeta, TransportKind};
    let at = |frame| PacketInfo {
        file: 0,
        frame,
        ts_ns: 0,
    };
    let ip = |s: &str| s.parse().expect("ip");
    let meta = FlowMeta {
        id: 1,
        transport: TransportKind::Tcp,
        client: Endpoint {
            ip: ip("10.10.0.131"),
            port: 50324,
        },
        server: Endpoint {
            ip: ip("10.10.0.10"),
            port: 3389,
        },
        first: at(1),
        last: at(2000),
        packets: 0,
        bytes: 0,
        packets_by_side: rdpscope::flow::Sides([0, 0]),
    };
    let flow = FinishedFlow {
        meta,
        tcp: None,
        handler: Box::new(conn),
        evicted: false,
    };
    rdpscope::diagnose::diagnose(flow, &Default::default(), Default::default())
}

#[test]
fn ntlm_rejected_is_diagnosed_as_an_ntlm_refusal_named_by_its_code() {
    let Some(file) = capture("rdp-nla-ntlm-rejected1.pcapng") else {
        return;
    };
    let d = diagnosed(run(&file));
    let f = d
        .findings
        .iter()
        .find(|f| f.code == FindingCode::NtlmFallbackRefused)
        .expect("ntlm-fallback-refused");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(
        f.evidence.iter().map(|e| e.frame).collect::<Vec<_>>(),
        [14, 15]
    );
    let words = rdpscope::report::findings::words(f, &d.meta.server);
    eprintln!("{}\n{}", words.title, words.explanation);
    assert!(
        words.title.contains("SEC_E_UNSUPPORTED_FUNCTION"),
        "{}",
        words.title
    );
    assert!(words.title.contains("NTLM"), "{}", words.title);
}

#[test]
fn user_disconnect_is_a_normal_end_said_without_alarm() {
    let Some(file) = capture("rdp-nla-kerberos-auth2.pcapng") else {
        return;
    };
    let d = diagnosed(run(&file));
    let f = d
        .findings
        .iter()
        .find(|f| f.code == FindingCode::ServerDisconnectReason)
        .expect("server-disconnect-reason");
    assert_eq!(f.severity, Severity::Info);
    let words = rdpscope::report::findings::words(f, &d.meta.server);
    assert!(
        words
            .title
            .contains("ERRINFO_RPC_INITIATED_DISCONNECT_BYUSER"),
        "{}",
        words.title
    );
    assert!(d.findings.iter().all(|f| f.severity != Severity::Error));
}
