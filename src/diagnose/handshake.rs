//! Findings from the RDP security handshake: X.224 negotiation, TLS, CredSSP, and who
//! gave up when nothing else explains the end.

use super::{finding, Ctx, Evidence, Finding};
use crate::flow::Side;
use crate::proto::tls;

const TLS_PROBLEMS: [&str; 4] = [
    "tls-version-mismatch",
    "tls-cipher-mismatch",
    "server-reset-after-client-hello",
    "client-rejected-certificate",
];

pub(super) fn negotiation_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let x = &ctx.conn.x224;
    let Some(cr) = &x.request else { return };
    let requested = x.requested_protocols().unwrap_or_default();
    let req_ev = ctx.ev(
        &cr.at,
        format!("client requests {}", requested.names().join("|")),
    );
    let Some(cc) = &x.confirm else {
        unanswered_request(ctx, req_ev, out);
        return;
    };
    if let Some(f) = x.failure() {
        let mut evidence = vec![
            req_ev,
            ctx.ev(&cc.at, format!("RDP_NEG_FAILURE {}", f.failure_code.name())),
        ];
        if let Some((at, what)) = ctx.close_by(Side::Server) {
            evidence.push(ctx.ev(&at, format!("server closes ({what})")));
        }
        out.push(finding(
            "negotiation-failure",
            format!(
                "RDP negotiation failed: {} ({})",
                f.failure_code.name(),
                f.failure_code.sentence()
            ),
            format!(
                "The client offered {} and the server answered RDP_NEG_FAILURE {}: {}",
                requested.names().join(", "),
                f.failure_code.name(),
                f.failure_code.sentence()
            ),
            evidence,
        ));
        return;
    }
    let Some(selected) = x.selected_protocol() else {
        return;
    };
    let not_requested = selected.0 & !requested.0;
    let downgraded = selected.0 == 0 && requested.0 != 0;
    if downgraded || not_requested != 0 {
        let what = if downgraded {
            "Standard RDP Security (no TLS, no server authentication)".to_string()
        } else {
            format!(
                "{}, which the client did not offer",
                selected.selected_name()
            )
        };
        let mut evidence = vec![
            req_ev,
            ctx.ev(
                &cc.at,
                format!("server selects {}", selected.selected_name()),
            ),
        ];
        // The client gave up at once: the downgrade is why the connection failed.
        let refused = ctx.first_close().filter(|(side, at, _)| {
            *side == Side::Client
                && ctx.conn.last_payload[Side::Client.index()]
                    .is_some_and(|p| p.ts_ns <= cr.at.ts_ns)
                && at.ts_ns >= cc.at.ts_ns
        });
        let mut f = finding(
            "security-downgrade",
            format!("Security downgrade: the server selected {what}"),
            format!(
                "The client requested {} but the server selected {what}{}.",
                requested.names().join("|"),
                if refused.is_some() {
                    "; the client refused to continue and closed the connection"
                } else {
                    ""
                }
            ),
            Vec::new(),
        );
        if let Some((_, at, how)) = refused {
            evidence.push(ctx.ev(&at, format!("client closes ({how})")));
            f.severity = super::Severity::Error;
        }
        f.evidence = evidence;
        out.push(f);
    }
}

fn unanswered_request(ctx: &Ctx, req_ev: Evidence, out: &mut Vec<Finding>) {
    let server_spoke = ctx.conn.last_payload[Side::Server.index()].is_some();
    if server_spoke {
        return;
    }
    let close = ctx.first_close();
    let waited_ms = ctx.t_ms(ctx.meta.last.ts_ns) - req_ev.t_ms;
    if close.is_none() && waited_ms < ctx.config.stall_after_ms {
        return;
    }
    let mut evidence = vec![req_ev];
    let ending = match close {
        Some((side, at, what)) => {
            evidence.push(ctx.ev(&at, format!("{} closes ({what})", side.name())));
            format!("then the {} closed the connection ({what})", side.name())
        }
        None => {
            evidence.push(ctx.ev(&ctx.meta.last, "last packet, still no answer"));
            format!(
                "and {:.1} s later there was still no answer",
                waited_ms / 1000.0
            )
        }
    };
    out.push(finding(
        "server-unresponsive",
        "The server accepted the TCP connection but never answered the RDP Connection Request",
        format!(
            "The TCP handshake with {} completed and the client sent its X.224 Connection \
             Request, but the server sent no Connection Confirm ({ending}).",
            ctx.meta.server
        ),
        evidence,
    ));
}

