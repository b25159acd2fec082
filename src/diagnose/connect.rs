//! The TCP connect: SYNs never answered (filtered), answered by a reset or an ICMP reject.

use super::{Ctx, Facts, Finding, FindingCode, Note};
use crate::flow::Side;
use crate::timefmt::ms_between;

pub(super) fn connect_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(t) = ctx.tcp else { return };
    if !t.syn_seen || t.syn_ack_seen {
        return;
    }
    let Some(syn) = &t.first_syn else { return };
    let mut evidence = vec![ctx.ev_frame(syn, Note::ClientSyn)];
    for r in t.syn_retries.iter().take(6) {
        evidence.push(ctx.ev_frame(r, Note::ClientSynRetry));
    }
    if let Some(r) = t.rst.get(Side::Server) {
        evidence.push(ctx.ev_frame(r, Note::ServerRst));
        out.push(Finding::new(
            FindingCode::ConnectionRefused,
            Facts::RefusedByReset,
            evidence,
        ));
        return;
    }
    if let Some((at, icmp)) = ctx.conn.unreachable.as_deref() {
        evidence.push(ctx.ev(at, Note::Icmp(*icmp)));
        out.push(Finding::new(
            FindingCode::ConnectionRefused,
            Facts::RefusedByIcmp(*icmp),
            evidence,
        ));
        return;
    }
    let tries = 1 + t.syn_retries.len();
    let span_s = t
        .syn_retries
        .last()
        .map(|l| ms_between(syn.ts_ns, l.ts_ns) / 1000.0)
        .unwrap_or(0.0);
    out.push(Finding::new(
        FindingCode::PortFiltered,
        Facts::PortFiltered { tries, span_s },
        evidence,
    ));
}
