//! TCP behaviour during the handshake: round-trip time, retransmissions and gaps (loss), and
//! large segments that never get through (MTU black hole). Stalls and slowness follow in
//! `stall`.

use super::{Ctx, Evidence, Facts, Finding, FindingCode, MtuShape, Note};
use crate::flow::{FrameTime, Side, TcpStats};
use crate::timefmt::ms_between;

/// Segments this large are full-size on the paths RDP runs over.
const LARGE_SEGMENT: u32 = 1000;
/// Bytes a sender must run ahead of what arrived before it is a black hole.
const UNSEEN_AHEAD: u64 = 1000;

pub(super) fn timing_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let failed_early = out.iter().any(|f| {
        matches!(
            f.code,
            FindingCode::PortFiltered
                | FindingCode::ConnectionRefused
                | FindingCode::NegotiationFailure
        )
    });
    let mut black_holed = false;
    if let Some(t) = ctx.tcp {
        rtt_finding(ctx, t, out);
        if !failed_early {
            let mtu = mtu_finding(ctx, t, out);
            // The dropped segment is why the connection stopped: its retransmissions are
            // that finding's evidence, not a separate loss, and no silence needs timing.
            black_holed = !mtu && super::black_hole::black_hole_finding(ctx, out);
            if !mtu && !black_holed {
                loss_finding(ctx, t, out);
            }
        }
    }
    if failed_early || black_holed {
        return;
    }
    super::stall::stall_finding(ctx, out);
    super::stall::slow_finding(ctx, out);
    // Resends within the tolerance still are loss when they are what made the handshake
    // slow: the tolerance is for tail-loss probes, which cost no time.
    let slow_from_loss = out
        .iter()
        .any(|f| matches!(&f.facts, Facts::Slow { lost: Some(l), .. } if l.total_resends() > 0));
    let has_loss = out
        .iter()
        .any(|f| matches!(f.code, FindingCode::PacketLoss | FindingCode::MtuBlackhole));
    if let (true, false, Some(t)) = (slow_from_loss, has_loss, ctx.tcp) {
        if let Some((_, f)) = loss_facts(ctx, t) {
            out.push(f);
        }
    }
}

/// The end of the handshake, or of the connection when it never got there.
fn handshake_end(ctx: &Ctx) -> i64 {
    ctx.progress
        .data_start
        .map(|p| p.ts_ns)
        .unwrap_or(ctx.meta.last.ts_ns)
}

fn rtt_finding(ctx: &Ctx, t: &TcpStats, out: &mut Vec<Finding>) {
    // Only unambiguous samples (Karn's rule, RFC 6298 3): a handshake whose SYN or SYN/ACK
    // was sent twice measures the retransmission timer, not the path.
    let Some(rtt) = ctx.progress.facts.rtt else {
        return;
    };
    let rtt_ns = rtt.ns;
    let rtt_ms = ms_between(0, rtt_ns);
    if rtt_ms <= ctx.config.high_rtt_ms {
        return;
    }
    let mut evidence = Vec::new();
    if let Some(s) = &t.first_syn {
        evidence.push(ctx.ev_frame(s, Note::ClientSyn));
    }
    if let Some(s) = &t.first_syn_ack {
        evidence.push(ctx.ev_frame(s, Note::ServerSynAck));
    }
    if rtt.source == crate::flow::RttSource::Handshake {
        if let Some(a) = &t.handshake_ack {
            evidence.push(ctx.ev_frame(a, Note::ClientAckRtt(rtt_ms)));
        }
    } else {
        // The handshake was ambiguous: show the data samples the estimate adds up.
        evidence.clear();
        for side in [Side::Client, Side::Server] {
            let samples = &t.progress(side).rtt;
            if let (Some((_, ack)), Some(ns)) = (&samples.min_at, samples.min_ns) {
                evidence.push(ctx.ev_frame(ack, Note::ClientAckRtt(ms_between(0, ns))));
            }
        }
    }
    out.push(Finding::new(
        FindingCode::HighLatency,
        Facts::HighLatency {
            rtt_ms,
            threshold_ms: ctx.config.high_rtt_ms,
            from_handshake: rtt.source == crate::flow::RttSource::Handshake,
        },
        evidence,
    ));
}

/// Segments `side` retransmitted before the session started, with their lengths.
fn handshake_retransmissions(ctx: &Ctx, t: &TcpStats, side: Side) -> Vec<(FrameTime, u32)> {
    let end = handshake_end(ctx);
    t.retransmitted_segments
        .get(side)
        .iter()
        .filter(|(at, _)| at.ts_ns <= end)
        .cloned()
        .collect()
}

fn loss_finding(ctx: &Ctx, t: &TcpStats, out: &mut Vec<Finding>) {
    if let Some((lost, f)) = loss_facts(ctx, t) {
        if lost > ctx.config.loss_retransmissions {
            out.push(f);
        }
    }
}