pub(super) fn tls_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let t = &ctx.conn.tls;
    let Some(ch) = &t.client_hello else { return };
    let offered = ch.value.offered_versions();
    let ch_ev = ctx.ev(
        &ch.at,
        format!(
            "ClientHello offers {} with {} cipher suites",
            offered
                .iter()
                .map(|v| tls::version_name(*v))
                .collect::<Vec<_>>()
                .join(", "),
            ch.value.cipher_suites.len()
        ),
    );
    // A version the client never offered, or an alert that says so.
    let sh_bad_version = t
        .server_hello
        .as_ref()
        .filter(|sh| !offered.contains(&sh.value.selected_version));
    let alert = t.alert.as_ref().filter(|a| !a.value.encrypted);
    // OpenSSL-based servers (xrdp) answer internal_error when no protocol version is usable.
    let server_refused_versions = alert.is_some_and(|a| {
        a.side == Side::Server && a.value.description == 80 && t.server_hello.is_none()
    });
    if sh_bad_version.is_some()
        || alert.is_some_and(|a| a.value.description == 70)
        || server_refused_versions
    {
        let mut evidence = vec![ch_ev];
        let mut detail = String::new();
        if let Some(sh) = sh_bad_version {
            detail = format!(
                "the server chose {}, which the client does not accept",
                tls::version_name(sh.value.selected_version)
            );
            evidence.push(ctx.ev(
                &sh.at,
                format!(
                    "ServerHello selects {}",
                    tls::version_name(sh.value.selected_version)
                ),
            ));
        }
        if let Some(a) = alert {
            if detail.is_empty() {
                detail = format!(
                    "the {} refused the ClientHello with a {} alert{}",
                    a.side.name(),
                    tls::alert_description_name(a.value.description),
                    if a.value.description == 80 {
                        " (what OpenSSL-based servers send when no enabled protocol version is usable)"
                    } else {
                        ""
                    }
                );
            }
            evidence.push(ctx.ev(
                &a.at,
                format!(
                    "{} sends alert {}",
                    a.side.name(),
                    tls::alert_description_name(a.value.description)
                ),
            ));
        }
        out.push(finding(
            "tls-version-mismatch",
            format!(
                "TLS version mismatch: client offers {}, {detail}",
                versions(&offered)
            ),
            format!(
                "The client offered {} and {detail}: there is no TLS version both sides accept.",
                versions(&offered)
            ),
            evidence,
        ));
        return;
    }
    if let Some(a) = alert.filter(|a| matches!(a.value.description, 40 | 71)) {
        let names: Vec<String> = ch
            .value
            .cipher_suites
            .iter()
            .take(8)
            .map(|s| tls::cipher_suite_name(*s))
            .collect();
        out.push(finding(
            "tls-cipher-mismatch",
            format!(
                "TLS cipher mismatch: the {} answered the ClientHello with {}",
                a.side.name(),
                tls::alert_description_name(a.value.description)
            ),
            format!(
                "The client offered {} cipher suite(s) ({}{}) and the {} refused with a fatal \
                 {} alert: no suite in common.",
                ch.value.cipher_suites.len(),
                names.join(", "),
                if ch.value.cipher_suites.len() > names.len() {
                    ", ..."
                } else {
                    ""
                },
                a.side.name(),
                tls::alert_description_name(a.value.description)
            ),
            vec![
                ch_ev,
                ctx.ev(
                    &a.at,
                    format!(
                        "{} sends alert {}",
                        a.side.name(),
                        tls::alert_description_name(a.value.description)
                    ),
                ),
            ],
        ));
        return;
    }
    if t.server_hello.is_none() && alert.is_none() {
        if let Some((at, what)) = ctx.close_by(Side::Server) {
            let quick = at.ts_ns - ch.at.ts_ns < (ctx.config.stall_after_ms * 1e6) as i64;
            let client_first = ctx
                .close_by(Side::Client)
                .is_some_and(|(c, _)| c.ts_ns < at.ts_ns);
            if quick && !client_first && t.records[Side::Server.index()] == 0 {
                let mut evidence = vec![ch_ev];
                if let Some(u) = ctx
                    .conn
                    .mcs
                    .ultimatum
                    .as_ref()
                    .filter(|u| u.side == Side::Server)
                {
                    evidence.push(ctx.ev(
                        &u.at,
                        format!(
                            "server sends MCS Disconnect Provider Ultimatum ({})",
                            u.value.name()
                        ),
                    ));
                }
                evidence.push(ctx.ev(
                    &at,
                    format!("server closes ({what}) without ServerHello or alert"),
                ));
                let ms = (at.ts_ns - ch.at.ts_ns) as f64 / 1e6;
                out.push(finding(
                    "server-reset-after-client-hello",
                    format!("The server dropped the connection ({what}) right after the TLS ClientHello, with no ServerHello and no alert"),
                    format!(
                        "The client sent its ClientHello and the server closed the connection \
                         ({what}) {ms:.1} ms later without a ServerHello or an alert. The server's \
                         TLS stack could not start: typically its certificate's private key is \
                         unusable (corrupt or unreadable MachineKeys, key mismatch) or no TLS \
                         version/suite is shared."
                    ),
                    evidence,
                ));
                return;
            }
        }
    }
    certificate_findings(ctx, out);
}

