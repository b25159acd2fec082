//! What the capture itself misses (the connection's start, bytes in gaps) or holds twice
//! (frames duplicated by the capture point).

use super::Ctx;
use super::{Evidence, Facts, Finding, FindingCode, Note};

pub(super) fn capture_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    violation_finding(ctx, out);
    let Some(t) = ctx.tcp else { return };
    duplicates_finding(ctx, t, out);
    let mut evidence = Vec::new();
    let started_late = !t.syn_seen;
    if started_late {
        evidence.push(ctx.ev(&ctx.meta.first, Note::FirstPacketNoSyn));
    }
    for g in t.gaps.iter().take(3) {
        evidence.push(Evidence {
            frame: g.frame,
            t_ms: ctx.t_ms(g.ts_ns),
            note: Note::GapNeverCaptured {
                side: g.side,
                bytes: g.bytes,
            },
        });
    }
    if !started_late && t.gaps.is_empty() {
        return;
    }
    out.push(Finding::new(
        FindingCode::CaptureIncomplete,
        Facts::CaptureIncomplete {
            started_late,
            gaps: t.gaps.len(),
            gap_bytes: t.gaps.iter().map(|g| g.bytes).sum(),
        },
        evidence,
    ));
}

/// Frames the capture holds twice (same IP ID, same segment): the flow layer dropped them
/// before reassembly, so they never count as retransmissions; say so, as Wireshark's
/// analysis would call them retransmissions.
fn duplicates_finding(ctx: &Ctx, t: &crate::flow::TcpStats, out: &mut Vec<Finding>) {
    if t.duplicates == 0 {
        return;
    }
    let evidence = t
        .first_duplicate
        .iter()
        .map(|f| ctx.ev_frame(f, Note::FirstDuplicate))
        .collect();
    out.push(Finding::new(
        FindingCode::DuplicateFrames,
        Facts::DuplicateFrames {
            count: t.duplicates,
        },
        evidence,
    ));
}

/// The first PDU of the handshake that breaks its specification: a parser's refusal or an
/// RDP_NEG_RSP whose length field is not 8 (MS-RDPBCGR 2.2.1.2.1).
fn violation_finding(ctx: &Ctx, out: &mut Vec<Finding>) {
    if ctx.progress.established {
        return;
    }
    let bad_length = ctx.conn.x224.confirm.as_ref().and_then(|cc| {
        cc.value.bad_neg_length.map(|len| {
            (
                cc.at,
                cc.side,
                super::finding::Violation::NegotiationLength(len),
            )
        })
    });
    let decode = ctx.conn.decode_errors.first().map(|e| {
        (
            e.at,
            e.side,
            super::finding::Violation::Decode(e.value.clone()),
        )
    });
    let Some((at, side, violation)) = [bad_length, decode]
        .into_iter()
        .flatten()
        .min_by_key(|(at, _, _)| at.ts_ns)
    else {
        return;
    };
    out.push(Finding::new(
        FindingCode::ProtocolViolation,
        Facts::ProtocolViolation { side, violation },
        vec![ctx.ev(&at, Note::Violation)],
    ));
}
