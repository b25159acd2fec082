//! The TLS handshake (RFC 8446, RFC 5246): no shared version or suite, a server that drops
//! the ClientHello, and the server certificate's problems and refusal.

use super::{CertProblem, Close, Ctx, Facts, Finding, FindingCode, Note, Severity, VersionRefusal};
use crate::flow::{PacketInfo, Side};

/// protocol_version, internal_error, handshake_failure, insufficient_security (RFC 8446 6.2).
const ALERT_PROTOCOL_VERSION: u8 = 70;
const ALERT_INTERNAL_ERROR: u8 = 80;
const ALERT_HANDSHAKE_FAILURE: u8 = 40;
const ALERT_INSUFFICIENT_SECURITY: u8 = 71;
/// bad_certificate..certificate_unknown, unknown_ca (RFC 8446 6.2).
fn certificate_alert(description: u8) -> bool {
    matches!(description, 42..=46 | 48)
}

/// How soon after the handshake a client that refuses the certificate leaves.
const CERT_VERDICT_NS: i64 = 1_000_000_000;

pub(super) fn tls_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let t = &ctx.conn.tls;
    let Some(ch) = &t.client_hello else { return };
    let offered = ch.value.offered_versions();
    let ch_ev = ctx.ev(
        &ch.at,
        Note::ClientHello {
            offered: offered.clone(),
            suites: ch.value.cipher_suites.len(),
        },
    );
    // A version the client never offered, or an alert that says so.
    let sh_bad_version = t
        .server_hello
        .as_ref()
        .filter(|sh| !offered.contains(&sh.value.selected_version));
    let alert = t.alert.as_ref().filter(|a| !a.value.encrypted);
    // OpenSSL-based servers (xrdp) answer internal_error when no protocol version is usable.
    let server_refused_versions = alert.is_some_and(|a| {
        a.side == Side::Server
            && a.value.description == ALERT_INTERNAL_ERROR
            && t.server_hello.is_none()
    });
    if sh_bad_version.is_some()
        || alert.is_some_and(|a| a.value.description == ALERT_PROTOCOL_VERSION)
        || server_refused_versions
    {
        let mut evidence = vec![ch_ev];
        let mut why = None;
        if let Some(sh) = sh_bad_version {
            why = Some(VersionRefusal::ServerChose(sh.value.selected_version));
            evidence.push(ctx.ev(&sh.at, Note::ServerHelloSelects(sh.value.selected_version)));
        }
        if let Some(a) = alert {
            let refusal = VersionRefusal::Alert {
                side: a.side,
                description: a.value.description,
            };
            why.get_or_insert(refusal);
            evidence.push(ctx.ev(
                &a.at,
                Note::SendsAlert {
                    side: a.side,
                    description: a.value.description,
                },
            ));
        }
        if let Some(why) = why {
            out.push(Finding::new(
                FindingCode::TlsVersionMismatch,
                Facts::TlsVersionMismatch { offered, why },
                evidence,
            ));
        }
        return;
    }
    if let Some(a) = alert.filter(|a| {
        matches!(
            a.value.description,
            ALERT_HANDSHAKE_FAILURE | ALERT_INSUFFICIENT_SECURITY
        )
    }) {
        let note = Note::SendsAlert {
            side: a.side,
            description: a.value.description,
        };
        out.push(Finding::new(
            FindingCode::TlsCipherMismatch,
            Facts::TlsCipherMismatch {
                side: a.side,
                description: a.value.description,
                suites: ch.value.cipher_suites.clone(),
            },
            vec![ch_ev, ctx.ev(&a.at, note)],
        ));
        return;
    }
    if t.server_hello.is_none()
        && alert.is_none()
        && server_dropped_hello(ctx, &ch.at, ch_ev.clone(), out)
    {
        return;
    }
    certificate_findings(ctx, out);
}

/// The server closed right after the ClientHello, with no ServerHello and no alert.
fn server_dropped_hello(
    ctx: &Ctx,
    hello: &PacketInfo,
    ch_ev: super::Evidence,
    out: &mut Vec<Finding>,
) -> bool {
    let t = &ctx.conn.tls;
    let Some((at, close)) = ctx.close_by(Side::Server) else {
        return false;
    };
    let quick = at.ts_ns - hello.ts_ns < (ctx.config.stall_after_ms * 1e6) as i64;
    let client_first = ctx
        .close_by(Side::Client)
        .is_some_and(|(c, _)| c.ts_ns < at.ts_ns);
    if !quick || client_first || *t.records.get(Side::Server) != 0 {
        return false;
    }
    let mut evidence = vec![ch_ev];
    if let Some(u) = ctx
        .conn
        .mcs
        .ultimatum
        .as_ref()
        .filter(|u| u.side == Side::Server)
    {
        evidence.push(ctx.ev(&u.at, Note::ServerUltimatum(u.value)));
    }
    evidence.push(ctx.ev(&at, Note::ServerClosesWithoutHello(close)));
    let after_ms = (at.ts_ns - hello.ts_ns) as f64 / 1e6;
    out.push(Finding::new(
        FindingCode::ServerResetAfterClientHello,
        Facts::ServerResetAfterClientHello { close, after_ms },
        evidence,
    ));
    true
}

