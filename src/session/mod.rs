//! Per-connection state: what each RDP connection showed, laid out as a timeline of phases.
//!
//! The flow table hands each followed connection's packets and reassembled bytes here; the
//! stream is framed into PDUs, the protocol parsers decode them, and the milestones they mark
//! (negotiation, TLS, CredSSP, MCS, data) are kept for the diagnosis.

mod connection_cold;
mod connection_footprint;
pub mod decrypt;
pub mod dns;
pub mod event;
pub mod facts;
pub mod gateway;
pub mod inner;
mod inner_rdp;
pub mod kerberos;
pub mod phases;
mod rdp;
pub mod stream;
pub mod timeline;
mod tls_track;
pub mod udp;

use crate::capture::IcmpUnreachable;
use crate::flow::Sides;
use crate::flow::{
    FlowHandler, FlowMeta, Interest, PacketInfo, SegmentSummary, Side, StreamOutput, TcpStats,
    TransportKind,
};
use crate::limits::Limits;
use crate::ports;
use crate::proto::{rdpeudp, x224};

pub use connection_cold::{Cold, ColdPart};
pub use event::{
    AuthMech, AuthToken, CertificateEvent, ClientSummary, ConfirmKind, CredsspStep, DecodeError,
    EventKind, Head, InnerEvent, TlsMessage,
};
pub use inner::{DecryptionFacts, DecryptionOutcome, InnerState, KeyOrigin};
pub use inner_rdp::{InnerRdp, LicenseOutcome, RedirectTarget};
pub use phases::compute_phases;
pub use rdp::{McsState, X224State};
use stream::{Pdu, StreamFramer};
pub use timeline::{Event, Phase, PhaseName, Timeline};
pub use tls_track::{AppRecord, TlsState};

/// A value and where it was seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamped<T> {
    pub at: PacketInfo,
    pub side: Side,
    pub value: T,
}

/// A silence between two packets that brought new bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wait {
    pub from: PacketInfo,
    pub to: PacketInfo,
    /// The side whose bytes ended the silence: the one the other was waiting on.
    pub waiting_on: Side,
}

const MIN_WAIT_NS: i64 = 1_000_000_000;
const MAX_WAITS: usize = 32;

/// Everything learned about one connection while its packets went by.
#[derive(Debug, Default)]
pub struct Connection {
    pub timeline: Timeline,
    /// The PDU framing of each direction's bytes, made at the first of them: a flow that
    /// never carries TCP payload (DNS, an unanswered SYN) keeps a pointer.
    framers: Cold<Sides<StreamFramer>>,
    /// The X.224 negotiation, the TLS handshake and the MCS connect: each behind a pointer
    /// until its first message (a refused or unanswered connection keeps three pointers).
    pub x224: Cold<X224State>,
    pub tls: Cold<TlsState>,
    pub mcs: Cold<McsState>,
    /// Last packet carrying new payload, per side.
    pub last_payload: Sides<Option<PacketInfo>>,
    /// Last packet of any kind, per side.
    pub last_packet: Sides<Option<PacketInfo>>,
    pub unreachable: Option<Box<(PacketInfo, IcmpUnreachable)>>,
    /// The RDP-UDP side of things, for UDP flows.
    /// Boxed: a TCP connection (most of them) keeps only the pointer.
    pub udp: Option<Box<udp::UdpState>>,
    pub decode_errors: Vec<Stamped<DecodeError>>,
    /// The latest packet that brought new bytes, from either side.
    pub last_progress: Option<Stamped<()>>,
    /// Silences of a second or more between new bytes: who broke them and when.
    pub waits: Vec<Wait>,
    /// Bytes the framing could not place (not RDP, or after a gap).
    pub unknown_bytes: Sides<u64>,
    pub gaps: u32,
    /// What the decrypted TLS stream showed (CredSSP, the RDP connection sequence); boxed
    /// and made on the first plaintext, so keyless connections stay small.
    pub inner: Option<Box<InnerState>>,
    /// A flow beside RDP (Kerberos, DNS): its own machine, none of the RDP state above used.
    pub side: Option<Box<SideFlow>>,
    /// `Limits::max_tls_handshake`, for the TLS state made at the first record.
    max_tls_handshake: connection_cold::TlsCap,
    /// The run's TLS secrets (`decrypt::attach`; none under `--no-keys`).
    keys: Option<crate::keys::KeyStore>,
    /// Decrypting this connection's records: made at the ClientHello when the run has secrets.
    decryption: Option<Box<decrypt::Decryption>>,
    /// What a decrypted RD Gateway stream showed (HTTP, KDC proxy, MS-TSGU) and the RDP
    /// connection tunnelled through it; made by `gateway::inside::route_plaintext`.
    pub gateway_inside: Option<Box<gateway::inside::GatewayInside>>,
    /// A DTLS candidate flow to an RD Gateway's UDP port (instead of `udp`).
    pub dtls: Option<Box<gateway::DtlsFlow>>,
    /// Set by the pipeline when `correlate::gateway` recognised the flow as an RD Gateway's.
    pub gateway: Option<Box<gateway::GatewayFacts>>,
}

