//! Diagnosis: a finished (or still pending) connection turned into a verdict and findings,
//! each with the evidence that shows it and the fix.

mod abort;
mod black_hole;
mod capture;
pub mod catalog;
pub mod client_error;
mod close_answer;
mod connect;
mod distinct;
pub mod finding;
pub mod flood;
pub mod gaps;
pub mod gateway;
pub mod gateway_inside;
pub mod inside;
pub mod live;
mod negotiation;
mod not_rdp;
pub mod run;
pub mod side;
mod stall;
mod timing;
mod tls;
mod udp;

pub use finding::{
    CertProblem, Close, Evidence, Facts, Finding, FindingCode, FloodFacts, MtuShape, Note,
    Unanswered, VersionRefusal,
};
pub use udp::TcpPeer;

use serde::Serialize;

use crate::flow::{FinishedFlow, FlowMeta, PacketInfo, Side, TcpStats};
pub use crate::session::phases::Progress;
use crate::session::{compute_phases, Connection};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Failed,
    Stalled,
    Slow,
    Incomplete,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Failed => "failed",
            Verdict::Stalled => "stalled",
            Verdict::Slow => "slow",
            Verdict::Incomplete => "incomplete",
        }
    }
}

/// Thresholds, each a command-line option.
#[derive(Debug, Clone)]
pub struct DiagnoseConfig {
    pub stall_after_ms: f64,
    pub slow_after_ms: f64,
    pub high_rtt_ms: f64,
    /// Retransmissions during the handshake tolerated before calling it loss (Linux sends
    /// one or two spurious tail-loss probes even on healthy short paths).
    pub loss_retransmissions: u32,
    /// RDP-UDP loss (percent of a direction's datagrams) above which it is reported.
    pub udp_loss_pct: f64,
    /// A server that receives this many connections ...
    pub flood_min_connections: u64,
    /// ... at this rate (per second, over a sliding window of `flood_min_connections /
    /// flood_min_rate` seconds) is flooded (`connection-flood`).
    pub flood_min_rate: f64,
}

impl Default for DiagnoseConfig {
    fn default() -> Self {
        DiagnoseConfig {
            stall_after_ms: 23_000.0,
            slow_after_ms: 5_000.0,
            high_rtt_ms: 250.0,
            loss_retransmissions: 2,
            udp_loss_pct: 2.0,
            flood_min_connections: 100,
            flood_min_rate: 10.0,
        }
    }
}

/// A connection with its diagnosis, ready for the report.
pub struct Diagnosed {
    pub meta: FlowMeta,
    pub tcp: Option<TcpStats>,
    pub connection: Connection,
    pub progress: Progress,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    pub evicted: bool,
    /// For a UDP flow: the TCP connection it belongs to.
    pub tcp_peer: Option<u64>,
    /// For a TCP connection: its RDP-UDP flows.
    pub udp_peers: Vec<u64>,
    /// The Kerberos and DNS exchanges that served the connection (`correlate`).
    pub auth_context: crate::correlate::AuthContext,
    /// The connection's place among its retries (TCP connections).
    pub attempt: Option<crate::correlate::AttemptRef>,
    /// For an RDP connection tunnelled through an RD Gateway: the gateway connection's id
    /// (`gateway_inside::diagnose_tunnelled`).
    pub via_gateway: Option<u64>,
}

impl Diagnosed {
    /// The finding that explains the verdict best: most severe first, then first found.
    pub fn main_finding(&self) -> Option<&Finding> {
        let worst = self.findings.iter().map(|f| f.severity).max()?;
        self.findings.iter().find(|f| f.severity == worst)
    }
}

/// What the rules look at. Facts derived once per connection and shared by every rule (today
/// the phases in `progress`; per-direction facts such as who owes the next message or the
/// retransmission timeouts would sit beside them) belong here rather than in a rule.
pub(crate) struct Ctx<'a> {
    pub meta: &'a FlowMeta,
    pub tcp: Option<&'a TcpStats>,
    pub conn: &'a Connection,
    pub progress: &'a Progress,
    pub config: &'a DiagnoseConfig,
}

impl Ctx<'_> {
    pub fn t_ms(&self, ts_ns: i64) -> f64 {
        crate::timefmt::ms_between(self.meta.first.ts_ns, ts_ns)
    }

    pub fn ev(&self, at: &PacketInfo, note: Note) -> Evidence {
        Evidence {
            frame: at.frame,
            t_ms: self.t_ms(at.ts_ns),
            note,
        }
    }

    pub fn ev_frame(&self, f: &crate::flow::FrameTime, note: Note) -> Evidence {
        Evidence {
            frame: f.frame,
            t_ms: self.t_ms(f.ts_ns),
            note,
        }
    }

    /// First FIN or RST from `side` (for the server also an MCS Disconnect Provider
    /// Ultimatum or X.224 Disconnect Request, which end the connection at the RDP layer).
    pub fn close_by(&self, side: Side) -> Option<(PacketInfo, Close)> {
        let tcp_close = self.tcp_close_by(side);
        let rdp_close = [
            self.conn
                .mcs
                .ultimatum
                .as_ref()
                .filter(|u| u.side == side)
                .map(|u| (u.at, Close::Ultimatum(u.value))),
            self.conn
                .x224
                .disconnect
                .as_ref()
                .filter(|d| d.side == side)
                .map(|d| (d.at, Close::DisconnectRequest)),
        ];
        tcp_close
            .into_iter()
            .chain(rdp_close.into_iter().flatten())
            .min_by_key(|(p, _)| p.ts_ns)
    }

    fn tcp_close_by(&self, side: Side) -> Option<(PacketInfo, Close)> {
        let t = self.tcp?;
        let i = side;
        let pick = |f: &crate::flow::FrameTime, what| {
            (
                PacketInfo {
                    file: 0,
                    frame: f.frame,
                    ts_ns: f.ts_ns,
                },
                what,
            )
        };
        match (t.fin.get(i), t.rst.get(i)) {
            (Some(f), Some(r)) if r.ts_ns < f.ts_ns => Some(pick(r, Close::Rst)),
            (Some(f), _) => Some(pick(f, Close::Fin)),
            (None, Some(r)) => Some(pick(r, Close::Rst)),
            (None, None) => None,
        }
    }

    /// Which side closed first, with the packet.
    pub fn first_close(&self) -> Option<(Side, PacketInfo, Close)> {
        let c = self
            .close_by(Side::Client)
            .map(|(p, w)| (Side::Client, p, w));
        let s = self
            .close_by(Side::Server)
            .map(|(p, w)| (Side::Server, p, w));
        match (c, s) {
            (Some(c), Some(s)) => Some(if c.1.ts_ns <= s.1.ts_ns { c } else { s }),
            (c, s) => c.or(s),
        }
    }
}

