//! The flow table: packets grouped into connections by 5-tuple, client and server told
//! apart, TCP reassembled per direction, idle and closed flows finished as the capture goes.
// Wire lengths and sequence numbers: no silent truncation (checked conversions only).
#![cfg_attr(not(test), deny(clippy::cast_possible_truncation))]

mod expiry;
mod key;
use expiry::Expiry;
use key::FlowKey;
pub use key::{Endpoint, FlowMeta, OpenFlow, PacketInfo, Side, TransportKind};
pub mod progress;
pub mod sides;
pub mod tcp;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::IpAddr;

use ahash::AHashMap;

use crate::capture::{Decoded, IcmpUnreachable, RawPacket, TcpFlags, Transport};
use crate::limits::Limits;
pub use progress::{DirectionFacts, LossFacts, LossWait, RetransmitSeries, RttSamples};
pub use sides::Sides;
pub use tcp::{
    FrameTime, Gap, RttEstimate, RttSource, RttUnavailable, SegmentVerdict, StreamOutput,
    TcpReassembler, TcpStats,
};

/// Whether a flow carries RDP, judged by the protocol layer from what it has seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    Follow,
    /// Followed on probation (a TLS flow that may be an RD Gateway's): numbered from
    /// `CANDIDATE_FLOW_IDS` so connection ids stay those of the RDP flows, and given a
    /// connection id (`FlowTable::allocate_id`) only if the session layer keeps it.
    Candidate,
    Ignore,
    Undecided,
}

/// The protocol layer above the flow table: it decides which flows matter and receives
/// their packets and reassembled bytes.
pub trait FlowHandler: Sized {
    /// Is this payload the first message of a connection (X.224 CR, RDP-UDP SYN)? Used to tell
    /// the client when no TCP SYN was seen.
    fn opens_connection(transport: TransportKind, payload: &[u8]) -> bool;
    /// Judges a flow from its ports and, when there is one, a client payload.
    fn classify(meta: &FlowMeta, client_payload: &[u8]) -> Interest;
    fn open(meta: &FlowMeta, limits: &Limits) -> Self;
    /// Reassembled bytes or a gap, in stream order.
    fn on_stream(&mut self, pkt: &PacketInfo, side: Side, out: StreamOutput<'_>);
    /// Every TCP segment, after its bytes went through `on_stream`.
    fn on_segment(
        &mut self,
        meta: &FlowMeta,
        stats: &TcpStats,
        pkt: &PacketInfo,
        side: Side,
        seg: &SegmentSummary,
    );
    fn on_datagram(&mut self, meta: &FlowMeta, pkt: &PacketInfo, side: Side, payload: &[u8]);
    /// An ICMP error that quotes a packet of this flow.
    fn on_unreachable(&mut self, pkt: &PacketInfo, icmp: &IcmpUnreachable);
    /// A flow followed beside the connections (Kerberos, DNS): numbered apart from them,
    /// from `SIDE_FLOW_IDS`, so connection ids stay those of the RDP flows alone.
    fn is_side_flow(_meta: &FlowMeta) -> bool {
        false
    }
    /// The flow went quiet (or closed): give back memory its state does not need.
    fn compact(&mut self) {}
}

/// Where the ids of side flows start (far above any connection id).
pub const SIDE_FLOW_IDS: u64 = 1 << 48;
/// Where the ids of candidate flows start (above any connection id, below side flows).
pub const CANDIDATE_FLOW_IDS: u64 = 1 << 47;

/// Is `id` a candidate flow's provisional id (`Interest::Candidate`)?
pub fn is_candidate_id(id: u64) -> bool {
    (CANDIDATE_FLOW_IDS..SIDE_FLOW_IDS).contains(&id)
}

/// What the session layer needs to know of a TCP segment beyond its bytes.
#[derive(Debug, Clone, Copy)]
pub struct SegmentSummary {
    pub flags: TcpFlags,
    pub wire_len: u32,
    pub verdict: SegmentVerdict,
}

/// What identifies a TCP segment on the wire: a capture that saw the same packet twice
/// (two taps, a SPAN of both directions) repeats all of it, a retransmission does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SegmentId {
    seq: u32,
    ack: u32,
    len: u32,
    ip_id: u16,
    flags: u8,
}