/// A conversation followed beside the RDP flows for the story around them (issue 17).
#[derive(Debug, Clone)]
pub enum SideFlow {
    // Boxed: the far more numerous DNS flows should not pay for the larger Kerberos state.
    Kerberos(Box<kerberos::KerberosFlow>),
    Dns(dns::DnsFlow),
}

impl SideFlow {
    /// The machine for a flow to `server_port`, if it is a side service's port.
    fn for_port(server_port: u16) -> Option<SideFlow> {
        if ports::is_kerberos(server_port) {
            Some(SideFlow::Kerberos(Box::default()))
        } else if ports::is_dns(server_port) {
            Some(SideFlow::Dns(dns::DnsFlow::default()))
        } else {
            None
        }
    }

    /// True once per change since the last call.
    pub fn take_changed(&mut self) -> bool {
        match self {
            SideFlow::Kerberos(k) => k.take_changed(),
            SideFlow::Dns(d) => d.take_changed(),
        }
    }
}

const MAX_DECODE_ERRORS: usize = 8;

impl Connection {
    /// A fresh connection whose timeline and TLS reassembly obey `limits`.
    pub fn with_limits(limits: &Limits) -> Self {
        Connection {
            timeline: Timeline::with_max(limits.max_timeline_events),
            max_tls_handshake: connection_cold::TlsCap(limits.max_tls_handshake),
            ..Connection::default()
        }
    }

    fn handle_pdu(&mut self, at: &PacketInfo, side: Side, pdu: Pdu<'_>) {
        match pdu {
            Pdu::Tpkt(bytes) => {
                rdp::handle_tpkt(self, at, side, bytes);
            }
            Pdu::FastPath(bytes) => rdp::handle_fastpath(self, at, side, bytes),
            Pdu::TlsRecord(bytes) => tls_track::handle_record(self, at, side, bytes),
            Pdu::TlsAppData { len } => tls_track::handle_app_data(self, at, side, len),
            Pdu::TlsAppRecord(bytes) => {
                tls_track::handle_app_data(self, at, side, bytes.len().saturating_sub(5));
                decrypt::record(self, at, side, bytes);
            }
            Pdu::Unknown {
                len,
                first_byte,
                head,
            } => {
                *self.unknown_bytes.get_mut(side) += len as u64;
                if *self.unknown_bytes.get(side) == len as u64 {
                    self.timeline.push(
                        at,
                        side,
                        EventKind::NotRdpBytes {
                            len,
                            first_byte,
                            head,
                        },
                    );
                }
            }
        }
    }

    pub(crate) fn decode_error(&mut self, at: &PacketInfo, side: Side, error: DecodeError) {
        if self.decode_errors.len() < MAX_DECODE_ERRORS {
            self.timeline
                .push(at, side, EventKind::DecodeError(Box::new(error.clone())));
            self.decode_errors.push(Stamped {
                at: *at,
                side,
                value: error,
            });
        }
    }

