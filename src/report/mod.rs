//! Rendering diagnosed connections: terminal tables and waterfalls, JSON for scripts, and a
//! self-contained HTML report. The values more than one renderer shows (the headline finding,
//! the phase reached, durations, phases on a time axis) are derived here, once.

mod close_answer;
pub mod codes;
pub mod collect;
pub mod each;
pub mod events;
pub mod findings;
mod flood;
pub mod frame_comments;
pub mod gateway;
pub mod gateway_inside_events;
mod gateway_inside_findings;
pub mod group;
pub mod html;
mod html_group;
pub mod inner_events;
mod inside_findings;
pub mod json;
pub mod json_gateway;
pub mod json_side;
pub mod live;
mod loss_time;
pub mod ndjson_stream;
mod nla_words;
pub mod notes;
pub mod proof;
pub mod side;
pub mod summary;
pub mod table;
pub mod terminal;
pub mod waterfall;

use crate::diagnose::{Diagnosed, Finding, Severity, Verdict};
use crate::flow::{Side, TransportKind};
use crate::session::PhaseName;
use crate::timefmt::ms_between;

/// A phase as people read it: "TLS handshake", "CredSSP / NLA authentication".
pub fn phase_text(p: PhaseName) -> &'static str {
    match p {
        PhaseName::TcpConnect => "TCP connect",
        PhaseName::X224Negotiation => "X.224 security negotiation",
        PhaseName::TlsHandshake => "TLS handshake",
        PhaseName::Credssp => "CredSSP / NLA authentication",
        PhaseName::McsConnect => "MCS connect",
        PhaseName::RdpData => "RDP session data",
        PhaseName::GatewayAuth => "RD Gateway authentication",
        PhaseName::GatewayTunnel => "RD Gateway tunnel setup",
        PhaseName::GatewayData => "tunnelled session data",
        PhaseName::Closed => "connection closed",
    }
}

/// The finding a summary row shows: the main finding, except an informational one on a
/// connection that is fine (a healthy row stays quiet).
pub fn headline(d: &Diagnosed) -> Option<&Finding> {
    d.main_finding()
        .filter(|f| f.severity > Severity::Info || d.verdict != Verdict::Ok)
}

/// The last phase the connection reached, "-" when it reached none.
pub fn phase_reached(d: &Diagnosed) -> &'static str {
    d.progress
        .last_phase()
        .map(|p| p.name.name())
        .unwrap_or("-")
}

/// A connection's length for the summary: "1.2 s", "98 ms".
pub fn duration_text(ns: i64) -> String {
    let ms = ms_between(0, ns);
    if ms >= 1_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

/// A phase's start or length, precise enough for sub-millisecond phases: "0.04 ms", "1.7 ms",
/// "74 ms", "1.01 s".
pub fn ms_text(ms: f64) -> String {
    // Thresholds just under the next unit, so 9.98 reads "10 ms", not "10.0 ms".
    if ms >= 999.5 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 9.95 {
        format!("{ms:.0} ms")
    } else if ms >= 0.995 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// Why an `incomplete` connection is one, in one sentence; None for other verdicts.
pub fn incomplete_reason(d: &Diagnosed) -> Option<&'static str> {
    if d.verdict != crate::diagnose::Verdict::Incomplete {
        return None;
    }
    Some(match &d.tcp {
        Some(t) if !t.syn_seen => {
            "The capture started after the connection did (no SYN), so its handshake is unknown."
        }
        Some(t) if !t.gaps.is_empty() => {
            "The capture misses bytes of this connection, so its handshake cannot be followed."
        }
        Some(_) => "The capture ended before the handshake did, with no failure seen.",
        None => {
            "The capture holds only part of this RDP-UDP flow: no complete handshake, no failure."
        }
    })
}

/// A short interval between two packets: "40 µs" below a millisecond, else as `ms_text`.
pub fn interval_text(ms: f64) -> String {
    if ms < 0.995 {
        format!("{:.0} µs", ms * 1000.0)
    } else {
        ms_text(ms)
    }
}

/// The # column: the connection id, an RDP-UDP flow shown as belonging to its TCP connection.
pub fn connection_label(d: &Diagnosed) -> String {
    let m = &d.meta;
    match m.transport {
        TransportKind::Tcp => m.id.to_string(),
        TransportKind::Udp => match d.tcp_peer {
            Some(tcp) => format!(" └ {} udp of {tcp}", m.id),
            None => format!("{} udp", m.id),
        },
    }
}

/// Verdicts from worst to best: the order counts and the HTML report list them in.
pub const VERDICTS_WORST_FIRST: [Verdict; 5] = [
    Verdict::Failed,
    Verdict::Stalled,
    Verdict::Slow,
    Verdict::Incomplete,
    Verdict::Ok,
];

/// How a phase ended, when the connection stopped inside it or right after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The connection failed here.
    Failed,
    /// The connection was still waiting here when it (or the capture) ended.
    Pending,
}

