//! The lines `rdpscope live` prints as things happen: a phase entered, a stall alarm, a
//! connection finished (with its findings block under it).

use crate::diagnose::live::LiveEvent;
use crate::diagnose::{Diagnosed, Severity};
use crate::timefmt;

/// Time of day with milliseconds, as live lines start.
fn clock(ts_ns: i64) -> String {
    timefmt::clock(ts_ns, true)
}

/// One line for a live event; `now_ns` stamps a stall alarm (raised by the wall clock, not a
/// packet).
pub fn event_line(ev: &LiveEvent, now_ns: i64) -> String {
    match ev {
        LiveEvent::Phase { meta, phase } => format!(
            "{} #{} {} -> {}: {}",
            clock(meta.last.ts_ns),
            meta.id,
            meta.client,
            meta.server,
            super::phase_text(*phase)
        ),
        LiveEvent::Stall {
            meta,
            phase,
            waiting_on,
            idle_ms,
        } => format!(
            "{} #{} {} -> {}: ALARM handshake-stalled: no progress for {:.1} s in the {}, waiting on the {}",
            clock(now_ns),
            meta.id,
            meta.client,
            meta.server,
            idle_ms / 1000.0,
            phase.map(super::phase_text).unwrap_or("connection setup"),
            waiting_on.map(|s| s.name()).unwrap_or("other side")
        ),
    }
}

/// A finished connection: its line, then its warnings and errors wrapped at `width`.
pub fn finished_block(d: &Diagnosed, width: usize) -> String {
    let mut out = format!(
        "{} #{} {} -> {}: finished, {}\n",
        clock(d.meta.last.ts_ns),
        d.meta.id,
        d.meta.client,
        d.meta.server,
        d.verdict.name()
    );
    out.push_str(&super::table::findings_block(
        d,
        Severity::Warning,
        width,
        false,
    ));
    out
}
