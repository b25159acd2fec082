//! One capture's analysis on two threads (`-j 2` and more): the flow stage (reading through
//! the prefetch thread, the flow table, TCP reassembly, session parsing, decryption, and the
//! correlators that scan the open table: UDP pairing and RD Gateway judgement, which also
//! give the ids) on a thread of its own; the merger (diagnosis, side store, attempts, flood
//! tally, redaction, the hand-out) on the calling thread, which owns `out`.
//!
//! The flow stage is the one-thread pipeline with its steps queued instead of applied
//! (`Sink::Queue`); the steps reach the merger over one bounded channel in the order they were
//! made, in batches (one wake-up per `BATCH`). Each half only reads its own state, so the
//! result is the one-thread pipeline's, byte for byte, whatever the threads' timing
//! (docs/sharding.md).

use std::cell::RefCell;
use std::sync::mpsc::{self, SyncSender};

use super::merger::{Merger, Step};
use super::{AnalysisProgress, Pipeline, PipelineConfig, RunSummary, PROGRESS_EVERY};
use crate::capture::FileSet;
use crate::diagnose::Diagnosed;

/// Steps per message to the merger.
const BATCH: usize = 256;
/// Messages in flight: the steps waiting for the merger stay a few MB (a finished flow is a
/// few KB), whatever the capture's size.
const DEPTH: usize = 8;

enum Message {
    Steps(Vec<Step>),
    Progress(AnalysisProgress),
}

/// As `analyze_files_with_progress`, with the flow stage on its own thread.
pub fn analyze_files_split(
    paths: &[String],
    bpf: Option<&str>,
    config: PipelineConfig,
    out: &mut dyn FnMut(Diagnosed),
    progress: &mut dyn FnMut(AnalysisProgress),
) -> RunSummary {
    let mut merger = Merger::new(config.diagnose.clone(), config.redact.clone());
    let (tx, rx) = mpsc::sync_channel::<Message>(DEPTH);
    std::thread::scope(|scope| {
        let stage = scope.spawn(move || flow_stage(paths, bpf, config, &tx));
        for message in rx {
            match message {
                Message::Steps(steps) => steps.into_iter().for_each(|s| merger.apply(s, out)),
                Message::Progress(p) => progress(p),
            }
        }
        let (mut summary, analysed) = match stage.join() {
            Ok(done) => done,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if analysed {
            merger.finish().fill(&mut summary);
        }
        summary
    })
}

/// Sends the queued steps once there are a batch of them (or `all`). False once the merger
/// is gone (it only goes when its thread panicked: the stage then stops reading).
fn send_steps(pipeline: &mut Pipeline, tx: &SyncSender<Message>, all: bool) -> bool {
    let queued = pipeline.queued_steps();
    if queued == 0 || (!all && queued < BATCH) {
        return true;
    }
    tx.send(Message::Steps(pipeline.take_steps())).is_ok()
}

/// Reads the files through the flow stage; the summary's flow-stage part, and whether the
/// merger's part belongs in it (not when the files could not be opened).
fn flow_stage(
    paths: &[String],
    bpf: Option<&str>,
    config: PipelineConfig,
    tx: &SyncSender<Message>,
) -> (RunSummary, bool) {
    let mut files = match FileSet::open_with(paths, bpf, config.reader) {
        Ok(files) => files,
        Err(e) => {
            let summary = RunSummary {
                error: Some(e),
                ..RunSummary::default()
            };
            return (summary, false);
        }
    };
    // Shared by the packet and the progress callbacks, which the reader calls one at a time.
    let pipeline = RefCell::new(Pipeline::queued(config));
    // The merger panicked: the rest of the files is read without being analysed (the reader
    // cannot be stopped from its callback), so the panic is passed on after a bare read.
    let merger_gone = std::cell::Cell::new(false);
    let read = files.for_each_with_secrets(
        PROGRESS_EVERY,
        |raw| {
            if merger_gone.get() {
                return;
            }
            let mut p = pipeline.borrow_mut();
            p.packet(raw, &mut |_| {});
            if !send_steps(&mut p, tx, false) {
                merger_gone.set(true);
            }
        },
        |secrets| pipeline.borrow_mut().secrets(secrets),
        |read| {
            let mut p = pipeline.borrow_mut();
            send_steps(&mut p, tx, true);
            let connections = p.finished_connections() + p.active_connections() as u64;
            let _ = tx.send(Message::Progress(AnalysisProgress { read, connections }));
        },
    );
    let mut pipeline = pipeline.into_inner();
    if !merger_gone.get() {
        finish_open_flows(&mut pipeline, tx);
    }
    let mut summary = pipeline.summary();
    super::files::add_reading(&mut summary, &mut files, bpf, read);
    (summary, true)
}

/// `Pipeline::finish_flows`, sending as it goes: the open flows of a large table are not all
/// queued at once (memory stays that of one batch).
fn finish_open_flows(pipeline: &mut Pipeline, tx: &SyncSender<Message>) {
    pipeline.drain(&mut |_| {});
    for flow in pipeline.table.open_flows() {
        pipeline.table.finish_one(flow, &mut pipeline.finished);
        pipeline.drain(&mut |_| {});
        if !send_steps(pipeline, tx, false) {
            return;
        }
    }
    send_steps(pipeline, tx, true);
}
