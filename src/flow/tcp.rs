//! TCP reassembly that accounts instead of failing: in-order bytes go up, duplicates are
//! counted as retransmissions, out-of-order bytes wait in a capped buffer, and bytes the
//! capture never saw become gaps with their size and time.
//!
//! Submodules: `stats` holds the per-connection facts and RTT estimate the layers above read;
//! `ack_rules` holds the handshake, keep-alive and duplicate-ACK rules (tshark's) that judge
//! segments without moving bytes. This file keeps the byte reassembly itself.

mod ack_rules;
mod stats;

use std::collections::BTreeMap;

use super::progress::{DirectionFacts, REORDER_WINDOW_NS};
use super::sides::Sides;
use super::Side;
use crate::capture::TcpSegment;
use stats::MAX_EVIDENCE;
pub use stats::{FrameTime, Gap, RttEstimate, RttSource, RttUnavailable, TcpStats};

/// What one direction of a TCP connection delivers to the layer above.
#[derive(Debug)]
pub enum StreamOutput<'a> {
    Data(&'a [u8]),
    /// Bytes that were sent but never captured; parsing must resync after them.
    Gap(u64),
}

/// How the reassembler judged one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentVerdict {
    pub retransmission: bool,
    pub out_of_order: bool,
    pub keepalive: bool,
    pub zero_window: bool,
}

/// One direction's reassembly state, in stream offsets (bytes since the first data byte).
#[derive(Debug, Default)]
struct HalfStream {
    /// Sequence number of stream offset 0.
    base_seq: Option<u32>,
    delivered: u64,
    fin_offset: Option<u64>,
    /// Waiting segments by stream offset: (length on the wire, captured bytes, arrival).
    out_of_order: BTreeMap<u64, (u64, Vec<u8>, i64)>,
    buffered: usize,
    /// The stream offset and time of an empty segment (ACK, FIN) whose sequence number ran
    /// beyond the delivery point: the bytes before it were sent and not seen here.
    ahead_seen: Option<(u64, i64)>,
}

impl HalfStream {
    // Sequence numbers count modulo 2^32 (RFC 793 3.3): the truncation is the arithmetic.
    #[allow(clippy::cast_possible_truncation)]
    fn next_seq(&self) -> Option<u32> {
        self.base_seq.map(|b| b.wrapping_add(self.delivered as u32))
    }

    /// Stream offset of `seq`, valid within 2 GiB of the delivery point (handles wrap-around).
    fn offset_of(&self, seq: u32) -> Option<i64> {
        let next = self.next_seq()?;
        let diff = seq.wrapping_sub(next) as i32;
        Some(self.delivered as i64 + i64::from(diff))
    }
}

pub struct TcpReassembler {
    halves: Sides<HalfStream>,
    pub stats: TcpStats,
    max_buffer: usize,
    client_isn: Option<u32>,
    server_isn: Option<u32>,
    /// Last window each side advertised (a window update is not a duplicate ACK).
    last_window: Sides<Option<u16>>,
    /// Each side's next sequence number: the highest end seen, SYN and FIN counted.
    next_seq: Sides<Option<u32>>,
    /// Whether each side's last segment was a keep-alive (its answer is no duplicate ACK).
    last_keepalive: Sides<bool>,
}

impl TcpReassembler {
    pub fn new(max_buffer: usize) -> Self {
        TcpReassembler {
            halves: Default::default(),
            stats: TcpStats::default(),
            max_buffer,
            client_isn: None,
            server_isn: None,
            last_window: Sides([None; 2]),
            next_seq: Sides([None; 2]),
            last_keepalive: Sides([false; 2]),
        }
    }

    /// Gives back the spare capacity of the evidence lists (a quiet connection).
    pub fn compact(&mut self) {
        let s = &mut self.stats;
        s.syn_retries.shrink_to_fit();
        s.syn_ack_retries.shrink_to_fit();
        s.gaps.shrink_to_fit();
        for v in s.retransmitted_segments.iter_mut() {
            v.shrink_to_fit();
        }
        if let Some(p) = s.progress.as_deref_mut() {
            p.iter_mut().for_each(DirectionFacts::compact);
        }
    }

