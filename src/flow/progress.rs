//! What each direction of a TCP connection sent, what the other side acknowledged, and what
//! had to be sent again: the facts that stall, loss and latency judgements reason from
//! (instead of elapsed time or who sent the last packet).
//!
//! Offsets are stream offsets of the sending direction (bytes since its first data byte), as
//! in the reassembler. The same rules as Wireshark's TCP analysis (`tcp.analysis.*`) apply
//! where they can be decided from one capture point: a retransmission resends bytes already
//! seen; it is spurious when the peer had acknowledged them; a duplicate ACK repeats the
//! previous ACK number with no data while bytes are outstanding; a segment that fills a hole
//! long after later bytes arrived was lost before the capture point and sent again.
//! RTT samples follow Karn's rule (RFC 6298 §3): never from a segment that was retransmitted.

use std::collections::VecDeque;

use super::tcp::FrameTime;
use crate::limits::vec_bytes;

/// Segments awaiting their first acknowledgement kept per direction for RTT samples.
const MAX_OUTSTANDING: usize = 32;
/// Retransmission times kept per series (the count goes on).
const MAX_SERIES_TIMES: usize = 16;
/// A hole filled later than this after the bytes beyond it arrived was a resend, not a
/// reordering (Wireshark's default out-of-order window is 3 ms).
pub const REORDER_WINDOW_NS: i64 = 3_000_000;

/// One segment sent again and again without being acknowledged in between: the sender's
/// retransmission timer firing (with backoff) or fast retransmits.
#[derive(Debug, Clone, PartialEq)]
pub struct RetransmitSeries {
    /// Stream offset of the segment's first byte.
    pub offset: u64,
    /// Payload length on the wire.
    pub len: u32,
    /// The first transmission seen by the capture.
    pub first_sent: FrameTime,
    /// Number of retransmissions after the first transmission.
    pub retransmits: u32,
    /// Times of the first retransmissions (at most `MAX_SERIES_TIMES`).
    pub times: Vec<FrameTime>,
    /// When the peer finally acknowledged the segment, if it did.
    pub acked: Option<FrameTime>,
}

impl RetransmitSeries {
    /// The intervals between consecutive transmissions grew: the sender's retransmission
    /// timeout doubled (RFC 6298 §5.5), the signature of a timer, not of a duplicate.
    pub fn backs_off(&self) -> bool {
        let mut prev = self.first_sent.ts_ns;
        let mut last_gap = 0i64;
        let mut grew = 0u32;
        for t in &self.times {
            let gap = t.ts_ns - prev;
            if last_gap > 0 && gap as f64 >= last_gap as f64 * 1.5 {
                grew += 1;
            }
            last_gap = gap;
            prev = t.ts_ns;
        }
        grew >= 1
    }

    /// Last transmission seen.
    pub fn last_sent(&self) -> &FrameTime {
        self.times.last().unwrap_or(&self.first_sent)
    }
}

/// Round-trip samples of one direction's data: time from a segment's first transmission to
/// the peer's acknowledgement that covered it, from this capture point.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RttSamples {
    pub count: u32,
    pub min_ns: Option<i64>,
    pub max_ns: Option<i64>,
    /// The segment and acknowledgement of the smallest sample.
    pub min_at: Option<(FrameTime, FrameTime)>,
}

impl RttSamples {
    fn add(&mut self, sent: &FrameTime, acked: &FrameTime) {
        let ns = acked.ts_ns - sent.ts_ns;
        if ns < 0 {
            return;
        }
        self.count += 1;
        if self.min_ns.is_none_or(|m| ns < m) {
            self.min_ns = Some(ns);
            self.min_at = Some((sent.clone(), acked.clone()));
        }
        if self.max_ns.is_none_or(|m| ns > m) {
            self.max_ns = Some(ns);
        }
    }
}

/// Lost-time records kept per direction (the counts go on).
const MAX_LOSS_WAITS: usize = 64;

