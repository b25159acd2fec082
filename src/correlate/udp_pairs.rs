//! TCP ↔ UDP pairing: an RDP connection starts on TCP and may add an RDP-UDP transport
//! (MS-RDPBCGR 1.3.1.1 multitransport, MS-RDPEUDP 1.3) between the same two hosts. The UDP
//! flow carries no reference to its TCP connection that survives TLS, so the pair is found
//! from the addresses, the ports and the time: a UDP flow belongs to the TCP connection
//! between the same hosts, on the same port (UDP 3391 beside an RD Gateway's TCP 443), that
//! it started during.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use crate::flow::{FlowMeta, FlowTable, TransportKind};
use crate::ports;
use crate::session::{compute_phases, Connection};

/// The TCP connection a UDP flow belongs to, as far as the pairing found it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TcpPeer {
    pub id: u64,
    pub established: bool,
    pub last_ns: i64,
}

/// What the pairing of TCP and UDP flows found for one connection.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    pub tcp: Option<TcpPeer>,
    /// Ids of the UDP flows of a TCP connection, in order.
    pub udp: Vec<u64>,
}

/// What the pairing remembers of a finished connection.
#[derive(Debug, Clone, Copy)]
struct PeerRecord {
    id: u64,
    transport: TransportKind,
    client: IpAddr,
    server: IpAddr,
    server_port: u16,
    first_ns: i64,
    last_ns: i64,
    established: bool,
}

impl PeerRecord {
    fn of(meta: &FlowMeta, established: bool) -> Self {
        PeerRecord {
            id: meta.id,
            transport: meta.transport,
            client: meta.client.ip,
            server: meta.server.ip,
            server_port: meta.server.port,
            first_ns: meta.first.ts_ns,
            last_ns: meta.last.ts_ns,
            established,
        }
    }
}

/// How far outside its TCP connection's lifetime a UDP flow may start and still belong to it.
const SLACK_NS: i64 = 5_000_000_000;

/// Does `udp` belong to `tcp`? Same hosts, a port that carries RDP-UDP beside the TCP one,
/// and a start within the TCP connection's lifetime (with slack for clock and capture edges).
fn paired(tcp: &PeerRecord, udp: &PeerRecord) -> bool {
    tcp.client == udp.client
        && tcp.server == udp.server
        && ports::udp_beside_tcp(tcp.server_port, udp.server_port)
        && udp.first_ns >= tcp.first_ns - SLACK_NS
        && udp.first_ns <= tcp.last_ns + SLACK_NS
}

/// Finished connections remembered for pairing: a bounded window, not the whole capture.
const RECENT_PEERS: usize = 4096;

/// The two hosts of a connection, client first: only flows between the same two hosts pair.
type HostPair = (IpAddr, IpAddr);

/// How many connections of each transport (TCP, UDP) a host pair has in a set.
#[derive(Debug, Default)]
struct PairCounts(HashMap<HostPair, [u32; 2], ahash::RandomState>);

impl PairCounts {
    fn slot(t: TransportKind) -> usize {
        usize::from(t == TransportKind::Udp)
    }

    fn add(&mut self, pair: HostPair, t: TransportKind) {
        if let Some(n) = self.0.entry(pair).or_default().get_mut(Self::slot(t)) {
            *n += 1;
        }
    }

    fn remove(&mut self, pair: HostPair, t: TransportKind) {
        if let Some(counts) = self.0.get_mut(&pair) {
            if let Some(n) = counts.get_mut(Self::slot(t)) {
                *n = n.saturating_sub(1);
            }
            if counts.iter().all(|n| *n == 0) {
                self.0.remove(&pair);
            }
        }
    }

    /// Whether the set may hold a connection of transport `t` between the hosts of `pair`.
    fn any(&self, pair: HostPair, t: TransportKind) -> bool {
        self.0
            .get(&pair)
            .and_then(|c| c.get(Self::slot(t)))
            .is_some_and(|n| *n > 0)
    }
}

