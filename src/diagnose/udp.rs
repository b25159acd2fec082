//! Findings for RDP-UDP flows: blocked, half-done handshakes, loss, and a transport that went
//! silent while its TCP connection lived on.

use super::{finding, Ctx, Finding};
use crate::flow::Side;
use crate::session::udp::UdpState;

pub use crate::correlate::TcpPeer;

/// Keepalive interval of RDP-UDP (EUDP 3.1.6): a flow silent this long is dead.
const UDP_KEEPALIVE_NS: i64 = 65_000_000_000;
/// Windows gives the UDP handshake ~4 SYNs 800 ms apart (EUDP Appendix A <5>).
const SYN_GIVE_UP: u32 = 3;

pub(super) fn udp_findings(ctx: &Ctx, u: &UdpState, peer: Option<TcpPeer>, out: &mut Vec<Finding>) {
    let fallback = match peer {
        Some(p) if p.established => format!(
            " The TCP connection #{} carried on: the client fell back to TCP.",
            p.id
        ),
        Some(p) => format!(" (TCP connection #{}.)", p.id),
        None => String::new(),
    };
    if u.syn_count > 0 && u.synack.is_none() {
        let mut evidence: Vec<_> = u
            .syn_times
            .iter()
            .take(6)
            .map(|at| ctx.ev(at, "client RDP-UDP SYN"))
            .collect();
        if let Some(p) = peer {
            evidence.push(ctx.ev(
                &ctx.meta.last,
                format!("no SYN+ACK; TCP connection #{} is the session", p.id),
            ));
        }
        let (code, title) = if u.syn_count >= SYN_GIVE_UP || peer.is_some_and(|p| p.established) {
            (
                "udp-blocked",
                format!(
                    "RDP over UDP blocked: {} SYN(s) to {} never answered",
                    u.syn_count, ctx.meta.server
                ),
            )
        } else {
            (
                "udp-handshake-incomplete",
                format!("RDP-UDP handshake not answered ({} SYN)", u.syn_count),
            )
        };
        out.push(finding(
            code,
            title,
            format!(
                "The client tried the UDP transport with {} SYN(s) of {} bytes-padded datagrams and got no SYN+ACK: UDP {} is filtered on the way (or large datagrams are dropped).{fallback}",
                u.syn_count, 1232, ctx.meta.server.port
            ),
            evidence,
        ));
        return;
    }
    if let (Some(sa), None) = (u.synack, u.established) {
        let retries = u.syn_count.saturating_sub(1);
        out.push(finding(
            "udp-handshake-incomplete",
            format!("RDP-UDP handshake incomplete: the server answered, the client never completed it ({retries} SYN retries after)"),
            format!("The server sent its SYN+ACK but no client datagram followed it: the return path drops it (asymmetric filtering, NAT timeout) or the client gave up on UDP.{fallback}"),
            vec![ctx.ev(&sa, "server RDP-UDP SYN+ACK")],
        ));
        return;
    }
    for side in [Side::Client, Side::Server] {
        let s = &u.seqs[side.index()];
        let pct = s.loss_pct();
        if pct > ctx.config.udp_loss_pct && s.distinct >= 10 {
            out.push(finding(
                "udp-loss",
                format!("RDP-UDP loss from the {}: {pct:.1} %", side.name()),
                format!(
                    "Of the {}'s {} data datagrams seen, {} were retransmitted, {} never reached the capture point and the peer's acknowledgements reported {} missing: {pct:.1} % loss (threshold {:.1} %).",
                    side.name(),
                    s.distinct,
                    s.retransmitted,
                    s.never_seen(),
                    s.reported_missing,
                    ctx.config.udp_loss_pct
                ),
                u.last[side.index()].map(|at| vec![ctx.ev(&at, "last datagram")]).unwrap_or_default(),
            ));
        }
    }
    if let (Some(p), Some(_)) = (peer, u.established) {
        let last = u
            .last
            .iter()
            .flatten()
            .map(|a| a.ts_ns)
            .max()
            .unwrap_or(ctx.meta.last.ts_ns);
        if p.last_ns - last > UDP_KEEPALIVE_NS {
            out.push(finding(
                "udp-dropped-after-setup",
                format!("RDP-UDP went silent while TCP connection #{} lived on", p.id),
                format!(
                    "The UDP transport was set up, then no datagram came for {:.0} s while the TCP connection went on: the UDP path died (there is no close in RDP-UDP) and the session fell back to TCP.",
                    (p.last_ns - last) as f64 / 1e9
                ),
                vec![ctx.ev(&ctx.meta.last, "last RDP-UDP datagram")],
            ));
        }
    }
}