impl Stop {
    /// The mark the terminal and the HTML put after the phase's bar.
    pub fn mark(self) -> &'static str {
        match self {
            Stop::Failed => "✗",
            Stop::Pending => "…",
        }
    }
}

/// One phase placed on its connection's time axis (milliseconds from the first packet).
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSpan {
    pub name: PhaseName,
    pub start_ms: f64,
    pub duration_ms: f64,
    pub complete: bool,
    pub waiting_on: Option<Side>,
    pub stop: Option<Stop>,
}

impl PhaseSpan {
    pub fn end_ms(&self) -> f64 {
        self.start_ms + self.duration_ms
    }

    /// "stopped: the server owed the next message", for the phase the connection stopped in.
    pub fn stop_note(&self) -> Option<String> {
        let stop = self.stop?;
        let verb = match stop {
            Stop::Failed => "failed",
            Stop::Pending => "stopped",
        };
        Some(match self.waiting_on {
            Some(Side::Client) => format!("{verb}: waiting on the client"),
            Some(Side::Server) => format!("{verb}: waiting on the server"),
            None => verb.to_string(),
        })
    }
}

/// A connection's phases on its time axis, and the axis length (its first to last packet).
/// The closing phase is left out: it is the end of the axis, not a step of the handshake.
pub fn phase_spans(d: &Diagnosed) -> (Vec<PhaseSpan>, f64) {
    let t0 = d.meta.first.ts_ns;
    let total_ms = ms_between(t0, d.meta.last.ts_ns).max(0.0);
    let last = d.progress.last_phase().map(|p| (p.name, p.start));
    let spans = d
        .progress
        .phases
        .iter()
        .filter(|p| p.name != PhaseName::Closed)
        .map(|p| {
            let is_last = last == Some((p.name, p.start));
            let stop = match d.verdict {
                _ if !is_last => None,
                Verdict::Failed => Some(Stop::Failed),
                Verdict::Stalled => Some(Stop::Pending),
                Verdict::Incomplete if !p.complete => Some(Stop::Pending),
                _ => None,
            };
            PhaseSpan {
                name: p.name,
                start_ms: ms_between(t0, p.start.ts_ns),
                duration_ms: ms_between(0, p.duration_ns()),
                complete: p.complete,
                waiting_on: p.waiting_on,
                stop,
            }
        })
        .collect();
    (spans, total_ms)
}

