//! Facts about a connection's progress computed once, from what the packets prove, and read
//! by every rule and renderer: who owes the next message, since when nothing has moved, how
//! many segments each side had to send again and why, the round trip and where it comes from,
//! and a segment the path drops every time it is sent.

use super::Connection;
use crate::flow::{PacketInfo, RetransmitSeries, RttEstimate, Side, TcpStats};

/// Retransmissions of one never-acknowledged segment that make it a black hole rather than
/// bad luck: with RFC 6298's doubling timer, three resends span about 1.4 s after a 200 ms
/// RTO and Linux or Windows would by then have had acknowledgements for any lossy but
/// working path.
pub const BLACK_HOLE_RETRANSMITS: u32 = 3;

/// A segment sent again and again with backoff, never acknowledged, while the peer sent
/// nothing new after it: the path drops it.
#[derive(Debug, Clone, PartialEq)]
pub struct BlackHoled {
    pub side: Side,
    pub series: RetransmitSeries,
}

/// How one direction's data fared (RFC 5681, RFC 6298, as Wireshark's TCP analysis counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LossCounts {
    /// Retransmissions of bytes the peer had not acknowledged: each one a retransmission
    /// timeout or a fast retransmit, time the connection lost.
    pub rto_count: u32,
    /// Retransmissions of bytes already acknowledged (not loss, the sender's own timer).
    pub spurious: u32,
    /// Segments lost before the capture point, seen as a hole filled late.
    pub lost_upstream: u32,
    /// Duplicate ACKs the peer sent about this side's data.
    pub dup_acks_received: u32,
    /// The client's SYN or the server's SYN/ACK sent again (not data; counted apart).
    pub syn_retransmits: u32,
}

impl LossCounts {
    /// Segments of this side that the network lost, as far as the capture proves.
    pub fn lost(&self) -> u32 {
        self.rto_count + self.lost_upstream + self.syn_retransmits
    }
}

/// How much of a stretch of time went to waiting for lost segments to be sent again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LossTime {
    /// Time covered by resend waits (overlaps counted once), inside the stretch.
    pub lost_ns: i64,
    /// Resends of lost segments per side (client, server) ending inside the stretch.
    pub resends: [u32; 2],
    /// Of those, segments lost before the capture point (holes filled late).
    pub upstream: u32,
    /// Resends of bytes already acknowledged (no loss: the timer fired early).
    pub spurious: u32,
    /// Duplicate ACKs either side sent inside the stretch.
    pub dup_acks: u32,
}

impl LossTime {
    /// The lost time of `[from_ns, to_ns]`: every resend wait that ends inside it, clipped.
    pub fn between(t: &TcpStats, from_ns: i64, to_ns: i64) -> Self {
        let mut out = LossTime::default();
        let mut spans = Vec::new();
        for (i, side) in [Side::Client, Side::Server].into_iter().enumerate() {
            let d = t.progress(side);
            for w in d
                .loss()
                .waits
                .iter()
                .filter(|w| (from_ns..=to_ns).contains(&w.to.ts_ns))
            {
                if w.spurious {
                    out.spurious += 1;
                    continue;
                }
                if let Some(n) = out.resends.get_mut(i) {
                    *n += 1;
                }
                out.upstream += u32::from(w.upstream);
                spans.push((w.from_ns.max(from_ns), w.to.ts_ns));
            }
            let dups = d
                .loss()
                .dup_ack_times
                .iter()
                .filter(|ts| (from_ns..=to_ns).contains(*ts));
            out.dup_acks += u32::try_from(dups.count()).unwrap_or(u32::MAX);
        }
        spans.sort_unstable();
        let mut covered_to = i64::MIN;
        for (a, b) in spans {
            let a = a.max(covered_to);
            if b > a {
                out.lost_ns += b - a;
                covered_to = b;
            }
        }
        out
    }

    pub fn total_resends(&self) -> u32 {
        self.resends.iter().sum()
    }
}

/// The per-connection facts (see the module comment).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionFacts {
    /// The side the connection waits on: the one that did not send the last message, or the
    /// one whose last message never got through.
    pub owes_next: Option<Side>,
    /// The last packet that moved the connection forward (new bytes delivered).
    pub no_progress_since: Option<PacketInfo>,
    /// Per side (client, server).
    pub loss: [LossCounts; 2],
    /// Round trip from unambiguous samples only (Karn's rule); None when there is none.
    pub rtt: Option<RttEstimate>,
    pub black_holed: Option<BlackHoled>,
}

