//! Capture-level diagnosis: a server (address, port) that receives a flood of connection
//! attempts (a SYN flood, a scan, a password-guessing run). Connections are counted per
//! server as they open, in capture order, in one-second buckets over a sliding window; the
//! memory per server is a handful of buckets and a fixed-size distinct counter of client
//! addresses, and the number of servers tracked is capped too.

use std::collections::VecDeque;

use ahash::AHashMap;
use serde::Serialize;

use super::distinct::DistinctCounter;
use super::{DiagnoseConfig, Evidence, Facts, Finding, FindingCode, FloodFacts, Note, Verdict};
use crate::flow::{Endpoint, FlowMeta, PacketInfo, TransportKind};
use crate::timefmt::ms_between;

/// Servers tracked at once; past it the quietest are forgotten.
const MAX_SERVERS: usize = 4096;
/// Longest sliding window, however the thresholds are set.
const MAX_WINDOW_S: i64 = 3600;

/// Finished connections of a server, by verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct VerdictCounts {
    pub ok: u64,
    pub failed: u64,
    pub stalled: u64,
    pub slow: u64,
    pub incomplete: u64,
}

impl VerdictCounts {
    pub fn add(&mut self, v: Verdict) {
        let n = match v {
            Verdict::Ok => &mut self.ok,
            Verdict::Failed => &mut self.failed,
            Verdict::Stalled => &mut self.stalled,
            Verdict::Slow => &mut self.slow,
            Verdict::Incomplete => &mut self.incomplete,
        };
        *n += 1;
    }

    pub fn total(&self) -> u64 {
        self.ok + self.failed + self.stalled + self.slow + self.incomplete
    }

    /// Connections that never reached a working session.
    pub fn unsuccessful(&self) -> u64 {
        self.failed + self.stalled + self.incomplete
    }
}

/// What the run says about one server, with its capture-level findings.
#[derive(Debug, Clone)]
pub struct ServerReport {
    pub transport: TransportKind,
    pub server: Endpoint,
    pub connections: u64,
    pub distinct_clients: u64,
    /// Too many clients to keep: `distinct_clients` is an estimate (about 1.6 % error).
    pub distinct_clients_estimated: bool,
    pub verdicts: VerdictCounts,
    pub findings: Vec<Finding>,
}

/// Connections opened within one second.
struct Bucket {
    sec: i64,
    count: u32,
    /// Of those, already counted in the burst.
    counted: u32,
    first: PacketInfo,
}

/// The connections that came while the rate was over the threshold.
#[derive(Debug, Clone, Copy)]
struct Burst {
    first: PacketInfo,
    last: PacketInfo,
    connections: u64,
    peak_per_s: u32,
}

#[derive(Default)]
struct ServerTally {
    connections: u64,
    clients: DistinctCounter,
    verdicts: VerdictCounts,
    window: VecDeque<Bucket>,
    in_window: u64,
    /// Connections in the window not yet counted in the burst.
    uncounted: u64,
    burst: Option<Burst>,
}

type ServerKey = (TransportKind, Endpoint);

/// Counts connections per server and finds the ones flooded.
pub struct FloodTracker {
    servers: AHashMap<ServerKey, ServerTally>,
    min_connections: u64,
    window_s: i64,
    /// Capture second of the last `forget_quiet`.
    last_forget_sec: i64,
}

impl FloodTracker {
    pub fn new(config: &DiagnoseConfig) -> Self {
        let min_connections = config.flood_min_connections.max(1);
        let rate = if config.flood_min_rate > 0.0 {
            config.flood_min_rate
        } else {
            1.0
        };
        let window_s = ((min_connections as f64 / rate).ceil() as i64).clamp(1, MAX_WINDOW_S);
        FloodTracker {
            servers: AHashMap::new(),
            min_connections,
            window_s,
            last_forget_sec: i64::MIN,
        }
    }

    /// The sliding window, in seconds: `min_connections` within it is a flood.
    pub fn window_s(&self) -> i64 {
        self.window_s
    }

