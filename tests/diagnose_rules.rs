//! Each diagnosis rule family on real captures run through the pipeline, asserting the typed
//! facts the rules found (code, severity, facts, evidence notes), not their words: connect,
//! negotiation, TLS, CredSSP/abort, timing/stall, capture, RDP-UDP and flood.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use common::*;
use rdpscope::diagnose::{
    CertProblem, Close, DiagnoseConfig, Diagnosed, Facts, Finding, FindingCode, MtuShape, Note,
    Severity, Unanswered, Verdict, VersionRefusal,
};
use rdpscope::flow::Side;
use rdpscope::pipeline::{analyze_files, PipelineConfig};
use rdpscope::proto::mcs::DisconnectReason;
use rdpscope::proto::nego::{FailureCode, Protocols};
use rdpscope::session::EventKind;

fn run(path: &str, config: PipelineConfig) -> Vec<Diagnosed> {
    let mut conns = Vec::new();
    let run = analyze_files(&[path.to_string()], None, config, &mut |d| conns.push(d));
    if let Some(e) = run.error {
        panic!("{path}: {e}");
    }
    conns.sort_by_key(|d| d.meta.id);
    conns
}

/// The only connection of a lab fixture.
fn lab(name: &str) -> Diagnosed {
    let path = repo_root().join("fixtures/lab").join(name);
    let mut conns = run(path.to_str().unwrap(), PipelineConfig::default());
    assert_eq!(conns.len(), 1, "{name}: one connection expected");
    conns.remove(0)
}

/// A capture of ../shared/captures, or None when they are absent.
fn shared(rel: &str) -> Option<Vec<Diagnosed>> {
    let path = shared_captures()?.join(rel);
    Some(run(path.to_str().unwrap(), PipelineConfig::default()))
}

fn codes(d: &Diagnosed) -> Vec<FindingCode> {
    d.findings.iter().map(|f| f.code).collect()
}

fn only(d: &Diagnosed, code: FindingCode) -> &Finding {
    let found: Vec<_> = d.findings.iter().filter(|f| f.code == code).collect();
    assert_eq!(found.len(), 1, "{code} in {:?}", codes(d));
    found[0]
}

fn notes(f: &Finding) -> Vec<&Note> {
    f.evidence.iter().map(|e| &e.note).collect()
}

// --- connect ---

#[test]
fn connect_a_reset_answer_is_a_refusal() {
    let d = lab("port_closed.pcap");
    assert_eq!(d.verdict, Verdict::Failed);
    let f = only(&d, FindingCode::ConnectionRefused);
    assert_eq!(f.facts, Facts::RefusedByReset);
    assert_eq!(notes(f).first(), Some(&&Note::ClientSyn));
    assert_eq!(notes(f).last(), Some(&&Note::ServerRst));
}

#[test]
fn connect_an_icmp_prohibited_answer_is_a_refusal_quoting_the_syn() {
    let d = lab("icmp_reject.pcap");
    let f = only(&d, FindingCode::ConnectionRefused);
    let Facts::RefusedByIcmp(icmp) = &f.facts else {
        panic!("{:?}", f.facts)
    };
    // Type 3 code 13: communication administratively prohibited (RFC 1812 5.2.7.1).
    assert_eq!(
        (icmp.icmp_type, icmp.code, icmp.inner_dst_port),
        (3, 13, 3389)
    );
    assert_eq!(icmp.inner_dst, d.meta.server.ip);
}

#[test]
fn connect_unanswered_syns_are_filtered_with_their_retries_counted() {
    let d = lab("firewall_drop.pcap");
    let f = only(&d, FindingCode::PortFiltered);
    let Facts::PortFiltered { tries, span_s } = f.facts else {
        panic!("{:?}", f.facts)
    };
    assert_eq!(tries, 1 + d.tcp.as_ref().unwrap().syn_retries.len());
    assert!(tries >= 3 && span_s > 5.0, "{tries} SYNs over {span_s} s");
    assert_eq!(
        notes(f)
            .iter()
            .filter(|n| ***n == Note::ClientSynRetry)
            .count(),
        (tries - 1).min(6)
    );
}