/// Problems of the server's leaf certificate at the time of the connection.
fn certificate_problems(ctx: &Ctx) -> Vec<CertProblem> {
    let t = &ctx.conn.tls;
    let Some(leaf) = t.certificates.as_ref().and_then(|c| c.value.first()) else {
        return Vec::new();
    };
    let now = ctx.meta.first.ts_ns / 1_000_000_000;
    if let Some(e) = &leaf.parse_error {
        return vec![CertProblem::Unparseable(e.clone())];
    }
    let mut problems = Vec::new();
    if leaf.expired_at(now) {
        problems.push(CertProblem::Expired {
            not_after: leaf.not_after.clone(),
        });
    }
    if leaf.not_yet_valid_at(now) {
        problems.push(CertProblem::NotYetValid {
            not_before: leaf.not_before.clone(),
        });
    }
    if leaf.self_signed {
        problems.push(CertProblem::SelfSigned);
    }
    if let Some(sni) = t.client_hello.as_ref().and_then(|c| c.value.sni.as_ref()) {
        if !leaf.matches_host(sni) {
            problems.push(CertProblem::NameMismatch {
                subject: leaf.subject.clone(),
                sni: sni.clone(),
            });
        }
    }
    if leaf.weak_key() {
        problems.push(CertProblem::WeakKey {
            key: leaf.key.clone(),
        });
    }
    problems
}

fn certificate_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let t = &ctx.conn.tls;
    let problems = certificate_problems(ctx);
    let subject = t
        .certificates
        .as_ref()
        .and_then(|c| c.value.first())
        .map(|c| c.subject.clone())
        .unwrap_or_default();
    let client_close = ctx.close_by(Side::Client);
    if client_refused_certificate(ctx, client_close) {
        let mut evidence = Vec::new();
        if let Some(c) = &t.certificates {
            evidence.push(ctx.ev(&c.at, Note::ServerCertificate(subject.clone())));
        }
        if let Some(a) = t.alert.as_ref().filter(|a| a.side == Side::Client) {
            let note = Note::ClientAlert {
                encrypted: a.value.encrypted,
                description: a.value.description,
            };
            evidence.push(ctx.ev(&a.at, note));
        }
        if let Some((at, close)) = client_close {
            evidence.push(ctx.ev(&at, Note::ClientClosesWithoutData(close)));
        }
        if !problems.is_empty() {
            let mut f = certificate_problem(ctx, problems.clone(), subject);
            f.severity = Severity::Error;
            out.push(f);
        }
        out.push(Finding::new(
            FindingCode::ClientRejectedCertificate,
            Facts::ClientRejectedCertificate { problems },
            evidence,
        ));
        return;
    }
    if !problems.is_empty() {
        out.push(certificate_problem(ctx, problems, subject));
    }
}

/// The client walked away once it had seen the server's certificate, sending no data.
fn client_refused_certificate(ctx: &Ctx, client_close: Option<(PacketInfo, Close)>) -> bool {
    let t = &ctx.conn.tls;
    let client_alert = t.alert.as_ref().filter(|a| a.side == Side::Client);
    let server_closed_first = match (ctx.close_by(Side::Server), client_close) {
        (Some((s, _)), Some((c, _))) => s.ts_ns < c.ts_ns,
        (Some(_), None) => true,
        _ => false,
    };
    // TLS 1.2: the client checks the certificate once the handshake is done and leaves with
    // an alert right away. TLS 1.3: it checks before its Finished, and sends an alert instead.
    let done = t.handshake_done;
    let quick_exit = |at: &PacketInfo| done.is_some_and(|d| at.ts_ns - d.ts_ns <= CERT_VERDICT_NS);
    let cert_alert =
        client_alert.is_some_and(|a| !a.value.encrypted && certificate_alert(a.value.description));
    let tls13_refusal = t.is_tls13()
        && t.finished.get(Side::Client).is_none()
        && t.finished.get(Side::Server).is_some()
        && client_alert.is_some();
    let post_handshake_alert = client_alert.is_some_and(|a| a.value.encrypted && quick_exit(&a.at));
    !server_closed_first
        && *t.app_records.get(Side::Client) == 0
        && (cert_alert || tls13_refusal || post_handshake_alert)
}

fn certificate_problem(ctx: &Ctx, problems: Vec<CertProblem>, subject: String) -> Finding {
    let mut evidence = Vec::new();
    if let Some(c) = &ctx.conn.tls.certificates {
        evidence.push(ctx.ev(&c.at, Note::ServerCertificate(subject.clone())));
    }
    Finding::new(
        FindingCode::ServerCertificateProblem,
        Facts::CertificateProblem { subject, problems },
        evidence,
    )
}
