//! The `--json` contract: one object per connection. Keys are only ever added, never renamed.

use serde::Serialize;

use super::time_fmt::{ms_between, rfc3339_us};
use crate::diagnose::{Diagnosed, Finding, Verdict};
use crate::flow::{Gap, Side, TcpStats, TransportKind};

#[derive(Debug, Serialize)]
pub struct ConnectionJson<'a> {
    pub id: u64,
    pub transport: TransportKind,
    pub client: String,
    pub server: String,
    pub start: String,
    pub duration_ms: f64,
    pub packets: u64,
    pub bytes: u64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub verdict: Verdict,
    pub tcp: Option<TcpJson<'a>>,
    pub findings: &'a [Finding],
}

#[derive(Debug, Serialize)]
pub struct TcpJson<'a> {
    pub rtt_ms: Option<f64>,
    pub syn_retries: usize,
    pub retransmissions: PerSide<u32>,
    pub zero_windows: PerSide<u32>,
    pub gaps: &'a [Gap],
    pub closed_by: Option<Side>,
    pub reset_by: Option<Side>,
    pub syn_seen: bool,
}

#[derive(Debug, Serialize)]
pub struct PerSide<T> {
    pub client: T,
    pub server: T,
}

impl<T: Copy> PerSide<T> {
    pub fn from_array(v: &[T; 2]) -> Self {
        PerSide {
            client: v[0],
            server: v[1],
        }
    }
}

impl<'a> TcpJson<'a> {
    fn new(t: &'a TcpStats) -> Self {
        TcpJson {
            rtt_ms: t.handshake_rtt_ns().map(|ns| ms_between(0, ns)),
            syn_retries: t.syn_retries.len(),
            retransmissions: PerSide::from_array(&t.retransmissions),
            zero_windows: PerSide::from_array(&t.zero_windows),
            gaps: &t.gaps,
            closed_by: t.closed_by(),
            reset_by: t.reset_by(),
            syn_seen: t.syn_seen,
        }
    }
}

impl<'a> ConnectionJson<'a> {
    pub fn new(d: &'a Diagnosed) -> Self {
        let m = &d.meta;
        ConnectionJson {
            id: m.id,
            transport: m.transport,
            client: m.client.to_string(),
            server: m.server.to_string(),
            start: rfc3339_us(m.first.ts_ns),
            duration_ms: ms_between(m.first.ts_ns, m.last.ts_ns),
            packets: m.packets,
            bytes: m.bytes,
            first_frame: m.first.frame,
            last_frame: m.last.frame,
            verdict: d.verdict,
            tcp: d.tcp.as_ref().map(TcpJson::new),
            findings: &d.findings,
        }
    }
}

/// One NDJSON line (no trailing newline).
pub fn to_line(d: &Diagnosed) -> String {
    serde_json::to_string(&ConnectionJson::new(d)).unwrap_or_else(|e| {
        format!(
            "{{\"error\":\"cannot serialise connection {}: {e}\"}}",
            d.meta.id
        )
    })
}
