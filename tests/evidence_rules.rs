//! Issue 18: verdicts from what the packets prove, on the real captures the issue names
//! (../shared/captures, skipped with a message when absent) and the lab fixtures recorded for
//! its shapes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::process::Command;

use common::*;
use rdpscope::diagnose::finding::{OtherProtocol, Violation};
use rdpscope::diagnose::{Diagnosed, Facts, FindingCode, Verdict};
use rdpscope::flow::Side;
use rdpscope::pipeline::{analyze_files, PipelineConfig};

fn run(path: &std::path::Path) -> Vec<Diagnosed> {
    let mut conns = Vec::new();
    let p = path.to_str().unwrap().to_string();
    let run = analyze_files(&[p], None, PipelineConfig::default(), &mut |d| {
        conns.push(d)
    });
    assert!(run.error.is_none(), "{path:?}");
    conns.sort_by_key(|d| d.meta.id);
    conns
}

fn shared(rel: &str) -> Option<Vec<Diagnosed>> {
    let Some(dir) = shared_captures() else {
        eprintln!("skipped: ../shared/captures absent");
        return None;
    };
    Some(run(&dir.join(rel)))
}

fn lab(name: &str) -> Diagnosed {
    run(&repo_root().join("fixtures/lab").join(name)).remove(0)
}

fn codes(d: &Diagnosed) -> Vec<FindingCode> {
    d.findings.iter().map(|f| f.code).collect()
}

fn by_id(conns: &[Diagnosed], id: u64) -> &Diagnosed {
    conns.iter().find(|d| d.meta.id == id).expect("connection")
}

/// The nla-failed finding of `d`, checked to be the server's alert after CredSSP message 3
/// with the client closing the TCP connection.
fn nla_failed_after_three_messages_closed_by_client(d: &Diagnosed) -> &rdpscope::diagnose::Finding {
    let f = d
        .findings
        .iter()
        .find(|f| f.code == FindingCode::NlaFailed)
        .expect("nla-failed");
    let Facts::NlaFailed {
        closer,
        server_alert,
        messages,
        ..
    } = f.facts
    else {
        panic!("{:?}", f.facts)
    };
    assert_eq!((closer, server_alert, messages), (Side::Client, true, 3));
    f
}

/// Case 1: the server's encrypted alert after CredSSP message 3, then the client's RST.
#[test]
fn a_server_alert_after_the_credentials_is_nla_failed_whoever_closes() {
    let d = lab("nla_refused_client_rst.pcap");
    assert_eq!(d.verdict, Verdict::Failed);
    assert!(codes(&d).contains(&FindingCode::NlaFailed));
    assert!(!codes(&d).contains(&FindingCode::ClientAbort));
    let Some(conns) = shared("ntop_nDPI/rdp_over_tls.pcap") else {
        return;
    };
    let d = &conns[0];
    let f = nla_failed_after_three_messages_closed_by_client(d);
    // Frame 14 is the server's encrypted alert (tshark: tls.alert_message from port 3389).
    assert!(f.evidence.iter().any(|e| e.frame == 14));
    let Some(brute) = shared("initconf_RDP-bruteforce/RDP-bruteforce.pcap") else {
        return;
    };
    for id in [27, 30, 37, 50, 57] {
        let d = by_id(&brute, id);
        assert!(
            codes(d).contains(&FindingCode::NlaFailed),
            "#{id}: {:?}",
            codes(d)
        );
        assert!(!codes(d).contains(&FindingCode::ClientAbort), "#{id}");
    }
}

/// Case 5: SYN and SYN/ACK retransmitted, so the handshake is no RTT sample (Karn).
#[test]
fn latency_is_measured_from_unambiguous_samples_only() {
    let Some(conns) = shared("zeek_zeek/rdp-x509.pcap") else {
        return;
    };
    let d = &conns[0];
    assert!(
        !codes(d).contains(&FindingCode::HighLatency),
        "{:?}",
        codes(d)
    );
    let t = d.tcp.as_ref().expect("tcp");
    assert!(t.handshake_rtt_karn_ns().is_none());
    assert_eq!(d.progress.facts.rtt, t.rtt_estimate());
    // tshark flags the SYN (frame 4) and SYN/ACK (frame 3) as retransmissions: loss.
    assert!(codes(d).contains(&FindingCode::PacketLoss));
}