// --- negotiation ---

#[test]
fn negotiation_each_rdp_neg_failure_code_is_reported_as_sent() {
    for (file, code) in [
        ("neg_failure_ssl_required.pcap", 1),
        ("neg_failure_ssl_not_allowed.pcap", 2),
        ("neg_failure_cert_not_on_server.pcap", 3),
        ("neg_failure_hybrid_required.pcap", 5),
    ] {
        let d = lab(file);
        let f = only(&d, FindingCode::NegotiationFailure);
        let Facts::NegotiationFailure { failure, .. } = f.facts else {
            panic!("{file}: {:?}", f.facts)
        };
        assert_eq!(failure, FailureCode(code), "{file}");
        assert!(
            notes(f).contains(&&Note::NegFailure(FailureCode(code))),
            "{file}"
        );
        assert_eq!(d.verdict, Verdict::Failed, "{file}");
    }
}

#[test]
fn negotiation_a_downgrade_the_client_refuses_is_an_error_one_it_accepts_a_warning() {
    let refused = lab("security_downgrade.pcap");
    let f = only(&refused, FindingCode::SecurityDowngrade);
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(
        f.facts,
        Facts::SecurityDowngrade {
            requested: Protocols(Protocols::SSL),
            selected: Protocols(0),
            client_refused: true,
        }
    );
    assert!(matches!(
        notes(f).last(),
        Some(Note::Closes {
            side: Side::Client,
            ..
        })
    ));

    let accepted = lab("security_downgrade_negotiated.pcap");
    let f = only(&accepted, FindingCode::SecurityDowngrade);
    assert_eq!(f.severity, Severity::Warning);
    assert!(matches!(
        f.facts,
        Facts::SecurityDowngrade {
            client_refused: false,
            ..
        }
    ));
}

#[test]
fn negotiation_a_request_never_confirmed_is_an_unresponsive_server() {
    let d = lab("server_hung.pcap");
    let f = only(&d, FindingCode::ServerUnresponsive);
    assert_eq!(
        f.facts,
        Facts::ServerUnresponsive(Unanswered::Closed {
            side: Side::Client,
            close: Close::Fin
        })
    );
    assert!(matches!(notes(f)[0], Note::ClientRequests(_)));
}

// --- TLS ---

#[test]
fn tls_version_refusals_name_the_alert_and_what_the_client_offered() {
    let d = lab("tls_version_mismatch.pcap");
    let f = only(&d, FindingCode::TlsVersionMismatch);
    let Facts::TlsVersionMismatch { offered, why } = &f.facts else {
        panic!("{:?}", f.facts)
    };
    assert_eq!(offered, &[0x0301, 0x0302, 0x0303]);
    assert_eq!(
        *why,
        VersionRefusal::Alert {
            side: Side::Server,
            description: 70
        }
    );
    // xrdp's OpenSSL answers internal_error when no enabled version is usable.
    let d = lab("tls_version_mismatch_tls10_server.pcap");
    let f = only(&d, FindingCode::TlsVersionMismatch);
    assert!(matches!(
        f.facts,
        Facts::TlsVersionMismatch {
            why: VersionRefusal::Alert {
                description: 80,
                ..
            },
            ..
        }
    ));
}

#[test]
fn tls_a_handshake_failure_alert_is_a_cipher_mismatch_with_the_offered_suites() {
    let d = lab("tls_cipher_mismatch.pcap");
    let f = only(&d, FindingCode::TlsCipherMismatch);
    let Facts::TlsCipherMismatch {
        side,
        description,
        suites,
    } = &f.facts
    else {
        panic!("{:?}", f.facts)
    };
    assert_eq!((*side, *description), (Side::Server, 40));
    let offered = &d.connection.tls.client_hello.as_ref().unwrap().value;
    assert_eq!(suites, &offered.cipher_suites);
}