pub use crate::correlate::Peers;

pub fn diagnose(
    flow: FinishedFlow<Connection>,
    config: &DiagnoseConfig,
    peers: Peers,
) -> Diagnosed {
    let progress = compute_phases(&flow.handler, &flow.meta, flow.tcp.as_deref());
    diagnose_with(flow, config, peers, progress)
}

/// As `diagnose`, with the flow's `compute_phases` already computed (by the pipeline stage
/// that needed it first: the UDP pairing remembers whether the connection was established).
pub fn diagnose_with(
    flow: FinishedFlow<Connection>,
    config: &DiagnoseConfig,
    peers: Peers,
    progress: Progress,
) -> Diagnosed {
    let ctx = Ctx {
        meta: &flow.meta,
        tcp: flow.tcp.as_deref(),
        conn: &flow.handler,
        progress: &progress,
        config,
    };
    let mut findings = Vec::new();
    if let Some(gw) = flow.handler.gateway.as_deref() {
        gateway::gateway_findings(&ctx, gw, &mut findings);
        let verdict = gateway::gateway_verdict(&ctx, gw, &findings);
        // The UDP transport sits under its TCP connection, as RDP-UDP flows do.
        let tcp_peer = gw
            .paired_with
            .filter(|_| gw.role == crate::session::gateway::GatewayRole::Udp);
        return Diagnosed {
            meta: flow.meta,
            tcp: flow.tcp.map(|t| *t),
            progress,
            verdict,
            findings,
            evicted: flow.evicted,
            tcp_peer,
            udp_peers: Vec::new(),
            connection: *flow.handler,
            auth_context: Default::default(),
            attempt: None,
            via_gateway: None,
        };
    }
    if let Some(u) = &flow.handler.udp {
        udp::udp_findings(&ctx, u, peers.tcp, &mut findings);
        let verdict = udp_verdict(u, &findings);
        return Diagnosed {
            meta: flow.meta,
            tcp: flow.tcp.map(|t| *t),
            progress,
            verdict,
            findings,
            evicted: flow.evicted,
            tcp_peer: peers.tcp.map(|p| p.id),
            udp_peers: Vec::new(),
            connection: *flow.handler,
            auth_context: Default::default(),
            attempt: None,
            via_gateway: None,
        };
    }
    connect::connect_findings(&ctx, &mut findings);
    negotiation::negotiation_findings(&ctx, &mut findings);
    tls::tls_findings(&ctx, &mut findings);
    timing::timing_findings(&ctx, &mut findings);
    abort::credssp_and_abort_findings(&ctx, &mut findings);
    close_answer::alert_after_client_close(&ctx, &mut findings);
    capture::capture_findings(&ctx, &mut findings);
    inside::inside_findings(&ctx, &mut findings);
    gateway_inside::gateway_inside_findings(&ctx, &mut findings);
    let verdict = verdict(&ctx, &findings);
    Diagnosed {
        meta: flow.meta,
        tcp: flow.tcp.map(|t| *t),
        connection: *flow.handler,
        progress,
        verdict,
        findings,
        evicted: flow.evicted,
        tcp_peer: None,
        udp_peers: peers.udp,
        auth_context: Default::default(),
        attempt: None,
        via_gateway: None,
    }
}

/// A UDP flow is a side channel: blocked or lossy UDP degrades the session, it does not fail it.
fn udp_verdict(u: &crate::session::udp::UdpState, findings: &[Finding]) -> Verdict {
    if findings.iter().any(|f| f.severity == Severity::Error) {
        Verdict::Failed
    } else if u.established.is_some() {
        Verdict::Ok
    } else if u.synack.is_some() || u.syn_count > 0 {
        if findings.is_empty() {
            Verdict::Incomplete
        } else {
            Verdict::Failed
        }
    } else {
        Verdict::Incomplete
    }
}

fn verdict(ctx: &Ctx, findings: &[Finding]) -> Verdict {
    let has = |code: FindingCode| findings.iter().any(|f| f.code == code);
    if has(FindingCode::HandshakeStalled) || has(FindingCode::SegmentBlackHoled) {
        return Verdict::Stalled;
    }
    if findings.iter().any(|f| f.severity == Severity::Error) {
        return Verdict::Failed;
    }
    if has(FindingCode::HandshakeSlow) {
        return Verdict::Slow;
    }
    if ctx.progress.established || abort::finished_cleanly(ctx) {
        return Verdict::Ok;
    }
    Verdict::Incomplete
}