/// Case 5: with no unambiguous sample the JSON says why instead of a number, and the
/// terminal says so in words; a clean handshake still gives its round trip.
#[test]
fn no_unambiguous_sample_is_said_not_measured() {
    let Some(dir) = shared_captures() else {
        eprintln!("skipped: ../shared/captures absent");
        return;
    };
    let f = dir.join("zeek_zeek/rdp-x509.pcap");
    let (conns, _) = analyze_json(&[f.to_str().unwrap()]);
    let tcp = &conns[0]["tcp"];
    assert!(tcp["rtt_ms"].is_null(), "{tcp}");
    assert!(tcp["rtt_source"].is_null());
    assert_eq!(tcp["rtt_unavailable"], "handshake_retransmitted");
    // tshark: SYN at 0, its retransmission (frame 4) and the SYN/ACK's (frame 3): 7.14 s.
    let took = tcp["handshake_ms"].as_f64().unwrap();
    assert!((7000.0..7300.0).contains(&took), "{took}");
    let out = rdpscope(&["analyze", f.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Round trip not measured: the SYN and the SYN/ACK were each sent 2 times"),
        "{text}"
    );
    assert!(!text.contains("7142 ms round trip") && !text.contains("round trip 7142"));
    let clean = repo_root().join("fixtures/lab/high_latency.pcap");
    let (conns, _) = analyze_json(&[clean.to_str().unwrap()]);
    let tcp = &conns[0]["tcp"];
    assert_eq!(tcp["rtt_source"], "handshake");
    assert!(tcp["rtt_unavailable"].is_null());
    assert_eq!(tcp["rtt_ms"], tcp["handshake_ms"]);
}

/// Case 6: a RST 6.7 ms after a legacy Connection Request refuses it.
#[test]
fn a_reset_right_after_the_request_is_a_refusal_not_silence() {
    let d = lab("legacy_cr_reset.pcap");
    assert_eq!(codes(&d), [FindingCode::ServerAbort]);
    let Some(conns) = shared("initconf_RDP-bruteforce/RDP-HotAccounts.pcap") else {
        return;
    };
    let d = by_id(&conns, 7);
    assert!(
        codes(d).contains(&FindingCode::ServerAbort),
        "{:?}",
        codes(d)
    );
    assert!(!codes(d).contains(&FindingCode::ServerUnresponsive));
}

/// Case 7: the waterfall's last phase, the stall finding and the facts agree on who owes.
#[test]
fn one_source_of_truth_for_who_owes_the_next_message() {
    let Some(conns) = shared("initconf_RDP-bruteforce/RDP-bruteforce.pcap") else {
        return;
    };
    let d = by_id(&conns, 3);
    let owes = d.progress.facts.owes_next;
    assert_eq!(owes, Some(Side::Client));
    assert_eq!(d.progress.last_phase().and_then(|p| p.waiting_on), owes);
    for f in &d.findings {
        if let Facts::Stalled { waiting_on, .. } = f.facts {
            assert_eq!(waiting_on, owes);
        }
    }
}

/// Case 8: packet-loss follows one rule: a warning unless the client gave up during it, and
/// never from a capture hole alone.
#[test]
fn packet_loss_follows_one_rule() {
    let Some(conns) = shared("initconf_RDP-bruteforce/RDP-bruteforce.pcap") else {
        return;
    };
    for d in &conns {
        for f in d
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::PacketLoss)
        {
            let Facts::PacketLoss {
                client,
                server,
                client_gave_up,
                ..
            } = f.facts
            else {
                panic!()
            };
            let lost: u32 = d.progress.facts.loss.iter().map(|l| l.lost()).sum();
            assert!(client + server > 2 || lost > 2, "#{}", d.meta.id);
            let error = f.severity == rdpscope::diagnose::Severity::Error;
            assert_eq!(error, client_gave_up.is_some(), "#{}", d.meta.id);
        }
    }
    for id in [16, 69] {
        assert!(!codes(by_id(&conns, id)).contains(&FindingCode::PacketLoss));
    }
}