#[test]
fn tls_a_server_that_closes_after_the_client_hello_is_reported_with_its_close() {
    let d = lab("server_reset_after_client_hello.pcap");
    let f = only(&d, FindingCode::ServerResetAfterClientHello);
    assert!(matches!(
        f.facts,
        Facts::ServerResetAfterClientHello {
            close: Close::Rst,
            after_ms
        } if after_ms < 10.0
    ));
    // xrdp with a broken key file sends an ultimatum first: the close is the ultimatum.
    let d = lab("cert_corrupt.pcap");
    let f = only(&d, FindingCode::ServerResetAfterClientHello);
    let reason = DisconnectReason(3);
    assert!(matches!(
        f.facts,
        Facts::ServerResetAfterClientHello {
            close: Close::Ultimatum(r),
            ..
        } if r == reason
    ));
    assert!(notes(f).contains(&&Note::ServerUltimatum(reason)));
}

#[test]
fn tls_certificate_problems_are_typed_and_a_refusal_raises_them_to_errors() {
    let d = lab("expired_cert_deny.pcap");
    let problem = only(&d, FindingCode::ServerCertificateProblem);
    assert_eq!(problem.severity, Severity::Error);
    let Facts::CertificateProblem { subject, problems } = &problem.facts else {
        panic!("{:?}", problem.facts)
    };
    assert_eq!(subject, "CN=10.99.0.1");
    assert!(problems.contains(&CertProblem::SelfSigned));
    assert!(problems.iter().any(
        |p| matches!(p, CertProblem::Expired { not_after } if not_after.starts_with("2021-"))
    ));
    let rejected = only(&d, FindingCode::ClientRejectedCertificate);
    assert_eq!(
        rejected.facts,
        Facts::ClientRejectedCertificate {
            problems: problems.clone()
        }
    );

    let d = lab("self_signed_cert_ignored.pcap");
    assert_eq!(d.verdict, Verdict::Ok);
    let f = only(&d, FindingCode::ServerCertificateProblem);
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        matches!(&f.facts, Facts::CertificateProblem { problems, .. }
        if problems.contains(&CertProblem::NameMismatch {
            subject: "CN=localhost".into(),
            sni: "10.99.0.1".into()
        }))
    );
}

// --- CredSSP and aborts ---

#[test]
fn credssp_a_server_close_after_message_three_is_nla_failed() {
    let d = lab("nla_wrong_password.pcap");
    let f = only(&d, FindingCode::NlaFailed);
    assert_eq!(
        f.facts,
        Facts::NlaFailed {
            hybrid_ex: false,
            closer: rdpscope::flow::Side::Server,
            server_alert: false,
            close: Close::Fin,
            messages: 3,
            complete: false
        }
    );
    let messages: Vec<_> = f
        .evidence
        .iter()
        .filter_map(|e| match e.note {
            Note::CredsspMessage { n, side, .. } => Some((n, side)),
            _ => None,
        })
        .collect();
    assert_eq!(
        messages,
        [(1, Side::Client), (2, Side::Server), (3, Side::Client)]
    );
}

#[test]
fn abort_a_client_reset_names_the_last_message_before_it() {
    let d = lab("client_abort.pcap");
    assert_eq!(codes(&d), [FindingCode::ClientAbort]);
    let f = &d.findings[0];
    let Facts::Abort {
        close, phase, last, ..
    } = &f.facts
    else {
        panic!("{:?}", f.facts)
    };
    assert_eq!(*close, Close::Rst);
    assert_eq!(*phase, Some(rdpscope::session::PhaseName::TlsHandshake));
    let last = last.as_ref().expect("a last message");
    assert_eq!(
        (last.dir, &last.kind),
        (Side::Client, &EventKind::TlsFinished)
    );
    assert!(!last.kind.is_tcp());
}

#[test]
fn abort_a_server_ultimatum_is_a_server_abort_carrying_its_reason() {
    let d = lab("security_downgrade_negotiated.pcap");
    let f = only(&d, FindingCode::ServerAbort);
    assert!(matches!(
        &f.facts,
        Facts::Abort {
            close: Close::Ultimatum(DisconnectReason(3)),
            ultimatum: Some(DisconnectReason(3)),
            last: Some(e),
            ..
        } if matches!(e.kind, EventKind::Ultimatum { .. })
    ));
}

