//! Who ended a connection that never reached its session, when nothing found before explains
//! it: the server refusing NLA during or right after CredSSP (MS-CSSP 3.1.5), packet loss
//! the client gave up on, or a plain abort by either side after the last message seen.

use super::{Close, Ctx, Evidence, Facts, Finding, FindingCode, Note, Severity};
use crate::flow::{FrameTime, Gap, Side};
use crate::proto::nego::Protocols;
use crate::session::phases::Flight;
use crate::session::{Event, EventKind};

/// Findings that already say why the connection failed.
fn explains_the_end(f: &Finding) -> bool {
    match f.code {
        FindingCode::TlsVersionMismatch
        | FindingCode::TlsCipherMismatch
        | FindingCode::ServerResetAfterClientHello
        | FindingCode::ClientRejectedCertificate
        | FindingCode::NegotiationFailure
        | FindingCode::PortFiltered
        | FindingCode::ConnectionRefused
        | FindingCode::ServerUnresponsive
        | FindingCode::SegmentBlackHoled
        | FindingCode::NotRdpService
        | FindingCode::ServerAbort => true,
        FindingCode::SecurityDowngrade => f.severity == Severity::Error,
        _ => false,
    }
}

pub(super) fn credssp_and_abort_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    if out.iter().any(explains_the_end) || ctx.progress.established || finished_cleanly(ctx) {
        return;
    }
    let Some((closer, at, close)) = ctx.first_close() else {
        return;
    };
    let x = &ctx.conn.x224;
    let tls_done = ctx.conn.tls.handshake_done.is_some();
    if x.nla_selected() && tls_done && closer == Side::Server {
        out.push(nla_failed(ctx, at, close, None));
        return;
    }
    // The server's alert after the client's credentials (CredSSP message 3, MS-CSSP 3.1.5)
    // is its refusal, whoever closes the TCP connection afterwards.
    if x.nla_selected() && tls_done {
        if let Some((alert, creds)) = server_alert_after_credentials(ctx) {
            out.push(nla_failed(ctx, at, close, Some((alert, creds))));
            return;
        }
    }
    let last = last_message_before(ctx, at.ts_ns);
    let mut evidence = Vec::new();
    if let Some(e) = &last {
        evidence.push(ctx.ev(&e.at, Note::LastMessage(e.clone())));
    }
    evidence.push(ctx.ev(
        &at,
        Note::Closes {
            side: closer,
            close,
        },
    ));
    let phase = ctx.progress.last_phase().map(|p| p.name);
    // A client that gives up after a long silence is a stall, and one that gives up while
    // its data or the server's is being retransmitted is lost packets: both reported as such.
    let stalled = out.iter().any(|f| f.code == FindingCode::HandshakeStalled);
    if closer == Side::Client && !stalled && blame_loss(ctx, out, &at, close) {
        return;
    }
    if closer == Side::Server {
        let ultimatum = ctx
            .conn
            .mcs
            .ultimatum
            .as_ref()
            .filter(|u| u.side == Side::Server)
            .map(|u| u.value);
        out.push(Finding::new(
            FindingCode::ServerAbort,
            Facts::Abort {
                close,
                phase,
                last,
                ultimatum,
            },
            evidence,
        ));
    } else if !stalled {
        out.push(Finding::new(
            FindingCode::ClientAbort,
            Facts::Abort {
                close,
                phase,
                last,
                ultimatum: None,
            },
            evidence,
        ));
    }
}

/// How the capture shows that the client sent its credentials (CredSSP message 3).
#[derive(Clone, Copy)]
enum CredentialsSent<'a> {
    /// The client's second CredSSP flight is in the capture.
    Seen(&'a Flight),
    /// The capture lacks them, but after its CredSSP message 2 the server acknowledged client
    /// bytes the capture never saw (tshark: "ACKed segment that wasn't captured"): the
    /// client did send its next message, inside that gap.
    InGap(&'a Gap),
}

impl CredentialsSent<'_> {
    fn ts_ns(&self) -> i64 {
        match self {
            CredentialsSent::Seen(f) => f.first.ts_ns,
            CredentialsSent::InGap(g) => g.ts_ns,
        }
    }
}

/// The client's credentials, seen or proved sent by the server's acknowledgement.
fn credentials_sent<'a>(ctx: &Ctx<'a>) -> Option<CredentialsSent<'a>> {
    let flights = &ctx.progress.credssp_flights;
    if let Some(f) = flights.iter().filter(|f| f.side == Side::Client).nth(1) {
        return Some(CredentialsSent::Seen(f));
    }
    // Message 1 from the client, message 2 from the server, nothing from the client after.
    let [first, second] = flights.as_slice() else {
        return None;
    };
    if first.side != Side::Client || second.side != Side::Server {
        return None;
    }
    // The server's message 2 carried its acknowledgement of every client byte before it (a
    // hole then would have been recorded at that frame): bytes it acknowledged later were
    // sent after message 2.
    let after_message_2 = |g: &Gap| (g.ts_ns, g.frame) > (second.last.ts_ns, second.last.frame);
    ctx.tcp?
        .gaps
        .iter()
        .find(|g| g.side == Side::Client && g.shown_by_ack && after_message_2(g))
        .map(CredentialsSent::InGap)
}

/// The server's first TLS alert after the client's third CredSSP message, with how the
/// capture shows that message.
fn server_alert_after_credentials<'a>(
    ctx: &Ctx<'a>,
) -> Option<(&'a crate::session::Event, CredentialsSent<'a>)> {
    let creds = credentials_sent(ctx)?;
    let alert = ctx.conn.timeline.events.iter().find(|e| {
        e.dir == Side::Server
            && e.at.ts_ns >= creds.ts_ns()
            && matches!(e.kind, EventKind::TlsAlert { .. })
    })?;
    Some((alert, creds))
}

