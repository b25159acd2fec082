//! Findings from TCP behaviour and timing: unanswered or refused connects, loss, latency,
//! MTU black holes, stalls and slow handshakes, and what the capture itself misses.

use super::{finding, Ctx, Evidence, Finding};
use crate::flow::{PacketInfo, Side};
use crate::timefmt::ms_between;

pub(super) fn connect_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(t) = ctx.tcp else { return };
    if !t.syn_seen || t.syn_ack_seen {
        return;
    }
    let Some(syn) = &t.first_syn else { return };
    let mut evidence = vec![ctx.ev_frame(syn, "client SYN")];
    for r in t.syn_retries.iter().take(6) {
        evidence.push(ctx.ev_frame(r, "client SYN retry"));
    }
    if let Some(r) = &t.rst[Side::Server.index()] {
        evidence.push(ctx.ev_frame(r, "server answers with RST"));
        out.push(finding(
            "connection-refused",
            format!(
                "Connection refused: {} answered the SYN with a TCP RST",
                ctx.meta.server
            ),
            format!(
                "The client's SYN to {} was answered by a reset: nothing listens on port {} \
                 (or a firewall rejects it by reset).",
                ctx.meta.server, ctx.meta.server.port
            ),
            evidence,
        ));
        return;
    }
    if let Some((at, icmp)) = &ctx.conn.unreachable {
        evidence.push(ctx.ev(at, crate::report::events::icmp_text(icmp)));
        out.push(finding(
            "connection-refused",
            format!(
                "Connection rejected: {} in answer to the SYN",
                crate::report::events::icmp_text(icmp)
            ),
            format!(
                "The SYN to {} was answered by {}: a router or firewall rejects the connection.",
                ctx.meta.server,
                crate::report::events::icmp_text(icmp)
            ),
            evidence,
        ));
        return;
    }
    let tries = 1 + t.syn_retries.len();
    let span = t
        .syn_retries
        .last()
        .map(|l| ms_between(syn.ts_ns, l.ts_ns) / 1000.0)
        .unwrap_or(0.0);
    out.push(finding(
        "port-filtered",
        format!(
            "No answer from {}: {tries} SYN(s) over {span:.1} s, never answered",
            ctx.meta.server
        ),
        format!(
            "The client sent {tries} SYN(s) to {} and got no SYN/ACK, RST or ICMP back: the \
             packets are dropped (firewall, security group) or the host is down.",
            ctx.meta.server
        ),
        evidence,
    ));
}

/// The end of the handshake, or of the connection when it never got there.
fn handshake_end(ctx: &Ctx) -> i64 {
    ctx.progress
        .data_start
        .map(|p| p.ts_ns)
        .unwrap_or(ctx.meta.last.ts_ns)
}

pub(super) fn timing_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let failed_early = out.iter().any(|f| {
        matches!(
            f.code,
            "port-filtered" | "connection-refused" | "negotiation-failure"
        )
    });
    if let Some(t) = ctx.tcp {
        rtt_finding(ctx, t, out);
        if !failed_early {
            let mtu = mtu_finding(ctx, t, out);
            if !mtu {
                loss_finding(ctx, t, out);
            }
        }
    }
    if failed_early {
        return;
    }
    stall_finding(ctx, out);
    slow_finding(ctx, out);
}

fn rtt_finding(ctx: &Ctx, t: &crate::flow::TcpStats, out: &mut Vec<Finding>) {
    let Some(rtt_ns) = t.handshake_rtt_ns() else {
        return;
    };
    let rtt = ms_between(0, rtt_ns);
    if rtt <= ctx.config.high_rtt_ms {
        return;
    }
    let mut evidence = Vec::new();
    if let Some(s) = &t.first_syn {
        evidence.push(ctx.ev_frame(s, "client SYN"));
    }
    if let Some(s) = &t.first_syn_ack {
        evidence.push(ctx.ev_frame(s, "server SYN/ACK"));
    }
    if let Some(a) = &t.handshake_ack {
        evidence.push(ctx.ev_frame(a, format!("client ACK: round trip {rtt:.1} ms")));
    }
    out.push(finding(
        "high-latency",
        format!("High latency: TCP handshake round trip {rtt:.0} ms"),
        format!(
            "The TCP handshake took {rtt:.1} ms (threshold {:.0} ms). Each of the RDP \
             handshake's round trips costs at least that much.",
            ctx.config.high_rtt_ms
        ),
        evidence,
    ));
}

