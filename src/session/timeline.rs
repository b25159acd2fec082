//! The timeline of a connection: ordered events, and the phases they group into.

use serde::Serialize;

use super::event::EventKind;
use crate::flow::{PacketInfo, Side};

/// One event of the timeline: where it was seen, which way it went, what it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: PacketInfo,
    pub dir: Side,
    pub kind: EventKind,
}

/// Events of one connection, capped so a long session cannot grow it without bound.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub events: Vec<Event>,
    /// Events left out once `max` were kept.
    pub dropped: u64,
    /// Most events kept (`Limits::max_timeline_events`).
    pub max: usize,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline::with_max(crate::limits::Limits::default().max_timeline_events)
    }
}

impl Timeline {
    pub fn with_max(max: usize) -> Self {
        Timeline {
            events: Vec::new(),
            dropped: 0,
            max,
        }
    }

    pub fn push(&mut self, at: &PacketInfo, dir: Side, kind: EventKind) {
        if self.events.len() < self.max {
            self.events.push(Event { at: *at, dir, kind });
        } else {
            self.dropped += 1;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseName {
    TcpConnect,
    X224Negotiation,
    TlsHandshake,
    Credssp,
    McsConnect,
    RdpData,
    /// RD Gateway: from the client's first HTTP request to the gateway's first answer.
    GatewayAuth,
    /// RD Gateway: the MS-TSGU tunnel and channel setup (inferred from record counts keyless).
    GatewayTunnel,
    /// RD Gateway: the tunnelled RDP connection's bytes.
    GatewayData,
    Closed,
}

impl PhaseName {
    pub fn name(self) -> &'static str {
        match self {
            PhaseName::TcpConnect => "tcp_connect",
            PhaseName::X224Negotiation => "x224_negotiation",
            PhaseName::TlsHandshake => "tls_handshake",
            PhaseName::Credssp => "credssp",
            PhaseName::McsConnect => "mcs_connect",
            PhaseName::RdpData => "rdp_data",
            PhaseName::GatewayAuth => "gateway_auth",
            PhaseName::GatewayTunnel => "gateway_tunnel",
            PhaseName::GatewayData => "gateway_data",
            PhaseName::Closed => "closed",
        }
    }
}

/// One phase of a connection, from the first packet that began it to the one that ended it.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub name: PhaseName,
    pub start: PacketInfo,
    pub end: PacketInfo,
    /// Whether the phase reached its natural end (false: the connection stopped inside it).
    pub complete: bool,
    /// The side the other was waiting on when the phase ended.
    pub waiting_on: Option<Side>,
}

impl Phase {
    pub fn duration_ns(&self) -> i64 {
        self.end.ts_ns.saturating_sub(self.start.ts_ns)
    }
}
