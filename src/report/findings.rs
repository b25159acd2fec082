//! Findings in words: each finding's title, explanation and evidence notes, made from its
//! facts. The fix and the long explanation of a code are the catalog's.

use super::events::{event_text, icmp_text};
pub use super::notes::{close_text, note_text};
use crate::diagnose::catalog;
use crate::diagnose::TcpPeer;
use crate::diagnose::{
    CertProblem, Close, Facts, Finding, FindingCode, MtuShape, Unanswered, VersionRefusal,
};
use crate::flow::{Endpoint, Side};
use crate::proto::nego::Protocols;
use crate::proto::tls;

/// A finding as people read it.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingWords {
    pub title: String,
    pub explanation: String,
    pub fix: &'static str,
}

/// The words of `f`, a finding about a connection to (or a flood at) `server`.
pub fn words(f: &Finding, server: &Endpoint) -> FindingWords {
    let (title, mut explanation) = title_and_explanation(f, server);
    if matches!(
        f.code,
        FindingCode::ClientAbort | FindingCode::ClientRejectedCertificate
    ) {
        if let Some(s) = super::close_answer::alert_after_close_sentence(f) {
            explanation.push_str(&s);
        }
    }
    FindingWords {
        title,
        explanation,
        fix: catalog::info(f.code).fix,
    }
}

/// Just the title (the summary table's finding column).
pub fn title(f: &Finding, server: &Endpoint) -> String {
    title_and_explanation(f, server).0
}

fn alert_name(d: u8) -> String {
    tls::alert_description_name(d)
}

fn protocols(p: Protocols, sep: &str) -> String {
    p.names().join(sep)
}

