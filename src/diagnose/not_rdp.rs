//! A Connection Request answered with something other than a Connection Confirm: bytes of
//! another protocol (`not-rdp-service`), or a close at once (`server-abort`, a refusal of
//! that request rather than a hung service).

use super::finding::OtherProtocol;
use super::{Close, Ctx, Evidence, Facts, Finding, FindingCode, Note};
use crate::flow::{PacketInfo, Side};
use crate::session::{EventKind, PhaseName};

/// The server's first bytes that fit no RDP framing, as a finding.
pub(super) fn not_rdp_service(ctx: &Ctx, req_ev: &Evidence) -> Option<Finding> {
    let e = ctx
        .conn
        .timeline
        .events
        .iter()
        .find(|e| e.dir == Side::Server && matches!(e.kind, EventKind::NotRdpBytes { .. }))?;
    let EventKind::NotRdpBytes { len, head, .. } = &e.kind else {
        return None;
    };
    let mut evidence = vec![
        req_ev.clone(),
        ctx.ev(&e.at, Note::NotRdpAnswer { len: *len }),
    ];
    let close = ctx.close_by(Side::Server).map(|(at, close)| {
        evidence.push(ctx.ev(
            &at,
            Note::Closes {
                side: Side::Server,
                close,
            },
        ));
        close
    });
    evidence.sort_by_key(|e| e.frame);
    Some(Finding::new(
        FindingCode::NotRdpService,
        Facts::NotRdpService {
            port: ctx.meta.server.port,
            len: *len,
            head: head.as_slice().to_vec(),
            recognised: recognise(head.as_slice()),
            close,
        },
        evidence,
    ))
}

/// The protocol a service's first bytes belong to, when they say so.
pub fn recognise(head: &[u8]) -> Option<OtherProtocol> {
    let starts = |p: &[u8]| {
        head.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    if starts(b"SSH-") {
        return Some(OtherProtocol::Ssh);
    }
    if starts(b"HTTP/") || starts(b"<!DOCTYPE") || starts(b"<html") || starts(b"<?xml") {
        return Some(OtherProtocol::Http);
    }
    // TLS record header: content type 20..=23, version major 3 (RFC 8446 5.1).
    if let [t, 3, minor, ..] = head {
        if (20..=23).contains(t) && *minor <= 4 {
            return Some(OtherProtocol::Tls);
        }
    }
    // "220 ", "+OK ", "* OK": a line-based service greeting.
    let text = head.len() >= 4
        && head
            .iter()
            .all(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\r' | b'\n' | b'\t'));
    text.then_some(OtherProtocol::TextBanner)
}

/// The server closed right after the Connection Request without sending a byte.
pub(super) fn refused_request(
    ctx: &Ctx,
    req_ev: Evidence,
    at: PacketInfo,
    close: Close,
) -> Finding {
    let last = ctx
        .conn
        .timeline
        .events
        .iter()
        .rfind(|e| matches!(e.kind, EventKind::X224Request { .. }))
        .cloned();
    Finding::new(
        FindingCode::ServerAbort,
        Facts::Abort {
            close,
            phase: Some(PhaseName::X224Negotiation),
            last,
            ultimatum: None,
        },
        vec![
            req_ev,
            ctx.ev(
                &at,
                Note::Closes {
                    side: Side::Server,
                    close,
                },
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_first_bytes_name_their_protocol() {
        assert_eq!(recognise(b"SSH-2.0-OpenSSH_9.6"), Some(OtherProtocol::Ssh));
        assert_eq!(recognise(b"HTTP/1.1 400 Bad"), Some(OtherProtocol::Http));
        assert_eq!(recognise(b"<!DOCTYPE HTML>"), Some(OtherProtocol::Http));
        assert_eq!(
            recognise(&[0x15, 3, 3, 0, 2, 2, 50]),
            Some(OtherProtocol::Tls)
        );
        assert_eq!(
            recognise(b"220 mail ESMTP\r\n"),
            Some(OtherProtocol::TextBanner)
        );
        assert_eq!(recognise(&[0, 1, 2, 3, 4]), None);
        assert_eq!(recognise(b""), None);
    }
}
