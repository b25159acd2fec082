//! The live side of the pipeline: the phase a connection has reached as its packets arrive,
//! and the stall alarm on wall-clock time. What was already reported of each active
//! connection is kept here, keyed by flow id, so the session state knows nothing of it.

use ahash::AHashMap;

use super::Pipeline;
use crate::capture::RawPacket;
use crate::diagnose::Diagnosed;
use crate::flow::{FlowMeta, TcpStats};
use crate::redact::Redactor;
use crate::session::{compute_phases, PhaseName};

pub use crate::diagnose::live::LiveEvent;

/// What was already reported of one active connection.
#[derive(Debug, Default, Clone, Copy)]
struct Marks {
    phase: Option<PhaseName>,
    /// Timeline size when the phase was last computed.
    events_seen: usize,
    stall_alarmed: bool,
}

/// Marks of the active connections, by flow id: an entry lives as long as its flow.
#[derive(Debug, Default)]
pub(super) struct LiveMarks {
    by_flow: AHashMap<u64, Marks>,
}

impl LiveMarks {
    /// The connection finished: its marks go with it.
    pub(super) fn forget(&mut self, id: u64) {
        if !self.by_flow.is_empty() {
            self.by_flow.remove(&id);
        }
    }
}

impl Pipeline {
    /// As `packet`, and reports the phase the connection it belonged to has reached.
    pub fn packet_live(
        &mut self,
        raw: &RawPacket,
        out: &mut dyn FnMut(Diagnosed),
        events: &mut dyn FnMut(LiveEvent),
    ) {
        self.table.process(raw, &mut self.finished);
        self.note_opened();
        let redact = self.config.redact.as_ref();
        let marks = &mut self.live.by_flow;
        self.table.with_last_touched(|meta, tcp, conn| {
            // Phases only move when the timeline gains an event: most packets add none.
            let seen_now = conn.timeline.events.len()
                + conn.tls.app_records.iter().sum::<u64>().min(64) as usize;
            let mark = marks.entry(meta.id).or_default();
            if seen_now == mark.events_seen {
                return;
            }
            mark.events_seen = seen_now;
            let progress = compute_phases(conn, meta, tcp);
            let phase = progress.phases.last().map(|p| p.name);
            if phase.is_some() && phase != mark.phase {
                mark.phase = phase;
                if let Some(phase) = phase {
                    let meta = redacted(redact, meta);
                    events(LiveEvent::Phase { meta, phase });
                }
            }
        });
        self.drain(out);
    }

    /// Wall-clock timer: finishes connections that closed or went idle (as packets would),
    /// and raises the stall alarm for handshakes that stopped moving, once each.
    pub fn tick(
        &mut self,
        now_ns: i64,
        out: &mut dyn FnMut(Diagnosed),
        events: &mut dyn FnMut(LiveEvent),
    ) {
        self.reread_keylogs(now_ns);
        self.table.sweep(now_ns, &mut self.finished);
        self.drain(out);
        let stall_ns = (self.config.diagnose.stall_after_ms * 1e6) as i64;
        let redact = self.config.redact.as_ref();
        let marks = &mut self.live.by_flow;
        self.table.for_each_active(|meta, tcp, conn| {
            if marks.get(&meta.id).is_some_and(|m| m.stall_alarmed) || closed(tcp) {
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
            marks.entry(meta.id).or_default().stall_alarmed = true;
            events(LiveEvent::Stall {
                meta: redacted(redact, meta),
                phase: progress.last_phase().map(|p| p.name),
                waiting_on: progress.last_phase().and_then(|p| p.waiting_on),
                idle_ms: (now_ns - since) as f64 / 1e6,
            });
        });
    }
}

/// A copy of `meta` to hand out, with pseudonyms under `--redact`.
fn redacted(redact: Option<&Redactor>, meta: &FlowMeta) -> FlowMeta {
    let mut meta = meta.clone();
    if let Some(r) = redact {
        r.meta(&mut meta);
    }
    meta
}

fn closed(tcp: Option<&TcpStats>) -> bool {
    tcp.is_some_and(|t| t.rst.iter().any(Option::is_some) || t.fin.iter().all(Option::is_some))
}
