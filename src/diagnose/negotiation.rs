//! The X.224 security negotiation (MS-RDPBCGR 1.3.1.1, 2.2.1.1-2): refused protocols,
//! downgrades, and a Connection Request the server never answers.

use super::{Ctx, Evidence, Facts, Finding, FindingCode, Note, Severity, Unanswered};
use crate::flow::Side;

pub(super) fn negotiation_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let x = &ctx.conn.x224;
    let Some(cr) = &x.request else { return };
    let requested = x.requested_protocols().unwrap_or_default();
    let req_ev = ctx.ev(&cr.at, Note::ClientRequests(requested));
    let Some(cc) = &x.confirm else {
        unanswered_request(ctx, req_ev, out);
        return;
    };
    if let Some(f) = x.failure() {
        let mut evidence = vec![req_ev, ctx.ev(&cc.at, Note::NegFailure(f.failure_code))];
        if let Some((at, close)) = ctx.close_by(Side::Server) {
            evidence.push(ctx.ev(
                &at,
                Note::Closes {
                    side: Side::Server,
                    close,
                },
            ));
        }
        out.push(Finding::new(
            FindingCode::NegotiationFailure,
            Facts::NegotiationFailure {
                requested,
                failure: f.failure_code,
            },
            evidence,
        ));
        return;
    }
    let Some(selected) = x.selected_protocol() else {
        return;
    };
    let not_requested = selected.0 & !requested.0;
    let downgraded = selected.0 == 0 && requested.0 != 0;
    if !downgraded && not_requested == 0 {
        return;
    }
    let mut evidence = vec![req_ev, ctx.ev(&cc.at, Note::ServerSelects(selected))];
    // The client gave up at once: the downgrade is why the connection failed.
    let refused = ctx.first_close().filter(|(side, at, _)| {
        *side == Side::Client
            && ctx
                .conn
                .last_payload
                .get(Side::Client)
                .is_some_and(|p| p.ts_ns <= cr.at.ts_ns)
            && at.ts_ns >= cc.at.ts_ns
    });
    if let Some((side, at, close)) = refused {
        evidence.push(ctx.ev(&at, Note::Closes { side, close }));
    }
    let mut f = Finding::new(
        FindingCode::SecurityDowngrade,
        Facts::SecurityDowngrade {
            requested,
            selected,
            client_refused: refused.is_some(),
        },
        evidence,
    );
    if refused.is_some() {
        f.severity = Severity::Error;
    }
    out.push(f);
}

fn unanswered_request(ctx: &Ctx, req_ev: Evidence, out: &mut Vec<Finding>) {
    if let Some(f) = super::not_rdp::not_rdp_service(ctx, &req_ev) {
        out.push(f);
        return;
    }
    // A request that the path dropped every time it was sent (resent, never acknowledged)
    // never reached the server: the server cannot be blamed for not answering it, and
    // segment-black-holed names what happened.
    let request_never_arrived = ctx
        .progress
        .facts
        .black_holed
        .as_ref()
        .is_some_and(|b| b.side == Side::Client && b.series.first_sent.frame <= req_ev.frame);
    let server_spoke = ctx.conn.last_payload.get(Side::Server).is_some();
    if server_spoke || request_never_arrived {
        return;
    }
    let close = ctx.first_close();
    // A server that closes right after the request answered it: with a refusal, not silence.
    if let Some((Side::Server, at, close)) = close {
        if ctx.t_ms(at.ts_ns) - req_ev.t_ms < ctx.config.slow_after_ms {
            out.push(super::not_rdp::refused_request(ctx, req_ev, at, close));
            return;
        }
    }
    let waited_ms = ctx.t_ms(ctx.meta.last.ts_ns) - req_ev.t_ms;
    if close.is_none() && waited_ms < ctx.config.stall_after_ms {
        return;
    }
    let mut evidence = vec![req_ev];
    let ending = match close {
        Some((side, at, close)) => {
            evidence.push(ctx.ev(&at, Note::Closes { side, close }));
            Unanswered::Closed { side, close }
        }
        None => {
            evidence.push(ctx.ev(&ctx.meta.last, Note::StillNoAnswer));
            Unanswered::StillWaiting { waited_ms }
        }
    };
    out.push(Finding::new(
        FindingCode::ServerUnresponsive,
        Facts::ServerUnresponsive(ending),
        evidence,
    ));
}
