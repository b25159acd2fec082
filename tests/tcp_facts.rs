//! The per-direction TCP progress facts (flow::progress) on real captures, checked against
//! what tshark's TCP analysis says about the same frames.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use common::*;
use rdpscope::diagnose::Diagnosed;
use rdpscope::flow::{RttSource, Side};
use rdpscope::pipeline::{analyze_files, PipelineConfig};

fn connections(path: &std::path::Path) -> Vec<Diagnosed> {
    let mut out = Vec::new();
    let _ = analyze_files(
        &[path.display().to_string()],
        None,
        PipelineConfig::default(),
        &mut |d| out.push(d),
    );
    out.sort_by_key(|d| d.meta.id);
    out
}

#[test]
fn a_dropped_client_hello_is_one_unacknowledged_series_that_backs_off() {
    let conns = connections(&repo_root().join("fixtures/lab/client_hello_dropped.pcap"));
    let t = conns[0].tcp.as_ref().expect("tcp");
    let client = &t.progress(Side::Client);
    let series = client
        .unacked_series()
        .expect("the ClientHello is never acknowledged");
    assert!(series.retransmits >= 3, "{series:?}");
    assert!(series.backs_off(), "{series:?}");
    assert!(client.unacked() > 0);
}

#[test]
fn a_healthy_handshake_has_an_unambiguous_round_trip_and_no_unacked_series() {
    let conns = connections(&repo_root().join("fixtures/lab/tls13_ok.pcap"));
    let t = conns[0].tcp.as_ref().expect("tcp");
    let est = t.rtt_estimate().expect("rtt");
    assert_eq!(est.source, RttSource::Handshake);
    for side in [Side::Client, Side::Server] {
        assert!(t.progress(side).unacked_series().is_none());
        assert!(t.progress(side).rtt.count > 0);
    }
}

/// zeek's rdp-x509.pcap: the SYN/ACK (frame 3) and the SYN (frame 4) were retransmitted, so
/// the 7.1 s from SYN to ACK is no round trip (Karn's rule).
#[test]
fn retransmitted_syn_and_syn_ack_give_no_handshake_round_trip() {
    let Some(dir) = shared_captures() else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    let conns = connections(&dir.join("zeek_zeek/rdp-x509.pcap"));
    let t = conns[0].tcp.as_ref().expect("tcp");
    assert!(t.handshake_rtt_ns().is_some());
    assert_eq!(t.handshake_rtt_karn_ns(), None);
    assert_eq!(t.syn_ack_retries.first().map(|f| f.frame), Some(3));
    assert_eq!(t.syn_retries.first().map(|f| f.frame), Some(4));
    // tshark: frame 9 is a spurious retransmission (bytes the server had acknowledged).
    assert!(t.progress(Side::Client).loss().spurious_retransmissions >= 1);
}

/// lab lossy_ok.pcap (1 in 10 client segments dropped, capture on the server side): tshark's
/// `tcp.analysis.duplicate_ack` marks frames 37 and 72, and both count (tshark's rule). Frame
/// 37 answers the client's spurious retransmission 36 with a D-SACK while the client has
/// nothing in flight: not a duplicate ACK in RFC 5681 §2's sense (which needs outstanding
/// data), so no sign of loss and not in the loss time. Frame 72 is one: the server's segment
/// 3440 was lost (resent in 73).
#[test]
fn duplicate_acks_follow_rfc_5681() {
    let conns = connections(&repo_root().join("fixtures/lab/lossy_ok.pcap"));
    let t = conns[0].tcp.as_ref().expect("tcp");
    let client = &t.progress(Side::Client);
    assert_eq!(client.dup_acks, 1);
    assert_eq!(
        client.loss().first_dup_ack.as_ref().map(|f| f.frame),
        Some(72)
    );
    assert_eq!(client.loss().dup_ack_times.len(), 1);
    let server = &t.progress(Side::Server);
    assert_eq!(server.dup_acks, 1);
    assert!(server.loss().dup_ack_times.is_empty());
    // tshark: frame 36 is a spurious retransmission.
    assert_eq!(client.loss().spurious_retransmissions, 1);
}