    /// Feeds one segment; in-order output goes to `deliver` (data and gaps, in stream order).
    pub fn segment(
        &mut self,
        side: Side,
        seg: &TcpSegment,
        frame: u64,
        ts_ns: i64,
        deliver: &mut dyn FnMut(Side, StreamOutput),
    ) -> SegmentVerdict {
        let i = side;
        let at = FrameTime { frame, ts_ns };
        let mut verdict = SegmentVerdict::default();
        self.track_handshake(side, seg.flags, seg.seq, seg.ack, &at);
        if seg.window == 0 && !seg.flags.rst && !seg.flags.syn {
            *self.stats.zero_windows.get_mut(i) += 1;
            verdict.zero_window = true;
        }
        // The peer acknowledging bytes we never saw means the capture missed them.
        if seg.flags.ack {
            self.note_ack(side, seg, &at);
            self.gap_from_ack(side.other(), seg.ack, frame, ts_ns, deliver);
        }
        self.track_next_seq(side, seg);
        let half = self.halves.get_mut(i);
        if half.base_seq.is_none() {
            half.base_seq = Some(if seg.flags.syn {
                seg.seq.wrapping_add(1)
            } else {
                seg.seq
            });
        }
        let len = u64::from(seg.wire_len);
        if len == 0 && !seg.flags.syn {
            self.note_unseen_ahead(side, seg.seq, &at);
        }
        if len > 0 {
            *self.stats.max_segment.get_mut(i) = (*self.stats.max_segment.get(i)).max(seg.wire_len);
            verdict = self.data(side, seg, &at, verdict, deliver);
        }
        if seg.flags.fin {
            let half = self.halves.get_mut(i);
            if let Some(off) = half.offset_of(seg.seq) {
                half.fin_offset = Some((off.max(0) as u64).saturating_add(len));
            }
            if self.stats.fin.get(i).is_none() {
                *self.stats.fin.get_mut(i) = Some(at.clone());
            }
        }
        if seg.flags.rst && self.stats.rst.get(i).is_none() {
            *self.stats.rst.get_mut(i) = Some(at);
        }
        verdict
    }

    fn data(
        &mut self,
        side: Side,
        seg: &TcpSegment,
        at: &FrameTime,
        mut verdict: SegmentVerdict,
        deliver: &mut dyn FnMut(Side, StreamOutput),
    ) -> SegmentVerdict {
        let i = side;
        let len = u64::from(seg.wire_len);
        let half = self.halves.get_mut(i);
        let Some(off) = half.offset_of(seg.seq) else {
            return verdict;
        };
        let end = off + len as i64;
        let delivered = half.delivered as i64;
        // The hole shows as later bytes buffered, or as an empty segment (the FIN, an ACK)
        // whose sequence number ran ahead: tshark's "previous segment not captured".
        let late = |seen: i64| at.ts_ns - seen > REORDER_WINDOW_NS;
        // When the hole showed: the first later bytes or empty segment seen.
        let hole_ns = [
            half.out_of_order.values().next().map(|(_, _, seen)| *seen),
            half.ahead_seen.map(|(_, seen)| seen),
        ]
        .into_iter()
        .flatten()
        .min();
        let hole_filled_late = off == delivered
            && (half
                .out_of_order
                .values()
                .next()
                .is_some_and(|(_, _, seen)| late(*seen))
                || half.ahead_seen.is_some_and(|(upto, seen)| {
                    // tshark: a resend ending exactly where the later bytes begin, or late.
                    upto > off as u64 && (late(seen) || end as u64 == upto)
                })
                || (!half.out_of_order.is_empty()
                    && self
                        .stats
                        .progress(side.other())
                        .asked_again_for(delivered as u64)));
        if half.ahead_seen.is_some_and(|(upto, _)| end >= upto as i64) {
            half.ahead_seen = None;
        }
        *self.stats.data_segments.get_mut(i) += 1;
        let keepalive = end <= delivered && len <= 1 && end == delivered;
        if off >= 0 && !keepalive {
            self.stats
                .progress_mut()
                .get_mut(i)
                .on_data(off as u64, seg.wire_len, at);
        }
        if hole_filled_late {
            self.stats
                .progress_mut()
                .get_mut(i)
                .on_upstream_resend(at, seg.wire_len, hole_ns);
        }
        if end <= delivered {
            // TCP keepalive: one old byte (or none) just below the delivery point.
            if keepalive {
                *self.stats.keepalives.get_mut(i) += 1;
                verdict.keepalive = true;
            } else {
                self.count_retransmission(i, at, seg.wire_len);
                verdict.retransmission = true;
            }
            return verdict;
        }
        if off > delivered {
            verdict.out_of_order = true;
            let captured = seg.payload.to_vec();
            half.buffered += captured.len();
            if let Some((_, old, _)) = half
                .out_of_order
                .insert(off as u64, (len, captured, at.ts_ns))
            {
                half.buffered = half.buffered.saturating_sub(old.len());
            }
            if half.buffered > self.max_buffer {
                self.force_gap(side, at, deliver);
            }
            return verdict;
        }
        if off < delivered {
            self.count_retransmission(i, at, seg.wire_len);
            verdict.retransmission = true;
        }
        let skip = usize::try_from(delivered - off).unwrap_or(usize::MAX);
        self.push_in_order(side, seg.payload, skip, len, at, deliver);
        self.drain(side, at, deliver);
        verdict
    }

    /// An empty segment whose sequence number is past the delivery point: the sender has
    /// sent bytes that never arrived here (lost upstream of the capture, or not captured).
    fn note_unseen_ahead(&mut self, side: Side, seq: u32, at: &FrameTime) {
        let half = self.halves.get(side);
        let Some(off) = half.offset_of(seq) else {
            return;
        };
        let ahead = off - half.delivered as i64;
        // A FIN's sequence number counts one; keepalives sit one below.
        let ahead = if half.fin_offset.is_some() {
            ahead - 1
        } else {
            ahead
        };
        if ahead > 1 {
            let upto = u64::try_from(off).unwrap_or(0);
            self.halves
                .get_mut(side)
                .ahead_seen
                .get_or_insert((upto, at.ts_ns));
            let slot = self.stats.unseen_ahead.get_mut(side);
            if slot.as_ref().is_none_or(|(_, n)| (ahead as u64) > *n) {
                *slot = Some((at.clone(), ahead as u64));
            }
        }
    }

