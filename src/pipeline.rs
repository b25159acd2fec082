//! The one path every packet takes, for files and live capture alike:
//! capture -> flow -> session -> diagnose, with diagnosed connections handed to the caller.

use crate::capture::source::ReadCount;
use crate::capture::{
    CaptureError, CaptureWarning, FileSet, RawPacket, SecretsBlock, SECRETS_TYPE_TLS,
};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::IpAddr;

use crate::diagnose::flood::{FloodTracker, ServerReport};
use crate::diagnose::{diagnose, DiagnoseConfig, Diagnosed, Peers, TcpPeer};
use crate::flow::{FinishedFlow, FlowConfig, FlowTable};
use crate::flow::{FlowMeta, Side, TcpStats, TransportKind};
use crate::keys::{KeyLogFile, KeyLogStats, KeySource, KeyStore};
use crate::limits::Limits;
use crate::redact::Redactor;
use crate::session::{compute_phases, Connection, PhaseName};

/// What a live capture prints while connections are still going.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    /// The connection entered a new phase.
    Phase { meta: FlowMeta, phase: PhaseName },
    /// The handshake has made no progress for longer than the stall threshold.
    Stall {
        meta: FlowMeta,
        phase: Option<PhaseName>,
        waiting_on: Option<Side>,
        idle_ms: f64,
    },
}

#[derive(Debug, Clone, Default)]
pub struct PipelineConfig {
    pub flow: FlowConfig,
    pub diagnose: DiagnoseConfig,
    pub limits: Limits,
    /// `--redact`: pseudonyms applied to every connection and event before it is handed out.
    pub redact: Option<Redactor>,
    /// Which library reads capture files (the native reader unless a test compares them).
    pub reader: crate::capture::FileReader,
    /// TLS secrets of the run: fed from `keylogs` and the capture's Decryption Secrets
    /// Blocks; a clone is a handle on the same store, for the connections to look up.
    pub keys: KeyStore,
    /// NSS key log files (`--keylog`, `SSLKEYLOGFILE`): read at the start, and again as they
    /// grow while capturing live.
    pub keylogs: Vec<std::path::PathBuf>,
}

/// Counters of one run, for the closing summary.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub packets: u64,
    pub decoded: u64,
    pub connections: u64,
    /// Connections finished early because the flow table was full (`Limits::max_flows`).
    pub evicted: u64,
    /// Connections whose timeline reached `Limits::max_timeline_events`.
    pub timelines_truncated: u64,
    /// Servers with a capture-level finding (a connection flood).
    pub servers: Vec<ServerReport>,
    pub warnings: Vec<CaptureWarning>,
    /// Key log lines read (from files and the capture's secrets blocks), by outcome.
    pub keylog: KeyLogStats,
}

/// What the TCP/UDP pairing remembers of a finished connection.
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

/// A UDP flow belongs to a TCP connection between the same hosts, on the same port (UDP 3391
/// beside an RD Gateway's TCP 443), that it started during.
fn paired(tcp: &PeerRecord, udp: &PeerRecord) -> bool {
    const SLACK_NS: i64 = 5_000_000_000;
    tcp.client == udp.client
        && tcp.server == udp.server
        && (tcp.server_port == udp.server_port
            || (tcp.server_port == 443 && udp.server_port == 3391))
        && udp.first_ns >= tcp.first_ns - SLACK_NS
        && udp.first_ns <= tcp.last_ns + SLACK_NS
}

/// Finished connections remembered for pairing: a bounded window, not the whole capture.
const RECENT_PEERS: usize = 4096;

pub struct Pipeline {
    table: FlowTable<Connection>,
    config: PipelineConfig,
    finished: Vec<FinishedFlow<Connection>>,
    connections: u64,
    recent: VecDeque<PeerRecord>,
    udp_seen: bool,
    flood: FloodTracker,
    /// Connections the flow table had handed a handler when the last packet was processed.
    followed: u64,
    evicted: u64,
    timelines_truncated: u64,
    keylogs: Vec<KeyLogFile>,
    /// Key log files that could not be read (each reported once).
    keylog_warnings: Vec<CaptureWarning>,
    /// `tick` re-reads the key logs at most this often.
    next_keylog_read_ns: i64,
}

