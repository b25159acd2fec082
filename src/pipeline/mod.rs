//! The one path every packet takes, for files and live capture alike:
//! capture -> flow -> session -> correlate -> diagnose, with diagnosed connections handed to
//! the caller.

mod files;
mod live;
mod merger;
mod sharded;

pub use files::{analyze_files, analyze_files_with_progress, AnalysisProgress, PROGRESS_EVERY};
pub use live::LiveEvent;
pub use sharded::analyze_files_split;

use crate::capture::{CaptureWarning, RawPacket, SecretsBlock, SECRETS_TYPE_TLS};
use crate::correlate::{GatewayCorrelator, UdpPairing};
use crate::diagnose::{DiagnoseConfig, Diagnosed};
use crate::flow::{FinishedFlow, FlowConfig, FlowTable};
use crate::keys::{KeyLogFile, KeySource, KeyStore};
use crate::limits::Limits;
use crate::redact::Redactor;
use crate::session::gateway::GatewayFacts;
use crate::session::{compute_phases, Connection};
use merger::{Merger, Step};

pub use crate::diagnose::run::RunSummary;

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
    /// `--no-keys`: decrypt nothing, whatever secrets the capture or a key log holds (the
    /// keyless diagnosis, for comparison).
    pub no_keys: bool,
    /// Diagnose on a thread of its own beside the flow table's (`analyze_files_split`,
    /// `-j 2` and more): the same bytes, the work of one capture on two cores.
    pub split_analysis: bool,
}

/// Where the flow stage's steps go: applied at once by the pipeline's own merger, or
/// queued for a merger on another thread (`sharded`).
enum Sink {
    Direct(Box<Merger>),
    Queue(Vec<Step>),
}