/// Pairs each finishing flow with its peers among the recently finished and the still
/// active ones. Memory: `RECENT_PEERS` small records, and a count per host pair of the
/// connections still open.
///
/// The counts only skip a search that could find nothing (no connection of the other
/// transport between the same two hosts): without them each finishing connection scanned
/// every open one, quadratic on a capture of thousands open at once.
#[derive(Debug, Default)]
pub struct UdpPairing {
    recent: VecDeque<PeerRecord>,
    udp_seen: bool,
    recent_by_pair: PairCounts,
    open_by_pair: PairCounts,
    /// Open connections counted in `open_by_pair`, by id.
    open: HashMap<u64, (HostPair, TransportKind), ahash::RandomState>,
    /// Connections noted open, plus those that finished unnoted: while the flow table has
    /// opened more, one it follows is open unnoted and every search is made. (Ids the
    /// pipeline allocates for gateways and tunnelled connections are not opened flows: were
    /// they counted, every search after the first gateway would scan the whole table.)
    accounted: u64,
}

fn host_pair(meta: &FlowMeta) -> HostPair {
    (meta.client.ip, meta.server.ip)
}

impl UdpPairing {
    /// Remembers a finished connection, for flows that finish after it.
    pub fn remember(&mut self, meta: &FlowMeta, established: bool) {
        let r = PeerRecord::of(meta, established);
        self.udp_seen |= r.transport == TransportKind::Udp;
        self.recent_by_pair.add((r.client, r.server), r.transport);
        self.recent.push_back(r);
        if self.recent.len() > RECENT_PEERS {
            if let Some(old) = self.recent.pop_front() {
                self.recent_by_pair
                    .remove((old.client, old.server), old.transport);
            }
        }
    }

    /// Notes a connection the flow table has just started to follow (not a side flow).
    pub fn opened(&mut self, meta: &FlowMeta) {
        let pair = host_pair(meta);
        if self.open.insert(meta.id, (pair, meta.transport)).is_none() {
            self.open_by_pair.add(pair, meta.transport);
            self.accounted += 1;
        }
    }

    /// The connection is no longer in the flow table.
    fn closed(&mut self, meta: &FlowMeta) {
        match self.open.remove(&meta.id) {
            Some((pair, t)) => self.open_by_pair.remove(pair, t),
            None => self.accounted += 1,
        }
    }

    /// Whether an open connection of transport `t` may be between the hosts of `meta`.
    fn may_be_open(
        &self,
        meta: &FlowMeta,
        t: TransportKind,
        table: &FlowTable<Connection>,
    ) -> bool {
        self.open_by_pair.any(host_pair(meta), t) || table.opened_by_packets() > self.accounted
    }

    /// The TCP connection of a UDP flow, or the UDP flows of a TCP connection, among the
    /// recently finished connections and those still active in `table`.
    pub fn peers_of(&mut self, meta: &FlowMeta, table: &mut FlowTable<Connection>) -> Peers {
        self.closed(meta);
        let me = PeerRecord::of(meta, false);
        let mut peers = Peers::default();
        match meta.transport {
            TransportKind::Udp => {
                self.udp_seen = true;
                peers.tcp = self.tcp_of(meta, &me, table).map(|t| TcpPeer {
                    id: t.id,
                    established: t.established,
                    last_ns: t.last_ns,
                });
            }
            TransportKind::Tcp if self.udp_seen || table.udp_followed > 0 => {
                if self.recent_by_pair.any(host_pair(meta), TransportKind::Udp) {
                    peers.udp = self
                        .recent
                        .iter()
                        .filter(|u| u.transport == TransportKind::Udp && paired(&me, u))
                        .map(|u| u.id)
                        .collect();
                }
                if self.may_be_open(meta, TransportKind::Udp, table) {
                    table.for_each_active(|m, _, _| {
                        if m.transport == TransportKind::Udp
                            && paired(&me, &PeerRecord::of(m, false))
                        {
                            peers.udp.push(m.id);
                        }
                    });
                }
                peers.udp.sort_unstable();
            }
            TransportKind::Tcp => {}
        }
        peers
    }