/// The time one resend cost its sender: from the previous transmission of the same bytes
/// (or, for a segment lost before the capture point, from when the hole showed) to the
/// resend. With a retransmission timer that is the timeout (RFC 6298 5).
#[derive(Debug, Clone, PartialEq)]
pub struct LossWait {
    pub from_ns: i64,
    pub to: FrameTime,
    /// Bytes resent.
    pub len: u32,
    /// The bytes had been acknowledged already: the timer fired for nothing lost.
    pub spurious: bool,
    /// The first transmission never reached the capture point.
    pub upstream: bool,
}

impl LossWait {
    pub fn ns(&self) -> i64 {
        (self.to.ts_ns - self.from_ns).max(0)
    }
}

#[derive(Debug, Clone)]
struct Outstanding {
    end: u64,
    sent: FrameTime,
    retransmitted: bool,
}

/// What one direction's resends and duplicate ACKs showed: most connections never resend,
/// so these live behind one pointer (`DirectionFacts::loss`) made at the first of them.
#[derive(Debug, Clone, Default)]
pub struct LossFacts {
    /// Retransmissions of bytes the peer had already acknowledged.
    pub spurious_retransmissions: u32,
    /// Segments that filled a hole well after later bytes had arrived: lost before the
    /// capture point and sent again.
    pub resent_after_upstream_loss: u32,
    /// Frame of the first such segment.
    pub first_upstream_resend: Option<FrameTime>,
    /// And of the last one.
    pub last_upstream_resend: Option<FrameTime>,
    /// Frame of the first duplicate ACK this side sent.
    pub first_dup_ack: Option<FrameTime>,
    /// Times of the duplicate ACKs sent while the peer had bytes in flight (at most
    /// `MAX_LOSS_WAITS`).
    pub dup_ack_times: Vec<i64>,
    /// The retransmission series with the most retransmissions.
    pub worst_series: Option<RetransmitSeries>,
    /// The series still running (not yet acknowledged).
    current_series: Option<RetransmitSeries>,
    /// What each resend of this side cost, in order (at most `MAX_LOSS_WAITS`).
    pub waits: Vec<LossWait>,
}

impl LossFacts {
    /// No resend and no duplicate ACK.
    pub const EMPTY: LossFacts = LossFacts {
        spurious_retransmissions: 0,
        resent_after_upstream_loss: 0,
        first_upstream_resend: None,
        last_upstream_resend: None,
        first_dup_ack: None,
        dup_ack_times: Vec::new(),
        worst_series: None,
        current_series: None,
        waits: Vec::new(),
    };

    /// The series the connection ended in: retransmitted and never acknowledged.
    pub fn unacked_series(&self) -> Option<&RetransmitSeries> {
        self.current_series
            .as_ref()
            .filter(|s| s.acked.is_none() && s.retransmits > 0)
    }

    /// The longest series of the connection, ended or still running.
    pub fn longest_series(&self) -> Option<&RetransmitSeries> {
        match (&self.worst_series, &self.current_series) {
            (Some(w), Some(c)) => Some(if c.retransmits > w.retransmits { c } else { w }),
            (w, c) => w.as_ref().or(c.as_ref()),
        }
    }

    fn finish_series(&mut self) {
        if let Some(s) = self.current_series.take() {
            self.keep_if_worst(s);
        }
    }

    fn keep_if_worst(&mut self, s: RetransmitSeries) {
        let worse = self
            .worst_series
            .as_ref()
            .is_none_or(|w| s.retransmits > w.retransmits);
        if worse {
            self.worst_series = Some(s);
        }
    }

    fn note_wait(&mut self, w: LossWait) {
        if self.waits.len() < MAX_LOSS_WAITS {
            self.waits.push(w);
        }
    }

    fn heap_bytes(&self) -> usize {
        let series = |s: &Option<RetransmitSeries>| s.as_ref().map_or(0, |s| vec_bytes(&s.times));
        vec_bytes(&self.dup_ack_times)
            + vec_bytes(&self.waits)
            + series(&self.worst_series)
            + series(&self.current_series)
    }
}

