//! RDP over UDP (MS-RDPEUDP, RDPEUDP2): the handshake as it went by, and passive loss figures
//! per direction (FACTS 4.5): source sequence numbers seen twice (retransmitted), never seen
//! (lost before the capture point), and what the receivers' ACK vectors report missing.

use std::collections::BTreeSet;

use super::event::EventKind;
use super::Connection;
use crate::flow::Sides;
use crate::flow::{PacketInfo, Side};
use crate::proto::rdpeudp::{self, SeqUnwrapper, UdpFlags};

/// Sequence numbers remembered per direction to tell retransmissions from new data.
const SEQ_WINDOW: usize = 4096;
const MAX_SYN_TIMES: usize = 16;

/// What one direction's source sequence numbers showed.
#[derive(Debug, Default)]
pub struct SeqStats {
    seen: BTreeSet<u64>,
    lowest: Option<u64>,
    highest: Option<u64>,
    pub distinct: u64,
    pub retransmitted: u64,
    /// Reported missing by the other side's ACK vectors.
    pub reported_missing: u64,
}

impl SeqStats {
    fn record(&mut self, seq: u64) {
        if self.seen.contains(&seq) {
            self.retransmitted += 1;
            return;
        }
        self.seen.insert(seq);
        if self.seen.len() > SEQ_WINDOW {
            self.seen.pop_first();
        }
        self.distinct += 1;
        self.lowest = Some(self.lowest.map_or(seq, |l| l.min(seq)));
        self.highest = Some(self.highest.map_or(seq, |h| h.max(seq)));
    }

    /// Sequence numbers in the seen range that never went by the capture point.
    pub fn never_seen(&self) -> u64 {
        match (self.lowest, self.highest) {
            (Some(l), Some(h)) => (h - l + 1).saturating_sub(self.distinct),
            _ => 0,
        }
    }

    /// Share of this direction's data that was lost somewhere, in percent.
    pub fn loss_pct(&self) -> f64 {
        let sent = self.distinct + self.never_seen();
        if sent == 0 {
            return 0.0;
        }
        let lost = (self.never_seen() + self.retransmitted).max(self.reported_missing);
        ((lost as f64 / sent as f64) * 1000.0).round() / 10.0
    }
}

#[derive(Debug, Default)]
pub struct UdpState {
    pub syn_count: u32,
    pub syn_times: Vec<PacketInfo>,
    pub synack: Option<PacketInfo>,
    /// The client's first datagram after the SYN+ACK: the handshake completed.
    pub established: Option<PacketInfo>,
    pub version: Option<u16>,
    pub lossy: Option<bool>,
    pub mtu: Option<(u16, u16)>,
    pub correlation_id: Option<String>,
    pub packets: Sides<u64>,
    pub data_packets: Sides<u64>,
    pub seqs: Sides<SeqStats>,
    pub last: Sides<Option<PacketInfo>>,
    pub decode_errors: u64,
    unwrap: Sides<SeqUnwrapper>,
}

impl UdpState {
    pub fn rdpeudp2(&self) -> bool {
        self.version == Some(rdpeudp::UDP_VERSION_3)
    }

    pub fn retransmissions(&self) -> u64 {
        self.seqs.iter().map(|s| s.retransmitted).sum()
    }
}

pub(super) fn datagram(conn: &mut Connection, at: &PacketInfo, side: Side, payload: &[u8]) {
    let u = conn.udp.get_or_insert_with(Box::default);
    let i = side;
    *u.packets.get_mut(i) += 1;
    *u.last.get_mut(i) = Some(*at);
    // After a v3 handshake the data phase is RDPEUDP2; SYNs stay in the v1 format.
    if u.rdpeudp2() && u.synack.is_some() && !rdpeudp::looks_like_syn(payload) {
        match rdpeudp::parse_v2(payload) {
            Ok(d) => {
                if u.established.is_none() && side == Side::Client {
                    u.established = Some(*at);
                    conn.timeline
                        .push(at, side, EventKind::UdpEstablished { rdpeudp2: true });
                }
                if let Some(ch) = d.channel_seq_num.filter(|_| !d.is_dummy()) {
                    *u.data_packets.get_mut(i) += 1;
                    let seq = u.unwrap.get_mut(i).unwrap(ch);
                    u.seqs.get_mut(i).record(seq);
                }
                if let Some(v) = &d.ack_vec {
                    u.seqs.get_mut(side.other()).reported_missing += u64::from(v.lost());
                }
            }
            Err(_) => u.decode_errors += 1,
        }
        return;
    }
    let d = match rdpeudp::parse_v1(payload) {
        Ok(d) => d,
        Err(_) => {
            u.decode_errors += 1;
            return;
        }
    };
    if d.is_syn() && side == Side::Client {
        u.syn_count += 1;
        if u.syn_times.len() < MAX_SYN_TIMES {
            u.syn_times.push(*at);
        }
        u.lossy = Some(d.flags.contains(UdpFlags::SYNLOSSY));
        if let Some(s) = d.syn {
            u.mtu.get_or_insert((s.up_mtu, s.down_mtu));
        }
        if let Some(id) = &d.correlation_id {
            u.correlation_id = Some(rdpeudp::format_correlation_id(id));
        }
        if u.syn_count == 1 {
            let kind = EventKind::UdpSyn {
                lossy: d.flags.contains(UdpFlags::SYNLOSSY),
                offered_version: d.synex.map(|x| x.version),
            };
            conn.timeline.push(at, side, kind);
        } else if u.syn_count <= 8 {
            let retry = u.syn_count - 1;
            conn.timeline
                .push(at, side, EventKind::UdpSynRetry { retry });
        }
        return;
    }
    let u = conn.udp.get_or_insert_with(Box::default);
    if d.is_syn_ack() && side == Side::Server {
        if u.synack.is_none() {
            u.synack = Some(*at);
            u.version = Some(d.synex.map(|x| x.version).unwrap_or(rdpeudp::UDP_VERSION_1));
            if let Some(s) = d.syn {
                // Negotiated MTU: each direction is the smaller of what both sides advertised.
                let (cu, cd) = u.mtu.unwrap_or((s.up_mtu, s.down_mtu));
                u.mtu = Some((cu.min(s.down_mtu), cd.min(s.up_mtu)));
            }
            let version = u.version.unwrap_or(rdpeudp::UDP_VERSION_1);
            conn.timeline
                .push(at, side, EventKind::UdpSynAck { version });
        }
        return;
    }
    if u.established.is_none() && u.synack.is_some() && side == Side::Client {
        u.established = Some(*at);
        conn.timeline
            .push(at, side, EventKind::UdpEstablished { rdpeudp2: false });
    }
    if d.flags.contains(UdpFlags::DATA) {
        *u.data_packets.get_mut(i) += 1;
        if let Some(seq) = d.sn_source_start() {
            u.seqs.get_mut(i).record(u64::from(seq));
        }
    }
    if let Some(v) = &d.ack_vector {
        u.seqs.get_mut(side.other()).reported_missing += u64::from(v.missing());
    }
}
