//! Memory per open connection (issue 20): the size of the state the flow table keeps for a
//! connection, and the heap it holds once its handshake bytes were parsed and it went quiet.
//! Prints the sizes of the parts (`cargo test --test connection_footprint -- --nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

use std::mem::size_of;

use rdpscope::capture::FileSet;
use rdpscope::flow::{
    DirectionFacts, FinishedFlow, FlowConfig, FlowTable, TcpReassembler, TcpStats,
};
use rdpscope::limits::Limits;
use rdpscope::session::{Connection, Event, EventKind, McsState, Timeline, TlsState, X224State};

/// The inline size of one connection's state (boxed once in the flow table): the stream
/// framers are behind a pointer until the first TCP payload.
const MAX_CONNECTION: usize = 392;
/// One direction's TCP progress facts, its resends and duplicate ACKs behind a pointer.
const MAX_DIRECTION_FACTS: usize = 208;
/// What the flow table hands up per finished flow (an eviction hands up thousands at once).
const MAX_FINISHED_FLOW: usize = 160;
/// One timeline event (a connection keeps a few dozen).
const MAX_EVENT: usize = 72;
/// Heap bytes of a quiet connection after a whole TLS handshake (its timeline, its facts and
/// the cold parts it made: X.224, TLS and MCS state, the stream framers), TCP facts included:
/// the most of the three lab handshakes (tls12_ok, 4,586 + 824 B).
const MAX_QUIET_HEAP: usize = 5_410;
/// Of it, the TCP facts: both directions' progress facts, no loss facts (none was resent).
const MAX_QUIET_TCP_HEAP: usize = 824;

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
        ("DirectionFacts", size_of::<DirectionFacts>()),
        ("FlowMeta", size_of::<rdpscope::flow::FlowMeta>()),
        ("SideFlow", size_of::<rdpscope::session::SideFlow>()),
        ("FinishedFlow", size_of::<FinishedFlow<Connection>>()),
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
        size_of::<DirectionFacts>() <= MAX_DIRECTION_FACTS,
        "DirectionFacts is {} bytes",
        size_of::<DirectionFacts>()
    );
    assert!(
        size_of::<FinishedFlow<Connection>>() <= MAX_FINISHED_FLOW,
        "FinishedFlow is {} bytes",
        size_of::<FinishedFlow<Connection>>()
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
        assert!(tcp <= MAX_QUIET_TCP_HEAP, "{fixture}: {tcp} TCP heap bytes");
        assert!(
            conn + tcp <= MAX_QUIET_HEAP,
            "{fixture}: {conn} + {tcp} heap bytes"
        );
    }
}