pub struct Pipeline {
    table: FlowTable<Connection>,
    config: PipelineConfig,
    finished: Vec<FinishedFlow<Connection>>,
    /// Connections handed to the sink so far (the progress count).
    connections: u64,
    pairing: UdpPairing,
    /// Which candidate TLS/DTLS flows are an RD Gateway's (the others are dropped).
    gateways: GatewayCorrelator,
    sink: Sink,
    /// What a live capture already reported of each active connection.
    live: live::LiveMarks,
    /// Connections the flow table had handed a handler when the last packet was processed.
    followed: u64,
    /// Candidate flows seen so far (`FlowTable::candidates_followed`).
    candidates_followed: u64,
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
        let merger = Merger::new(config.diagnose.clone(), config.redact.clone());
        Self::with_sink(config, Sink::Direct(Box::new(merger)))
    }

    /// The flow stage alone: its steps are queued for `take_steps`.
    fn queued(config: PipelineConfig) -> Self {
        Self::with_sink(config, Sink::Queue(Vec::new()))
    }

    fn with_sink(config: PipelineConfig, sink: Sink) -> Self {
        let keylogs = if config.no_keys {
            Vec::new()
        } else {
            config.keylogs.iter().map(KeyLogFile::new).collect()
        };
        let mut pipeline = Pipeline {
            table: FlowTable::new(config.flow.clone(), config.limits),
            finished: Vec::new(),
            connections: 0,
            pairing: UdpPairing::default(),
            gateways: GatewayCorrelator::default(),
            sink,
            live: live::LiveMarks::default(),
            followed: 0,
            candidates_followed: 0,
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
        if block.secrets_type == SECRETS_TYPE_TLS && !self.config.no_keys {
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

    /// Live capture: re-reads the key logs when it is time to.
    fn reread_keylogs(&mut self, now_ns: i64) {
        if !self.keylogs.is_empty() && now_ns >= self.next_keylog_read_ns {
            self.next_keylog_read_ns = now_ns.saturating_add(KEYLOG_REREAD_NS);
            self.read_keylogs();
        }
    }

    pub fn packet(&mut self, raw: &RawPacket, out: &mut dyn FnMut(Diagnosed)) {
        self.table.process(raw, &mut self.finished);
        self.note_side();
        self.note_opened();
        self.drain(out);
    }

    /// Copies a side flow (Kerberos, DNS) the last packet changed to the correlator.
    fn note_side(&mut self) {
        let sink = &mut self.sink;
        self.table.with_last_touched(|meta, _, conn| {
            if let Some(s) = conn.side.as_deref_mut() {
                if s.take_changed() {
                    match sink {
                        Sink::Direct(m) => m.side_changed(meta, s),
                        Sink::Queue(q) => q.push(Step::Side(meta.clone(), Box::new(s.clone()))),
                    }
                }
            }
        });
    }

    /// The steps queued since the last call (a queued pipeline's; empty otherwise).
    fn take_steps(&mut self) -> Vec<Step> {
        match &mut self.sink {
            Sink::Direct(_) => Vec::new(),
            Sink::Queue(q) => std::mem::take(q),
        }
    }

    /// Steps queued and not yet taken.
    fn queued_steps(&self) -> usize {
        match &self.sink {
            Sink::Direct(_) => 0,
            Sink::Queue(q) => q.len(),
        }
    }

    /// Counts a connection the last packet opened, per server, for the flood finding.
    fn note_opened(&mut self) {
        let followed = self.table.followed();
        let candidates = self.table.candidates_followed();
        if candidates != self.candidates_followed {
            // A TLS flow that may be an RD Gateway's: it gets the keys (its decrypted HTTP
            // may prove it a gateway's), not yet a place among the connections.
            self.candidates_followed = candidates;
            if !self.config.no_keys {
                let keys = &self.config.keys;
                self.table
                    .with_last_touched(|_, _, conn| crate::session::decrypt::attach(conn, keys));
            }
        }
        if followed == self.followed {
            return;
        }
        self.followed = followed;
        let (pairing, sink) = (&mut self.pairing, &mut self.sink);
        let keys = (!self.config.no_keys).then_some(&self.config.keys);
        self.table.with_last_touched(|meta, _, conn| {
            match sink {
                Sink::Direct(m) => m.opened(meta),
                Sink::Queue(q) => q.push(Step::Opened(meta.clone())),
            }
            pairing.opened(meta);
            if let Some(keys) = keys {
                crate::session::decrypt::attach(conn, keys);
            }
        });
    }

    pub fn active_connections(&self) -> usize {
        self.table.active_flows()
    }

    /// Connections finished so far.
    pub fn finished_connections(&self) -> u64 {
        self.connections
    }

    /// Finishes every open connection (end of capture, or Ctrl-C on a live capture).
    pub fn finish(&mut self, out: &mut dyn FnMut(Diagnosed)) -> RunSummary {
        self.finish_flows(out);
        let mut summary = self.summary();
        // A queued pipeline's merger is on another thread: `sharded` adds its part.
        if let Sink::Direct(m) = &mut self.sink {
            m.finish().fill(&mut summary);
        }
        summary
    }

    /// Finishes every open flow into the sink.
    fn finish_flows(&mut self, out: &mut dyn FnMut(Diagnosed)) {
        self.drain(out);
        // One flow at a time, so memory does not double on a table of 10^5 open flows and
        // each one can still be paired with the flows that remain open.
        for flow in self.table.open_flows() {
            self.table.finish_one(flow, &mut self.finished);
            self.drain(out);
        }
    }

    /// The flow stage's part of the run summary (`MergerSummary::fill` adds the rest).
    fn summary(&self) -> RunSummary {
        RunSummary {
            packets: self.table.packets_seen,
            decoded: self.table.packets_decoded,
            warnings: self.keylog_warnings(),
            keylog: self.config.keys.stats(),
            ..RunSummary::default()
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

    /// A candidate TLS/DTLS flow at its end: reported as a gateway connection when its shape
    /// (correlate::gateway) or its decrypted HTTP says so, then the RDP connection tunnelled
    /// through it, if any, as a connection of its own (`via_gateway`). Other candidates are
    /// ordinary HTTPS and vanish.
    fn finish_gateway(
        &mut self,
        mut flow: FinishedFlow<Connection>,
        out: &mut dyn FnMut(Diagnosed),
    ) {
        let shape =
            crate::session::gateway::FlowShape::of(&flow.handler, &flow.meta, flow.tcp.as_deref());
        let server_name = shape.names.first().cloned();
        let judged = self.gateways.judge(shape, &mut self.table);
        let proved = flow.handler.gateway_inside.as_deref().map(|g| &g.facts);
        let (id, facts) = match (judged, proved) {
            (Some(found), None) => (found.id, found.facts),
            (found, Some(inside)) => {
                let id = found
                    .as_ref()
                    .map_or_else(|| self.table.allocate_id(), |f| f.id);
                let keyless = found.map(|f| f.facts);
                (id, GatewayFacts::with_inside(keyless, inside, server_name))
            }
            (None, None) => return,
        };
        // Ids given here are not connections the last packet opened.
        self.followed = self.table.followed();
        flow.meta.id = id;
        flow.handler.gateway = Some(Box::new(facts));
        self.connections += 1;
        // The diagnosis reads the connection and does not change its tunnel: whether it has
        // a tunnelled connection is known here, and its id is given in the same order as
        // when it was given after the diagnosis.
        let child_id = flow
            .handler
            .gateway_inside
            .as_ref()
            .is_some_and(|g| g.child().is_some())
            .then(|| self.table.allocate_id());
        self.connections += u64::from(child_id.is_some());
        match &mut self.sink {
            Sink::Direct(m) => m.gateway(flow, child_id, out),
            Sink::Queue(q) => q.push(Step::Gateway(Box::new(flow), child_id)),
        }
    }

    fn drain(&mut self, out: &mut dyn FnMut(Diagnosed)) {
        // The vector is handed back emptied: its capacity is kept, so finishing flows does
        // not allocate a fresh vector (of large, multi-KB elements) each time.
        let mut finished = std::mem::take(&mut self.finished);
        for mut flow in finished.drain(..) {
            if let Some(s) = flow.handler.side.take() {
                match &mut self.sink {
                    Sink::Direct(m) => m.side_changed(&flow.meta, &s),
                    Sink::Queue(q) => q.push(Step::Side(flow.meta, s)),
                }
                continue;
            }
            crate::session::decrypt::finish(&mut flow.handler);
            if crate::flow::is_candidate_id(flow.meta.id) {
                self.finish_gateway(flow, out);
                continue;
            }
            self.connections += 1;
            self.live.forget(flow.meta.id);
            let peers = self.pairing.peers_of(&flow.meta, &mut self.table);
            let progress = compute_phases(&flow.handler, &flow.meta, flow.tcp.as_deref());
            self.pairing.remember(&flow.meta, progress.established);
            // Applied in place with one thread: no box, no move through a queue.
            match &mut self.sink {
                Sink::Direct(m) => m.connection(flow, peers, progress, out),
                Sink::Queue(q) => q.push(Step::Connection(Box::new((flow, peers, progress)))),
            }
        }
        self.finished = finished;
    }
}
