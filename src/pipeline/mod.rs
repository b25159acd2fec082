//! The one path every packet takes, for files and live capture alike:
//! capture -> flow -> session -> correlate -> diagnose, with diagnosed connections handed to
//! the caller.

mod files;
mod live;

pub use files::{analyze_files, analyze_files_with_progress, AnalysisProgress, PROGRESS_EVERY};
pub use live::LiveEvent;

use crate::capture::RawPacket;
use crate::correlate::{Attempts, GatewayCorrelator, SideRecord, SideStore, Try, UdpPairing};
use crate::diagnose::flood::FloodTracker;
use crate::diagnose::{diagnose, DiagnoseConfig, Diagnosed};
use crate::flow::{FinishedFlow, FlowConfig, FlowTable};
use crate::limits::Limits;
use crate::redact::Redactor;
use crate::session::Connection;

pub use crate::diagnose::run::RunSummary;

#[derive(Debug, Clone, Default)]
pub struct PipelineConfig {
    pub flow: FlowConfig,
    pub diagnose: DiagnoseConfig,
    pub limits: Limits,
    /// `--redact`: pseudonyms applied to every connection and event before it is handed out.
    pub redact: Option<Redactor>,
}

pub struct Pipeline {
    table: FlowTable<Connection>,
    config: PipelineConfig,
    finished: Vec<FinishedFlow<Connection>>,
    connections: u64,
    pairing: UdpPairing,
    /// Which candidate TLS/DTLS flows are an RD Gateway's (the others are dropped).
    gateways: GatewayCorrelator,
    /// Kerberos and DNS flows beside the connections, kept for a window.
    side: SideStore,
    attempts: Attempts<crate::diagnose::run::Outcome>,
    flood: FloodTracker,
    /// What a live capture already reported of each active connection.
    live: live::LiveMarks,
    /// Connections the flow table had handed a handler when the last packet was processed.
    followed: u64,
    evicted: u64,
    timelines_truncated: u64,
}

impl Pipeline {
    pub fn new(config: PipelineConfig) -> Self {
        Pipeline {
            table: FlowTable::new(config.flow.clone(), config.limits),
            finished: Vec::new(),
            connections: 0,
            pairing: UdpPairing::default(),
            gateways: GatewayCorrelator::default(),
            side: SideStore::default(),
            attempts: Attempts::default(),
            flood: FloodTracker::new(&config.diagnose),
            live: live::LiveMarks::default(),
            followed: 0,
            evicted: 0,
            timelines_truncated: 0,
            config,
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
        let side = &mut self.side;
        self.table.with_last_touched(|meta, _, conn| {
            if let Some(s) = conn.side.as_deref_mut() {
                if s.take_changed() {
                    side.update(SideRecord::new(meta, s));
                }
            }
        });
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

    pub fn active_connections(&self) -> usize {
        self.table.active_flows()
    }

    /// Connections finished so far.
    pub fn finished_connections(&self) -> u64 {
        self.connections
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
            attempts: self.attempt_stories(),
            warnings: Vec::new(),
            error: None,
        }
    }

    fn attempt_stories(&mut self) -> Vec<crate::diagnose::run::AttemptStory> {
        let mut stories = self.attempts.finish();
        if let Some(r) = &self.config.redact {
            stories.iter_mut().for_each(|a| r.attempt(a));
        }
        stories
    }

    fn server_reports(&mut self) -> Vec<crate::diagnose::flood::ServerReport> {
        let mut servers = self.flood.report();
        servers.extend(orphan_reports(&mut self.side));
        if let Some(r) = &self.config.redact {
            servers.iter_mut().for_each(|s| r.server(s));
        }
        servers
    }

    fn drain(&mut self, out: &mut dyn FnMut(Diagnosed)) {
        let finished = std::mem::take(&mut self.finished);
        for mut flow in finished {
            if let Some(s) = flow.handler.side.as_deref() {
                self.side.update(SideRecord::new(&flow.meta, s));
                continue;
            }
            if crate::flow::is_candidate_id(flow.meta.id) {
                let shape = crate::session::gateway::FlowShape::of(
                    &flow.handler,
                    &flow.meta,
                    flow.tcp.as_ref(),
                );
                let Some(found) = self.gateways.judge(shape, &mut self.table) else {
                    continue;
                };
                // Ids given here are not connections the last packet opened.
                self.followed = self.table.followed();
                flow.meta.id = found.id;
                flow.handler.gateway = Some(Box::new(found.facts));
                self.connections += 1;
                let mut d = diagnose(flow, &self.config.diagnose, Default::default());
                self.flood.finished(&d.meta, d.verdict);
                self.evicted += u64::from(d.evicted);
                self.timelines_truncated += u64::from(d.connection.timeline.dropped > 0);
                if let Some(r) = &self.config.redact {
                    r.diagnosed(&mut d);
                }
                out(d);
                continue;
            }
            self.connections += 1;
            self.live.forget(flow.meta.id);
            let peers = self.pairing.peers_of(&flow.meta, &mut self.table);
            let mut d = diagnose(flow, &self.config.diagnose, peers);
            self.flood.finished(&d.meta, d.verdict);
            self.evicted += u64::from(d.evicted);
            self.timelines_truncated += u64::from(d.connection.timeline.dropped > 0);
            self.pairing.remember(&d.meta, d.progress.established);
            if d.meta.transport == crate::flow::TransportKind::Tcp {
                let ctx = self.side.context_for(&d.meta, &d.connection);
                crate::diagnose::side::attach(&mut d, ctx);
                d.attempt = Some(self.attempts.assign(
                    &d.meta,
                    Try {
                        connection: d.meta.id,
                        succeeded: d.verdict == crate::diagnose::Verdict::Ok,
                        standard_security: d.connection.standard_security(),
                        outcome: crate::diagnose::run::Outcome {
                            verdict: d.verdict,
                            code: d.main_finding().map(|f| f.code),
                        },
                    },
                ));
            }
            if let Some(r) = &self.config.redact {
                r.diagnosed(&mut d);
            }
            out(d);
        }
    }
}

/// Side flows that served no connection, with findings, as server-level reports (one per
/// side server): a lookup that failed before any connection is still told.
fn orphan_reports(side: &mut SideStore) -> Vec<crate::diagnose::flood::ServerReport> {
    let orphans = side.finish();
    let now = orphans.iter().map(|r| r.last_ns).max().unwrap_or(0) + 2_000_000_000;
    let mut out: Vec<crate::diagnose::flood::ServerReport> = Vec::new();
    for (_, ctx) in crate::correlate::auth_context::orphan_context(&orphans, now) {
        let findings = crate::diagnose::side::side_findings(&ctx, None);
        let Some(server) = ctx
            .dns
            .first()
            .map(|t| (t.server, t.transport))
            .or(ctx.kerberos.first().map(|t| (t.server, t.transport)))
            .or(ctx.kdc_connects.first().map(|t| (t.server, t.transport)))
        else {
            continue;
        };
        if findings.is_empty() {
            continue;
        }
        out.push(crate::diagnose::flood::ServerReport {
            transport: server.1,
            server: server.0,
            connections: 0,
            distinct_clients: 1,
            distinct_clients_estimated: false,
            verdicts: Default::default(),
            findings,
        });
    }
    out
}