#[test]
fn abort_a_client_that_gives_up_on_loss_makes_the_loss_the_error() {
    let d = lab("lossy_timeout.pcap");
    assert_eq!(codes(&d), [FindingCode::PacketLoss]);
    let f = &d.findings[0];
    assert_eq!(f.severity, Severity::Error);
    assert!(matches!(
        f.facts,
        Facts::PacketLoss {
            client_gave_up: Some(Close::Fin),
            ..
        }
    ));
    assert!(matches!(
        notes(f).last(),
        Some(Note::Closes {
            side: Side::Client,
            close: Close::Fin
        })
    ));
}

#[test]
fn abort_a_clean_client_fin_after_credssp_is_no_finding() {
    let d = lab("nla_ok.pcap");
    assert!(d.findings.is_empty(), "{:?}", codes(&d));
    assert_eq!(d.verdict, Verdict::Ok);
}

// --- timing and stalls ---

#[test]
fn timing_latency_loss_and_slowness_carry_their_figures() {
    let d = lab("high_latency.pcap");
    let f = only(&d, FindingCode::HighLatency);
    let Facts::HighLatency {
        rtt_ms,
        threshold_ms,
        from_handshake: true,
    } = f.facts
    else {
        panic!("{:?}", f.facts)
    };
    assert!(rtt_ms > 500.0 && threshold_ms == 250.0, "{rtt_ms}");
    assert!(notes(f).contains(&&Note::ClientAckRtt(rtt_ms)));
    assert_eq!(d.verdict, Verdict::Slow);

    let d = lab("slow_server.pcap");
    let f = only(&d, FindingCode::HandshakeSlow);
    let Facts::Slow {
        total_ms, longest, ..
    } = f.facts
    else {
        panic!("{:?}", f.facts)
    };
    let (phase, ms) = longest.expect("a longest phase");
    assert_eq!(phase, rdpscope::session::PhaseName::X224Negotiation);
    assert!(ms > 5000.0 && total_ms > ms);

    let d = lab("lossy_ok.pcap");
    assert_eq!(d.verdict, Verdict::Ok);
    let f = only(&d, FindingCode::PacketLoss);
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        matches!(f.facts, Facts::PacketLoss { server, client_gave_up: None, .. } if server >= 3)
    );
}

#[test]
fn timing_mtu_black_holes_are_told_from_both_capture_points() {
    let d = lab("mtu_blackhole.pcap");
    let f = only(&d, FindingCode::MtuBlackhole);
    assert!(matches!(
        f.facts,
        Facts::MtuBlackhole {
            shape: MtuShape::Retransmitted {
                side: Side::Server,
                count,
                largest
            },
            ..
        } if count >= 3 && largest >= 1000
    ));
    let d = lab("mtu_blackhole_client_side.pcap");
    let f = only(&d, FindingCode::MtuBlackhole);
    assert!(matches!(
        f.facts,
        Facts::MtuBlackhole {
            shape: MtuShape::Unseen {
                side: Side::Server,
                ahead
            },
            ..
        } if ahead >= 1000
    ));
}

#[test]
fn stall_a_silence_past_the_threshold_names_the_phase_and_who_owed_the_message() {
    let d = lab("server_hung.pcap");
    assert_eq!(d.verdict, Verdict::Stalled);
    let f = only(&d, FindingCode::HandshakeStalled);
    let Facts::Stalled {
        secs,
        phase,
        waiting_on,
        resumed,
        ..
    } = f.facts
    else {
        panic!("{:?}", f.facts)
    };
    assert!(secs > 23.0);
    assert_eq!(phase, Some(rdpscope::session::PhaseName::X224Negotiation));
    assert_eq!(waiting_on, Some(Side::Server));
    assert_eq!(d.progress.facts.owes_next, Some(Side::Server));
    assert!(!resumed);
}