fn versions(v: &[u16]) -> String {
    let names: Vec<String> = v.iter().map(|x| tls::version_name(*x)).collect();
    if names.is_empty() {
        "no version".into()
    } else {
        names.join(", ")
    }
}

/// Problems of the server's leaf certificate at the time of the connection.
fn certificate_problems(ctx: &Ctx) -> Vec<String> {
    let t = &ctx.conn.tls;
    let Some(chain) = &t.certificates else {
        return Vec::new();
    };
    let Some(leaf) = chain.value.first() else {
        return Vec::new();
    };
    let now = ctx.meta.first.ts_ns / 1_000_000_000;
    let mut problems = Vec::new();
    if let Some(e) = &leaf.parse_error {
        problems.push(format!("the certificate cannot be parsed ({e})"));
        return problems;
    }
    if leaf.expired_at(now) {
        problems.push(format!("expired on {}", leaf.not_after));
    }
    if leaf.not_yet_valid_at(now) {
        problems.push(format!("not valid before {}", leaf.not_before));
    }
    if leaf.self_signed {
        problems.push("self-signed".to_string());
    }
    if let Some(sni) = t.client_hello.as_ref().and_then(|c| c.value.sni.as_ref()) {
        if !leaf.matches_host(sni) {
            problems.push(format!(
                "issued for {} but the client asked for {sni}",
                leaf.subject
            ));
        }
    }
    if leaf.weak_key() {
        problems.push(format!("weak key ({})", leaf.key));
    }
    problems
}