/// Handshake retransmissions per side: (count, evidence) before the session started.
fn handshake_retransmissions(
    ctx: &Ctx,
    t: &crate::flow::TcpStats,
    side: Side,
) -> Vec<(crate::flow::FrameTime, u32)> {
    let end = handshake_end(ctx);
    t.retransmitted_segments[side.index()]
        .iter()
        .filter(|(at, _)| at.ts_ns <= end)
        .cloned()
        .collect()
}

fn loss_finding(ctx: &Ctx, t: &crate::flow::TcpStats, out: &mut Vec<Finding>) {
    let c = handshake_retransmissions(ctx, t, Side::Client);
    let s = handshake_retransmissions(ctx, t, Side::Server);
    let syn_retries = t.syn_retries.len();
    let end = handshake_end(ctx);
    let gaps: Vec<_> = t.gaps.iter().filter(|g| g.ts_ns <= end).collect();
    let total = c.len() + s.len() + if t.syn_ack_seen { syn_retries } else { 0 };
    if total as u32 <= ctx.config.loss_retransmissions && gaps.is_empty() {
        return;
    }
    let mut evidence: Vec<Evidence> = c
        .iter()
        .take(4)
        .map(|(at, len)| ctx.ev_frame(at, format!("client retransmits {len} bytes")))
        .chain(
            s.iter()
                .take(4)
                .map(|(at, len)| ctx.ev_frame(at, format!("server retransmits {len} bytes"))),
        )
        .collect();
    if t.syn_ack_seen {
        evidence.extend(
            t.syn_retries
                .iter()
                .take(2)
                .map(|r| ctx.ev_frame(r, "SYN retransmitted")),
        );
    }
    evidence.sort_by_key(|e| e.frame);
    out.push(finding(
        "packet-loss",
        format!(
            "Packet loss during the handshake: {} client and {} server retransmissions",
            c.len() + if t.syn_ack_seen { syn_retries } else { 0 },
            s.len()
        ),
        format!(
            "During the handshake the client retransmitted {} segment(s) and the server {}{}. \
             Each loss costs at least one retransmission timeout (200 ms to seconds).",
            c.len() + if t.syn_ack_seen { syn_retries } else { 0 },
            s.len(),
            if gaps.is_empty() {
                String::new()
            } else {
                format!("; {} gap(s) of bytes never seen by the capture", gaps.len())
            }
        ),
        evidence,
    ));
}