/// The packet-loss finding of the handshake and the number of segments lost, when any.
fn loss_facts(ctx: &Ctx, t: &TcpStats) -> Option<(u32, Finding)> {
    let c = handshake_retransmissions(ctx, t, Side::Client);
    let s = handshake_retransmissions(ctx, t, Side::Server);
    // SYN retries count as loss only once the SYN was answered (else it is port-filtered).
    let syn_retries = if t.syn_ack_seen {
        t.syn_retries.len()
    } else {
        0
    };
    let end = handshake_end(ctx);
    let gaps = t.gaps.iter().filter(|g| g.ts_ns <= end).count();
    // The one rule (`--help`, `explain`): packet-loss when the segments the path lost
    // (retransmissions of unacknowledged bytes, spurious ones excluded, answered SYN
    // retries, and segments lost before the capture point and resent) exceed
    // `--loss-retransmissions`. A gap that never fills is the capture's hole
    // (capture-incomplete), not loss. It is a warning; an error only when the client gave up
    // while losing segments (`abort::blame_loss`).
    let facts = &ctx.progress.facts.loss;
    let spurious: u32 = facts.iter().map(|l| l.spurious).sum();
    let upstream: u32 = facts.iter().map(|l| l.lost_upstream).sum();
    let syn_ack_retries = t.syn_ack_retries.len();
    let lost = ((c.len() + s.len() + syn_retries + syn_ack_retries) as u32 + upstream)
        .saturating_sub(spurious);
    if lost == 0 {
        return None;
    }
    let retransmits = |side, list: &[(FrameTime, u32)]| -> Vec<Evidence> {
        list.iter()
            .take(4)
            .map(|(at, bytes)| {
                ctx.ev_frame(
                    at,
                    Note::Retransmits {
                        side,
                        bytes: *bytes,
                    },
                )
            })
            .collect()
    };
    let mut evidence = retransmits(Side::Client, &c);
    evidence.extend(retransmits(Side::Server, &s));
    if t.syn_ack_seen {
        evidence.extend(
            t.syn_retries
                .iter()
                .take(2)
                .map(|r| ctx.ev_frame(r, Note::SynRetransmitted)),
        );
    }
    evidence.sort_by_key(|e| e.frame);
    let finding = Finding::new(
        FindingCode::PacketLoss,
        Facts::PacketLoss {
            client: c.len() + syn_retries,
            server: s.len() + syn_ack_retries,
            gaps,
            client_gave_up: None,
        },
        evidence,
    );
    Some((lost, finding))
}

/// Big segments retransmitted again and again, small ones fine: the path drops large packets.
/// Seen from the receiving side instead, the sender's sequence numbers run a segment or more
/// ahead of what arrives, while its small packets (ACKs, keepalive answers) still come.
fn mtu_finding(ctx: &Ctx, t: &TcpStats, out: &mut Vec<Finding>) -> bool {
    if !ctx.progress.established {
        if let Some(f) = unseen_ahead(ctx, t) {
            out.push(f);
            return true;
        }
    }
    for side in [Side::Server, Side::Client] {
        let retrans = handshake_retransmissions(ctx, t, side);
        let big: Vec<_> = retrans
            .iter()
            .filter(|(_, len)| *len >= LARGE_SEGMENT)
            .collect();
        if big.len() < 3 {
            continue;
        }
        let small_retrans = retrans.len() - big.len();
        // The other side keeps talking (ACKs, keepalives) or small segments got through.
        let others_alive = *ctx.meta.packets_by_side.get(side.other()) > 2;
        if small_retrans > big.len() || !others_alive {
            continue;
        }
        let mut evidence: Vec<Evidence> = big
            .iter()
            .take(5)
            .map(|(at, bytes)| {
                ctx.ev_frame(
                    at,
                    Note::RetransmitsLarge {
                        side,
                        bytes: *bytes,
                    },
                )
            })
            .collect();
        if let Some(p) = ctx.conn.last_progress.as_ref() {
            evidence.push(ctx.ev(&p.at, Note::LastDataThrough));
        }
        let shape = MtuShape::Retransmitted {
            side,
            count: big.len(),
            largest: *t.max_segment.get(side),
        };
        out.push(Finding::new(
            FindingCode::MtuBlackhole,
            Facts::MtuBlackhole {
                shape,
                client_gave_up: None,
            },
            evidence,
        ));
        return true;
    }
    false
}

/// A sender whose sequence numbers run ahead of what arrived while its small packets came.
fn unseen_ahead(ctx: &Ctx, t: &TcpStats) -> Option<Finding> {
    for side in [Side::Server, Side::Client] {
        let Some((at, ahead)) = t.unseen_ahead.get(side) else {
            continue;
        };
        let small_after = *ctx.meta.packets_by_side.get(side) > 3;
        if *ahead < UNSEEN_AHEAD || !small_after || t.gaps.iter().any(|g| g.side == side) {
            continue;
        }
        let mut evidence = Vec::new();
        if let Some(p) = *ctx.conn.last_payload.get(side) {
            evidence.push(ctx.ev(&p, Note::LastDataArrived(side)));
        }
        evidence.push(ctx.ev_frame(
            at,
            Note::AheadUnseen {
                side,
                ahead: *ahead,
            },
        ));
        let shape = MtuShape::Unseen {
            side,
            ahead: *ahead,
        };
        return Some(Finding::new(
            FindingCode::MtuBlackhole,
            Facts::MtuBlackhole {
                shape,
                client_gave_up: None,
            },
            evidence,
        ));
    }
    None
}