    /// A new connection (its first packet), in capture order.
    pub fn opened(&mut self, meta: &FlowMeta) {
        let key = (meta.transport, meta.server);
        let now_sec = meta.first.ts_ns.div_euclid(1_000_000_000);
        if now_sec >= self.last_forget_sec.saturating_add(self.window_s) {
            self.forget_quiet(now_sec);
        }
        if self.servers.len() >= MAX_SERVERS && !self.servers.contains_key(&key) {
            self.prune();
        }
        let t = self.servers.entry(key).or_default();
        t.connections += 1;
        t.clients.insert(meta.client.ip);
        let at = meta.first;
        let sec = at.ts_ns.div_euclid(1_000_000_000);
        match t.window.back_mut() {
            // A packet slightly out of time order joins the latest second.
            Some(b) if b.sec >= sec => b.count += 1,
            _ => t.window.push_back(Bucket {
                sec,
                count: 1,
                counted: 0,
                first: at,
            }),
        }
        t.in_window += 1;
        t.uncounted += 1;
        let latest = t.window.back().map_or(sec, |b| b.sec);
        while let Some(front) = t.window.front() {
            if front.sec > latest - self.window_s {
                break;
            }
            t.in_window -= u64::from(front.count);
            t.uncounted -= u64::from(front.count - front.counted);
            t.window.pop_front();
        }
        if t.in_window < self.min_connections {
            return;
        }
        let Some(first) = t.window.front().map(|b| b.first) else {
            return;
        };
        let burst = t.burst.get_or_insert(Burst {
            first,
            last: at,
            connections: 0,
            peak_per_s: 0,
        });
        burst.connections += t.uncounted;
        t.uncounted = 0;
        for b in t.window.iter_mut() {
            b.counted = b.count;
            burst.peak_per_s = burst.peak_per_s.max(b.count);
        }
        if at.ts_ns >= burst.last.ts_ns {
            burst.last = at;
        }
    }

    /// A connection was diagnosed.
    pub fn finished(&mut self, meta: &FlowMeta, verdict: Verdict) {
        if let Some(t) = self.servers.get_mut(&(meta.transport, meta.server)) {
            t.verdicts.add(verdict);
        }
    }

    /// Forgets the servers that were never flooded and had no connection within the window:
    /// all that is kept of a server is what a flood report needs, so memory follows the
    /// servers in use, not every server the capture ever saw.
    fn forget_quiet(&mut self, now_sec: i64) {
        self.last_forget_sec = now_sec;
        let horizon = now_sec - self.window_s;
        self.servers
            .retain(|_, t| t.burst.is_some() || t.window.back().is_some_and(|b| b.sec > horizon));
    }

    /// Forgets the half of the servers with the fewest connections, flooded ones last.
    fn prune(&mut self) {
        let mut order: Vec<(bool, u64, ServerKey)> = self
            .servers
            .iter()
            .map(|(k, t)| (t.burst.is_some(), t.connections, *k))
            .collect();
        // Ties broken by the server, not by the hash map's order (seeded per process): the
        // servers forgotten must be the same from one run to the next.
        order.sort_unstable_by_key(|(flooded, n, key)| (*flooded, *n, *key));
        for (_, _, key) in order.into_iter().take(MAX_SERVERS / 2) {
            self.servers.remove(&key);
        }
    }

    /// The servers that were flooded, each with its `connection-flood` finding.
    pub fn report(&self) -> Vec<ServerReport> {
        let mut out: Vec<ServerReport> = self
            .servers
            .iter()
            .filter_map(|((transport, server), t)| {
                let burst = t.burst?;
                Some(ServerReport {
                    transport: *transport,
                    server: *server,
                    connections: t.connections,
                    distinct_clients: t.clients.count(),
                    distinct_clients_estimated: t.clients.is_estimate(),
                    verdicts: t.verdicts,
                    findings: vec![self.flood_finding(*transport, server, t, &burst)],
                })
            })
            .collect();
        out.sort_by_key(|s| (s.server, s.transport == TransportKind::Udp));
        out
    }