struct Flow<H> {
    meta: FlowMeta,
    /// Names this flow's entry in the expiry queue (a later flow on the same tuple has its own).
    timer: u64,
    /// Its queue entry waits for the idle deadline: a packet must give it an earlier one.
    parked: bool,
    last_segment: Sides<Option<SegmentId>>,
    /// Packets captured twice, left out of reassembly, and the first of them.
    duplicates: u64,
    first_duplicate: Option<FrameTime>,
    interest: Interest,
    client_payloads_seen: u8,
    /// Compacted when it closed (done once: later packets of a closed flow are few).
    compacted_closed: bool,
    // Boxed: the table's slots stay small (a flood of flows that never get a handler, and
    // the spare capacity of the hash table, cost a few hundred bytes each, not kilobytes).
    tcp: Option<Box<TcpReassembler>>,
    handler: Option<Box<H>>,
}

impl<H: FlowHandler> Flow<H> {
    fn compact(&mut self) {
        if let Some(t) = self.tcp.as_deref_mut() {
            t.compact();
        }
        if let Some(h) = self.handler.as_deref_mut() {
            h.compact();
        }
    }
}

impl<H> Flow<H> {
    fn closed(&self) -> bool {
        self.tcp.as_ref().is_some_and(|t| {
            let s = &t.stats;
            s.rst.iter().any(Option::is_some) || s.fin.iter().all(Option::is_some)
        })
    }
}

/// A connection that ended (closed, idle, evicted or end of capture), handed up once.
/// Its state stays boxed: an eviction at the `--max-flows` cap hands up a tenth of the
/// table at once, and the vector of them should be pointers, not kilobytes each.
pub struct FinishedFlow<H> {
    pub meta: FlowMeta,
    pub tcp: Option<Box<TcpStats>>,
    pub handler: Box<H>,
    pub evicted: bool,
}

#[derive(Debug, Clone)]
pub struct FlowConfig {
    /// A flow with no packet for this long (capture time) is finished.
    pub idle_timeout_ns: i64,
    /// A closed flow (FIN both ways or RST) is finished after this quiet time.
    pub closed_linger_ns: i64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            idle_timeout_ns: 300_000_000_000,
            closed_linger_ns: 30_000_000_000,
        }
    }
}

/// A flow without a packet for this long, when the expiry queue visits it, is compacted.
const QUIET_NS: i64 = 1_000_000_000;
/// How many client payload segments we look at before giving up on an unknown port.
const CLASSIFY_SEGMENTS: u8 = 4;
/// Ports where RDP (or its gateway) listens by default.
pub use crate::ports::SERVER_PORTS as RDP_PORTS;

pub struct FlowTable<H: FlowHandler> {
    // Each flow boxed: the hash table keeps twice its length in slots (load factor, growth
    // by doubling, and old and new tables both held while it grows), so a slot is a key and
    // a pointer, and only the open flows pay for their state.
    flows: AHashMap<FlowKey, Box<Flow<H>>>,
    config: FlowConfig,
    limits: Limits,
    next_id: u64,
    next_side_id: u64,
    next_candidate_id: u64,
    /// Candidate flows open in the table, by (client, server) address: the gateway
    /// correlator looks for open partners only between hosts that have some.
    open_candidates: AHashMap<(IpAddr, IpAddr), u32>,
    next_sweep_ns: Option<i64>,
    last_touched: Option<FlowKey>,
    /// When each flow could expire at the earliest, soonest first: a sweep visits the flows
    /// whose time has come instead of the whole table.
    expiry: BinaryHeap<Reverse<Expiry>>,
    next_timer: u64,
    /// Latest packet time seen: a packet earlier than it (a capture whose clock stepped
    /// back) gives its flow a fresh queue entry, as the bound of the old one may not hold.
    latest_ns: i64,
    pub evicted: u64,
    /// UDP flows followed so far: pairing with TCP is only needed once there are some.
    pub udp_followed: u64,
    /// Connections a packet opened (ids from `allocate_id` not counted): the pairing's
    /// bookkeeping of open connections is complete while it has noted this many.
    opened_by_packets: u64,
    pub packets_seen: u64,
    pub packets_decoded: u64,
}

impl<H: FlowHandler> FlowTable<H> {
    pub fn new(config: FlowConfig, limits: Limits) -> Self {
        FlowTable {
            flows: AHashMap::new(),
            config,
            limits,
            next_id: 1,
            next_side_id: 0,
            next_candidate_id: 0,
            open_candidates: AHashMap::new(),
            next_sweep_ns: None,
            last_touched: None,
            expiry: BinaryHeap::new(),
            next_timer: 0,
            latest_ns: i64::MIN,
            evicted: 0,
            udp_followed: 0,
            opened_by_packets: 0,
            packets_seen: 0,
            packets_decoded: 0,
        }
    }

