//! Progress over time: a handshake that stopped moving (stalled) or got there late (slow).

use super::{Ctx, Facts, Finding, FindingCode, Note};
use crate::flow::{PacketInfo, Side};
use crate::session::facts::LossTime;
use crate::session::PhaseName;
use crate::timefmt::ms_between;

/// A silence in the handshake: from the last progress to what ended it.
struct Silence {
    from: PacketInfo,
    to: PacketInfo,
    waiting_on: Option<Side>,
    /// Progress came again after it (else the connection ended silent).
    resumed: bool,
}

/// The longest silence inside the handshake over the threshold, broken later.
fn inner_silence(ctx: &Ctx, threshold_ns: i64) -> Option<Silence> {
    let end = ctx.progress.data_start.map(|p| p.ts_ns);
    ctx.conn
        .waits
        .iter()
        .filter(|w| end.is_none_or(|e| w.to.ts_ns <= e))
        .filter(|w| w.to.ts_ns - w.from.ts_ns >= threshold_ns)
        .max_by_key(|w| w.to.ts_ns - w.from.ts_ns)
        .map(|w| Silence {
            from: w.from,
            to: w.to,
            waiting_on: Some(w.waiting_on),
            resumed: true,
        })
}

/// The handshake never finished and nothing new came until the end.
fn tail_silence(ctx: &Ctx, threshold_ns: i64) -> Option<Silence> {
    if ctx.progress.established {
        return None;
    }
    let from = ctx.conn.last_progress.as_ref().map(|p| p.at).or_else(|| {
        ctx.tcp
            .and_then(|t| t.handshake_ack.as_ref())
            .map(|a| PacketInfo {
                file: 0,
                frame: a.frame,
                ts_ns: a.ts_ns,
            })
    })?;
    if ctx.meta.last.ts_ns - from.ts_ns < threshold_ns {
        return None;
    }
    let waiting = ctx
        .conn
        .last_progress
        .as_ref()
        .map(|p| p.side.other())
        .unwrap_or(Side::Server);
    Some(Silence {
        from,
        to: ctx.meta.last,
        waiting_on: Some(waiting),
        resumed: false,
    })
}

pub(super) fn stall_finding(ctx: &Ctx, out: &mut Vec<Finding>) {
    let threshold_ns = (ctx.config.stall_after_ms * 1e6) as i64;
    let Some(s) = inner_silence(ctx, threshold_ns).or_else(|| tail_silence(ctx, threshold_ns))
    else {
        return;
    };
    let secs = ms_between(s.from.ts_ns, s.to.ts_ns) / 1000.0;
    let phase = ctx
        .progress
        .phases
        .iter()
        .filter(|p| p.name != PhaseName::Closed)
        .rfind(|p| p.start.ts_ns <= s.from.ts_ns)
        .map(|p| p.name);
    let evidence = vec![
        ctx.ev(&s.from, Note::LastProgress),
        ctx.ev(
            &s.to,
            if s.resumed {
                Note::NextProgress
            } else {
                Note::LastPacket
            },
        ),
    ];
    out.push(Finding::new(
        FindingCode::HandshakeStalled,
        Facts::Stalled {
            secs,
            threshold_ms: ctx.config.stall_after_ms,
            phase,
            waiting_on: s.waiting_on,
            resumed: s.resumed,
        },
        evidence,
    ));
}

pub(super) fn slow_finding(ctx: &Ctx, out: &mut Vec<Finding>) {
    if !ctx.progress.established || out.iter().any(|f| f.code == FindingCode::HandshakeStalled) {
        return;
    }
    let Some(data) = ctx.progress.data_start else {
        return;
    };
    let total_ms = ms_between(ctx.meta.first.ts_ns, data.ts_ns);
    if total_ms <= ctx.config.slow_after_ms {
        return;
    }
    let longest = ctx
        .progress
        .phases
        .iter()
        .filter(|p| p.start.ts_ns < data.ts_ns)
        .max_by_key(|p| p.duration_ns());
    let evidence = longest
        .map(|p| {
            vec![
                ctx.ev(&p.start, Note::PhaseStarts(p.name)),
                ctx.ev(&p.end, Note::PhaseEnds(p.name)),
            ]
        })
        .unwrap_or_default();
    let lost = match (longest, ctx.tcp) {
        (Some(p), Some(t)) => Some(LossTime::between(t, p.start.ts_ns, p.end.ts_ns)),
        _ => None,
    }
    .filter(|l| l.total_resends() + l.spurious > 0);
    let mut evidence = evidence;
    if let (Some(l), Some(t), Some(p)) = (&lost, ctx.tcp, longest) {
        evidence.extend(resend_evidence(ctx, t, p.start.ts_ns, p.end.ts_ns, l));
        evidence.sort_by_key(|e| e.frame);
    }
    out.push(Finding::new(
        FindingCode::HandshakeSlow,
        Facts::Slow {
            total_ms,
            threshold_ms: ctx.config.slow_after_ms,
            longest: longest.map(|p| (p.name, ms_between(0, p.duration_ns()))),
            lost,
        },
        evidence,
    ));
}

/// The first resends inside the slow phase, as frames to look at.
fn resend_evidence(
    ctx: &Ctx,
    t: &crate::flow::TcpStats,
    from_ns: i64,
    to_ns: i64,
    lost: &LossTime,
) -> Vec<super::Evidence> {
    if lost.total_resends() == 0 {
        return Vec::new();
    }
    let mut ev = Vec::new();
    for side in [Side::Client, Side::Server] {
        for w in t
            .progress(side)
            .loss()
            .waits
            .iter()
            .filter(|w| !w.spurious && (from_ns..=to_ns).contains(&w.to.ts_ns))
            .take(3)
        {
            let bytes = w.len;
            let note = if w.upstream {
                Note::LostUpstreamResent { side, bytes }
            } else {
                Note::Retransmits { side, bytes }
            };
            ev.push(ctx.ev_frame(&w.to, note));
        }
    }
    ev
}
