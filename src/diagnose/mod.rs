//! Diagnosis: a finished (or still pending) connection turned into a verdict and findings,
//! each with the evidence that shows it and the fix.

use serde::Serialize;

use crate::flow::{FinishedFlow, FlowMeta, TcpStats};
use crate::session::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Failed,
    Stalled,
    Slow,
    Incomplete,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Failed => "failed",
            Verdict::Stalled => "stalled",
            Verdict::Slow => "slow",
            Verdict::Incomplete => "incomplete",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub frame: u64,
    pub t_ms: f64,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub title: String,
    pub explanation: String,
    pub evidence: Vec<Evidence>,
    pub fix: String,
}

/// Thresholds, each a command-line option.
#[derive(Debug, Clone)]
pub struct DiagnoseConfig {
    pub stall_after_ms: f64,
    pub slow_after_ms: f64,
    pub high_rtt_ms: f64,
}

impl Default for DiagnoseConfig {
    fn default() -> Self {
        DiagnoseConfig {
            stall_after_ms: 23_000.0,
            slow_after_ms: 5_000.0,
            high_rtt_ms: 250.0,
        }
    }
}

/// A connection with its diagnosis, ready for the report.
pub struct Diagnosed {
    pub meta: FlowMeta,
    pub tcp: Option<TcpStats>,
    pub connection: Connection,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
}

pub fn diagnose(flow: FinishedFlow<Connection>, _config: &DiagnoseConfig) -> Diagnosed {
    Diagnosed {
        meta: flow.meta,
        tcp: flow.tcp,
        connection: flow.handler,
        verdict: Verdict::Incomplete,
        findings: Vec::new(),
    }
}
