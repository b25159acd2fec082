//! What a whole run found, beside its connections: counters, the capture-level findings
//! (connection floods per server), input warnings, and the error that ended the input early.

use crate::capture::{CaptureError, CaptureWarning};
use crate::diagnose::flood::ServerReport;

/// Counters of one run, for the closing summary.
#[derive(Debug, Default)]
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
    /// Retries: attempts of two connections or more, in order (`correlate::attempts`).
    pub attempts: Vec<AttemptStory>,
    pub warnings: Vec<CaptureWarning>,
    /// Key log lines read (from files and the capture's secrets blocks), by outcome.
    pub keylog: crate::keys::KeyLogStats,
    /// With a BPF filter (`-f`): how many packets were read and how many it kept.
    pub filter: Option<FilterCount>,
    /// The input ended on this error (unreadable file, capture failure): the connections
    /// found before it were still handed out and counted above.
    pub error: Option<CaptureError>,
}

/// What a BPF filter (`-f`) did: its expression, the packets read, and those it kept (the
/// ones analysed; `RunSummary::packets`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterCount {
    pub expression: String,
    pub read: u64,
    pub kept: u64,
}

/// What a try of an attempt ended with: its verdict and the finding that explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: super::Verdict,
    pub code: Option<super::FindingCode>,
}

/// An attempt (retries) with each try's outcome.
pub type AttemptStory = crate::correlate::Attempt<Outcome>;