/// Case 9: Zeek's RDP_Negotiation_Response length violation.
#[test]
fn a_malformed_confirm_is_a_protocol_violation_with_its_field() {
    let Some(conns) = shared("zeek_zeek/rdp-invalid-length.pcap") else {
        return;
    };
    let d = &conns[0];
    assert_eq!(d.verdict, Verdict::Failed);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == FindingCode::ProtocolViolation)
        .expect("protocol-violation");
    assert_eq!(
        f.facts,
        Facts::ProtocolViolation {
            side: Side::Server,
            violation: Violation::NegotiationLength(0)
        }
    );
    assert_eq!(f.evidence[0].frame, 5);
}

fn exit_code(args: &[&str]) -> Option<i32> {
    Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(args)
        .output()
        .expect("run rdpscope")
        .status
        .code()
}

/// Case 10: the exit status follows the selected connections' verdicts.
#[test]
fn the_exit_status_follows_the_selected_verdicts() {
    let lab = repo_root().join("fixtures/lab");
    let ok = lab.join("tls13_ok.pcap");
    let failed = lab.join("legacy_cr_reset.pcap");
    assert_eq!(exit_code(&["analyze", ok.to_str().unwrap()]), Some(0));
    assert_eq!(exit_code(&["analyze", failed.to_str().unwrap()]), Some(1));
    let both = [ok.to_str().unwrap(), failed.to_str().unwrap()];
    assert_eq!(
        exit_code(&["analyze", both[0], both[1], "--verdict", "ok"]),
        Some(0)
    );
    // A header and a truncated first packet: unusable input.
    let bytes = std::fs::read(&ok).unwrap();
    let dir = std::env::temp_dir().join(format!("rdpscope-exit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("header_only.pcap");
    std::fs::write(&cut, &bytes[..40]).unwrap();
    assert_eq!(exit_code(&["analyze", cut.to_str().unwrap()]), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(dir) = shared_captures() {
        let udp = dir.join("zeek_zeek/rdpeudp-handshake-fail.pcap");
        assert_eq!(exit_code(&["analyze", udp.to_str().unwrap()]), Some(1));
    }
}

/// Case 12: frames captured twice are counted, never loss.
#[test]
fn duplicate_frames_are_counted_and_never_loss() {
    let d = lab("bridge_duplicates.pcap");
    assert_eq!(d.verdict, Verdict::Ok);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == FindingCode::DuplicateFrames)
        .expect("duplicate-frames");
    let Facts::DuplicateFrames { count } = f.facts else {
        panic!()
    };
    // tshark: every packet twice; the first copies are the originals.
    assert!(count > 50, "{count}");
    assert!(!codes(&d).contains(&FindingCode::PacketLoss));
    assert!(!codes(&d).contains(&FindingCode::HandshakeStalled));
    assert_eq!(d.tcp.as_ref().unwrap().duplicates, count);
}

/// Case 13: another service on the port.
#[test]
fn a_port_answering_another_protocol_is_not_rdp() {
    for (name, proto) in [
        ("not_rdp_http.pcap", OtherProtocol::Http),
        ("not_rdp_ssh.pcap", OtherProtocol::Ssh),
    ] {
        let d = lab(name);
        assert_eq!(d.verdict, Verdict::Failed, "{name}");
        let f = d
            .findings
            .iter()
            .find(|f| f.code == FindingCode::NotRdpService)
            .expect(name);
        let Facts::NotRdpService {
            port, recognised, ..
        } = &f.facts
        else {
            panic!()
        };
        assert_eq!((*port, *recognised), (3389, Some(proto)), "{name}");
    }
}

/// Case 3: a slow phase's time is attributed to the retransmission timeouts inside it.
/// tshark on lossy_ok.pcap: inside the MCS connect (18.4 ms to 2533.7 ms) the server
/// retransmits frames 18, 38, 45, 54, 55, 56; their `tcp.analysis.rto` are 0.0086, 0.2145,
/// 0.2176 s and 0.2159/0.4319/0.8599 s for one segment (first sent in frame 52): 1.30 s.
#[test]
fn a_slow_phase_is_attributed_to_its_retransmission_timeouts() {
    let mut config = PipelineConfig::default();
    config.diagnose.slow_after_ms = 1000.0;
    let p = repo_root().join("fixtures/lab/lossy_ok.pcap");
    let mut conns = Vec::new();
    analyze_files(&[p.to_str().unwrap().to_string()], None, config, &mut |d| {
        conns.push(d)
    });
    let d = &conns[0];
    let slow = d
        .findings
        .iter()
        .find(|f| f.code == FindingCode::HandshakeSlow)
        .expect("handshake-slow");
    let Facts::Slow {
        lost: Some(lost),
        longest: Some((phase, _)),
        ..
    } = &slow.facts
    else {
        panic!("{:?}", slow.facts)
    };
    assert_eq!(*phase, rdpscope::session::PhaseName::McsConnect);
    assert_eq!(lost.resends, [0, 6]);
    let s = lost.lost_ns as f64 / 1e9;
    assert!((1.25..1.35).contains(&s), "{s}");
    assert!(codes(d).contains(&FindingCode::PacketLoss));
    let text = rdpscope::report::findings::title(slow, &d.meta.server);
    assert!(
        text.contains("of which 1.3 s were 6 retransmission timeouts (server segments lost)"),
        "{text}"
    );
}

/// Case 11: RDP-bruteforce #21 (tcp.stream 20). The client sent its credentials and its FIN
/// (frame 281), the server ACKed the FIN (frame 282) and sent its encrypted alert 14.6 s
/// later (frame 283, tshark `tls.record.content_type == 21`). nla-failed stays (the server
/// still owed the answer to the credentials), and the words follow the packets' order.
#[test]
fn a_server_alert_after_the_clients_fin_is_told_in_packet_order() {
    let Some(brute) = shared("initconf_RDP-bruteforce/RDP-bruteforce.pcap") else {
        return;
    };
    let d = by_id(&brute, 21);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == FindingCode::NlaFailed)
        .expect("nla-failed");
    let frames: Vec<u64> = f.evidence.iter().map(|e| e.frame).collect();
    let fin = frames.iter().position(|&n| n == 281).expect("FIN frame");
    let alert = frames.iter().position(|&n| n == 283).expect("alert frame");
    assert!(fin < alert, "{frames:?}");
    assert!(f.evidence.iter().any(|e| e.frame == 283
        && matches!(
            e.note,
            rdpscope::diagnose::Note::AlertAfterClientFin {
                encrypted: true,
                ..
            }
        )));
    let text = rdpscope::report::findings::words(f, &d.meta.server).explanation;
    assert!(
        text.contains("the client closed first (FIN, frame 281)"),
        "{text}"
    );
    assert!(
        text.contains("the server's TLS alert came after that (frame 283, 14.6 s later)"),
        "{text}"
    );
    assert!(!text.contains("then the client closed"), "{text}");
    // #27: the alert came before the client's FIN: the old order stays.
    let before = by_id(&brute, 27);
    let f = before
        .findings
        .iter()
        .find(|f| f.code == FindingCode::NlaFailed)
        .expect("nla-failed");
    let text = rdpscope::report::findings::words(f, &before.meta.server).explanation;
    assert!(text.contains("then the client closed"), "{text}");
}

/// Case 1 when the credentials are missing from the capture: RDP-bruteforce #16 (tcp.stream
/// 15). tshark: client CredSSP message 1 (frame 179, 117 B), server message 2 (frame 180, 293
/// B, ack 491), server frame 181 ack 1296 "ACKed segment that wasn't captured" (805 client
/// bytes after message 2: message 3), server alert frame 185 (content type 21), client FIN
/// frame 189. #69's missing bytes are the server's (69 B): no proof, client-abort stays.
#[test]
fn credentials_proved_sent_by_the_servers_ack_then_an_alert_is_nla_failed() {
    let Some(brute) = shared("initconf_RDP-bruteforce/RDP-bruteforce.pcap") else {
        return;
    };
    let d = by_id(&brute, 16);
    assert_eq!(d.verdict, Verdict::Failed);
    assert!(
        !codes(d).contains(&FindingCode::ClientAbort),
        "{:?}",
        codes(d)
    );
    let f = nla_failed_after_three_messages_closed_by_client(d);
    assert!(f.evidence.iter().any(|e| e.frame == 181
        && e.note == rdpscope::diagnose::Note::CredentialsInGap { n: 3, bytes: 805 }));
    assert!(f.evidence.iter().any(|e| e.frame == 185));
    let d = by_id(&brute, 69);
    assert!(
        codes(d).contains(&FindingCode::ClientAbort),
        "{:?}",
        codes(d)
    );
    assert!(!codes(d).contains(&FindingCode::NlaFailed));
}

/// Case 11, lab shape: the client left after the server's Finished (its alert frame 14, FIN
/// frame 15) while it owed the next message; the server's alert came after the FIN (tshark
/// `-Y tls.alert_message`: frames 14 from the client, 16 / 18 from port 3389). It is evidence
/// on client-rejected-certificate, told as an answer to the close, not a refusal.
#[test]
fn a_server_alert_answering_the_clients_fin_is_evidence_on_the_client_finding() {
    for (name, alert_frame) in [
        ("cert_name_mismatch_deny.pcap", 16),
        ("expired_cert_deny.pcap", 18),
    ] {
        let d = lab(name);
        assert_eq!(d.verdict, Verdict::Failed, "{name}");
        assert!(!codes(&d).contains(&FindingCode::NlaFailed), "{name}");
        let f = d
            .findings
            .iter()
            .find(|f| f.code == FindingCode::ClientRejectedCertificate)
            .expect("client-rejected-certificate");
        assert!(
            f.evidence.iter().any(|e| e.frame == alert_frame
                && matches!(
                    e.note,
                    rdpscope::diagnose::Note::AlertAfterClientFin {
                        encrypted: true,
                        ..
                    }
                )),
            "{name}: {:?}",
            f.evidence
        );
        let text = rdpscope::report::findings::words(f, &d.meta.server).explanation;
        assert!(
            text.contains(&format!("(frame {alert_frame}, "))
                && text.contains("after the client's FIN in frame 15"),
            "{name}: {text}"
        );
        assert!(text.contains("not a refusal"), "{name}: {text}");
    }
}

/// A Connection Request the path dropped every time is not a server that never answered:
/// RDP-bruteforce #64 (client port 64551). tshark: frame 879 carries the 41-byte CR with the
/// client's FIN, resent in frames 880, 881, 882 (31 s, 61 s, 60 s later; "suspected
/// retransmission"), the server's ACK never moves past the handshake. The cause is the path
/// (segment-black-holed), not TermService (server-unresponsive).
#[test]
fn a_request_the_path_dropped_is_not_blamed_on_the_server() {
    let Some(brute) = shared("initconf_RDP-bruteforce/RDP-bruteforce.pcap") else {
        return;
    };
    let d = by_id(&brute, 64);
    assert_eq!(d.verdict, Verdict::Stalled);
    assert_eq!(codes(d), vec![FindingCode::SegmentBlackHoled]);
    let f = &d.findings[0];
    let frames: Vec<u64> = f.evidence.iter().map(|e| e.frame).collect();
    assert!(frames.starts_with(&[879, 880, 881, 882]), "{frames:?}");
}

/// Case 4: fixtures/lab/high_latency.pcap negotiated TLS (Negotiate Response frame 8; tshark
/// `-d tcp.port==3389,tls -Y tls.handshake.type==2`: ServerHello frame 11, supported_version
/// 0x0304), so no output may call it Standard RDP Security;
/// the slow phase is named by its phase, the MCS connect.
#[test]
fn a_tls_connection_is_never_labelled_standard_rdp_security() {
    let path = repo_root().join("fixtures/lab/high_latency.pcap");
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["analyze", "--timeline", path.to_str().unwrap()])
        .env("COLUMNS", "200")
        .output()
        .expect("run rdpscope");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("Standard RDP Security"), "{text}");
    assert!(text.contains("7.1 s of it in the MCS connect"), "{text}");
    let (conns, _) = analyze_json(&[path.to_str().unwrap()]);
    assert_eq!(conns[0]["tls"]["version"], "TLSv1.3", "{}", conns[0]["tls"]);
}
