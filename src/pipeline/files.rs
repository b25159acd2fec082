//! Capture files through the pipeline, as one capture in time order.

use std::cell::RefCell;

use super::{Pipeline, PipelineConfig, RunSummary};
use crate::capture::source::ReadCount;
use crate::capture::FileSet;
use crate::diagnose::Diagnosed;

/// Analyses capture files as one capture. On a read error the connections found so far are
/// still handed out, and the summary carries the error.
pub fn analyze_files(
    paths: &[String],
    bpf: Option<&str>,
    config: PipelineConfig,
    out: &mut dyn FnMut(Diagnosed),
) -> RunSummary {
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
pub fn analyze_files_with_progress(
    paths: &[String],
    bpf: Option<&str>,
    config: PipelineConfig,
    out: &mut dyn FnMut(Diagnosed),
    progress: &mut dyn FnMut(AnalysisProgress),
) -> RunSummary {
    if config.split_analysis {
        return super::analyze_files_split(paths, bpf, config, out, progress);
    }
    let mut files = match FileSet::open_with(paths, bpf, config.reader) {
        Ok(files) => files,
        Err(e) => {
            return RunSummary {
                error: Some(e),
                ..RunSummary::default()
            }
        }
    };
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
                connections: p.finished_connections() + p.active_connections() as u64,
            })
        },
    );
    let mut pipeline = pipeline.into_inner();
    let mut summary = pipeline.finish(out);
    add_reading(&mut summary, &mut files, bpf, read);
    summary
}

/// What the reading itself adds to a run's summary: the files' warnings, the filter's
/// count and the read error, if any.
pub(super) fn add_reading(
    summary: &mut RunSummary,
    files: &mut FileSet,
    bpf: Option<&str>,
    read: Result<(), crate::capture::CaptureError>,
) {
    summary.warnings.append(&mut files.warnings);
    summary.filter = bpf.map(|expression| crate::diagnose::run::FilterCount {
        expression: expression.to_string(),
        read: files.read.packets,
        kept: summary.packets,
    });
    summary.error = read.err();
}
