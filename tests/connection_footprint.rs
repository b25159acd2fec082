//! Memory per open connection (issue 20): the size of the state the flow table keeps for a
//! connection, and the heap it holds once its handshake bytes were parsed and it went quiet.
//! Prints the sizes of the parts (`cargo test --test connection_footprint -- --nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

use std::mem::size_of;

use rdpscope::capture::FileSet;
use rdpscope::flow::{FlowConfig, FlowTable, TcpReassembler, TcpStats};
use rdpscope::limits::Limits;
use rdpscope::session::{Connection, Event, EventKind, McsState, Timeline, TlsState, X224State};

/// The inline size of one connection's state (boxed once in the flow table).
const MAX_CONNECTION: usize = 480;
/// One timeline event (a connection keeps a few dozen).
const MAX_EVENT: usize = 72;
/// Heap bytes of a quiet connection after a whole TLS handshake (its timeline, its facts and
/// the cold parts it made: X.224, TLS and MCS state).
const MAX_QUIET_HEAP: usize = 6_400;

#[test]
fn connection_state_stays_small() {
    let sizes = [
        ("Connection", size_of::<Connection>()),
        ("Timeline", size_of::<Timeline>()),
        ("Event", size_of::<Event>()),
        ("EventKind", size_of::<EventKind>()),
        ("InnerEvent", size_of::<rdpscope::session::InnerEvent>()),
        ("DecodeError", size_of::<rdpscope::session::DecodeError>()),
        ("X224State", size_of::<X224State>()),
        ("TlsState", size_of::<TlsState>()),
        ("McsState", size_of::<McsState>()),
        (
            "StreamFramer",
            size_of::<rdpscope::session::stream::StreamFramer>(),
        ),
        ("TcpReassembler", size_of::<TcpReassembler>()),
        ("TcpStats", size_of::<TcpStats>()),
        (
            "DirectionFacts",
            size_of::<rdpscope::flow::DirectionFacts>(),
        ),
        ("FlowMeta", size_of::<rdpscope::flow::FlowMeta>()),
        ("SideFlow", size_of::<rdpscope::session::SideFlow>()),
    ];
    for (name, size) in sizes {
        println!("size_of::<{name}>() = {size}");
    }
    assert!(
        size_of::<Connection>() <= MAX_CONNECTION,
        "Connection is {} bytes",
        size_of::<Connection>()
    );
    assert!(
        size_of::<Event>() <= MAX_EVENT,
        "Event is {} bytes",
        size_of::<Event>()
    );
}

/// Runs a lab capture through the flow table and measures its one connection, still open
/// after its last packet, once the flow table compacted it as it does a quiet flow.
fn quiet_connection(path: &str) -> (usize, usize, usize) {
    let mut files = FileSet::open(&[path.to_string()], None).unwrap();
    let mut table: FlowTable<Connection> = FlowTable::new(FlowConfig::default(), Limits::default());
    let mut done = Vec::new();
    let mut last_ns = 0;
    files
        .for_each(|raw| {
            last_ns = raw.ts_ns;
            table.process(raw, &mut done);
        })
        .unwrap();
    assert!(done.is_empty(), "{path}: the connection is still open");
    // A second later, as the expiry queue would find it.
    table.compact_quiet(last_ns + 1_000_000_000);
    let mut measured = None;
    table.for_each_active(|_, tcp, conn| {
        if conn.side.is_some() {
            return;
        }
        assert!(conn.tls.handshake_done.is_some(), "{path}: handshake done");
        let tcp = tcp.map_or(0, TcpStats::heap_bytes);
        measured = Some((conn.heap_bytes(), tcp, conn.timeline.events.len()));
    });
    measured.unwrap()
}

#[test]
fn quiet_connection_after_tls_handshake_holds_little_heap() {
    for fixture in ["tls12_ok", "nla_ok", "tls13_ok"] {
        let path = format!("fixtures/lab/{fixture}.pcap");
        let (conn, tcp, events) = quiet_connection(&path);
        println!("{fixture}: connection heap {conn} B ({events} events), TCP stats heap {tcp} B");
        assert!(
            conn + tcp <= MAX_QUIET_HEAP,
            "{fixture}: {conn} + {tcp} heap bytes"
        );
    }
}