    /// What was read inside TLS (empty when nothing was decrypted).
    pub fn inner(&self) -> &InnerState {
        static EMPTY: std::sync::LazyLock<InnerState> =
            std::sync::LazyLock::new(InnerState::default);
        self.inner.as_deref().unwrap_or(&EMPTY)
    }

    pub(crate) fn inner_mut(&mut self) -> &mut InnerState {
        self.inner.get_or_insert_with(Box::default)
    }

    /// Standard RDP Security: the MCS connect is in clear, fast-path may follow.
    pub fn standard_security(&self) -> bool {
        self.x224.selected_protocol().is_some_and(|p| p.0 == 0)
            || self.mcs.connect_initial.is_some()
    }
}

/// X.224 Connection Request at the front of a buffer (header check only).
fn starts_with_x224_cr(b: &[u8]) -> bool {
    x224::looks_like_connection_request(b)
}

/// Where an X.224 Connection Request starts in `b` (RDP behind a SOCKS proxy, say).
fn find_x224_cr(b: &[u8]) -> Option<usize> {
    (0..b.len().min(2048)).find(|&i| b.get(i..).is_some_and(starts_with_x224_cr))
}

/// A datagram on an RDP-UDP port that parses as RDP-UDP with only defined flags: a flow the
/// capture caught after its SYN.
fn plausible_udp_data(payload: &[u8]) -> bool {
    rdpeudp::parse_v1(payload).is_ok_and(|d| d.flags.0 & !0x1fff == 0 && d.receive_window > 0)
        || rdpeudp::parse_v2(payload).is_ok_and(|d| d.channel_seq_num.is_some() || d.ack.is_some())
}

/// Is `pkt` the frame recorded as the first FIN/RST of its side?
fn first_at(first: &Option<crate::flow::FrameTime>, pkt: &PacketInfo) -> bool {
    first.as_ref().is_some_and(|f| f.frame == pkt.frame)
}

impl FlowHandler for Connection {
    fn opens_connection(transport: TransportKind, payload: &[u8]) -> bool {
        match transport {
            TransportKind::Tcp => starts_with_x224_cr(payload),
            TransportKind::Udp => rdpeudp::looks_like_syn(payload),
        }
    }

    fn classify(meta: &FlowMeta, client_payload: &[u8]) -> Interest {
        if ports::is_side_service(meta.server.port) {
            return Interest::Follow;
        }
        match meta.transport {
            TransportKind::Tcp => {
                if ports::is_rdp_tcp(meta.server.port) || find_x224_cr(client_payload).is_some() {
                    Interest::Follow
                } else if gateway::starts_with_client_hello(client_payload) {
                    // Perhaps an RD Gateway's (MS-TSGU 2.1): kept only if recognised.
                    Interest::Candidate
                } else {
                    Interest::Undecided
                }
            }
            TransportKind::Udp => {
                let on_port = ports::is_rdp_udp(meta.server.port);
                if meta.server.port == ports::GATEWAY_UDP
                    && crate::proto::dtls::looks_like_dtls(client_payload)
                {
                    Interest::Candidate
                } else if rdpeudp::looks_like_syn(client_payload)
                    || (on_port && !client_payload.is_empty() && plausible_udp_data(client_payload))
                {
                    Interest::Follow
                } else if on_port {
                    Interest::Undecided
                } else {
                    Interest::Ignore
                }
            }
        }
    }

    fn open(meta: &FlowMeta, limits: &Limits) -> Self {
        if let Some(side) = SideFlow::for_port(meta.server.port) {
            return Connection {
                side: Some(Box::new(side)),
                ..Connection::default()
            };
        }
        let mut conn = Connection::with_limits(limits);
        if meta.transport == TransportKind::Udp && crate::flow::is_candidate_id(meta.id) {
            conn.dtls = Some(Box::default());
        }
        conn
    }

    fn is_side_flow(meta: &FlowMeta) -> bool {
        ports::is_side_service(meta.server.port)
    }

