//! Findings for RDP-UDP flows: blocked, half-done handshakes, loss, and a transport that went
//! silent while its TCP connection lived on.

use super::{Ctx, Facts, Finding, FindingCode, Note};
use crate::flow::Side;
use crate::session::udp::UdpState;

pub use crate::correlate::TcpPeer;

/// Keepalive interval of RDP-UDP (EUDP 3.1.6): a flow silent this long is dead.
const UDP_KEEPALIVE_NS: i64 = 65_000_000_000;
/// Windows gives the UDP handshake ~4 SYNs 800 ms apart (EUDP Appendix A <5>).
const SYN_GIVE_UP: u32 = 3;
/// Data datagrams a direction needs before its loss figure means anything.
const MIN_LOSS_DATAGRAMS: u64 = 10;

pub(super) fn udp_findings(ctx: &Ctx, u: &UdpState, peer: Option<TcpPeer>, out: &mut Vec<Finding>) {
    if u.syn_count > 0 && u.synack.is_none() {
        let mut evidence: Vec<_> = u
            .syn_times
            .iter()
            .take(6)
            .map(|at| ctx.ev(at, Note::UdpSyn))
            .collect();
        if let Some(p) = peer {
            evidence.push(ctx.ev(&ctx.meta.last, Note::UdpNoSynAck { tcp: p.id }));
        }
        let code = if u.syn_count >= SYN_GIVE_UP || peer.is_some_and(|p| p.established) {
            FindingCode::UdpBlocked
        } else {
            FindingCode::UdpHandshakeIncomplete
        };
        let facts = Facts::UdpNoSynAck {
            syns: u.syn_count,
            port: ctx.meta.server.port,
            peer,
        };
        out.push(Finding::new(code, facts, evidence));
        return;
    }
    if let (Some(sa), None) = (u.synack, u.established) {
        let facts = Facts::UdpNoClientAck {
            syn_retries: u.syn_count.saturating_sub(1),
            peer,
        };
        out.push(Finding::new(
            FindingCode::UdpHandshakeIncomplete,
            facts,
            vec![ctx.ev(&sa, Note::UdpSynAck)],
        ));
        return;
    }
    for side in [Side::Client, Side::Server] {
        let s = u.seqs.get(side);
        let pct = s.loss_pct();
        if pct > ctx.config.udp_loss_pct && s.distinct >= MIN_LOSS_DATAGRAMS {
            let facts = Facts::UdpLoss {
                side,
                pct,
                distinct: s.distinct,
                retransmitted: s.retransmitted,
                never_seen: s.never_seen(),
                reported_missing: s.reported_missing,
                threshold_pct: ctx.config.udp_loss_pct,
            };
            let evidence = u
                .last
                .get(side)
                .map(|at| vec![ctx.ev(&at, Note::LastDatagram)])
                .unwrap_or_default();
            out.push(Finding::new(FindingCode::UdpLoss, facts, evidence));
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
            let facts = Facts::UdpSilent {
                tcp: p.id,
                silent_s: (p.last_ns - last) as f64 / 1e9,
            };
            out.push(Finding::new(
                FindingCode::UdpDroppedAfterSetup,
                facts,
                vec![ctx.ev(&ctx.meta.last, Note::LastUdpDatagram)],
            ));
        }
    }
}
