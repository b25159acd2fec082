//! Idle stretches between handshake phases: the time from the last packet of one phase to
//! the first of the next, when nothing of the connection moved. A long one is a pause of the
//! side that opens the next phase (a prompt on the client, a name lookup, a slow logon
//! script), worth naming beside the waterfall even on a connection that succeeded.

use crate::flow::{PacketInfo, Side};
use crate::session::phases::Progress;
use crate::session::PhaseName;

/// A gap this long (1 s) between two phases is named; shorter ones are ordinary think time.
pub const LONG_GAP_NS: i64 = 1_000_000_000;

/// One idle stretch between two consecutive phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhaseGap {
    /// The phase that had ended.
    pub after: PhaseName,
    /// The phase whose first packet ended the gap.
    pub before: PhaseName,
    /// The last packet of `after` and the first of `before`.
    pub from: PacketInfo,
    pub to: PacketInfo,
    /// The side that paused: the one that sends the first message of `before`.
    pub paused: Option<Side>,
}

impl PhaseGap {
    pub fn duration_ns(&self) -> i64 {
        self.to.ts_ns.saturating_sub(self.from.ts_ns)
    }
}

/// The side that sends the first message of a phase. Each step of the connection sequence
/// (MS-RDPBCGR 1.3.1.1: X.224 Connection Request, the TLS ClientHello, the first CredSSP
/// TSRequest of MS-CSSP 3.1.5, MCS Connect Initial) is opened by the client; the session data
/// and the close can start on either side.
pub fn opener(name: PhaseName) -> Option<Side> {
    match name {
        PhaseName::TcpConnect
        | PhaseName::X224Negotiation
        | PhaseName::TlsHandshake
        | PhaseName::Credssp
        | PhaseName::McsConnect
        | PhaseName::GatewayAuth => Some(Side::Client),
        PhaseName::RdpData
        | PhaseName::Closed
        | PhaseName::GatewayTunnel
        | PhaseName::GatewayData => None,
    }
}

/// The gaps of at least `LONG_GAP_NS` between consecutive phases (the close is not a phase
/// here: the silence before it is a stall's or an idle session's, told elsewhere).
pub fn long_gaps(progress: &Progress) -> Vec<PhaseGap> {
    let phases: Vec<_> = progress
        .phases
        .iter()
        .filter(|p| p.name != PhaseName::Closed)
        .collect();
    phases
        .windows(2)
        .filter_map(|pair| match pair {
            [a, b] => Some(PhaseGap {
                after: a.name,
                before: b.name,
                from: a.end,
                to: b.start,
                paused: opener(b.name),
            }),
            _ => None,
        })
        .filter(|g| g.duration_ns() >= LONG_GAP_NS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Phase;

    fn at(ms: i64, frame: u64) -> PacketInfo {
        PacketInfo {
            file: 0,
            frame,
            ts_ns: ms * 1_000_000,
        }
    }

    fn phase(name: PhaseName, from: (i64, u64), to: (i64, u64)) -> Phase {
        Phase {
            name,
            start: at(from.0, from.1),
            end: at(to.0, to.1),
            complete: true,
            waiting_on: None,
        }
    }

    #[test]
    fn synthetic_only_the_long_gap_is_named_with_the_side_that_paused() {
        let progress = Progress {
            phases: vec![
                phase(PhaseName::TcpConnect, (0, 1), (1, 3)),
                phase(PhaseName::X224Negotiation, (2, 4), (5, 5)),
                // 3.3 s before the ClientHello.
                phase(PhaseName::TlsHandshake, (3305, 13), (3340, 17)),
                phase(PhaseName::Credssp, (3341, 18), (3345, 25)),
                phase(PhaseName::Closed, (9000, 99), (9000, 99)),
            ],
            ..Progress::default()
        };
        let gaps = long_gaps(&progress);
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        let g = gaps[0];
        assert_eq!(
            (g.after, g.before),
            (PhaseName::X224Negotiation, PhaseName::TlsHandshake)
        );
        assert_eq!((g.from.frame, g.to.frame), (5, 13));
        assert_eq!(g.duration_ns(), 3_300_000_000);
        assert_eq!(g.paused, Some(Side::Client));
    }
}