/// How often a live capture looks for secrets appended to its key log files.
const KEYLOG_REREAD_NS: i64 = 1_000_000_000;

impl Pipeline {
    pub fn new(config: PipelineConfig) -> Self {
        let keylogs = config.keylogs.iter().map(KeyLogFile::new).collect();
        let mut pipeline = Pipeline {
            table: FlowTable::new(config.flow.clone(), config.limits),
            finished: Vec::new(),
            connections: 0,
            recent: VecDeque::new(),
            udp_seen: false,
            flood: FloodTracker::new(&config.diagnose),
            followed: 0,
            evicted: 0,
            timelines_truncated: 0,
            keylogs,
            keylog_warnings: Vec::new(),
            next_keylog_read_ns: 0,
            config,
        };
        pipeline.read_keylogs();
        pipeline
    }

    /// The run's key store (the connections' keys are looked up in it).
    pub fn keys(&self) -> &KeyStore {
        &self.config.keys
    }

    /// A pcapng Decryption Secrets Block: its TLS key log lines go to the key store.
    pub fn secrets(&mut self, block: &SecretsBlock) {
        if block.secrets_type == SECRETS_TYPE_TLS {
            self.config.keys.add_text(block.data, KeySource::Pcapng);
        }
    }

    /// Reads what was appended to the key log files. A file that cannot be read is reported
    /// once, and tried again later (SSLKEYLOGFILE may not exist yet when a capture starts).
    pub fn read_keylogs(&mut self) {
        for file in &mut self.keylogs {
            if let Err(e) = self.config.keys.add_file(file) {
                let path = file.path().display().to_string();
                if !self.keylog_warnings.iter().any(|w| w.path == path) {
                    self.keylog_warnings.push(CaptureWarning {
                        path,
                        message: format!("cannot read the TLS key log: {e}"),
                    });
                }
            }
        }
    }

    pub fn packet(&mut self, raw: &RawPacket, out: &mut dyn FnMut(Diagnosed)) {
        self.table.process(raw, &mut self.finished);
        self.note_opened();
        self.drain(out);
    }

    /// Counts a connection the last packet opened, per server, for the flood finding.
    fn note_opened(&mut self) {
        let followed = self.table.followed();
        if followed == self.followed {
            return;
        }
        self.followed = followed;
        let flood = &mut self.flood;
        self.table
            .with_last_touched(|meta, _, _| flood.opened(meta));
    }

    /// As `packet`, and reports the phase the connection it belonged to has reached.
    pub fn packet_live(
        &mut self,
        raw: &RawPacket,
        out: &mut dyn FnMut(Diagnosed),
        events: &mut dyn FnMut(LiveEvent),
    ) {
        self.table.process(raw, &mut self.finished);
        self.note_opened();
        let redact = self.config.redact.as_ref();
        self.table.with_last_touched(|meta, tcp, conn| {
            // Phases only move when the timeline gains an event: most packets add none.
            let seen_now = conn.timeline.events.len()
                + conn.tls.app_records.iter().sum::<u64>().min(64) as usize;
            if seen_now == conn.live.events_seen {
                return;
            }
            conn.live.events_seen = seen_now;
            let progress = compute_phases(conn, meta, tcp);
            let phase = progress.phases.last().map(|p| p.name);
            if phase.is_some() && phase != conn.live.phase {
                conn.live.phase = phase;
                if let Some(phase) = phase {
                    let meta = redacted(redact, meta);
                    events(LiveEvent::Phase { meta, phase });
                }
            }
        });
        self.drain(out);
    }