fn certificate_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let t = &ctx.conn.tls;
    let problems = certificate_problems(ctx);
    let cert_at = t.certificates.as_ref().map(|c| c.at);
    let subject = t
        .certificates
        .as_ref()
        .and_then(|c| c.value.first())
        .map(|c| c.subject.clone())
        .unwrap_or_default();
    // The client walks away once it has seen the server's certificate, sending no data.
    let client_close = ctx.close_by(Side::Client);
    let client_alert = t.alert.as_ref().filter(|a| a.side == Side::Client);
    let server_closed_first = match (ctx.close_by(Side::Server), client_close) {
        (Some((s, _)), Some((c, _))) => s.ts_ns < c.ts_ns,
        (Some(_), None) => true,
        _ => false,
    };
    // TLS 1.2: the client checks the certificate once the handshake is done and leaves with
    // an alert right away. TLS 1.3: it checks before its Finished, and sends an alert instead.
    let done = t.handshake_done;
    let quick_exit =
        |at: &crate::flow::PacketInfo| done.is_some_and(|d| at.ts_ns - d.ts_ns <= CERT_VERDICT_NS);
    let cert_alert = client_alert
        .is_some_and(|a| !a.value.encrypted && matches!(a.value.description, 42..=46 | 48));
    let tls13_refusal = t.is_tls13()
        && t.finished[Side::Client.index()].is_none()
        && t.finished[Side::Server.index()].is_some()
        && client_alert.is_some();
    let post_handshake_alert = client_alert.is_some_and(|a| a.value.encrypted && quick_exit(&a.at));
    let rejected = !server_closed_first
        && t.app_records[Side::Client.index()] == 0
        && (cert_alert || tls13_refusal || post_handshake_alert);
    if rejected {
        let mut evidence = Vec::new();
        if let Some(at) = cert_at {
            evidence.push(ctx.ev(&at, format!("server certificate {subject}")));
        }
        if let Some(a) = client_alert {
            let what = if a.value.encrypted {
                "an encrypted alert".to_string()
            } else {
                format!("alert {}", tls::alert_description_name(a.value.description))
            };
            evidence.push(ctx.ev(&a.at, format!("client sends {what}")));
        }
        if let Some((at, what)) = client_close {
            evidence.push(ctx.ev(&at, format!("client closes ({what}) without sending data")));
        }
        let why = if problems.is_empty() {
            String::new()
        } else {
            format!(" The certificate is {}.", problems.join(", "))
        };
        if !problems.is_empty() {
            let mut f = certificate_problem(ctx, &problems, &subject, cert_at);
            f.severity = super::Severity::Error;
            out.push(f);
        }
        out.push(finding(
            "client-rejected-certificate",
            format!(
                "The client refused the server's certificate{}",
                if problems.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", problems.join(", "))
                }
            ),
            format!(
                "The TLS handshake got as far as the server's certificate, then the client \
                 closed the connection without sending any data.{why}"
            ),
            evidence,
        ));
        return;
    }
    if !problems.is_empty() {
        out.push(certificate_problem(ctx, &problems, &subject, cert_at));
    }
}

/// How soon after the handshake a client that refuses the certificate leaves.
const CERT_VERDICT_NS: i64 = 1_000_000_000;

fn certificate_problem(
    ctx: &Ctx,
    problems: &[String],
    subject: &str,
    cert_at: Option<crate::flow::PacketInfo>,
) -> Finding {
    let mut evidence = Vec::new();
    if let Some(at) = cert_at {
        evidence.push(ctx.ev(&at, format!("server certificate {subject}")));
    }
    finding(
        "server-certificate-problem",
        format!("Server certificate problem: {}", problems.join(", ")),
        format!(
            "The server presented the certificate {subject}, which is {}. Clients warn about \
             it, and clients that enforce certificate checks refuse to connect.",
            problems.join(", ")
        ),
        evidence,
    )
}

