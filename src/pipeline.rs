//! The one path every packet takes, for files and live capture alike:
//! capture -> flow -> session -> diagnose, with diagnosed connections handed to the caller.

use crate::capture::{CaptureError, CaptureWarning, FileSet, RawPacket};
use crate::diagnose::{diagnose, DiagnoseConfig, Diagnosed};
use crate::flow::{FinishedFlow, FlowConfig, FlowTable};
use crate::session::Connection;

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

    /// Finishes every open connection (end of capture, or Ctrl-C on a live capture).
    pub fn finish(&mut self, out: &mut dyn FnMut(Diagnosed)) -> RunSummary {
        self.table.finish_all(&mut self.finished);
        self.drain(out);
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