    pub fn active_flows(&self) -> usize {
        self.flows.len()
    }

    /// Flows followed (handed to a handler) so far: a new one has the id this returns.
    pub fn followed(&self) -> u64 {
        self.next_id - 1
    }

    /// Connections opened by their first packet so far (`followed` less the ids given by
    /// `allocate_id`).
    pub fn opened_by_packets(&self) -> u64 {
        self.opened_by_packets
    }

    /// Candidate flows followed so far (`Interest::Candidate`).
    pub fn candidates_followed(&self) -> u64 {
        self.next_candidate_id
    }

    /// Candidate flows open between these two hosts (client, server).
    pub fn open_candidates_between(&self, client: IpAddr, server: IpAddr) -> u32 {
        self.open_candidates
            .get(&(client, server))
            .copied()
            .unwrap_or(0)
    }

    /// Takes a flow out of the table, keeping the count of open candidates right.
    fn remove(&mut self, key: &FlowKey) -> Option<Box<Flow<H>>> {
        let flow = self.flows.remove(key)?;
        if is_candidate_id(flow.meta.id) {
            let pair = (flow.meta.client.ip, flow.meta.server.ip);
            if let Some(n) = self.open_candidates.get_mut(&pair) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.open_candidates.remove(&pair);
                }
            }
        }
        Some(flow)
    }

    /// A connection id for a candidate flow the session layer keeps: the next one, as if
    /// the flow had been followed now.
    pub fn allocate_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Visits every followed connection still open (live capture timers use this).
    pub fn for_each_active(&mut self, mut f: impl FnMut(&FlowMeta, Option<&TcpStats>, &mut H)) {
        for flow in self.flows.values_mut() {
            if let Some(h) = flow.handler.as_mut() {
                f(&flow.meta, flow.tcp.as_ref().map(|t| &t.stats), h);
            }
        }
    }

    /// Visits the followed connection the last packet belonged to, if any.
    pub fn with_last_touched(&mut self, f: impl FnOnce(&FlowMeta, Option<&TcpStats>, &mut H)) {
        let Some(key) = self.last_touched else { return };
        if let Some(flow) = self.flows.get_mut(&key) {
            if let Some(h) = flow.handler.as_mut() {
                f(&flow.meta, flow.tcp.as_ref().map(|t| &t.stats), h);
            }
        }
    }

    /// Feeds one captured packet; connections that end are pushed to `done`.
    pub fn process(&mut self, raw: &RawPacket, done: &mut Vec<FinishedFlow<H>>) {
        self.packets_seen += 1;
        self.last_touched = None;
        let pkt = PacketInfo {
            file: raw.file,
            frame: raw.frame,
            ts_ns: raw.ts_ns,
        };
        if let Some(decoded) = crate::capture::decode_packet(raw.linktype, raw.data, raw.orig_len) {
            self.packets_decoded += 1;
            self.process_decoded(&pkt, &decoded, raw.orig_len, done);
        }
        self.maybe_sweep(pkt.ts_ns, done);
    }

    fn process_decoded(
        &mut self,
        pkt: &PacketInfo,
        d: &Decoded,
        wire_len: u32,
        done: &mut Vec<FinishedFlow<H>>,
    ) {
        let (transport, src_port, dst_port, payload) = match &d.transport {
            Transport::Tcp(t) => (TransportKind::Tcp, t.src_port, t.dst_port, t.payload),
            Transport::Udp(u) => (TransportKind::Udp, u.src_port, u.dst_port, u.payload),
            Transport::Unreachable(icmp) => {
                self.unreachable(pkt, icmp);
                return;
            }
        };
        let src = Endpoint {
            ip: d.src,
            port: src_port,
        };
        let dst = Endpoint {
            ip: d.dst,
            port: dst_port,
        };
        let key = FlowKey::new(transport, src, dst);
        let flags = match &d.transport {
            Transport::Tcp(t) => Some(t.flags),
            _ => None,
        };
        // A new SYN on a tuple whose connection already closed starts a new connection.
        if let Some(f) = flags {
            if f.syn && !f.ack && self.flows.get(&key).is_some_and(|f| f.closed()) {
                if let Some(flow) = self.remove(&key) {
                    finish(flow, pkt, done);
                }
            }
        }
        let max_buffer = self.limits.max_buffer;
        let (expiry, next_timer) = (&mut self.expiry, &mut self.next_timer);
        let linger = self
            .config
            .closed_linger_ns
            .min(self.config.idle_timeout_ns);
        // One hash and one probe per packet: the flow is found or made in the same step.
        let flow = self.flows.entry(key).or_insert_with(|| {
            *next_timer += 1;
            // The soonest a new flow can expire: it closes at once and stays quiet.
            expiry.push(Reverse(Expiry {
                at_ns: pkt.ts_ns.saturating_add(linger),
                timer: *next_timer,
                key,
            }));
            let client_is_src = client_is_source::<H>(transport, flags, src, dst, payload);
            let (client, server) = if client_is_src {
                (src, dst)
            } else {
                (dst, src)
            };
            let meta = FlowMeta {
                id: 0,
                transport,
                client,
                server,
                first: *pkt,
                last: *pkt,
                packets: 0,
                bytes: 0,
                packets_by_side: Sides([0, 0]),
            };
            let tcp = (transport == TransportKind::Tcp)
                .then(|| Box::new(TcpReassembler::new(max_buffer)));
            Box::new(Flow {
                meta,
                timer: *next_timer,
                parked: false,
                last_segment: Sides([None, None]),
                duplicates: 0,
                first_duplicate: None,
                interest: Interest::Undecided,
                client_payloads_seen: 0,
                compacted_closed: false,
                tcp,
                handler: None,
            })
        });
        let side = if src == flow.meta.client {
            Side::Client
        } else {
            Side::Server
        };
        self.last_touched = Some(key);
        flow.meta.last = *pkt;
        // A parked flow may close now and linger from this packet; a packet earlier than the
        // latest breaks the bound of its entry. Either way it needs an earlier entry.
        if flow.parked || pkt.ts_ns < self.latest_ns {
            flow.parked = false;
            *next_timer += 1;
            flow.timer = *next_timer;
            expiry.push(Reverse(Expiry {
                at_ns: pkt.ts_ns.saturating_add(linger),
                timer: flow.timer,
                key,
            }));
        }
        self.latest_ns = self.latest_ns.max(pkt.ts_ns);
        flow.meta.packets += 1;
        flow.meta.bytes += u64::from(wire_len);
        *flow.meta.packets_by_side.get_mut(side) += 1;
        if flow.interest == Interest::Ignore {
            return;
        }
        if flow.interest == Interest::Undecided {
            let client_payload = if side == Side::Client { payload } else { &[] };
            if !client_payload.is_empty() {
                flow.client_payloads_seen += 1;
            }
            flow.interest = match H::classify(&flow.meta, client_payload) {
                Interest::Undecided if flow.client_payloads_seen >= CLASSIFY_SEGMENTS => {
                    Interest::Ignore
                }
                other => other,
            };
            match flow.interest {
                Interest::Ignore => {
                    flow.tcp = None;
                    return;
                }
                Interest::Candidate => {
                    flow.meta.id = CANDIDATE_FLOW_IDS + self.next_candidate_id;
                    self.next_candidate_id += 1;
                    *self
                        .open_candidates
                        .entry((flow.meta.client.ip, flow.meta.server.ip))
                        .or_insert(0) += 1;
                    flow.handler = Some(Box::new(H::open(&flow.meta, &self.limits)));
                }
                Interest::Follow => {
                    if transport == TransportKind::Udp {
                        self.udp_followed += 1;
                    }
                    if H::is_side_flow(&flow.meta) {
                        flow.meta.id = SIDE_FLOW_IDS + self.next_side_id;
                        self.next_side_id += 1;
                    } else {
                        flow.meta.id = self.next_id;
                        self.next_id += 1;
                        self.opened_by_packets += 1;
                    }
                    flow.handler = Some(Box::new(H::open(&flow.meta, &self.limits)));
                }
                Interest::Undecided => {}
            }
        }
        if let Transport::Tcp(seg) = &d.transport {
            let f = seg.flags;
            let id = SegmentId {
                seq: seg.seq,
                ack: seg.ack,
                len: seg.wire_len,
                ip_id: d.ip_id,
                flags: u8::from(f.syn)
                    | u8::from(f.ack) << 1
                    | u8::from(f.fin) << 2
                    | u8::from(f.rst) << 3,
            };
            let slot = flow.last_segment.get_mut(side);
            if d.ip_id != 0 && *slot == Some(id) {
                flow.duplicates += 1;
                flow.first_duplicate.get_or_insert(FrameTime {
                    frame: pkt.frame,
                    ts_ns: pkt.ts_ns,
                });
                return;
            }
            *slot = Some(id);
        }
        match &d.transport {
            Transport::Tcp(seg) => {
                let Flow {
                    meta, tcp, handler, ..
                } = &mut **flow;
                let Some(tcp) = tcp.as_mut() else { return };
                let mut deliver = |s: Side, out: StreamOutput| {
                    if let Some(h) = handler.as_mut() {
                        h.on_stream(pkt, s, out);
                    }
                };
                let verdict = tcp.segment(side, seg, pkt.frame, pkt.ts_ns, &mut deliver);
                if let Some(h) = handler.as_mut() {
                    let summary = SegmentSummary {
                        flags: seg.flags,
                        wire_len: seg.wire_len,
                        verdict,
                    };
                    h.on_segment(meta, &tcp.stats, pkt, side, &summary);
                }
                if !flow.compacted_closed && flow.closed() {
                    flow.compacted_closed = true;
                    flow.compact();
                }
            }
            Transport::Udp(u) => {
                if let Some(h) = flow.handler.as_mut() {
                    h.on_datagram(&flow.meta, pkt, side, u.payload);
                }
            }
            Transport::Unreachable(_) => {}
        }
    }

    fn unreachable(&mut self, pkt: &PacketInfo, icmp: &IcmpUnreachable) {
        let transport = match icmp.inner_proto {
            6 => TransportKind::Tcp,
            17 => TransportKind::Udp,
            _ => return,
        };
        let key = FlowKey::new(
            transport,
            Endpoint {
                ip: icmp.inner_src,
                port: icmp.inner_src_port,
            },
            Endpoint {
                ip: icmp.inner_dst,
                port: icmp.inner_dst_port,
            },
        );
        if let Some(h) = self.flows.get_mut(&key).and_then(|f| f.handler.as_mut()) {
            h.on_unreachable(pkt, icmp);
        }
    }

    /// The open flows in order of their ids, to be finished one at a time with `finish_one`.
    pub fn open_flows(&self) -> Vec<OpenFlow> {
        let mut order: Vec<(u64, FlowKey)> =
            self.flows.iter().map(|(k, f)| (f.meta.id, *k)).collect();
        order.sort_unstable_by_key(|(id, _)| *id);
        order.into_iter().map(|(_, k)| OpenFlow(k)).collect()
    }

    /// Finishes one open flow (if still open) into `done`.
    pub fn finish_one(&mut self, flow: OpenFlow, done: &mut Vec<FinishedFlow<H>>) {
        if let Some(f) = self.remove(&flow.0) {
            let last = f.meta.last;
            finish(f, &last, done);
        }
        if self.flows.is_empty() {
            // Give the memory of a large table back once the capture is over.
            self.flows = AHashMap::new();
            self.open_candidates = AHashMap::new();
            self.expiry = BinaryHeap::new();
        }
    }
}