/// Whether the terminal shows a connection's waterfall without being asked (`--all`): when
/// something went wrong with it.
pub fn worth_a_waterfall(d: &Diagnosed) -> bool {
    matches!(
        d.verdict,
        Verdict::Failed | Verdict::Stalled | Verdict::Slow
    )
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A diagnosed connection built from phase offsets, for the renderers' unit tests.

    use crate::diagnose::{
        CertProblem, Close, Diagnosed, Evidence, Facts, Finding, FindingCode, Note, Progress,
        Verdict,
    };
    use crate::flow::{Endpoint, FlowMeta, PacketInfo, Side, TransportKind};
    use crate::session::{Connection, Phase, PhaseName};

    const T0_NS: i64 = 1_700_000_000_000_000_000;

    fn at(ms: f64, frame: u64) -> PacketInfo {
        PacketInfo {
            file: 0,
            frame,
            ts_ns: T0_NS + (ms * 1e6) as i64,
        }
    }

    /// Phases as (name, start ms, end ms, complete), the connection lasting `total_ms`.
    pub fn diagnosed(
        phases: &[(PhaseName, f64, f64, bool)],
        total_ms: f64,
        verdict: Verdict,
        findings: Vec<Finding>,
    ) -> Diagnosed {
        let endpoint = |ip: [u8; 4], port| Endpoint {
            ip: std::net::IpAddr::from(ip),
            port,
        };
        let meta = FlowMeta {
            id: 7,
            transport: TransportKind::Tcp,
            client: endpoint([10, 0, 0, 2], 50000),
            server: endpoint([10, 0, 0, 1], 3389),
            first: at(0.0, 1),
            last: at(total_ms, 99),
            packets: 20,
            bytes: 4000,
            packets_by_side: [10, 10].into(),
        };
        let progress = Progress {
            phases: phases
                .iter()
                .enumerate()
                .map(|(i, &(name, start, end, complete))| Phase {
                    name,
                    start: at(start, 2 * i as u64 + 1),
                    end: at(end, 2 * i as u64 + 2),
                    complete,
                    waiting_on: Some(Side::Server),
                })
                .collect(),
            ..Progress::default()
        };
        Diagnosed {
            meta,
            tcp: None,
            connection: Connection::default(),
            progress,
            verdict,
            findings,
            evicted: false,
            tcp_peer: None,
            udp_peers: Vec::new(),
            auth_context: Default::default(),
            attempt: None,
            via_gateway: None,
        }
    }

    /// The demo's NLA failure finding: the server's FIN after CredSSP message 3.
    pub fn nla_finding() -> Finding {
        Finding::new(
            FindingCode::NlaFailed,
            Facts::NlaFailed {
                hybrid_ex: false,
                closer: crate::flow::Side::Server,
                server_alert: false,
                close: Close::Fin,
                messages: 3,
                complete: false,
            },
            vec![Evidence {
                frame: 92,
                t_ms: 96.5,
                note: Note::Closes {
                    side: Side::Server,
                    close: Close::Fin,
                },
            }],
        )
    }

    /// A certificate issued for `subject` while the client asked for `sni`.
    pub fn certificate_finding(subject: &str, sni: &str) -> Finding {
        Finding::new(
            FindingCode::ServerCertificateProblem,
            Facts::CertificateProblem {
                subject: subject.to_string(),
                problems: vec![CertProblem::NameMismatch {
                    subject: subject.to_string(),
                    sni: sni.to_string(),
                }],
            },
            vec![Evidence {
                frame: 12,
                t_ms: 20.0,
                note: Note::ServerCertificate(subject.to_string()),
            }],
        )
    }

    /// The demo's NLA failure: a long negotiation, TLS, then CredSSP cut short.
    pub fn nla_failure() -> Diagnosed {
        diagnosed(
            &[
                (PhaseName::TcpConnect, 0.0, 0.04, true),
                (PhaseName::X224Negotiation, 0.13, 74.1, true),
                (PhaseName::TlsHandshake, 82.0, 92.0, true),
                (PhaseName::Credssp, 96.5, 98.2, false),
                (PhaseName::Closed, 97.5, 98.2, true),
            ],
            98.2,
            Verdict::Failed,
            vec![nla_finding()],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::diagnose::FindingCode;

    #[test]
    fn the_failed_phase_is_the_last_one_before_closing() {
        let (spans, total) = phase_spans(&nla_failure());
        assert_eq!(total, 98.2);
        let names: Vec<_> = spans.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                PhaseName::TcpConnect,
                PhaseName::X224Negotiation,
                PhaseName::TlsHandshake,
                PhaseName::Credssp
            ]
        );
        let stops: Vec<_> = spans.iter().map(|s| s.stop).collect();
        assert_eq!(stops, [None, None, None, Some(Stop::Failed)]);
        assert_eq!(
            spans[3].stop_note().as_deref(),
            Some("failed: waiting on the server")
        );
        assert!((spans[1].duration_ms - 73.97).abs() < 0.01);
    }

    #[test]
    fn a_healthy_connection_has_no_stop_and_no_headline() {
        let mut d = nla_failure();
        d.verdict = Verdict::Ok;
        d.findings[0].severity = Severity::Info;
        let (spans, _) = phase_spans(&d);
        assert!(spans.iter().all(|s| s.stop.is_none()));
        assert!(headline(&d).is_none());
        d.verdict = Verdict::Incomplete;
        assert_eq!(headline(&d).map(|f| f.code), Some(FindingCode::NlaFailed));
        let (spans, _) = phase_spans(&d);
        assert_eq!(spans.last().and_then(|s| s.stop), Some(Stop::Pending));
    }

    #[test]
    fn durations_keep_small_phases_readable() {
        assert_eq!(ms_text(0.035), "0.04 ms");
        assert_eq!(ms_text(1.658), "1.7 ms");
        assert_eq!(ms_text(74.0), "74 ms");
        assert_eq!(ms_text(9.981), "10 ms");
        assert_eq!(ms_text(0.998), "1.0 ms");
        assert_eq!(ms_text(1013.7), "1.01 s");
        assert_eq!(duration_text(1_244_842_000), "1.2 s");
        assert_eq!(duration_text(98_236_000), "98 ms");
    }

    #[test]
    fn the_phase_reached_skips_closing() {
        assert_eq!(phase_reached(&nla_failure()), "credssp");
        assert_eq!(connection_label(&nla_failure()), "7");
    }
}