    /// Wall-clock timer: finishes connections that closed or went idle (as packets would),
    /// and raises the stall alarm for handshakes that stopped moving, once each.
    pub fn tick(
        &mut self,
        now_ns: i64,
        out: &mut dyn FnMut(Diagnosed),
        events: &mut dyn FnMut(LiveEvent),
    ) {
        if !self.keylogs.is_empty() && now_ns >= self.next_keylog_read_ns {
            self.next_keylog_read_ns = now_ns.saturating_add(KEYLOG_REREAD_NS);
            self.read_keylogs();
        }
        self.table.sweep(now_ns, &mut self.finished);
        self.drain(out);
        let stall_ns = (self.config.diagnose.stall_after_ms * 1e6) as i64;
        let redact = self.config.redact.as_ref();
        self.table.for_each_active(|meta, tcp, conn| {
            if conn.live.stall_alarmed || closed(tcp) {
                return;
            }
            let since = conn
                .last_progress
                .as_ref()
                .map(|p| p.at.ts_ns)
                .unwrap_or(meta.first.ts_ns);
            if now_ns - since < stall_ns {
                return;
            }
            let progress = compute_phases(conn, meta, tcp);
            if progress.established {
                return;
            }
            conn.live.stall_alarmed = true;
            events(LiveEvent::Stall {
                meta: redacted(redact, meta),
                phase: progress.last_phase().map(|p| p.name),
                waiting_on: progress.last_phase().and_then(|p| p.waiting_on),
                idle_ms: (now_ns - since) as f64 / 1e6,
            });
        });
    }

    pub fn active_connections(&self) -> usize {
        self.table.active_flows()
    }

    /// Finishes every open connection (end of capture, or Ctrl-C on a live capture).
    pub fn finish(&mut self, out: &mut dyn FnMut(Diagnosed)) -> RunSummary {
        self.drain(out);
        // One flow at a time, so memory does not double on a table of 10^5 open flows and
        // each one can still be paired with the flows that remain open.
        for flow in self.table.open_flows() {
            self.table.finish_one(flow, &mut self.finished);
            self.drain(out);
        }
        RunSummary {
            packets: self.table.packets_seen,
            decoded: self.table.packets_decoded,
            connections: self.connections,
            evicted: self.evicted,
            timelines_truncated: self.timelines_truncated,
            servers: self.server_reports(),
            warnings: self.keylog_warnings(),
            keylog: self.config.keys.stats(),
        }
    }

    fn keylog_warnings(&self) -> Vec<CaptureWarning> {
        let mut warnings = self.keylog_warnings.clone();
        let stats = self.config.keys.stats();
        if stats.bad > 0 {
            warnings.push(CaptureWarning {
                path: "TLS key log".into(),
                message: format!(
                    "{} line(s) are not NSS key log lines and were skipped ({} used)",
                    stats.bad, stats.accepted
                ),
            });
        }
        warnings
    }

    fn server_reports(&self) -> Vec<crate::diagnose::flood::ServerReport> {
        let mut servers = self.flood.report();
        if let Some(r) = &self.config.redact {
            servers.iter_mut().for_each(|s| r.server(s));
        }
        servers
    }

    fn drain(&mut self, out: &mut dyn FnMut(Diagnosed)) {
        let finished = std::mem::take(&mut self.finished);
        for flow in finished {
            self.connections += 1;
            let peers = self.peers_of(&flow.meta);
            let mut d = diagnose(flow, &self.config.diagnose, peers);
            self.flood.finished(&d.meta, d.verdict);
            self.evicted += u64::from(d.evicted);
            self.timelines_truncated += u64::from(d.connection.timeline.dropped > 0);
            self.remember(PeerRecord::of(&d.meta, d.progress.established));
            if let Some(r) = &self.config.redact {
                r.diagnosed(&mut d);
            }
            out(d);
        }
    }

    fn remember(&mut self, r: PeerRecord) {
        self.udp_seen |= r.transport == TransportKind::Udp;
        self.recent.push_back(r);
        if self.recent.len() > RECENT_PEERS {
            self.recent.pop_front();
        }
    }

