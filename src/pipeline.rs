//! The one path every packet takes, for files and live capture alike:
//! capture -> flow -> session -> diagnose, with diagnosed connections handed to the caller.

use crate::capture::{CaptureError, CaptureWarning, FileSet, RawPacket};
use crate::diagnose::{diagnose, DiagnoseConfig, Diagnosed};
use crate::flow::{FinishedFlow, FlowConfig, FlowTable};
use crate::flow::{FlowMeta, Side, TcpStats};
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
}

/// Counters of one run, for the closing summary.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub packets: u64,
    pub decoded: u64,
    pub connections: u64,
    pub evicted: u64,
    pub warnings: Vec<CaptureWarning>,
}

pub struct Pipeline {
    table: FlowTable<Connection>,
    config: PipelineConfig,
    finished: Vec<FinishedFlow<Connection>>,
    connections: u64,
}

impl Pipeline {
    pub fn new(config: PipelineConfig) -> Self {
        Pipeline {
            table: FlowTable::new(config.flow.clone()),
            config,
            finished: Vec::new(),
            connections: 0,
        }
    }

    pub fn packet(&mut self, raw: &RawPacket, out: &mut dyn FnMut(Diagnosed)) {
        self.table.process(raw, &mut self.finished);
        self.drain(out);
    }

    /// As `packet`, and reports the phase the connection it belonged to has reached.
    pub fn packet_live(
        &mut self,
        raw: &RawPacket,
        out: &mut dyn FnMut(Diagnosed),
        events: &mut dyn FnMut(LiveEvent),
    ) {
        self.table.process(raw, &mut self.finished);
        self.table.with_last_touched(|meta, tcp, conn| {
            let progress = compute_phases(conn, meta, tcp);
            let phase = progress.phases.last().map(|p| p.name);
            if phase.is_some() && phase != conn.live.phase {
                conn.live.phase = phase;
                if let Some(phase) = phase {
                    events(LiveEvent::Phase {
                        meta: meta.clone(),
                        phase,
                    });
                }
            }
        });
        self.drain(out);
    }

    /// Wall-clock timer: raises the stall alarm for handshakes that stopped moving, once each.
    pub fn tick(&mut self, now_ns: i64, events: &mut dyn FnMut(LiveEvent)) {
        let stall_ns = (self.config.diagnose.stall_after_ms * 1e6) as i64;
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
                meta: meta.clone(),
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
        let Pipeline {
            table,
            config,
            connections,
            ..
        } = self;
        table.finish_all_each(|flow| {
            *connections += 1;
            out(diagnose(flow, &config.diagnose));
        });
        RunSummary {
            packets: self.table.packets_seen,
            decoded: self.table.packets_decoded,
            connections: self.connections,
            evicted: self.table.evicted,
            warnings: Vec::new(),
        }
    }

    fn drain(&mut self, out: &mut dyn FnMut(Diagnosed)) {
        for flow in self.finished.drain(..) {
            self.connections += 1;
            out(diagnose(flow, &self.config.diagnose));
        }
    }
}

/// Analyses capture files as one capture. On a read error the connections found so far are
/// still handed out before the error is returned.
pub fn analyze_files(
    paths: &[String],
    bpf: Option<&str>,
    config: PipelineConfig,
    out: &mut dyn FnMut(Diagnosed),
) -> Result<RunSummary, (RunSummary, CaptureError)> {
    let mut files = FileSet::open(paths, bpf).map_err(|e| (RunSummary::default(), e))?;
    let mut pipeline = Pipeline::new(config);
    let read = files.for_each(|raw| pipeline.packet(raw, out));
    let mut summary = pipeline.finish(out);
    summary.warnings = std::mem::take(&mut files.warnings);
    match read {
        Ok(()) => Ok(summary),
        Err(e) => Err((summary, e)),
    }
}

fn closed(tcp: Option<&TcpStats>) -> bool {
    tcp.is_some_and(|t| t.rst.iter().any(Option::is_some) || t.fin.iter().all(Option::is_some))
}