static NO_LOSS: LossFacts = LossFacts::EMPTY;

/// The progress facts of one direction.
#[derive(Debug, Clone, Default)]
pub struct DirectionFacts {
    /// One past the highest byte offset this side sent.
    pub sent_upto: u64,
    /// Highest offset the peer acknowledged.
    pub acked_upto: u64,
    /// When bytes never sent before last went out.
    pub last_new_data: Option<FrameTime>,
    /// When the peer's acknowledgement of these bytes last advanced.
    pub last_ack_advance: Option<FrameTime>,
    /// Duplicate ACKs this side sent (the peer's bytes are missing at this side).
    pub dup_acks: u32,
    /// RTT samples from this side's data (Karn's rule).
    pub rtt: RttSamples,
    /// Resends and duplicate ACKs, made at the first of them.
    loss: Option<Box<LossFacts>>,
    outstanding: VecDeque<Outstanding>,
    last_ack_sent: Option<u64>,
    /// Duplicate ACKs in a row at `last_ack_sent` (RFC 5681 3.2: the third one makes the
    /// peer retransmit fast).
    dup_run: u32,
}

impl DirectionFacts {
    /// A direction that has sent nothing and been acknowledged nothing.
    pub const EMPTY: DirectionFacts = DirectionFacts {
        sent_upto: 0,
        acked_upto: 0,
        last_new_data: None,
        last_ack_advance: None,
        dup_acks: 0,
        rtt: RttSamples {
            count: 0,
            min_ns: None,
            max_ns: None,
            min_at: None,
        },
        loss: None,
        outstanding: VecDeque::new(),
        last_ack_sent: None,
        dup_run: 0,
    };

    /// What this side's resends and duplicate ACKs showed (empty when it had none).
    pub fn loss(&self) -> &LossFacts {
        self.loss.as_deref().unwrap_or(&NO_LOSS)
    }

    fn loss_mut(&mut self) -> &mut LossFacts {
        self.loss.get_or_insert_with(Box::default)
    }

    /// Heap bytes beyond the inline size: the segments awaiting acknowledgement and the
    /// loss facts.
    pub fn heap_bytes(&self) -> usize {
        self.outstanding.capacity() * std::mem::size_of::<Outstanding>()
            + self
                .loss
                .as_ref()
                .map_or(0, |l| std::mem::size_of::<LossFacts>() + l.heap_bytes())
    }

    /// Gives back the spare capacity of a quiet direction (every fact stays).
    pub fn compact(&mut self) {
        self.outstanding.shrink_to_fit();
        if let Some(l) = self.loss.as_deref_mut() {
            l.waits.shrink_to_fit();
            l.dup_ack_times.shrink_to_fit();
        }
    }

    /// Bytes sent and not acknowledged (as far as the capture saw the acknowledgements).
    pub fn unacked(&self) -> u64 {
        self.sent_upto.saturating_sub(self.acked_upto)
    }

    /// The series the connection ended in: retransmitted and never acknowledged.
    pub fn unacked_series(&self) -> Option<&RetransmitSeries> {
        self.loss().unacked_series()
    }

    /// The longest series of the connection, ended or still running.
    pub fn longest_series(&self) -> Option<&RetransmitSeries> {
        self.loss().longest_series()
    }

    /// A segment of this side sent (first time or again) at `at`.
    pub(super) fn on_data(&mut self, offset: u64, len: u32, at: &FrameTime) {
        let end = offset + u64::from(len);
        if end > self.sent_upto && end <= self.acked_upto {
            // The peer acknowledged these bytes before the capture saw them: this copy is a
            // resend of bytes already delivered (tshark: spurious retransmission).
            self.sent_upto = end;
            self.loss_mut().spurious_retransmissions += 1;
            return;
        }
        if end > self.sent_upto {
            if offset >= self.sent_upto {
                self.last_new_data = Some(at.clone());
                if self.outstanding.len() >= MAX_OUTSTANDING {
                    self.outstanding.pop_front();
                }
                self.outstanding.push_back(Outstanding {
                    end,
                    sent: at.clone(),
                    retransmitted: false,
                });
                self.sent_upto = end;
                return;
            }
            self.sent_upto = end;
        }
        self.on_retransmission(offset, len, at);
    }