#[test]
fn stall_a_higher_threshold_turns_the_silent_stall_off() {
    let path = repo_root().join("fixtures/lab/server_hung.pcap");
    let config = PipelineConfig {
        diagnose: DiagnoseConfig {
            stall_after_ms: 600_000.0,
            ..DiagnoseConfig::default()
        },
        ..PipelineConfig::default()
    };
    let conns = run(path.to_str().unwrap(), config);
    assert!(!codes(&conns[0]).contains(&FindingCode::HandshakeStalled));
}

/// The ClientHello resent with doubling timeouts and never acknowledged: a black hole,
/// whatever the capture's length and the stall threshold.
#[test]
fn stall_a_black_holed_client_hello_is_stalled_before_any_threshold() {
    for (name, min_resends) in [
        ("client_hello_dropped.pcap", 8),
        ("client_hello_blackholed_7s.pcap", 5),
    ] {
        let path = repo_root().join("fixtures/lab").join(name);
        let config = PipelineConfig {
            diagnose: DiagnoseConfig {
                stall_after_ms: 600_000.0,
                ..DiagnoseConfig::default()
            },
            ..PipelineConfig::default()
        };
        let conns = run(path.to_str().unwrap(), config);
        let d = &conns[0];
        assert_eq!(d.verdict, Verdict::Stalled, "{name}");
        assert!(!codes(d).contains(&FindingCode::PacketLoss), "{name}");
        let f = only(d, FindingCode::SegmentBlackHoled);
        let Facts::SegmentBlackHoled {
            side,
            retransmits,
            backed_off,
            phase,
            ref carried,
            ..
        } = f.facts
        else {
            panic!("{:?}", f.facts)
        };
        assert_eq!(side, Side::Client, "{name}");
        assert!(retransmits >= min_resends, "{name}: {retransmits}");
        assert!(backed_off, "{name}");
        assert_eq!(phase, Some(rdpscope::session::PhaseName::TlsHandshake));
        assert!(
            matches!(
                carried.as_ref().map(|e| &e.kind),
                Some(rdpscope::session::EventKind::TlsClientHello { .. })
            ),
            "{name}: {carried:?}"
        );
        assert_eq!(d.progress.facts.owes_next, Some(Side::Client));
    }
}

// --- capture ---

#[test]
fn capture_a_connection_caught_after_its_syn_is_incomplete_but_judged() {
    let d = lab("capture_started_late.pcap");
    assert_eq!(d.verdict, Verdict::Ok);
    let f = only(&d, FindingCode::CaptureIncomplete);
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(
        f.facts,
        Facts::CaptureIncomplete {
            started_late: true,
            gaps: 0,
            gap_bytes: 0
        }
    );
    assert_eq!(notes(f), [&Note::FirstPacketNoSyn]);
}

// --- RDP-UDP ---

#[test]
fn udp_unanswered_syns_are_blocked_udp() {
    let Some(conns) = shared("zeek_zeek/rdpeudp-handshake-fail.pcap") else {
        return;
    };
    let f = only(&conns[0], FindingCode::UdpBlocked);
    let Facts::UdpNoSynAck { syns, port, peer } = f.facts else {
        panic!("{:?}", f.facts)
    };
    assert_eq!((syns, port, peer), (3, 3389, None));
    assert_eq!(notes(f), [&Note::UdpSyn; 3]);
}

#[test]
fn udp_completed_handshakes_have_no_finding() {
    for file in [
        "zeek_zeek/rdpeudp-handshake-success.pcap",
        "zeek_zeek/rdpeudp2-handshake-success.pcap",
    ] {
        let Some(conns) = shared(file) else { return };
        assert!(conns.iter().all(|d| d.findings.is_empty()), "{file}");
        assert!(conns.iter().all(|d| d.verdict == Verdict::Ok), "{file}");
    }
}

// The flood rule family has synthetic unit tests in src/diagnose/flood.rs (no public capture
// holds a flood at one server) and an end-to-end test in tests/resource_limits.rs.
