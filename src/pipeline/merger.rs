//! The half of the pipeline that needs no flow table: diagnosis and what only counts the
//! capture's connections in their order (side store, attempts, flood tally, redaction).
//!
//! The flow stage (`Pipeline`, which owns the table and the correlators that scan it) hands
//! it `Step`s in the order `-j 1` performs them; applied in that order, the merger's state is
//! the one a single pipeline would have had, whether the steps are applied at once (one
//! thread) or on another thread behind a channel (`sharded`). Neither half reads the other's
//! state: that is what makes the split exact.

use crate::correlate::{Attempts, Peers, SideStore, Try};
use crate::diagnose::flood::{FloodTracker, ServerReport};
use crate::diagnose::run::{AttemptStory, Outcome, RunSummary};
use crate::diagnose::{diagnose, diagnose_with, DiagnoseConfig, Diagnosed, Progress};
use crate::flow::{FinishedFlow, FlowMeta, TransportKind};
use crate::redact::Redactor;
use crate::session::{Connection, SideFlow};

/// One thing the flow stage did that the merger must know, in capture order.
pub(super) enum Step {
    /// A side flow (Kerberos, DNS) changed, or finished with this state.
    Side(FlowMeta, Box<SideFlow>),
    /// A connection the last packet opened (the flood tally counts it per server).
    Opened(FlowMeta),
    /// A finished connection, with its peers and phases computed where the table is.
    Connection(Box<(FinishedFlow<Connection>, Peers, Progress)>),
    /// A finished gateway connection (its id and facts set), and the id its tunnelled
    /// connection gets, if it has one.
    Gateway(Box<FinishedFlow<Connection>>, Option<u64>),
}

/// What the merger counted, for the run summary.
pub(super) struct MergerSummary {
    pub connections: u64,
    pub evicted: u64,
    pub timelines_truncated: u64,
    pub servers: Vec<ServerReport>,
    pub attempts: Vec<AttemptStory>,
}

pub(super) struct Merger {
    diagnose: DiagnoseConfig,
    redact: Option<Redactor>,
    /// Kerberos and DNS flows beside the connections, kept for a window.
    side: SideStore,
    attempts: Attempts<Outcome>,
    flood: FloodTracker,
    connections: u64,
    evicted: u64,
    timelines_truncated: u64,
}

impl MergerSummary {
    /// Writes the merger's part into the run summary.
    pub(super) fn fill(self, summary: &mut RunSummary) {
        summary.connections = self.connections;
        summary.evicted = self.evicted;
        summary.timelines_truncated = self.timelines_truncated;
        summary.servers = self.servers;
        summary.attempts = self.attempts;
    }
}

impl Merger {
    pub(super) fn new(diagnose: DiagnoseConfig, redact: Option<Redactor>) -> Self {
        Merger {
            flood: FloodTracker::new(&diagnose),
            diagnose,
            redact,
            side: SideStore::default(),
            attempts: Attempts::default(),
            connections: 0,
            evicted: 0,
            timelines_truncated: 0,
        }
    }

    /// A side flow changed or finished (borrowed: the one-thread pipeline needs no copy).
    pub(super) fn side_changed(&mut self, meta: &FlowMeta, side: &SideFlow) {
        self.side.note(meta, side);
    }

    /// A connection the last packet opened (borrowed, as `side_changed`).
    pub(super) fn opened(&mut self, meta: &FlowMeta) {
        self.flood.opened(meta);
    }

    pub(super) fn apply(&mut self, step: Step, out: &mut dyn FnMut(Diagnosed)) {
        match step {
            Step::Side(meta, side) => self.side.note(&meta, &side),
            Step::Opened(meta) => self.flood.opened(&meta),
            Step::Connection(c) => {
                let (flow, peers, progress) = *c;
                self.connection(flow, peers, progress, out);
            }
            Step::Gateway(flow, child_id) => self.gateway(*flow, child_id, out),
        }
    }

    /// Counts a diagnosed connection into the tallies every kind of connection feeds.
    fn count(&mut self, d: &Diagnosed) {
        self.connections += 1;
        self.flood.finished(&d.meta, d.verdict);
        self.evicted += u64::from(d.evicted);
        self.timelines_truncated += u64::from(d.connection.timeline.dropped > 0);
    }

    fn hand_out(&self, mut d: Diagnosed, out: &mut dyn FnMut(Diagnosed)) {
        if let Some(r) = &self.redact {
            r.diagnosed(&mut d);
        }
        out(d);
    }

    pub(super) fn connection(
        &mut self,
        flow: FinishedFlow<Connection>,
        peers: Peers,
        progress: Progress,
        out: &mut dyn FnMut(Diagnosed),
    ) {
        let mut d = diagnose_with(flow, &self.diagnose, peers, progress);
        self.count(&d);
        if d.meta.transport == TransportKind::Tcp {
            let ctx = self.side.context_for(&d.meta, &d.connection);
            crate::diagnose::side::attach(&mut d, ctx);
            d.attempt = Some(self.attempts.assign(
                &d.meta,
                Try {
                    connection: d.meta.id,
                    succeeded: d.verdict == crate::diagnose::Verdict::Ok,
                    standard_security: d.connection.standard_security(),
                    outcome: Outcome {
                        verdict: d.verdict,
                        code: d.main_finding().map(|f| f.code),
                    },
                },
            ));
        }
        self.hand_out(d, out);
    }

    /// A gateway connection, then the RDP connection tunnelled through it (`via_gateway`).
    pub(super) fn gateway(
        &mut self,
        flow: FinishedFlow<Connection>,
        child_id: Option<u64>,
        out: &mut dyn FnMut(Diagnosed),
    ) {
        let mut d = diagnose(flow, &self.diagnose, Default::default());
        self.count(&d);
        let child = child_id.and_then(|id| {
            crate::diagnose::gateway_inside::diagnose_tunnelled(&mut d, id, &self.diagnose)
        });
        self.hand_out(d, out);
        if let Some(c) = child {
            self.connections += 1;
            self.flood.finished(&c.meta, c.verdict);
            self.hand_out(c, out);
        }
    }

    /// The end of the capture: the tallies, the servers and the attempt stories.
    pub(super) fn finish(&mut self) -> MergerSummary {
        let mut attempts = self.attempts.finish();
        let mut servers = self.flood.report();
        servers.extend(orphan_reports(&mut self.side));
        if let Some(r) = &self.redact {
            attempts.iter_mut().for_each(|a| r.attempt(a));
            servers.iter_mut().for_each(|s| r.server(s));
        }
        MergerSummary {
            connections: self.connections,
            evicted: self.evicted,
            timelines_truncated: self.timelines_truncated,
            servers,
            attempts,
        }
    }
}

/// Side flows that served no connection, with findings, as server-level reports (one per
/// side server): a lookup that failed before any connection is still told.
fn orphan_reports(side: &mut SideStore) -> Vec<ServerReport> {
    let orphans = side.finish();
    let now = orphans.iter().map(|r| r.last_ns).max().unwrap_or(0) + 2_000_000_000;
    let mut out: Vec<ServerReport> = Vec::new();
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
        out.push(ServerReport {
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