    fn compact(&mut self) {
        Connection::compact(self);
    }

    fn on_stream(&mut self, pkt: &PacketInfo, side: Side, out: StreamOutput<'_>) {
        match self.side.as_deref_mut() {
            Some(SideFlow::Kerberos(k)) => return k.stream(pkt, side, out),
            Some(SideFlow::Dns(d)) => return d.stream(pkt, side, out),
            None => {}
        }
        let i = side;
        match out {
            StreamOutput::Data(bytes) => {
                *self.last_payload.get_mut(i) = Some(*pkt);
                if let Some(prev) = &self.last_progress {
                    if pkt.ts_ns - prev.at.ts_ns >= MIN_WAIT_NS && self.waits.len() < MAX_WAITS {
                        self.waits.push(Wait {
                            from: prev.at,
                            to: *pkt,
                            waiting_on: side,
                        });
                    }
                }
                self.last_progress = Some(Stamped {
                    at: *pkt,
                    side,
                    value: (),
                });
                let mut framer = std::mem::take(Sides::get_mut(&mut self.framers, i));
                framer.fastpath_allowed = self.standard_security();
                framer.keep_app_data = self.decryption.is_some();
                framer.push(bytes, &mut |pdu| self.handle_pdu(pkt, side, pdu));
                *self.unknown_bytes.get_mut(i) =
                    (*self.unknown_bytes.get(i)).max(framer.unknown_bytes);
                *Sides::get_mut(&mut self.framers, i) = framer;
            }
            StreamOutput::Gap(bytes) => {
                self.gaps += 1;
                Sides::get_mut(&mut self.framers, i).gap();
                decrypt::gap(self, side);
                self.timeline.push(pkt, side, EventKind::Gap { bytes });
            }
        }
    }

    fn on_segment(
        &mut self,
        _meta: &FlowMeta,
        stats: &TcpStats,
        pkt: &PacketInfo,
        side: Side,
        seg: &SegmentSummary,
    ) {
        *self.last_packet.get_mut(side) = Some(*pkt);
        let f = seg.flags;
        match self.side.as_deref_mut() {
            Some(SideFlow::Kerberos(k)) => return k.segment(pkt, side, f.syn, f.ack, f.rst),
            Some(SideFlow::Dns(_)) => return,
            None => {}
        }
        let kind = if f.syn && !f.ack {
            EventKind::TcpSyn {
                retry: stats.syn_retries.len(),
            }
        } else if f.syn {
            EventKind::TcpSynAck
        } else if f.rst && first_at(stats.rst.get(side), pkt) {
            EventKind::TcpRst
        } else if f.fin && first_at(stats.fin.get(side), pkt) {
            EventKind::TcpFin
        } else if seg.verdict.retransmission {
            EventKind::TcpRetransmission {
                bytes: seg.wire_len,
            }
        } else if seg.verdict.zero_window {
            EventKind::TcpZeroWindow
        } else {
            return;
        };
        self.timeline.push(pkt, side, kind);
    }

    fn on_datagram(&mut self, _meta: &FlowMeta, pkt: &PacketInfo, side: Side, payload: &[u8]) {
        *self.last_packet.get_mut(side) = Some(*pkt);
        match self.side.as_deref_mut() {
            Some(SideFlow::Kerberos(k)) => return k.datagram(pkt, payload),
            Some(SideFlow::Dns(d)) => return d.datagram(pkt, payload),
            None => {}
        }
        if let Some(d) = self.dtls.as_deref_mut() {
            return d.datagram(pkt, side, payload);
        }
        udp::datagram(self, pkt, side, payload);
    }

    fn on_unreachable(&mut self, pkt: &PacketInfo, icmp: &IcmpUnreachable) {
        if self.unreachable.is_none() {
            self.unreachable = Some(Box::new((*pkt, *icmp)));
            self.timeline.push(
                pkt,
                Side::Server,
                EventKind::IcmpUnreachable(Box::new(*icmp)),
            );
        }
    }
}