    /// The first transmission seen of the bytes at `offset`, if still awaiting its ACK.
    fn first_sent_of(&self, offset: u64) -> Option<&FrameTime> {
        self.outstanding
            .iter()
            .find(|o| o.end > offset)
            .map(|o| &o.sent)
    }

    fn on_retransmission(&mut self, offset: u64, len: u32, at: &FrameTime) {
        let end = offset + u64::from(len);
        let spurious = end <= self.acked_upto;
        let first_sent = self.first_sent_of(offset).cloned();
        for o in self.outstanding.iter_mut() {
            if o.end > offset {
                o.retransmitted = true;
            }
        }
        let loss = self.loss_mut();
        if spurious {
            loss.spurious_retransmissions += 1;
        }
        let previous = match &loss.current_series {
            Some(s) if s.offset == offset && s.acked.is_none() => Some(s.last_sent().ts_ns),
            _ => first_sent.as_ref().map(|f| f.ts_ns),
        };
        if let Some(from_ns) = previous {
            loss.note_wait(LossWait {
                from_ns,
                to: at.clone(),
                len,
                spurious,
                upstream: false,
            });
        }
        match &mut loss.current_series {
            Some(s) if s.offset == offset && s.acked.is_none() => {
                s.retransmits += 1;
                if s.times.len() < MAX_SERIES_TIMES {
                    s.times.push(at.clone());
                }
            }
            _ => {
                // The first transmission of this segment: the oldest outstanding one that
                // covers it, or this very frame when the capture never saw it.
                let first_sent = first_sent.unwrap_or_else(|| at.clone());
                loss.finish_series();
                loss.current_series = Some(RetransmitSeries {
                    offset,
                    len,
                    first_sent,
                    retransmits: 1,
                    times: vec![at.clone()],
                    acked: None,
                });
            }
        }
    }

    /// The peer acknowledged up to `ack` (an offset in this side's stream).
    pub(super) fn on_peer_ack(&mut self, ack: u64, at: &FrameTime) {
        if ack <= self.acked_upto {
            return;
        }
        self.acked_upto = ack;
        self.last_ack_advance = Some(at.clone());
        while let Some(o) = self.outstanding.front() {
            if o.end > ack {
                break;
            }
            if !o.retransmitted {
                let sent = o.sent.clone();
                self.rtt.add(&sent, at);
            }
            self.outstanding.pop_front();
        }
        let Some(loss) = self.loss.as_deref_mut() else {
            return;
        };
        if let Some(s) = &mut loss.current_series {
            if s.acked.is_none() && ack > s.offset {
                s.acked = Some(at.clone());
                let done = s.clone();
                loss.keep_if_worst(done);
            }
        }
    }

    /// A pure ACK from this side acknowledging `ack` of the peer's stream; `duplicate` when
    /// the rest of tshark's rule holds (same window, next sequence number, no keep-alive).
    /// Only one sent while the peer has bytes in flight asks for missing bytes (RFC 5681
    /// section 2) and goes into the loss time; tshark counts the others too, and so does
    /// `dup_acks`.
    pub(super) fn on_pure_ack(
        &mut self,
        ack: u64,
        duplicate: bool,
        peer_outstanding: bool,
        at: &FrameTime,
    ) {
        if self.last_ack_sent == Some(ack) && duplicate {
            self.dup_acks += 1;
            self.dup_run += 1;
            let loss = self.loss_mut();
            if peer_outstanding && loss.dup_ack_times.len() < MAX_LOSS_WAITS {
                loss.dup_ack_times.push(at.ts_ns);
            }
            if loss.first_dup_ack.is_none() {
                loss.first_dup_ack = Some(at.clone());
            }
        } else if self.last_ack_sent != Some(ack) {
            self.dup_run = 0;
        }
        self.last_ack_sent = Some(ack);
    }

