//! The handshake and sequence/acknowledgement bookkeeping that tshark's analysis rules need:
//! SYN and SYN/ACK retries, each side's next sequence number, keep-alives and duplicate ACKs.
//! Separate from the byte reassembly because these rules judge segments without moving bytes.

use super::stats::MAX_EVIDENCE;
use super::{FrameTime, TcpReassembler};
use crate::capture::{TcpFlags, TcpSegment};
use crate::flow::Side;

impl TcpReassembler {
    /// This side's next sequence number and whether this segment is a keep-alive (one byte
    /// or none at the next sequence number minus one), as tshark tracks them.
    pub(super) fn track_next_seq(&mut self, side: Side, seg: &TcpSegment) {
        let next = *self.next_seq.get(side);
        let control = seg.flags.syn || seg.flags.fin || seg.flags.rst;
        *self.last_keepalive.get_mut(side) =
            !control && seg.wire_len <= 1 && next == Some(seg.seq.wrapping_add(1));
        let end = seg
            .seq
            .wrapping_add(seg.wire_len)
            .wrapping_add(u32::from(seg.flags.syn))
            .wrapping_add(u32::from(seg.flags.fin));
        if next.is_none_or(|n| (end.wrapping_sub(n) as i32) > 0) {
            *self.next_seq.get_mut(side) = Some(end);
        }
    }

    /// Progress facts of an acknowledgement from `side`: the peer's bytes acknowledged, and
    /// whether a pure ACK is a duplicate ACK by tshark's rule: it repeats this side's last
    /// ACK with the same non-zero window, at this side's next sequence number (not a
    /// keep-alive), and does not answer a keep-alive of the peer.
    pub(super) fn note_ack(&mut self, side: Side, seg: &TcpSegment, at: &FrameTime) {
        let peer = side.other();
        let Some(ack_off) = self.halves.get(peer).offset_of(seg.ack) else {
            return;
        };
        // Zero acknowledges no byte, but a pure ACK there can still repeat the SYN/ACK's.
        if ack_off < 0 {
            return;
        }
        let ack_off = ack_off as u64;
        let pure = seg.wire_len == 0 && !seg.flags.syn && !seg.flags.fin && !seg.flags.rst;
        let duplicate = seg.window != 0
            && *self.last_window.get(side) == Some(seg.window)
            && *self.next_seq.get(side) == Some(seg.seq)
            && !*self.last_keepalive.get(peer);
        let buffered = !self.halves.get(peer).out_of_order.is_empty();
        let facts = self.stats.progress_mut();
        facts.get_mut(peer).on_peer_ack(ack_off, at);
        let in_flight = facts.get(peer).sent_upto > ack_off || buffered;
        let facts = facts.get_mut(side);
        if pure {
            facts.on_pure_ack(ack_off, duplicate, in_flight, at);
        } else {
            facts.note_ack_sent(ack_off);
        }
        *self.last_window.get_mut(side) = Some(seg.window);
    }

    pub(super) fn track_handshake(
        &mut self,
        side: Side,
        flags: TcpFlags,
        seq: u32,
        ack: u32,
        at: &FrameTime,
    ) {
        match (side, flags.syn, flags.ack) {
            (Side::Client, true, false) => {
                self.stats.syn_seen = true;
                if self.stats.first_syn.is_none() {
                    self.stats.first_syn = Some(at.clone());
                    self.client_isn = Some(seq);
                } else if self.stats.syn_retries.len() < MAX_EVIDENCE {
                    self.stats.syn_retries.push(at.clone());
                }
            }
            (Side::Server, true, true) => {
                self.stats.syn_ack_seen = true;
                if self.stats.first_syn_ack.is_none() {
                    self.stats.first_syn_ack = Some(at.clone());
                    self.server_isn = Some(seq);
                } else {
                    *self.stats.retransmissions.get_mut(Side::Server) += 1;
                    if self.stats.syn_ack_retries.len() < MAX_EVIDENCE {
                        self.stats.syn_ack_retries.push(at.clone());
                    }
                }
            }
            (Side::Client, false, true)
                if self.stats.handshake_ack.is_none()
                    && self.stats.first_syn.is_some()
                    && self.server_isn.map(|isn| isn.wrapping_add(1)) == Some(ack) =>
            {
                self.stats.handshake_ack = Some(at.clone());
            }
            _ => {}
        }
    }
}