pub(super) fn credssp_and_abort_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let explained = out.iter().any(|f| {
        TLS_PROBLEMS.contains(&f.code)
            || (f.code == "security-downgrade" && f.severity == super::Severity::Error)
            || matches!(
                f.code,
                "negotiation-failure"
                    | "port-filtered"
                    | "connection-refused"
                    | "server-unresponsive"
            )
    });
    if explained || ctx.progress.established || finished_cleanly(ctx) {
        return;
    }
    let Some((closer, at, what)) = ctx.first_close() else {
        return;
    };
    let p = ctx.progress;
    let x = &ctx.conn.x224;
    let tls_done = ctx.conn.tls.handshake_done.is_some();
    if x.nla_selected() && tls_done && closer == Side::Server {
        let n = p.credssp_flights.len();
        let mut evidence: Vec<Evidence> = p
            .credssp_flights
            .iter()
            .enumerate()
            .map(|(i, f)| {
                ctx.ev(
                    &f.first,
                    format!(
                        "CredSSP message {} from the {} ({} bytes)",
                        i + 1,
                        f.side.name(),
                        f.bytes
                    ),
                )
            })
            .collect();
        evidence.push(ctx.ev(&at, format!("server closes ({what})")));
        let stage = if p.credssp_complete {
            "after the CredSSP exchange (the user was authenticated but not authorised to log on, or the server refused the session)".to_string()
        } else {
            format!("after CredSSP message {n} of 5 (the credentials were refused)")
        };
        out.push(finding(
            "nla-failed",
            format!("NLA failed: the server closed the connection {}", if p.credssp_complete { "right after CredSSP" } else { "during CredSSP" }),
            format!(
                "HYBRID{} (NLA) was selected and TLS completed; the server closed ({what}) {stage}.",
                if x.selected_protocol().is_some_and(|s| s.0 & 8 != 0) { "_EX" } else { "" }
            ),
            evidence,
        ));
        return;
    }
    let last = last_message_before(ctx, at.ts_ns);
    let mut evidence = Vec::new();
    if let Some(e) = &last {
        evidence.push(ctx.ev(
            &e.at,
            format!("last message: {}", crate::report::events::event_text(e)),
        ));
    }
    evidence.push(ctx.ev(&at, format!("{} closes ({what})", closer.name())));
    let after = last
        .as_ref()
        .map(|e| format!(" after {}", crate::report::events::event_text(e)))
        .unwrap_or_default();
    let phase = p
        .last_phase()
        .map(|p| p.name.describe())
        .unwrap_or("connection setup");
    // A client that gives up after a long silence is a stall, and one that gives up while
    // its data or the server's is being retransmitted is lost packets: both reported as such.
    let stalled = out.iter().any(|f| f.code == "handshake-stalled");
    if closer == Side::Client && !stalled {
        if let Some(loss) = out
            .iter_mut()
            .find(|f| matches!(f.code, "packet-loss" | "mtu-blackhole"))
        {
            loss.severity = super::Severity::Error;
            loss.explanation.push_str(&format!(
                " The client gave up ({what}) before the session started: the losses are why it failed."
            ));
            loss.evidence
                .push(ctx.ev(&at, format!("client closes ({what})")));
            return;
        }
    }
    if closer == Side::Server {
        let ultimatum = ctx
            .conn
            .mcs
            .ultimatum
            .as_ref()
            .filter(|u| u.side == Side::Server)
            .map(|u| {
                format!(
                    " with an MCS Disconnect Provider Ultimatum ({})",
                    u.value.name()
                )
            })
            .unwrap_or_default();
        out.push(finding(
            "server-abort",
            format!("The server closed the connection ({what}) during the {phase}{after}"),
            format!(
                "The server ended the connection{ultimatum} ({what}) before the session \
                 started, during the {phase}{after}, with no alert or negotiation failure \
                 explaining it."
            ),
            evidence,
        ));
    } else if !stalled {
        out.push(finding(
            "client-abort",
            format!("The client closed the connection ({what}) during the {phase}{after}"),
            format!(
                "The client ended the connection ({what}) before the session started, during \
                 the {phase}{after}; the server showed no fault."
            ),
            evidence,
        ));
    }
}

/// The last protocol event (not TCP bookkeeping) before `ts_ns`.
fn last_message_before(ctx: &Ctx, ts_ns: i64) -> Option<crate::session::Event> {
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
    let Some((side, _, what)) = ctx.first_close() else {
        return false;
    };
    if side != Side::Client || what != "FIN" {
        return false;
    }
    let x = &ctx.conn.x224;
    if x.nla_selected() {
        return ctx.progress.credssp_complete;
    }
    false
}