impl ConnectionFacts {
    pub fn compute(conn: &Connection, tcp: Option<&TcpStats>) -> Self {
        let black_holed = tcp.and_then(|t| black_holed(conn, t));
        let owes_next = match &black_holed {
            Some(b) => Some(b.side),
            None => waiting_side(conn),
        };
        let no_progress_since = match &black_holed {
            Some(b) => Some(info(&b.series.first_sent)),
            None => conn
                .last_progress
                .as_ref()
                .map(|p| p.at)
                .or_else(|| tcp.and_then(|t| t.handshake_ack.as_ref()).map(info)),
        };
        let loss =
            [Side::Client, Side::Server].map(|s| tcp.map(|t| loss(t, s)).unwrap_or_default());
        ConnectionFacts {
            owes_next,
            no_progress_since,
            loss,
            rtt: tcp.and_then(TcpStats::rtt_estimate),
            black_holed,
        }
    }
}

fn info(f: &crate::flow::FrameTime) -> PacketInfo {
    PacketInfo {
        file: 0,
        frame: f.frame,
        ts_ns: f.ts_ns,
    }
}

fn loss(t: &TcpStats, side: Side) -> LossCounts {
    let d = t.progress(side).loss();
    // The server's count includes its SYN/ACK retransmissions: data only here.
    let syn_retransmits = match side {
        Side::Client => t.syn_retries.len(),
        Side::Server => t.syn_ack_retries.len(),
    };
    let syn_retransmits = u32::try_from(syn_retransmits).unwrap_or(u32::MAX);
    let all = match side {
        Side::Client => *t.retransmissions.get(side),
        Side::Server => t.retransmissions.get(side).saturating_sub(syn_retransmits),
    };
    LossCounts {
        syn_retransmits,
        rto_count: all.saturating_sub(d.spurious_retransmissions),
        spurious: d.spurious_retransmissions,
        lost_upstream: d.resent_after_upstream_loss,
        dup_acks_received: t.progress(side.other()).dup_acks,
    }
}

/// The segment `side` ended on, when it was resent with backoff and never acknowledged and
/// the peer sent no new bytes after its first transmission.
fn black_holed(conn: &Connection, t: &TcpStats) -> Option<BlackHoled> {
    [Side::Client, Side::Server].into_iter().find_map(|side| {
        let series = t.progress(side).unacked_series()?;
        if series.retransmits < BLACK_HOLE_RETRANSMITS || !series.backs_off() {
            return None;
        }
        let peer_spoke_after = conn
            .last_payload
            .get(side.other())
            .is_some_and(|p| p.ts_ns > series.first_sent.ts_ns);
        if peer_spoke_after {
            return None;
        }
        Some(BlackHoled {
            side,
            series: series.clone(),
        })
    })
}

/// Who owed the next message: the side that did not send the last payload.
pub fn waiting_side(conn: &Connection) -> Option<Side> {
    match (
        conn.last_payload.get(Side::Client),
        conn.last_payload.get(Side::Server),
    ) {
        (Some(c), Some(s)) => Some(if c.ts_ns > s.ts_ns {
            Side::Server
        } else {
            Side::Client
        }),
        (Some(_), None) => Some(Side::Server),
        (None, Some(_)) => Some(Side::Client),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64, frame: u64) -> PacketInfo {
        PacketInfo {
            file: 0,
            frame,
            ts_ns: ms * 1_000_000,
        }
    }

    #[test]
    fn synthetic_the_side_that_did_not_speak_last_owes_and_progress_is_the_last_new_bytes() {
        let mut conn = Connection::default();
        assert_eq!(ConnectionFacts::compute(&conn, None).owes_next, None);
        conn.last_payload = crate::flow::Sides([Some(at(5, 5)), Some(at(6, 6))]);
        conn.last_progress = Some(crate::session::Stamped {
            at: at(6, 6),
            side: Side::Server,
            value: (),
        });
        let f = ConnectionFacts::compute(&conn, None);
        assert_eq!(f.owes_next, Some(Side::Client));
        assert_eq!(f.no_progress_since.map(|p| p.frame), Some(6));
        assert_eq!(f.black_holed, None);
        assert_eq!(f.rtt, None);
    }

    #[test]
    fn synthetic_lost_segments_exclude_spurious_retransmissions() {
        let l = LossCounts {
            rto_count: 3,
            spurious: 1,
            lost_upstream: 2,
            dup_acks_received: 4,
            syn_retransmits: 1,
        };
        assert_eq!(l.lost(), 6);
        let t = TcpStats {
            retransmissions: crate::flow::Sides([4, 0]),
            ..TcpStats::default()
        };
        // No progress facts: every retransmission counts as a timeout.
        assert_eq!(loss(&t, Side::Client).rto_count, 4);
        assert_eq!(loss(&t, Side::Server), LossCounts::default());
    }
}
