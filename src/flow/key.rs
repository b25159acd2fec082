//! What names a flow and a packet: sides, endpoints, the direction-independent key.

use std::net::IpAddr;

use serde::Serialize;

use super::Sides;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ip {
            IpAddr::V4(ip) => write!(f, "{ip}:{}", self.port),
            IpAddr::V6(ip) => write!(f, "[{ip}]:{}", self.port),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    Tcp,
    Udp,
}

/// Direction-independent key: the two endpoints in sorted order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct FlowKey {
    transport: TransportKind,
    low: Endpoint,
    high: Endpoint,
}

impl FlowKey {
    pub(super) fn new(transport: TransportKind, a: Endpoint, b: Endpoint) -> Self {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        FlowKey {
            transport,
            low,
            high,
        }
    }
}

/// An open flow, named for `FlowTable::finish_one`.
#[derive(Debug, Clone, Copy)]
pub struct OpenFlow(pub(super) FlowKey);

/// Where a packet sits in the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInfo {
    pub file: usize,
    pub frame: u64,
    pub ts_ns: i64,
}

/// Identity and counters of one connection.
#[derive(Debug, Clone)]
pub struct FlowMeta {
    /// Sequence number among followed connections, in order of their first packet.
    pub id: u64,
    pub transport: TransportKind,
    pub client: Endpoint,
    pub server: Endpoint,
    pub first: PacketInfo,
    pub last: PacketInfo,
    pub packets: u64,
    pub bytes: u64,
    pub packets_by_side: Sides<u64>,
}
