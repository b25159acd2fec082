//! What TCP reassembly found on one connection (handshake, retransmissions, gaps with their
//! frames, progress) and the round-trip estimate derived from it. Kept apart from the
//! reassembler because the layers above (session, diagnose, report) read these facts and
//! never drive the reassembler; it imports nothing from the reassembler, so the tie is one-way.

use serde::Serialize;

use crate::flow::progress::DirectionFacts;
use crate::flow::sides::Sides;
use crate::flow::Side;
use crate::limits::vec_bytes;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gap {
    pub side: Side,
    pub bytes: u64,
    pub frame: u64,
    #[serde(skip)]
    pub ts_ns: i64,
    /// The peer's acknowledgement showed the hole (it covered bytes the capture never saw):
    /// the peer received them, so `side` did send them (frame is the peer's ACK).
    #[serde(skip)]
    pub shown_by_ack: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FrameTime {
    pub frame: u64,
    #[serde(skip)]
    pub ts_ns: i64,
}

/// Per-connection TCP facts, reported as they are.
#[derive(Debug, Default, Clone, Serialize)]
pub struct TcpStats {
    pub syn_seen: bool,
    pub syn_ack_seen: bool,
    /// Client SYNs after the first one.
    pub syn_retries: Vec<FrameTime>,
    pub first_syn: Option<FrameTime>,
    pub first_syn_ack: Option<FrameTime>,
    pub handshake_ack: Option<FrameTime>,
    pub retransmissions: Sides<u32>,
    /// Retransmitted segments per side with their frame, time and payload size.
    pub retransmitted_segments: Sides<Vec<(FrameTime, u32)>>,
    pub max_segment: Sides<u32>,
    pub zero_windows: Sides<u32>,
    pub keepalives: Sides<u32>,
    pub gaps: Vec<Gap>,
    pub fin: Sides<Option<FrameTime>>,
    pub rst: Sides<Option<FrameTime>>,
    pub payload_bytes: Sides<u64>,
    /// The farthest a side's sequence numbers ran ahead of the bytes that reached the
    /// capture point (sent but never seen here), with the segment that showed it.
    pub unseen_ahead: Sides<Option<(FrameTime, u64)>>,
    pub data_segments: Sides<u32>,
    /// Server SYN/ACKs after the first one.
    #[serde(skip)]
    pub syn_ack_retries: Vec<FrameTime>,
    /// Per side: what it sent, what the peer acknowledged, what it had to send again.
    /// Allocated with the first data or acknowledgement of data: a connection that never
    /// got that far (a SYN flood) costs nothing here.
    #[serde(skip)]
    pub progress: Option<Box<Sides<DirectionFacts>>>,
    /// Frames captured twice (same IP ID, same segment) and left out of reassembly, and the
    /// first of them: a capture artefact, never loss.
    #[serde(skip)]
    pub duplicates: u64,
    #[serde(skip)]
    pub first_duplicate: Option<FrameTime>,
}

static NO_PROGRESS: DirectionFacts = DirectionFacts::EMPTY;

/// Evidence lists stop growing here so a hostile flow cannot eat memory.
pub(super) const MAX_EVIDENCE: usize = 64;

impl TcpStats {
    /// Heap bytes of the evidence lists and the progress facts.
    pub fn heap_bytes(&self) -> usize {
        vec_bytes(&self.syn_retries)
            + self
                .retransmitted_segments
                .iter()
                .map(vec_bytes)
                .sum::<usize>()
            + vec_bytes(&self.gaps)
            + vec_bytes(&self.syn_ack_retries)
            + self.progress.as_ref().map_or(0, |p| {
                std::mem::size_of::<Sides<DirectionFacts>>()
                    + p.iter().map(DirectionFacts::heap_bytes).sum::<usize>()
            })
    }

    /// SYN -> SYN/ACK -> ACK, as Wireshark's initial RTT.
    pub fn handshake_rtt_ns(&self) -> Option<i64> {
        Some(self.handshake_ack.as_ref()?.ts_ns - self.first_syn.as_ref()?.ts_ns)
    }

    /// The handshake round trip only when it is unambiguous (Karn's rule, RFC 6298 §3): no
    /// SYN and no SYN/ACK was sent twice, so the ACK answers the one SYN/ACK seen.
    pub fn handshake_rtt_karn_ns(&self) -> Option<i64> {
        if !self.syn_retries.is_empty() || !self.syn_ack_retries.is_empty() {
            return None;
        }
        self.handshake_rtt_ns()
    }

    /// The best round-trip estimate from this capture point: the unambiguous handshake, or
    /// else the smallest data sample of each direction added up (each measures the leg from
    /// the capture point to the receiver and back).
    pub fn rtt_estimate(&self) -> Option<RttEstimate> {
        if let Some(ns) = self.handshake_rtt_karn_ns() {
            return Some(RttEstimate {
                ns,
                source: RttSource::Handshake,
            });
        }
        let c = self.progress(Side::Client).rtt.min_ns?;
        let s = self.progress(Side::Server).rtt.min_ns?;
        Some(RttEstimate {
            ns: c + s,
            source: RttSource::DataSamples,
        })
    }

    /// Why `rtt_estimate` has no value: there is no sample Karn's rule (RFC 6298 §3) allows.
    pub fn rtt_unavailable(&self) -> Option<RttUnavailable> {
        if self.rtt_estimate().is_some() {
            return None;
        }
        if self.first_syn.is_none() || self.handshake_ack.is_none() {
            return Some(RttUnavailable::NoHandshake);
        }
        // A complete handshake with no retransmission always gives an estimate.
        Some(RttUnavailable::HandshakeRetransmitted {
            syn: self.syn_retries.len(),
            syn_ack: self.syn_ack_retries.len(),
        })
    }

    /// What `side` sent, what its peer acknowledged and what it had to send again.
    pub fn progress(&self, side: Side) -> &DirectionFacts {
        match &self.progress {
            Some(p) => p.get(side),
            None => &NO_PROGRESS,
        }
    }

    pub(super) fn progress_mut(&mut self) -> &mut Sides<DirectionFacts> {
        self.progress.get_or_insert_with(Default::default)
    }

    pub fn closed_by(&self) -> Option<Side> {
        first_side(&self.fin)
    }

    pub fn reset_by(&self) -> Option<Side> {
        first_side(&self.rst)
    }
}

/// Where a round-trip estimate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RttSource {
    /// SYN to the client's ACK of the SYN/ACK, neither retransmitted.
    Handshake,
    /// Data segments and the ACKs that covered them, none retransmitted, both directions.
    DataSamples,
}

/// Why a connection has no round-trip estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RttUnavailable {
    /// The capture lacks the SYN or the ACK of the SYN/ACK, and no data sample of both
    /// directions is unambiguous.
    NoHandshake,
    /// The SYN (`syn` times) or SYN/ACK (`syn_ack` times) was sent again: the handshake
    /// measures the retransmission timer, and no data sample of both directions is
    /// unambiguous.
    HandshakeRetransmitted { syn: usize, syn_ack: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttEstimate {
    pub ns: i64,
    pub source: RttSource,
}

fn first_side(v: &Sides<Option<FrameTime>>) -> Option<Side> {
    match (v.get(Side::Client), v.get(Side::Server)) {
        (Some(c), Some(s)) => Some(if c.ts_ns <= s.ts_ns {
            Side::Client
        } else {
            Side::Server
        }),
        (Some(_), None) => Some(Side::Client),
        (None, Some(_)) => Some(Side::Server),
        (None, None) => None,
    }
}