    /// The latest finished TCP connection `udp` belongs to, else an active one.
    fn tcp_of(
        &self,
        meta: &FlowMeta,
        udp: &PeerRecord,
        table: &mut FlowTable<Connection>,
    ) -> Option<PeerRecord> {
        if self.recent_by_pair.any(host_pair(meta), TransportKind::Tcp) {
            let finished = self
                .recent
                .iter()
                .rev()
                .find(|t| t.transport == TransportKind::Tcp && paired(t, udp))
                .copied();
            if finished.is_some() {
                return finished;
            }
        }
        if !self.may_be_open(meta, TransportKind::Tcp, table) {
            return None;
        }
        let mut active = None;
        table.for_each_active(|m, tcp, conn| {
            if active.is_none() && m.transport == TransportKind::Tcp {
                let t = PeerRecord::of(m, false);
                if paired(&t, udp) {
                    let established = compute_phases(conn, m, tcp).established;
                    active = Some(PeerRecord { established, ..t });
                }
            }
        });
        active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(transport: TransportKind, server_port: u16, first_s: i64, last_s: i64) -> PeerRecord {
        PeerRecord {
            id: 1,
            transport,
            client: IpAddr::from([10, 0, 0, 2]),
            server: IpAddr::from([10, 0, 0, 1]),
            server_port,
            first_ns: first_s * 1_000_000_000,
            last_ns: last_s * 1_000_000_000,
            established: true,
        }
    }

    #[test]
    fn synthetic_udp_started_during_its_tcp_connection_pairs() {
        let tcp = record(TransportKind::Tcp, 3389, 100, 200);
        assert!(paired(&tcp, &record(TransportKind::Udp, 3389, 101, 150)));
        assert!(paired(&tcp, &record(TransportKind::Udp, 3389, 96, 150)));
        assert!(paired(&tcp, &record(TransportKind::Udp, 3389, 205, 250)));
    }

    #[test]
    fn synthetic_udp_outside_the_window_or_on_another_port_does_not_pair() {
        let tcp = record(TransportKind::Tcp, 3389, 100, 200);
        assert!(!paired(&tcp, &record(TransportKind::Udp, 3389, 94, 150)));
        assert!(!paired(&tcp, &record(TransportKind::Udp, 3389, 206, 250)));
        assert!(!paired(&tcp, &record(TransportKind::Udp, 3391, 101, 150)));
        let mut other_client = record(TransportKind::Udp, 3389, 101, 150);
        other_client.client = IpAddr::from([10, 0, 0, 3]);
        assert!(!paired(&tcp, &other_client));
    }

    #[test]
    fn synthetic_gateway_udp_3391_pairs_with_tcp_443() {
        let gateway = record(TransportKind::Tcp, 443, 100, 200);
        assert!(paired(
            &gateway,
            &record(TransportKind::Udp, 3391, 101, 150)
        ));
    }

    #[test]
    fn synthetic_pair_counts_tell_which_transport_a_host_pair_has() {
        let pair = (IpAddr::from([10, 0, 0, 2]), IpAddr::from([10, 0, 0, 1]));
        let mut counts = PairCounts::default();
        assert!(!counts.any(pair, TransportKind::Udp));
        counts.add(pair, TransportKind::Udp);
        counts.add(pair, TransportKind::Udp);
        counts.add(pair, TransportKind::Tcp);
        assert!(counts.any(pair, TransportKind::Udp) && counts.any(pair, TransportKind::Tcp));
        counts.remove(pair, TransportKind::Tcp);
        assert!(!counts.any(pair, TransportKind::Tcp));
        counts.remove(pair, TransportKind::Udp);
        assert!(
            counts.any(pair, TransportKind::Udp),
            "one UDP flow is still counted"
        );
        counts.remove(pair, TransportKind::Udp);
        assert!(counts.0.is_empty(), "a pair with nothing left is dropped");
        let other = (pair.1, pair.0);
        counts.add(other, TransportKind::Udp);
        assert!(
            !counts.any(pair, TransportKind::Udp),
            "client and server are not swapped"
        );
    }
}
