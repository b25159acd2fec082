//! Per-connection state: what each RDP connection showed, laid out as a timeline of phases.

use crate::capture::IcmpUnreachable;
use crate::flow::{
    FlowHandler, FlowMeta, Interest, PacketInfo, SegmentSummary, Side, StreamOutput, TcpStats,
    TransportKind,
};

/// Everything learned about one connection while its packets went by.
#[derive(Debug, Default)]
pub struct Connection {
    pub unreachable: Option<(PacketInfo, IcmpUnreachable)>,
}

/// X.224 Connection Request at the front of a buffer: `03 00 LL LL LI E0`.
fn starts_with_x224_cr(b: &[u8]) -> bool {
    matches!(b, [0x03, 0x00, _, _, li, 0xe0, ..] if *li >= 6)
}

/// Where an X.224 Connection Request starts in `b`, if anywhere (RDP behind a SOCKS proxy).
fn find_x224_cr(b: &[u8]) -> Option<usize> {
    (0..b.len().min(2048)).find(|&i| b.get(i..).is_some_and(starts_with_x224_cr))
}

impl FlowHandler for Connection {
    fn opens_connection(transport: TransportKind, payload: &[u8]) -> bool {
        match transport {
            TransportKind::Tcp => starts_with_x224_cr(payload),
            TransportKind::Udp => false,
        }
    }

    fn classify(meta: &FlowMeta, client_payload: &[u8]) -> Interest {
        match meta.transport {
            TransportKind::Tcp => {
                if meta.server.port == 3389 || find_x224_cr(client_payload).is_some() {
                    Interest::Follow
                } else {
                    Interest::Undecided
                }
            }
            TransportKind::Udp => Interest::Ignore,
        }
    }

    fn open(_meta: &FlowMeta) -> Self {
        Connection::default()
    }

    fn on_stream(&mut self, _pkt: &PacketInfo, _side: Side, _out: StreamOutput<'_>) {}

    fn on_segment(
        &mut self,
        _meta: &FlowMeta,
        _stats: &TcpStats,
        _pkt: &PacketInfo,
        _side: Side,
        _seg: &SegmentSummary,
    ) {
    }

    fn on_datagram(&mut self, _meta: &FlowMeta, _pkt: &PacketInfo, _side: Side, _payload: &[u8]) {}

    fn on_unreachable(&mut self, pkt: &PacketInfo, icmp: &IcmpUnreachable) {
        if self.unreachable.is_none() {
            self.unreachable = Some((*pkt, *icmp));
        }
    }
}