/// Big segments retransmitted again and again, small ones fine: the path drops large packets.
/// Seen from the receiving side instead, the sender's sequence numbers run a segment or more
/// ahead of what arrives, while its small packets (ACKs, keepalive answers) still come.
fn mtu_finding(ctx: &Ctx, t: &crate::flow::TcpStats, out: &mut Vec<Finding>) -> bool {
    if !ctx.progress.established {
        for side in [Side::Server, Side::Client] {
            let Some((at, ahead)) = &t.unseen_ahead[side.index()] else {
                continue;
            };
            let small_after = ctx.meta.packets_by_side[side.index()] > 3;
            if *ahead < 1000 || !small_after || t.gaps.iter().any(|g| g.side == side) {
                continue;
            }
            let mut evidence = Vec::new();
            if let Some(p) = ctx.conn.last_payload[side.index()] {
                evidence.push(ctx.ev(
                    &p,
                    format!("last data from the {} that arrived", side.name()),
                ));
            }
            evidence.push(ctx.ev_frame(
                at,
                format!(
                    "{} is {ahead} bytes ahead of what arrived: its large segments were lost",
                    side.name()
                ),
            ));
            out.push(finding(
                "mtu-blackhole",
                format!(
                    "MTU black hole: {ahead} bytes the {} sent never arrived, while its small packets did",
                    side.name()
                ),
                format!(
                    "The {}'s sequence numbers show {ahead} bytes sent that never reached this                      capture point, while its small packets (ACKs, keepalive answers) kept                      arriving: large packets are dropped on the path (smaller MTU, Path MTU                      Discovery not working).",
                    side.name()
                ),
                evidence,
            ));
            return true;
        }
    }
    for side in [Side::Server, Side::Client] {
        let retrans = handshake_retransmissions(ctx, t, side);
        let big: Vec<_> = retrans.iter().filter(|(_, len)| *len >= 1000).collect();
        if big.len() < 3 {
            continue;
        }
        let small_retrans = retrans.len() - big.len();
        // The other side keeps talking (ACKs, keepalives) or small segments got through.
        let others_alive = ctx.meta.packets_by_side[side.other().index()] > 2;
        if small_retrans > big.len() || !others_alive {
            continue;
        }
        let mut evidence: Vec<Evidence> = big
            .iter()
            .take(5)
            .map(|(at, len)| {
                ctx.ev_frame(
                    at,
                    format!("{} retransmits a {len}-byte segment", side.name()),
                )
            })
            .collect();
        if let Some(p) = ctx.conn.last_progress.as_ref() {
            evidence.push(ctx.ev(&p.at, "last data that got through"));
        }
        out.push(finding(
            "mtu-blackhole",
            format!(
                "MTU black hole: the {}'s full-size segments never get through ({} retransmissions of segments ≥ 1000 bytes)",
                side.name(),
                big.len()
            ),
            format!(
                "The {} retransmitted large segments {} times (largest {} bytes) while small \
                 packets passed both ways: a link on the path has a smaller MTU and Path MTU \
                 Discovery is not working.",
                side.name(),
                big.len(),
                t.max_segment[side.index()]
            ),
            evidence,
        ));
        return true;
    }
    false
}

fn stall_finding(ctx: &Ctx, out: &mut Vec<Finding>) {
    let threshold_ns = (ctx.config.stall_after_ms * 1e6) as i64;
    let end = ctx.progress.data_start.map(|p| p.ts_ns);
    // A silence inside the handshake, broken later.
    let inner = ctx
        .conn
        .waits
        .iter()
        .filter(|w| end.is_none_or(|e| w.to.ts_ns <= e))
        .filter(|w| w.to.ts_ns - w.from.ts_ns >= threshold_ns)
        .max_by_key(|w| w.to.ts_ns - w.from.ts_ns)
        .map(|w| (w.from, w.to, Some(w.waiting_on), true));
    // Or the handshake never finished and nothing new came until the end.
    let tail = if ctx.progress.established {
        None
    } else {
        let from = ctx.conn.last_progress.as_ref().map(|p| p.at).or_else(|| {
            ctx.tcp
                .and_then(|t| t.handshake_ack.as_ref())
                .map(|a| PacketInfo {
                    file: 0,
                    frame: a.frame,
                    ts_ns: a.ts_ns,
                })
        });
        from.filter(|f| ctx.meta.last.ts_ns - f.ts_ns >= threshold_ns)
            .map(|f| {
                let waiting = ctx
                    .conn
                    .last_progress
                    .as_ref()
                    .map(|p| p.side.other())
                    .unwrap_or(Side::Server);
                (f, ctx.meta.last, Some(waiting), false)
            })
    };
    let Some((from, to, waiting, resumed)) = inner.or(tail) else {
        return;
    };
    let secs = ms_between(from.ts_ns, to.ts_ns) / 1000.0;
    let phase = ctx
        .progress
        .phases
        .iter()
        .filter(|p| p.name != crate::session::PhaseName::Closed)
        .rfind(|p| p.start.ts_ns <= from.ts_ns)
        .map(|p| p.name.describe())
        .unwrap_or("connection setup");
    let waiting = waiting.map(|s| s.name()).unwrap_or("the other side");
    let mut evidence = vec![ctx.ev(&from, "last progress before the silence")];
    evidence.push(ctx.ev(
        &to,
        if resumed {
            "next progress"
        } else {
            "last packet of the connection"
        },
    ));
    out.push(finding(
        "handshake-stalled",
        format!("Handshake stalled for {secs:.1} s in the {phase}, waiting on the {waiting}"),
        format!(
            "Nothing moved the handshake forward for {secs:.1} s (threshold {:.0} s) during \
             the {phase}; the {waiting} owed the next message{}.",
            ctx.config.stall_after_ms / 1000.0,
            if resumed {
                ""
            } else {
                " and never sent it (only keepalives, retransmissions or a close followed)"
            }
        ),
        evidence,
    ));
}