    fn count_retransmission(&mut self, i: Side, at: &FrameTime, len: u32) {
        *self.stats.retransmissions.get_mut(i) += 1;
        if self.stats.retransmitted_segments.get(i).len() < MAX_EVIDENCE {
            self.stats
                .retransmitted_segments
                .get_mut(i)
                .push((at.clone(), len));
        }
    }

    /// Delivers `payload[skip..]`, and a gap for the part the snaplen cut off.
    fn push_in_order(
        &mut self,
        side: Side,
        payload: &[u8],
        skip: usize,
        wire_len: u64,
        at: &FrameTime,
        deliver: &mut dyn FnMut(Side, StreamOutput),
    ) {
        let i = side;
        let fresh = payload.get(skip..).unwrap_or_default();
        if !fresh.is_empty() {
            deliver(side, StreamOutput::Data(fresh));
        }
        let new_bytes = wire_len.saturating_sub(skip as u64);
        self.halves.get_mut(i).delivered += new_bytes;
        *self.stats.payload_bytes.get_mut(i) += new_bytes;
        let cut = new_bytes.saturating_sub(fresh.len() as u64);
        if cut > 0 {
            self.record_gap(side, cut, at, false, deliver);
        }
    }

    fn record_gap(
        &mut self,
        side: Side,
        bytes: u64,
        at: &FrameTime,
        shown_by_ack: bool,
        deliver: &mut dyn FnMut(Side, StreamOutput),
    ) {
        if self.stats.gaps.len() < MAX_EVIDENCE {
            self.stats.gaps.push(Gap {
                side,
                bytes,
                frame: at.frame,
                ts_ns: at.ts_ns,
                shown_by_ack,
            });
        }
        deliver(side, StreamOutput::Gap(bytes));
    }

    /// Hands over buffered segments that have become contiguous.
    fn drain(&mut self, side: Side, at: &FrameTime, deliver: &mut dyn FnMut(Side, StreamOutput)) {
        let i = side;
        loop {
            let half = self.halves.get_mut(i);
            let Some((&off, _)) = half.out_of_order.iter().next() else {
                break;
            };
            if off > half.delivered {
                break;
            }
            let Some((wire_len, bytes, _)) = half.out_of_order.remove(&off) else {
                break;
            };
            half.buffered = half.buffered.saturating_sub(bytes.len());
            let skip = half.delivered - off;
            if skip < wire_len {
                self.push_in_order(
                    side,
                    &bytes,
                    usize::try_from(skip).unwrap_or(usize::MAX),
                    wire_len,
                    at,
                    deliver,
                );
            }
        }
    }

    /// Gives up waiting for missing bytes: jumps to the first buffered segment.
    fn force_gap(
        &mut self,
        side: Side,
        at: &FrameTime,
        deliver: &mut dyn FnMut(Side, StreamOutput),
    ) {
        let i = side;
        let half = self.halves.get_mut(i);
        let Some(&first) = half.out_of_order.keys().next() else {
            return;
        };
        let missing = first.saturating_sub(half.delivered);
        if missing > 0 {
            half.delivered = first;
            self.record_gap(side, missing, at, false, deliver);
        }
        self.drain(side, at, deliver);
    }

    fn gap_from_ack(
        &mut self,
        side: Side,
        ack: u32,
        frame: u64,
        ts_ns: i64,
        deliver: &mut dyn FnMut(Side, StreamOutput),
    ) {
        let half = self.halves.get(side);
        let Some(ack_off) = half.offset_of(ack) else {
            return;
        };
        if ack_off <= 0 {
            return;
        }
        let mut ack_off = ack_off as u64;
        // The FIN takes one sequence number that carries no byte.
        if let Some(fin) = half.fin_offset {
            ack_off = ack_off.min(fin);
        }
        let limit = half.out_of_order.keys().next().copied().unwrap_or(u64::MAX);
        let target = ack_off.min(limit);
        // A one-byte lead is an ACK of a FIN we have not seen yet, not a gap.
        if target > half.delivered + 1 || (limit != u64::MAX && target > half.delivered) {
            let missing = target - half.delivered;
            self.halves.get_mut(side).delivered = target;
            // Every missing byte is below the ACK: the peer received them.
            self.record_gap(side, missing, &FrameTime { frame, ts_ns }, true, deliver);
            self.drain(side, &FrameTime { frame, ts_ns }, deliver);
        }
    }

    /// At the end of the flow: whatever is still buffered is delivered after a gap.
    pub fn flush(&mut self, frame: u64, ts_ns: i64, deliver: &mut dyn FnMut(Side, StreamOutput)) {
        for side in [Side::Client, Side::Server] {
            while !self.halves.get(side).out_of_order.is_empty() {
                self.force_gap(side, &FrameTime { frame, ts_ns }, deliver);
            }
        }
    }
}

#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;