/// `alert` as evidence sent after the client's FIN (RFC 793 3.5: the server may still send
/// on a half-closed connection), or `None` when it came before the client closed.
fn alert_after_client_fin(ctx: &Ctx, alert: &Event) -> Option<Note> {
    let (fin, close) = ctx.close_by(Side::Client)?;
    let EventKind::TlsAlert {
        description,
        encrypted,
        ..
    } = alert.kind
    else {
        return None;
    };
    (close == Close::Fin && fin.ts_ns < alert.at.ts_ns).then_some(Note::AlertAfterClientFin {
        encrypted,
        description,
    })
}

/// The server closed (or sent an alert) after TLS with NLA selected: CredSSP failed.
fn nla_failed(
    ctx: &Ctx,
    at: crate::flow::PacketInfo,
    close: Close,
    alert: Option<(&crate::session::Event, CredentialsSent)>,
) -> Finding {
    let p = ctx.progress;
    let mut messages = p.credssp_flights.len();
    let mut evidence: Vec<Evidence> = p
        .credssp_flights
        .iter()
        .enumerate()
        .map(|(i, f)| {
            ctx.ev(
                &f.first,
                Note::CredsspMessage {
                    n: i + 1,
                    side: f.side,
                    bytes: f.bytes,
                },
            )
        })
        .collect();
    if let Some((_, CredentialsSent::InGap(g))) = alert {
        messages += 1;
        evidence.push(ctx.ev_frame(
            &FrameTime {
                frame: g.frame,
                ts_ns: g.ts_ns,
            },
            Note::CredentialsInGap {
                n: messages,
                bytes: g.bytes,
            },
        ));
    }
    let alert = alert.map(|(a, _)| a);
    let closer = ctx.first_close().map(|(s, _, _)| s).unwrap_or(Side::Server);
    let closes = ctx.ev(
        &at,
        Note::Closes {
            side: closer,
            close,
        },
    );
    match alert.map(|a| (a, alert_after_client_fin(ctx, a))) {
        // The client's FIN came first: the evidence follows the packets' order.
        Some((a, Some(note))) => {
            evidence.push(closes);
            evidence.push(ctx.ev(&a.at, note));
        }
        Some((a, None)) => {
            evidence.push(ctx.ev(&a.at, Note::LastMessage(a.clone())));
            evidence.push(closes);
        }
        None => evidence.push(closes),
    }
    let hybrid_ex = ctx
        .conn
        .x224
        .selected_protocol()
        .is_some_and(|s| s.0 & Protocols::HYBRID_EX != 0);
    Finding::new(
        FindingCode::NlaFailed,
        Facts::NlaFailed {
            hybrid_ex,
            closer,
            server_alert: alert.is_some(),
            close,
            messages,
            complete: p.credssp_complete,
        },
        evidence,
    )
}

/// When the last segment was lost (retransmitted, or resent into a hole).
fn last_loss_ns(ctx: &Ctx) -> Option<i64> {
    let t = ctx.tcp?;
    let mut times: Vec<i64> = Vec::new();
    for side in [Side::Client, Side::Server] {
        times.extend(
            t.retransmitted_segments
                .get(side)
                .iter()
                .map(|(f, _)| f.ts_ns),
        );
        times.extend(
            t.progress(side)
                .loss()
                .last_upstream_resend
                .iter()
                .map(|f| f.ts_ns),
        );
    }
    times.extend(t.syn_ack_retries.iter().map(|f| f.ts_ns));
    if t.syn_ack_seen {
        times.extend(t.syn_retries.iter().map(|f| f.ts_ns));
    }
    times.into_iter().max()
}

/// The client gave up while segments were being lost: the loss finding is why it failed.
/// Not when the connection moved on after the last loss (new bytes delivered later): the
/// client then gave up on something else, and the loss stays a warning.
fn blame_loss(ctx: &Ctx, out: &mut [Finding], at: &crate::flow::PacketInfo, close: Close) -> bool {
    let progressed_after_loss = match (last_loss_ns(ctx), ctx.conn.last_progress.as_ref()) {
        (Some(loss), Some(p)) => p.at.ts_ns > loss,
        _ => false,
    };
    if progressed_after_loss {
        return false;
    }
    let Some(loss) = out
        .iter_mut()
        .find(|f| matches!(f.code, FindingCode::PacketLoss | FindingCode::MtuBlackhole))
    else {
        return false;
    };
    match &mut loss.facts {
        Facts::PacketLoss { client_gave_up, .. } | Facts::MtuBlackhole { client_gave_up, .. } => {
            *client_gave_up = Some(close)
        }
        _ => return false,
    }
    loss.severity = Severity::Error;
    loss.evidence.push(ctx.ev(
        at,
        Note::Closes {
            side: Side::Client,
            close,
        },
    ));
    true
}

/// The last protocol event (not TCP bookkeeping) before `ts_ns`.
fn last_message_before(ctx: &Ctx, ts_ns: i64) -> Option<Event> {
    ctx.conn
        .timeline
        .events
        .iter()
        .rfind(|e| e.at.ts_ns <= ts_ns && !e.kind.is_tcp())
        .cloned()
}

/// A connection that ended by the client's choice after a successful handshake: FreeRDP's
/// `+auth-only`, or a client that only checked the server.
pub(super) fn finished_cleanly(ctx: &Ctx) -> bool {
    let Some((side, _, close)) = ctx.first_close() else {
        return false;
    };
    if side != Side::Client || close != Close::Fin {
        return false;
    }
    ctx.conn.x224.nla_selected() && ctx.progress.credssp_complete
}
