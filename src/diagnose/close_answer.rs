//! A server TLS alert that answers the client's close (issue 18 case 11): the client sent its
//! FIN while it owed the next message, and the server's alert came after that FIN (RFC 793
//! 3.5: a half-closed connection still carries the server's bytes; OpenSSL answers an
//! unexpected end of data with `decode_error`, Windows with its own alert). It is evidence on
//! the client-side finding, never a refusal by the server.

use super::{Close, Ctx, Finding, FindingCode, Note};
use crate::flow::Side;
use crate::session::EventKind;

pub(super) fn alert_after_client_close(ctx: &Ctx, out: &mut [Finding]) {
    let Some(f) = out.iter_mut().find(|f| {
        matches!(
            f.code,
            FindingCode::ClientAbort | FindingCode::ClientRejectedCertificate
        )
    }) else {
        return;
    };
    let Some((fin, Close::Fin)) = ctx.close_by(Side::Client) else {
        return;
    };
    let events = &ctx.conn.timeline.events;
    // Who owed the next message when the client closed: the side that did not send the last
    // protocol message before the FIN (the client's own alert is its way of leaving).
    let last = events.iter().rfind(|e| {
        e.at.ts_ns <= fin.ts_ns
            && !e.kind.is_tcp()
            && !(e.dir == Side::Client && matches!(e.kind, EventKind::TlsAlert { .. }))
    });
    if last.is_none_or(|e| e.dir != Side::Server) {
        return;
    }
    let alert = events.iter().find_map(|e| match e.kind {
        EventKind::TlsAlert {
            description,
            encrypted,
            ..
        } if e.dir == Side::Server && (e.at.ts_ns, e.at.frame) > (fin.ts_ns, fin.frame) => {
            Some((e.at, encrypted, description))
        }
        _ => None,
    });
    let Some((at, encrypted, description)) = alert else {
        return;
    };
    f.evidence.push(ctx.ev(
        &at,
        Note::AlertAfterClientFin {
            encrypted,
            description,
        },
    ));
}