fn finish<H: FlowHandler>(flow: Box<Flow<H>>, at: &PacketInfo, done: &mut Vec<FinishedFlow<H>>) {
    let Flow {
        meta,
        tcp,
        handler,
        duplicates,
        first_duplicate,
        ..
    } = *flow;
    let Some(mut handler) = handler else { return };
    let tcp = tcp.map(|mut t| {
        t.flush(at.frame, at.ts_ns, &mut |s, out| {
            handler.on_stream(at, s, out)
        });
        let mut stats = Box::new(t.stats);
        stats.duplicates = duplicates;
        stats.first_duplicate = first_duplicate;
        stats
    });
    done.push(FinishedFlow {
        meta,
        tcp,
        handler,
        evicted: false,
    });
}

fn client_is_source<H: FlowHandler>(
    transport: TransportKind,
    flags: Option<TcpFlags>,
    src: Endpoint,
    dst: Endpoint,
    payload: &[u8],
) -> bool {
    if let Some(f) = flags {
        if f.syn {
            return !f.ack;
        }
    }
    if !payload.is_empty() && H::opens_connection(transport, payload) {
        return true;
    }
    let src_known = RDP_PORTS.contains(&src.port);
    let dst_known = RDP_PORTS.contains(&dst.port);
    match (src_known, dst_known) {
        (false, true) => true,
        (true, false) => false,
        _ => src.port > dst.port,
    }
}

#[cfg(test)]
mod expiry_tests;
