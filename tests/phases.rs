//! Phase computation on real captures: which phases each lab scenario reaches, whether each
//! completed, and who owed the next message when it ended.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use common::*;
use rdpscope::diagnose::Diagnosed;
use rdpscope::flow::Side;
use rdpscope::pipeline::{analyze_files, PipelineConfig};
use rdpscope::session::PhaseName::{self, *};

fn lab(name: &str) -> Diagnosed {
    let path = repo_root().join("fixtures/lab").join(name);
    let mut conns = Vec::new();
    let run = analyze_files(
        &[path.to_str().unwrap().to_string()],
        None,
        PipelineConfig::default(),
        &mut |d| conns.push(d),
    );
    if let Some(e) = run.error {
        panic!("{name}: {e}");
    }
    assert_eq!(conns.len(), 1, "{name}");
    conns.remove(0)
}

fn phases(d: &Diagnosed) -> Vec<(PhaseName, bool, Option<Side>)> {
    d.progress
        .phases
        .iter()
        .map(|p| (p.name, p.complete, p.waiting_on))
        .collect()
}

/// Phases follow each other and none ends before it starts.
fn well_ordered(d: &Diagnosed) {
    for p in &d.progress.phases {
        assert!(p.end.ts_ns >= p.start.ts_ns, "{:?}", p);
    }
    for w in d.progress.phases.windows(2) {
        assert!(w[1].start.ts_ns >= w[0].start.ts_ns, "{:?}", w);
    }
}

const S: Option<Side> = Some(Side::Server);
const C: Option<Side> = Some(Side::Client);

#[test]
fn a_tls_session_goes_through_every_phase_to_the_data() {
    for f in ["tls12_ok.pcap", "tls13_ok.pcap"] {
        let d = lab(f);
        well_ordered(&d);
        assert_eq!(
            phases(&d),
            [
                (TcpConnect, true, C),
                (X224Negotiation, true, S),
                (TlsHandshake, true, C),
                (McsConnect, true, S),
                (RdpData, true, C),
                (Closed, true, None),
            ],
            "{f}"
        );
        assert!(d.progress.established, "{f}");
        // The session proper starts where the MCS connect ends.
        let mcs = &d.progress.phases[3];
        assert_eq!(d.progress.data_start, Some(mcs.end), "{f}");
        assert!(d.progress.credssp_flights.is_empty(), "{f}");
    }
}

#[test]
fn standard_rdp_security_reads_the_clear_mcs_connect() {
    let d = lab("rdp_security_ok.pcap");
    well_ordered(&d);
    assert_eq!(
        phases(&d),
        [
            (TcpConnect, true, C),
            (X224Negotiation, true, S),
            (McsConnect, true, S),
            (RdpData, true, C),
            (Closed, true, None),
        ]
    );
    let ci = d
        .connection
        .mcs
        .connect_initial
        .as_ref()
        .expect("Connect Initial");
    assert_eq!(d.progress.phases[2].start, ci.at);
}

#[test]
fn nla_counts_five_credssp_flights_alternating_from_the_client() {
    let d = lab("nla_ok.pcap");
    well_ordered(&d);
    assert!(d.progress.credssp_complete);
    let sides: Vec<_> = d.progress.credssp_flights.iter().map(|f| f.side).collect();
    assert_eq!(
        sides,
        [
            Side::Client,
            Side::Server,
            Side::Client,
            Side::Server,
            Side::Client
        ]
    );
    let credssp = d
        .progress
        .phases
        .iter()
        .find(|p| p.name == Credssp)
        .unwrap();
    assert!(credssp.complete);
    assert_eq!(credssp.waiting_on, C);
}

#[test]
fn a_refused_password_stops_credssp_after_three_messages_waiting_on_the_server() {
    let d = lab("nla_wrong_password.pcap");
    well_ordered(&d);
    assert_eq!(d.progress.credssp_flights.len(), 3);
    assert!(!d.progress.credssp_complete);
    assert_eq!(
        d.progress
            .last_phase()
            .map(|p| (p.name, p.complete, p.waiting_on)),
        Some((Credssp, false, S))
    );
    assert!(!d.progress.established);
}

#[test]
fn unfinished_phases_say_who_was_waiting() {
    // SYNs never answered: the connect itself is incomplete, waiting on the server.
    assert_eq!(phases(&lab("firewall_drop.pcap")), [(TcpConnect, false, S)]);
    // A Connection Request never confirmed.
    let d = lab("capture_ended_early.pcap");
    assert_eq!(
        phases(&d),
        [(TcpConnect, true, C), (X224Negotiation, false, S)]
    );
    // The ClientHello is retransmitted, never acknowledged: the server never got it, the
    // client still owes its delivery (issue 18: one source, `facts.owes_next`).
    let d = lab("client_hello_dropped.pcap");
    assert_eq!(
        d.progress
            .last_phase()
            .map(|p| (p.name, p.complete, p.waiting_on)),
        Some((TlsHandshake, false, C))
    );
}

#[test]
fn a_capture_started_late_has_no_connect_phase_but_still_finds_the_session() {
    let d = lab("capture_started_late.pcap");
    well_ordered(&d);
    let names: Vec<_> = d.progress.phases.iter().map(|p| p.name).collect();
    assert_eq!(names, [TlsHandshake, McsConnect, RdpData, Closed]);
    assert!(d.progress.established);
}