/// "TLSv1.2, TLSv1.3", or "no version".
fn versions(v: &[u16]) -> String {
    if v.is_empty() {
        "no version".into()
    } else {
        v.iter()
            .map(|x| tls::version_name(*x))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn problems_text(p: &[CertProblem]) -> String {
    p.iter().map(problem_text).collect::<Vec<_>>().join(", ")
}

fn problem_text(p: &CertProblem) -> String {
    match p {
        CertProblem::Unparseable(e) => format!("the certificate cannot be parsed ({e})"),
        CertProblem::Expired { not_after } => format!("expired on {not_after}"),
        CertProblem::NotYetValid { not_before } => format!("not valid before {not_before}"),
        CertProblem::SelfSigned => "self-signed".into(),
        CertProblem::NameMismatch { subject, sni } => {
            format!("issued for {subject} but the client asked for {sni}")
        }
        CertProblem::WeakKey { key } => format!("weak key ({key})"),
    }
}

fn title_and_explanation(f: &Finding, server: &Endpoint) -> (String, String) {
    if let Some(words) = super::proof::proof_words(&f.facts) {
        return words;
    }
    match &f.facts {
        Facts::RefusedByReset => (
            format!("Connection refused: {server} answered the SYN with a TCP RST"),
            format!(
                "The client's SYN to {server} was answered by a reset: nothing listens on port {} \
                 (or a firewall rejects it by reset).",
                server.port
            ),
        ),
        Facts::RefusedByIcmp(icmp) => (
            format!("Connection rejected: {} in answer to the SYN", icmp_text(icmp)),
            format!(
                "The SYN to {server} was answered by {}: a router or firewall rejects the connection.",
                icmp_text(icmp)
            ),
        ),
        Facts::PortFiltered { tries, span_s } => (
            format!("No answer from {server}: {tries} SYN(s) over {span_s:.1} s, never answered"),
            format!(
                "The client sent {tries} SYN(s) to {server} and got no SYN/ACK, RST or ICMP back: the \
                 packets are dropped (firewall, security group) or the host is down."
            ),
        ),
        Facts::NegotiationFailure { requested, failure } => (
            format!(
                "RDP negotiation failed: {} ({})",
                failure.name(),
                failure.sentence()
            ),
            format!(
                "The client offered {} and the server answered RDP_NEG_FAILURE {}: {}",
                protocols(*requested, ", "),
                failure.name(),
                failure.sentence()
            ),
        ),
        Facts::SecurityDowngrade {
            requested,
            selected,
            client_refused,
        } => {
            let what = if selected.0 == 0 && requested.0 != 0 {
                "Standard RDP Security (no TLS, no server authentication)".to_string()
            } else {
                format!(
                    "{}, which the client did not offer",
                    selected.selected_name()
                )
            };
            (
                format!("Security downgrade: the server selected {what}"),
                format!(
                    "The client requested {} but the server selected {what}{}.",
                    protocols(*requested, "|"),
                    if *client_refused {
                        "; the client refused to continue and closed the connection"
                    } else {
                        ""
                    }
                ),
            )
        }
        Facts::ServerUnresponsive(ending) => {
            let ending = match ending {
                Unanswered::Closed { side, close } => format!(
                    "then the {} closed the connection ({})",
                    side.name(),
                    close_text(*close)
                ),
                Unanswered::StillWaiting { waited_ms } => format!(
                    "and {:.1} s later there was still no answer",
                    waited_ms / 1000.0
                ),
            };
            (
                "The server accepted the TCP connection but never answered the RDP Connection Request"
                    .to_string(),
                format!(
                    "The TCP handshake with {server} completed and the client sent its X.224 Connection \
                     Request, but the server sent no Connection Confirm ({ending})."
                ),
            )
        }
        Facts::TlsVersionMismatch { offered, why } => {
            let detail = match why {
                VersionRefusal::ServerChose(v) => format!(
                    "the server chose {}, which the client does not accept",
                    tls::version_name(*v)
                ),
                VersionRefusal::Alert { side, description } => format!(
                    "the {} refused the ClientHello with a {} alert{}",
                    side.name(),
                    alert_name(*description),
                    if *description == 80 {
                        " (what OpenSSL-based servers send when no enabled protocol version is usable)"
                    } else {
                        ""
                    }
                ),
            };
            (
                format!(
                    "TLS version mismatch: client offers {}, {detail}",
                    versions(offered)
                ),
                format!(
                    "The client offered {} and {detail}: there is no TLS version both sides accept.",
                    versions(offered)
                ),
            )
        }
        Facts::TlsCipherMismatch {
            side,
            description,
            suites,
        } => {
            let names: Vec<String> = suites
                .iter()
                .take(8)
                .map(|s| tls::cipher_suite_name(*s))
                .collect();
            (
                format!(
                    "TLS cipher mismatch: the {} answered the ClientHello with {}",
                    side.name(),
                    alert_name(*description)
                ),
                format!(
                    "The client offered {} cipher suite(s) ({}{}) and the {} refused with a fatal \
                     {} alert: no suite in common.",
                    suites.len(),
                    names.join(", "),
                    if suites.len() > names.len() {
                        ", ..."
                    } else {
                        ""
                    },
                    side.name(),
                    alert_name(*description)
                ),
            )
        }
        Facts::ServerResetAfterClientHello { close, after_ms } => {
            let what = close_text(*close);
            (
                format!("The server dropped the connection ({what}) right after the TLS ClientHello, with no ServerHello and no alert"),
                format!(
                    "The client sent its ClientHello and the server closed the connection \
                     ({what}) {} later without a ServerHello or an alert. The server's \
                     TLS stack could not start: typically its certificate's private key is \
                     unusable (corrupt or unreadable MachineKeys, key mismatch) or no TLS \
                     version/suite is shared.",
                    super::interval_text(*after_ms)
                ),
            )
        }
        Facts::CertificateProblem { subject, problems } => (
            format!("Server certificate problem: {}", problems_text(problems)),
            format!(
                "The server presented the certificate {subject}, which is {}. Clients warn about \
                 it, and clients that enforce certificate checks refuse to connect.",
                problems_text(problems)
            ),
        ),
        Facts::ClientRejectedCertificate { problems } => {
            let (in_title, why) = if problems.is_empty() {
                (String::new(), String::new())
            } else {
                (
                    format!(" ({})", problems_text(problems)),
                    format!(" The certificate is {}.", problems_text(problems)),
                )
            };
            (
                format!("The client refused the server's certificate{in_title}"),
                format!(
                    "The TLS handshake got as far as the server's certificate, then the client \
                     closed the connection without sending any data.{why}"
                ),
            )
        }
        Facts::NlaFailed { .. } => super::nla_words::nla_failed_words(f),
        Facts::Abort {
            close,
            phase,
            last,
            ultimatum,
        } => {
            let side = if f.code == FindingCode::ServerAbort {
                Side::Server
            } else {
                Side::Client
            };
            abort_words(side, *close, *phase, last.as_ref(), *ultimatum)
        }
        Facts::PacketLoss {
            client,
            server,
            gaps,
            client_gave_up,
        } => (
            format!(
                "Packet loss during the handshake: {client} client and {server} server retransmissions"
            ),
            format!(
                "During the handshake the client retransmitted {client} segment(s) and the server {server}{}. \
                 Each loss costs at least one retransmission timeout (200 ms to seconds).{}",
                if *gaps == 0 {
                    String::new()
                } else {
                    format!("; {gaps} gap(s) of bytes never seen by the capture")
                },
                gave_up_text(*client_gave_up)
            ),
        ),
        Facts::MtuBlackhole {
            shape,
            client_gave_up,
        } => {
            let (title, explanation) = mtu_words(shape);
            (title, explanation + &gave_up_text(*client_gave_up))
        }
        Facts::HighLatency {
            rtt_ms,
            threshold_ms,
            from_handshake: true,
        } => (
            format!("High latency: TCP handshake round trip {rtt_ms:.0} ms"),
            format!(
                "The TCP handshake took {rtt_ms:.1} ms (threshold {threshold_ms:.0} ms). Each of the RDP \
                 handshake's round trips costs at least that much."
            ),
        ),
        Facts::HighLatency {
            rtt_ms,
            threshold_ms,
            from_handshake: false,
        } => (
            format!("High latency: round trip {rtt_ms:.0} ms (data samples)"),
            format!(
                "The SYN or SYN/ACK was retransmitted, so the TCP handshake does not measure the path \
                 (Karn's rule); the fastest unambiguous data samples of both directions add up to \
                 {rtt_ms:.1} ms (threshold {threshold_ms:.0} ms)."
            ),
        ),
        Facts::Stalled {
            secs,
            threshold_ms,
            phase,
            waiting_on,
            resumed,
        } => {
            let phase = phase_text(*phase);
            let waiting = waiting_on.map(|s| s.name()).unwrap_or("the other side");
            (
                format!("Handshake stalled for {secs:.1} s in the {phase}, waiting on the {waiting}"),
                format!(
                    "Nothing moved the handshake forward for {secs:.1} s (threshold {:.0} s) during \
                     the {phase}; the {waiting} owed the next message{}.",
                    threshold_ms / 1000.0,
                    if *resumed {
                        ""
                    } else {
                        " and never sent it (only keepalives, retransmissions or a close followed)"
                    }
                ),
            )
        }
        Facts::Slow {
            total_ms,
            threshold_ms,
            longest,
            lost,
        } => {
            let (name, dur) = match longest {
                Some((p, ms)) => (super::phase_text(*p), *ms),
                None => ("handshake", *total_ms),
            };
            let (lost_title, lost_text) = lost
                .as_ref()
                .map(|l| {
                    (
                        super::loss_time::title_part(l),
                        super::loss_time::explanation_part(l),
                    )
                })
                .unwrap_or_default();
            (
                format!(
                    "Slow handshake: {:.1} s to reach the session, {:.1} s of it in the {name}{lost_title}",
                    total_ms / 1000.0,
                    dur / 1000.0
                ),
                format!(
                    "The connection reached the session after {:.1} s (threshold {:.1} s); the {name} took longest ({:.1} s).{lost_text}",
                    total_ms / 1000.0,
                    threshold_ms / 1000.0,
                    dur / 1000.0
                ),
            )
        }
        Facts::CaptureIncomplete {
            started_late,
            gaps,
            gap_bytes,
        } => {
            let mut reasons = Vec::new();
            if *started_late {
                reasons.push("the capture started after the connection was opened".to_string());
            }
            if *gaps > 0 {
                reasons.push(format!(
                    "{gaps} gap(s), {gap_bytes} bytes missing from the capture"
                ));
            }
            let reasons = reasons.join("; ");
            (
                format!("Capture incomplete: {reasons}"),
                format!(
                    "Part of this connection is not in the capture ({reasons}); conclusions about the hidden part are limited."
                ),
            )
        }
        Facts::UdpNoSynAck { syns, port, peer } => {
            let blocked = f.code == FindingCode::UdpBlocked;
            (
                if blocked {
                    format!("RDP over UDP blocked: {syns} SYN(s) to {server} never answered")
                } else {
                    format!("RDP-UDP handshake not answered ({syns} SYN)")
                },
                format!(
                    "The client tried the UDP transport with {syns} SYN(s) of {} bytes-padded datagrams and got no SYN+ACK: UDP {port} is filtered on the way (or large datagrams are dropped).{}",
                    1232,
                    fallback_text(*peer)
                ),
            )
        }
        Facts::UdpNoClientAck { syn_retries, peer } => (
            format!("RDP-UDP handshake incomplete: the server answered, the client never completed it ({syn_retries} SYN retries after)"),
            format!(
                "The server sent its SYN+ACK but no client datagram followed it: the return path drops it (asymmetric filtering, NAT timeout) or the client gave up on UDP.{}",
                fallback_text(*peer)
            ),
        ),
        Facts::UdpLoss {
            side,
            pct,
            distinct,
            retransmitted,
            never_seen,
            reported_missing,
            threshold_pct,
        } => (
            format!("RDP-UDP loss from the {}: {pct:.1} %", side.name()),
            format!(
                "Of the {}'s {distinct} data datagrams seen, {retransmitted} were retransmitted, {never_seen} never reached the capture point and the peer's acknowledgements reported {reported_missing} missing: {pct:.1} % loss (threshold {threshold_pct:.1} %).",
                side.name(),
            ),
        ),
        Facts::UdpSilent { tcp, silent_s } => (
            format!("RDP-UDP went silent while TCP connection #{tcp} lived on"),
            format!(
                "The UDP transport was set up, then no datagram came for {silent_s:.0} s while the TCP connection went on: the UDP path died (there is no close in RDP-UDP) and the session fell back to TCP."
            ),
        ),
        Facts::ConnectionFlood(f) => super::flood::flood_words(f),
        Facts::ProtocolViolation { .. }
        | Facts::NotRdpService { .. }
        | Facts::DuplicateFrames { .. }
        | Facts::SegmentBlackHoled { .. } => unreachable_words(),
        Facts::Inside(facts) => super::inside_findings::words(facts),
        Facts::Side(f) => super::side::side_words(f),
        Facts::GatewayInside(f) => super::gateway_inside_findings::words(f),
        Facts::Gateway(f) => super::gateway::gateway_words(f),
    }
}

/// The issue-18 facts have their words in `proof`; this arm is never taken.
fn unreachable_words() -> (String, String) {
    (String::new(), String::new())
}

/// The sentence the loss findings gain when the client gave up because of them.
fn gave_up_text(close: Option<Close>) -> String {
    close
        .map(|c| {
            format!(
                " The client gave up ({}) before the session started: the losses are why it failed.",
                close_text(c)
            )
        })
        .unwrap_or_default()
}

fn phase_text(p: Option<crate::session::PhaseName>) -> &'static str {
    p.map(super::phase_text).unwrap_or("connection setup")
}

fn abort_words(
    side: Side,
    close: Close,
    phase: Option<crate::session::PhaseName>,
    last: Option<&crate::session::Event>,
    ultimatum: Option<crate::proto::mcs::DisconnectReason>,
) -> (String, String) {
    let what = close_text(close);
    let phase = phase_text(phase);
    let after = last
        .map(|e| format!(" after {}", event_text(e)))
        .unwrap_or_default();
    match side {
        Side::Server => {
            let ultimatum = ultimatum
                .map(|u| format!(" with an MCS Disconnect Provider Ultimatum ({})", u.name()))
                .unwrap_or_default();
            (
                format!("The server closed the connection ({what}) during the {phase}{after}"),
                format!(
                    "The server ended the connection{ultimatum} ({what}) before the session \
                     started, during the {phase}{after}, with no alert or negotiation failure \
                     explaining it."
                ),
            )
        }
        Side::Client => (
            format!("The client closed the connection ({what}) during the {phase}{after}"),
            format!(
                "The client ended the connection ({what}) before the session started, during \
                 the {phase}{after}; the server showed no fault."
            ),
        ),
    }
}

fn mtu_words(shape: &MtuShape) -> (String, String) {
    match *shape {
        MtuShape::Unseen { side, ahead } => (
            format!(
                "MTU black hole: {ahead} bytes the {} sent never arrived, while its small packets did",
                side.name()
            ),
            // The run of spaces is what the JSON contract has always shown.
            format!(
                "The {}'s sequence numbers show {ahead} bytes sent that never reached this                      capture point, while its small packets (ACKs, keepalive answers) kept                      arriving: large packets are dropped on the path (smaller MTU, Path MTU                      Discovery not working).",
                side.name()
            ),
        ),
        MtuShape::Retransmitted {
            side,
            count,
            largest,
        } => (
            format!(
                "MTU black hole: the {}'s full-size segments never get through ({count} retransmissions of segments ≥ 1000 bytes)",
                side.name()
            ),
            format!(
                "The {} retransmitted large segments {count} times (largest {largest} bytes) while small \
                 packets passed both ways: a link on the path has a smaller MTU and Path MTU \
                 Discovery is not working.",
                side.name()
            ),
        ),
    }
}

/// " The TCP connection #3 carried on: the client fell back to TCP."
fn fallback_text(peer: Option<TcpPeer>) -> String {
    match peer {
        Some(p) if p.established => format!(
            " The TCP connection #{} carried on: the client fell back to TCP.",
            p.id
        ),
        Some(p) => format!(" (TCP connection #{}.)", p.id),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::{Evidence, Finding, FindingCode, Note};
    use crate::proto::nego::FailureCode;
    use std::net::{IpAddr, Ipv4Addr};

    fn server() -> Endpoint {
        Endpoint {
            ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            port: 3389,
        }
    }

    #[test]
    fn synthetic_negotiation_failure_reads_the_failure_code() {
        let f = Finding::new(
            FindingCode::NegotiationFailure,
            Facts::NegotiationFailure {
                requested: Protocols(Protocols::SSL | Protocols::HYBRID),
                failure: FailureCode(5),
            },
            vec![Evidence {
                frame: 4,
                t_ms: 1.0,
                note: Note::NegFailure(FailureCode(5)),
            }],
        );
        let w = words(&f, &server());
        assert!(
            w.title
                .starts_with("RDP negotiation failed: HYBRID_REQUIRED_BY_SERVER"),
            "{}",
            w.title
        );
        assert!(
            w.explanation
                .starts_with("The client offered ssl, hybrid and"),
            "{}",
            w.explanation
        );
        assert_eq!(
            note_text(&f.evidence[0].note),
            "RDP_NEG_FAILURE HYBRID_REQUIRED_BY_SERVER"
        );
    }

    #[test]
    fn synthetic_loss_the_client_gave_up_on_says_so() {
        let loss = |gave_up| Facts::PacketLoss {
            client: 1,
            server: 10,
            gaps: 0,
            client_gave_up: gave_up,
        };
        let f = Finding::new(FindingCode::PacketLoss, loss(None), Vec::new());
        let plain = words(&f, &server()).explanation;
        let f = Finding::new(FindingCode::PacketLoss, loss(Some(Close::Fin)), Vec::new());
        let gave_up = words(&f, &server()).explanation;
        assert_eq!(
            gave_up,
            format!("{plain} The client gave up (FIN) before the session started: the losses are why it failed.")
        );
    }
}