    /// This side's ACK number moved (data or not): a later equal one starts a new count.
    pub(super) fn note_ack_sent(&mut self, ack: u64) {
        if self.last_ack_sent != Some(ack) {
            self.last_ack_sent = Some(ack);
            self.dup_run = 0;
        }
    }

    /// This side has asked at least twice more for the peer's byte at `offset` with
    /// duplicate ACKs: the peer's segment there is a fast retransmission (tshark's rule).
    pub fn asked_again_for(&self, offset: u64) -> bool {
        self.dup_run >= 2 && self.last_ack_sent == Some(offset)
    }

    /// A segment that filled a hole seen since `hole_ns`: lost before the capture point.
    pub(super) fn on_upstream_resend(&mut self, at: &FrameTime, len: u32, hole_ns: Option<i64>) {
        let loss = self.loss_mut();
        if let Some(from_ns) = hole_ns {
            loss.note_wait(LossWait {
                from_ns,
                to: at.clone(),
                len,
                spurious: false,
                upstream: true,
            });
        }
        loss.resent_after_upstream_loss += 1;
        if loss.first_upstream_resend.is_none() {
            loss.first_upstream_resend = Some(at.clone());
        }
        loss.last_upstream_resend = Some(at.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(frame: u64, ms: i64) -> FrameTime {
        FrameTime {
            frame,
            ts_ns: ms * 1_000_000,
        }
    }

    #[test]
    fn synthetic_black_holed_segment_is_one_unacked_series_with_backoff() {
        let mut d = DirectionFacts::default();
        d.on_data(0, 47, &at(4, 0));
        d.on_peer_ack(47, &at(5, 1));
        d.on_data(47, 300, &at(6, 10));
        for (i, ms) in [210, 620, 1440, 3080, 6360].iter().enumerate() {
            d.on_data(47, 300, &at(7 + i as u64, *ms));
        }
        let s = d.unacked_series().expect("series");
        assert_eq!(s.retransmits, 5);
        assert_eq!(s.first_sent.frame, 6);
        assert!(s.backs_off());
        assert_eq!(d.unacked(), 300);
        assert_eq!(
            d.rtt.count, 1,
            "only the first, never retransmitted, segment"
        );
        assert_eq!(d.rtt.min_ns, Some(1_000_000));
    }

    #[test]
    fn synthetic_retransmitted_then_acked_segment_gives_no_rtt_sample() {
        let mut d = DirectionFacts::default();
        d.on_data(0, 100, &at(1, 0));
        d.on_data(0, 100, &at(2, 300));
        d.on_peer_ack(100, &at(3, 350));
        assert_eq!(d.rtt.count, 0, "Karn: ambiguous");
        assert!(d.unacked_series().is_none());
        let w = d.longest_series().expect("series");
        assert_eq!(w.acked.as_ref().map(|a| a.frame), Some(3));
        assert!(!w.backs_off());
    }

    #[test]
    fn synthetic_resend_of_acknowledged_bytes_is_spurious() {
        let mut d = DirectionFacts::default();
        d.on_data(0, 100, &at(1, 0));
        d.on_peer_ack(100, &at(2, 5));
        d.on_data(0, 100, &at(3, 300));
        assert_eq!(d.loss().spurious_retransmissions, 1);
    }

    #[test]
    fn synthetic_repeated_pure_acks_with_data_in_flight_are_duplicates() {
        let mut d = DirectionFacts::default();
        d.on_pure_ack(1000, true, true, &at(1, 0));
        d.on_pure_ack(1000, true, true, &at(2, 1));
        d.on_pure_ack(1000, true, true, &at(3, 2));
        d.on_pure_ack(1000, false, false, &at(4, 3));
        assert_eq!(d.dup_acks, 2);
        assert_eq!(d.loss().first_dup_ack.as_ref().map(|f| f.frame), Some(2));
    }
}
