//! A segment the path drops every time it is sent (`segment-black-holed`): proven by the
//! packets (the same bytes resent with a doubling timer, RFC 6298 5.5, never acknowledged,
//! nothing new from the peer), whatever the elapsed time.

use super::{Ctx, Facts, Finding, FindingCode, Note};
use crate::session::PhaseName;
use crate::timefmt::ms_between;

/// Evidence frames: the first transmission and at most this many resends.
const SHOWN_RESENDS: usize = 5;

pub(super) fn black_hole_finding(ctx: &Ctx, out: &mut Vec<Finding>) -> bool {
    let Some(b) = &ctx.progress.facts.black_holed else {
        return false;
    };
    let s = &b.series;
    let mut evidence = vec![ctx.ev_frame(
        &s.first_sent,
        Note::SegmentSent {
            side: b.side,
            bytes: s.len,
        },
    )];
    for (i, t) in s.times.iter().take(SHOWN_RESENDS).enumerate() {
        evidence.push(ctx.ev_frame(t, Note::SegmentResent { n: i as u32 + 1 }));
    }
    // What the segment carried: the protocol event of its first transmission.
    let carried = ctx
        .conn
        .timeline
        .events
        .iter()
        .find(|e| e.at.frame == s.first_sent.frame && !e.kind.is_tcp())
        .cloned();
    let phase = ctx
        .progress
        .phases
        .iter()
        .filter(|p| p.name != PhaseName::Closed)
        .rfind(|p| p.start.ts_ns <= s.first_sent.ts_ns)
        .map(|p| p.name);
    let close = ctx
        .first_close()
        .filter(|(_, at, _)| at.ts_ns >= s.first_sent.ts_ns)
        .map(|(side, at, close)| {
            evidence.push(ctx.ev(&at, Note::Closes { side, close }));
            (side, close)
        });
    out.push(Finding::new(
        FindingCode::SegmentBlackHoled,
        Facts::SegmentBlackHoled {
            side: b.side,
            bytes: s.len,
            carried,
            retransmits: s.retransmits,
            span_ms: ms_between(s.first_sent.ts_ns, s.last_sent().ts_ns),
            backed_off: s.backs_off(),
            phase,
            close,
        },
        evidence,
    ));
    true
}