    fn flood_finding(
        &self,
        transport: TransportKind,
        server: &Endpoint,
        t: &ServerTally,
        burst: &Burst,
    ) -> Finding {
        let span_ms = ms_between(burst.first.ts_ns, burst.last.ts_ns);
        // Over at least a second, so the mean never exceeds the busiest second.
        let mean_per_s = burst.connections as f64 / (span_ms / 1000.0).max(1.0);
        let facts = FloodFacts {
            transport,
            server: *server,
            connections: t.connections,
            clients: t.clients.count(),
            clients_estimated: t.clients.is_estimate(),
            burst_connections: burst.connections,
            burst_span_ms: span_ms,
            burst_first_frame: burst.first.frame,
            burst_last_frame: burst.last.frame,
            peak_per_s: burst.peak_per_s,
            mean_per_s,
            min_connections: self.min_connections,
            window_s: self.window_s,
            verdicts: t.verdicts,
        };
        Finding::new(
            FindingCode::ConnectionFlood,
            Facts::ConnectionFlood(Box::new(facts)),
            vec![
                Evidence {
                    frame: burst.first.frame,
                    t_ms: 0.0,
                    note: Note::BurstFirst,
                },
                Evidence {
                    frame: burst.last.frame,
                    t_ms: span_ms,
                    note: Note::BurstLast,
                },
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn meta(id: u64, client: u32, server_port: u16, ts_ns: i64) -> FlowMeta {
        let at = PacketInfo {
            file: 0,
            frame: id,
            ts_ns,
        };
        FlowMeta {
            id,
            transport: TransportKind::Tcp,
            client: Endpoint {
                ip: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + client)),
                port: 40_000,
            },
            server: Endpoint {
                ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
                port: server_port,
            },
            first: at,
            last: at,
            packets: 1,
            bytes: 60,
            packets_by_side: [1, 0].into(),
        }
    }

    fn tracker(min: u64, rate: f64) -> FloodTracker {
        FloodTracker::new(&DiagnoseConfig {
            flood_min_connections: min,
            flood_min_rate: rate,
            ..DiagnoseConfig::default()
        })
    }

    #[test]
    fn synthetic_burst_of_twenty_in_one_second_is_a_flood() {
        // Threshold: 10 within 2 s. A slow trickle (one every 3 s) first, then 20 in 1 s
        // from 4 clients, half of them failing.
        let mut t = tracker(10, 5.0);
        assert_eq!(t.window_s(), 2);
        let mut id = 0;
        for i in 0..5 {
            id += 1;
            t.opened(&meta(id, 100, 3389, i * 3_000_000_000));
        }
        assert!(t.report().is_empty(), "a trickle is no flood");
        let start = 20_000_000_000;
        for i in 0..20 {
            id += 1;
            let m = meta(id, i as u32 % 4, 3389, start + i * 50_000_000);
            t.opened(&m);
            t.finished(
                &m,
                if i % 2 == 0 {
                    Verdict::Failed
                } else {
                    Verdict::Ok
                },
            );
        }
        let r = t.report();
        assert_eq!(r.len(), 1);
        let s = &r[0];
        assert_eq!(s.server.port, 3389);
        // The server was quiet for longer than the window before the burst: counting
        // starts again with the burst.
        assert_eq!(s.connections, 20);
        assert_eq!(s.distinct_clients, 4);
        assert!(!s.distinct_clients_estimated);
        assert_eq!(s.verdicts.failed, 10);
        assert_eq!(s.verdicts.ok, 10);
        let f = &s.findings[0];
        assert_eq!(f.code, FindingCode::ConnectionFlood);
        assert_eq!(f.severity, super::super::Severity::Info);
        let Facts::ConnectionFlood(ff) = &f.facts else {
            panic!("flood facts expected, got {:?}", f.facts)
        };
        // The burst is the 20 fast ones (the trickle is older than the window).
        assert_eq!(ff.burst_connections, 20);
        assert_eq!(ff.peak_per_s, 20);
        assert_eq!((ff.clients, ff.clients_estimated), (4, false));
        assert_eq!((ff.verdicts.total(), ff.verdicts.unsuccessful()), (20, 10));
        assert_eq!((ff.min_connections, ff.window_s), (10, 2));
        assert_eq!(f.evidence[0].frame, 6);
        assert_eq!(f.evidence[1].frame, 25);
        assert!((f.evidence[1].t_ms - 950.0).abs() < 1e-6);
    }

    #[test]
    fn synthetic_rate_just_under_the_threshold_is_not_a_flood() {
        // 9 connections per 2 s window, steadily, for a minute: never 10 in a window.
        let mut t = tracker(10, 5.0);
        for i in 0..270 {
            t.opened(&meta(
                i + 1,
                i as u32,
                3389,
                i as i64 * 2_000_000_000 / 9 + 1,
            ));
        }
        assert!(t.report().is_empty());
    }

    #[test]
    fn synthetic_servers_are_separate_and_the_table_stays_bounded() {
        let mut t = tracker(10, 10.0);
        // A scan: one connection to each of many ports, all in one second.
        for i in 0..(MAX_SERVERS as u64 * 3) {
            t.opened(&meta(i + 1, 1, (i % 60_000) as u16 + 1, 5_000 + i as i64));
        }
        assert!(t.servers.len() <= MAX_SERVERS);
        assert!(
            t.report().is_empty(),
            "one connection per server is no flood"
        );
        for i in 0..10 {
            t.opened(&meta(100_000 + i, i as u32, 3389, 1_000_000_000));
        }
        assert_eq!(t.report().len(), 1);
    }
}