    /// The TCP connection of a UDP flow, or the UDP flows of a TCP connection, among the
    /// recently finished and the still active connections.
    fn peers_of(&mut self, meta: &FlowMeta) -> Peers {
        let me = PeerRecord::of(meta, false);
        let mut peers = Peers::default();
        match meta.transport {
            TransportKind::Udp => {
                self.udp_seen = true;
                let mut best: Option<PeerRecord> = self
                    .recent
                    .iter()
                    .rev()
                    .find(|t| t.transport == TransportKind::Tcp && paired(t, &me))
                    .copied();
                if best.is_none() {
                    self.table.for_each_active(|m, tcp, conn| {
                        if best.is_none() && m.transport == TransportKind::Tcp {
                            let t = PeerRecord::of(m, false);
                            if paired(&t, &me) {
                                let established = compute_phases(conn, m, tcp).established;
                                best = Some(PeerRecord { established, ..t });
                            }
                        }
                    });
                }
                peers.tcp = best.map(|t| TcpPeer {
                    id: t.id,
                    established: t.established,
                    last_ns: t.last_ns,
                });
            }
            TransportKind::Tcp if self.udp_seen || self.table.udp_followed > 0 => {
                peers.udp = self
                    .recent
                    .iter()
                    .filter(|u| u.transport == TransportKind::Udp && paired(&me, u))
                    .map(|u| u.id)
                    .collect();
                self.table.for_each_active(|m, _, _| {
                    if m.transport == TransportKind::Udp && paired(&me, &PeerRecord::of(m, false)) {
                        peers.udp.push(m.id);
                    }
                });
                peers.udp.sort_unstable();
            }
            TransportKind::Tcp => {}
        }
        peers
    }
}

/// Analyses capture files as one capture. On a read error the connections found so far are
/// still handed out before the error is returned.
// The summary rides along with the error on purpose (it is returned once per run, so its
// size does not matter).
#[allow(clippy::result_large_err)]
pub fn analyze_files(
    paths: &[String],
    bpf: Option<&str>,
    config: PipelineConfig,
    out: &mut dyn FnMut(Diagnosed),
) -> Result<RunSummary, (RunSummary, CaptureError)> {
    analyze_files_with_progress(paths, bpf, config, out, &mut |_| {})
}

/// How often (in packets read) `analyze_files_with_progress` reports: rarely enough to cost
/// nothing, often enough for a progress bar (a fraction of a second at full speed).
pub const PROGRESS_EVERY: u64 = 65_536;

/// How far a file analysis has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnalysisProgress {
    pub read: ReadCount,
    /// Connections finished plus those still open.
    pub connections: u64,
}

/// As `analyze_files`, and reports its progress every `PROGRESS_EVERY` packets read.
#[allow(clippy::result_large_err)] // as analyze_files
pub fn analyze_files_with_progress(
    paths: &[String],
    bpf: Option<&str>,
    config: PipelineConfig,
    out: &mut dyn FnMut(Diagnosed),
    progress: &mut dyn FnMut(AnalysisProgress),
) -> Result<RunSummary, (RunSummary, CaptureError)> {
    let mut files =
        FileSet::open_with(paths, bpf, config.reader).map_err(|e| (RunSummary::default(), e))?;
    // Shared by the packet and the progress callbacks, which the reader calls one at a time.
    let pipeline = RefCell::new(Pipeline::new(config));
    let read = files.for_each_with_secrets(
        PROGRESS_EVERY,
        |raw| pipeline.borrow_mut().packet(raw, out),
        |secrets| pipeline.borrow_mut().secrets(secrets),
        |read| {
            let p = pipeline.borrow();
            progress(AnalysisProgress {
                read,
                connections: p.connections + p.active_connections() as u64,
            })
        },
    );
    let mut pipeline = pipeline.into_inner();
    let mut summary = pipeline.finish(out);
    summary.warnings.append(&mut files.warnings);
    match read {
        Ok(()) => Ok(summary),
        Err(e) => Err((summary, e)),
    }
}

/// A copy of `meta` to hand out, with pseudonyms under `--redact`.
fn redacted(redact: Option<&Redactor>, meta: &FlowMeta) -> FlowMeta {
    let mut meta = meta.clone();
    if let Some(r) = redact {
        r.meta(&mut meta);
    }
    meta
}

fn closed(tcp: Option<&TcpStats>) -> bool {
    tcp.is_some_and(|t| t.rst.iter().any(Option::is_some) || t.fin.iter().all(Option::is_some))
}