fn slow_finding(ctx: &Ctx, out: &mut Vec<Finding>) {
    if !ctx.progress.established || out.iter().any(|f| f.code == "handshake-stalled") {
        return;
    }
    let Some(data) = ctx.progress.data_start else {
        return;
    };
    let total = ms_between(ctx.meta.first.ts_ns, data.ts_ns);
    if total <= ctx.config.slow_after_ms {
        return;
    }
    let longest = ctx
        .progress
        .phases
        .iter()
        .filter(|p| p.start.ts_ns < data.ts_ns)
        .max_by_key(|p| p.duration_ns());
    let (name, dur, ev) = match longest {
        Some(p) => (
            p.name.describe(),
            ms_between(0, p.duration_ns()),
            vec![
                ctx.ev(&p.start, format!("{} starts", p.name.describe())),
                ctx.ev(&p.end, format!("{} ends", p.name.describe())),
            ],
        ),
        None => ("handshake", total, Vec::new()),
    };
    out.push(finding(
        "handshake-slow",
        format!("Slow handshake: {:.1} s to reach the session, {:.1} s of it in the {name}", total / 1000.0, dur / 1000.0),
        format!(
            "The connection reached the session after {:.1} s (threshold {:.1} s); the {name} took longest ({:.1} s).",
            total / 1000.0,
            ctx.config.slow_after_ms / 1000.0,
            dur / 1000.0
        ),
        ev,
    ));
}

pub(super) fn capture_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(t) = ctx.tcp else { return };
    let mut evidence = Vec::new();
    let mut reasons = Vec::new();
    if !t.syn_seen {
        evidence.push(ctx.ev(&ctx.meta.first, "first packet seen, no SYN before it"));
        reasons.push("the capture started after the connection was opened".to_string());
    }
    if !t.gaps.is_empty() {
        let bytes: u64 = t.gaps.iter().map(|g| g.bytes).sum();
        for g in t.gaps.iter().take(3) {
            evidence.push(Evidence {
                frame: g.frame,
                t_ms: ctx.t_ms(g.ts_ns),
                note: format!(
                    "{} bytes from the {} never captured",
                    g.bytes,
                    g.side.name()
                ),
            });
        }
        reasons.push(format!(
            "{} gap(s), {bytes} bytes missing from the capture",
            t.gaps.len()
        ));
    }
    if reasons.is_empty() {
        return;
    }
    out.push(finding(
        "capture-incomplete",
        format!("Capture incomplete: {}", reasons.join("; ")),
        format!(
            "Part of this connection is not in the capture ({}); conclusions about the hidden part are limited.",
            reasons.join("; ")
        ),
        evidence,
    ));
}
