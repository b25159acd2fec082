//! What a diagnosis finds, as values: a code, a severity, the facts that make it and the
//! frames that show it. `report::findings` turns them into titles, explanations and notes.

use std::fmt;
use std::str::FromStr;

use super::udp::TcpPeer;
use super::Severity;
use crate::capture::IcmpUnreachable;
use crate::flow::{Endpoint, Side, TransportKind};
use crate::proto::mcs::DisconnectReason;
use crate::proto::nego::{FailureCode, Protocols};
use crate::session::{Event, PhaseName};

macro_rules! finding_codes {
    ($($variant:ident => $name:literal,)*) => {
        /// Every finding rdpscope reports. `catalog::info` gives each its words.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FindingCode {
            $($variant,)*
        }

        impl FindingCode {
            /// Every code, in the order `rdpscope explain` lists them.
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant,)*];

            /// The kebab-case name used in the JSON, the table and `explain`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingCode::$variant => $name,)*
                }
            }
        }
    };
}

finding_codes! {
    PortFiltered => "port-filtered",
    ConnectionRefused => "connection-refused",
    NegotiationFailure => "negotiation-failure",
    SecurityDowngrade => "security-downgrade",
    TlsVersionMismatch => "tls-version-mismatch",
    TlsCipherMismatch => "tls-cipher-mismatch",
    ServerResetAfterClientHello => "server-reset-after-client-hello",
    ServerCertificateProblem => "server-certificate-problem",
    ClientRejectedCertificate => "client-rejected-certificate",
    NlaFailed => "nla-failed",
    HandshakeStalled => "handshake-stalled",
    HandshakeSlow => "handshake-slow",
    PacketLoss => "packet-loss",
    HighLatency => "high-latency",
    MtuBlackhole => "mtu-blackhole",
    ServerUnresponsive => "server-unresponsive",
    ServerAbort => "server-abort",
    ClientAbort => "client-abort",
    UdpBlocked => "udp-blocked",
    UdpHandshakeIncomplete => "udp-handshake-incomplete",
    UdpLoss => "udp-loss",
    UdpDroppedAfterSetup => "udp-dropped-after-setup",
    CaptureIncomplete => "capture-incomplete",
    ConnectionFlood => "connection-flood",
    ProtocolViolation => "protocol-violation",
    NotRdpService => "not-rdp-service",
    DuplicateFrames => "duplicate-frames",
    SegmentBlackHoled => "segment-black-holed",
    NtlmFallbackRefused => "ntlm-fallback-refused",
    ServerDisconnectReason => "server-disconnect-reason",
    LicensingFailed => "licensing-failed",
    LogonError => "logon-error",
    RedirectTargetFailed => "redirect-target-failed",
    DecryptionFailed => "decryption-failed",
    KdcPreauthFailed => "kdc-preauth-failed",
    KdcAccountUnknown => "kdc-account-unknown",
    KdcAccountRevoked => "kdc-account-revoked",
    KdcPasswordExpired => "kdc-password-expired",
    KdcSpnUnknown => "kdc-spn-unknown",
    KerberosClockSkew => "kerberos-clock-skew",
    KdcUnreachable => "kdc-unreachable",
    DnsResolutionFailed => "dns-resolution-failed",
    DnsAddressMismatch => "dns-address-mismatch",
    GatewayAuthFailed => "gateway-auth-failed",
    GatewayPolicyDenied => "gateway-policy-denied",
    GatewayTargetUnreachable => "gateway-target-unreachable",
    KdcProxyFailed => "kdc-proxy-failed",
    GatewayUdpBlocked => "gateway-udp-blocked",
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so `{:<32}` lines up `explain`'s list.
        f.pad(self.as_str())
    }
}

/// A name that is no finding code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown finding code {0:?}")]
pub struct UnknownCode(pub String);

impl FromStr for FindingCode {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FindingCode::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCode(s.to_string()))
    }
}

impl serde::Serialize for FindingCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How one side ended the connection: at the TCP layer or with an RDP-level disconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    Fin,
    Rst,
    /// MCS Disconnect Provider Ultimatum (T.125 11.15).
    Ultimatum(DisconnectReason),
    /// X.224 Disconnect Request (X.224 13.5).
    DisconnectRequest,
}

/// A problem of the server's leaf certificate at the time of the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    /// x509-parser's reason, as the certificate parser gave it.
    Unparseable(String),
    Expired {
        not_after: String,
    },
    NotYetValid {
        not_before: String,
    },
    SelfSigned,
    /// Issued for `subject`, while the client asked for `sni`.
    NameMismatch {
        subject: String,
        sni: String,
    },
    /// The key description ("RSA 1024 bits").
    WeakKey {
        key: String,
    },
}

/// Why no TLS version was shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRefusal {
    /// The ServerHello selected a version the client never offered.
    ServerChose(u16),
    /// An alert refused the ClientHello.
    Alert { side: Side, description: u8 },
}

/// How a Connection Request went unanswered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unanswered {
    Closed { side: Side, close: Close },
    StillWaiting { waited_ms: f64 },
}

/// How an MTU black hole shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtuShape {
    /// The sender's sequence numbers run `ahead` bytes past what arrived.
    Unseen { side: Side, ahead: u64 },
    /// Large segments retransmitted `count` times, the largest `largest` bytes.
    Retransmitted {
        side: Side,
        count: usize,
        largest: u32,
    },
}

/// A connection flood at one server.
#[derive(Debug, Clone, PartialEq)]
pub struct FloodFacts {
    pub transport: TransportKind,
    pub server: Endpoint,
    pub connections: u64,
    pub clients: u64,
    pub clients_estimated: bool,
    pub burst_connections: u64,
    pub burst_span_ms: f64,
    pub burst_first_frame: u64,
    pub burst_last_frame: u64,
    pub peak_per_s: u32,
    pub mean_per_s: f64,
    pub min_connections: u64,
    pub window_s: i64,
    pub verdicts: super::flood::VerdictCounts,
}

/// The values each finding is made of.
#[derive(Debug, Clone, PartialEq)]
pub enum Facts {
    RefusedByReset,
    RefusedByIcmp(IcmpUnreachable),
    PortFiltered {
        tries: usize,
        span_s: f64,
    },
    NegotiationFailure {
        requested: Protocols,
        failure: FailureCode,
    },
    SecurityDowngrade {
        requested: Protocols,
        selected: Protocols,
        client_refused: bool,
    },
    ServerUnresponsive(Unanswered),
    TlsVersionMismatch {
        offered: Vec<u16>,
        why: VersionRefusal,
    },
    TlsCipherMismatch {
        side: Side,
        description: u8,
        suites: Vec<u16>,
    },
    ServerResetAfterClientHello {
        close: Close,
        after_ms: f64,
    },
    CertificateProblem {
        subject: String,
        problems: Vec<CertProblem>,
    },
    ClientRejectedCertificate {
        problems: Vec<CertProblem>,
    },
    NlaFailed {
        hybrid_ex: bool,
        /// Who closed the TCP connection (the client after a server alert, say).
        closer: Side,
        /// The server refused with a TLS alert after the client's credentials.
        server_alert: bool,
        close: Close,
        messages: usize,
        complete: bool,
    },
    /// server-abort (with the ultimatum reason, if any) and client-abort.
    Abort {
        close: Close,
        phase: Option<PhaseName>,
        last: Option<Event>,
        ultimatum: Option<DisconnectReason>,
    },
    PacketLoss {
        client: usize,
        server: usize,
        gaps: usize,
        client_gave_up: Option<Close>,
    },
    MtuBlackhole {
        shape: MtuShape,
        client_gave_up: Option<Close>,
    },
    HighLatency {
        rtt_ms: f64,
        threshold_ms: f64,
        /// From the TCP handshake (else from data samples of both directions, Karn's rule).
        from_handshake: bool,
    },
    Stalled {
        secs: f64,
        threshold_ms: f64,
        phase: Option<PhaseName>,
        waiting_on: Option<Side>,
        resumed: bool,
    },
    Slow {
        total_ms: f64,
        threshold_ms: f64,
        longest: Option<(PhaseName, f64)>,
        /// What of the longest phase went to resending lost segments (None: no resend).
        lost: Option<crate::session::facts::LossTime>,
    },
    CaptureIncomplete {
        started_late: bool,
        gaps: usize,
        gap_bytes: u64,
    },
    UdpNoSynAck {
        syns: u32,
        port: u16,
        peer: Option<TcpPeer>,
    },
    UdpNoClientAck {
        syn_retries: u32,
        peer: Option<TcpPeer>,
    },
    UdpLoss {
        side: Side,
        pct: f64,
        distinct: u64,
        retransmitted: u64,
        never_seen: u64,
        reported_missing: u64,
        threshold_pct: f64,
    },
    UdpSilent {
        tcp: u64,
        silent_s: f64,
    },
    ConnectionFlood(Box<FloodFacts>),
    /// A PDU that breaks its specification: who sent it and what was wrong.
    ProtocolViolation {
        side: Side,
        violation: Violation,
    },
    /// The port answered the Connection Request with bytes that are not TPKT/X.224.
    NotRdpService {
        port: u16,
        len: usize,
        head: Vec<u8>,
        recognised: Option<OtherProtocol>,
        close: Option<Close>,
    },
    /// Frames captured twice (same IP ID, same bytes), left out of the analysis.
    DuplicateFrames {
        count: u64,
    },
    /// One segment retransmitted with growing timeouts and never acknowledged.
    SegmentBlackHoled {
        side: Side,
        bytes: u32,
        /// What the segment was, when the protocol layer saw it.
        carried: Option<Event>,
        retransmits: u32,
        span_ms: f64,
        /// Retransmission timeouts seen before the capture ended or the sender gave up.
        backed_off: bool,
        phase: Option<PhaseName>,
        /// Who closed afterwards, if anyone did.
        close: Option<(Side, Close)>,
    },
    /// Read from the decrypted stream (`diagnose::inside`).
    Inside(super::inside::InsideFacts),
    /// Kerberos or DNS beside the connection (issue 17).
    Side(Box<super::side::SideFacts>),
    /// Read inside a decrypted RD Gateway stream (`diagnose::gateway_inside`, issue 16).
    GatewayInside(Box<super::gateway_inside::GatewayFinding>),
    /// An RD Gateway connection's keyless shape (`diagnose::gateway`).
    Gateway(super::gateway::GatewayFinding),
}

/// What made a PDU a protocol violation.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// A parser refused the bytes.
    Decode(crate::session::DecodeError),
    /// RDP_NEG_RSP / RDP_NEG_FAILURE length field not 8 (MS-RDPBCGR 2.2.1.2.1, 2.2.1.2.2).
    NegotiationLength(u16),
}

/// A protocol recognised in bytes that should have been RDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherProtocol {
    /// An HTTP status line or an HTML body.
    Http,
    /// An SSH identification string (RFC 4253 4.2).
    Ssh,
    /// A TLS record (RFC 8446 5.1) sent before any X.224 Connection Confirm.
    Tls,
    /// A text banner (SMTP, FTP, POP3...: printable ASCII ending in CRLF).
    TextBanner,
}

/// What one evidence frame shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    ClientSyn,
    ClientSynRetry,
    ServerRst,
    Icmp(IcmpUnreachable),
    ClientRequests(Protocols),
    NegFailure(FailureCode),
    ServerSelects(Protocols),
    Closes {
        side: Side,
        close: Close,
    },
    StillNoAnswer,
    ClientHello {
        offered: Vec<u16>,
        suites: usize,
    },
    ServerHelloSelects(u16),
    SendsAlert {
        side: Side,
        description: u8,
    },
    ServerUltimatum(DisconnectReason),
    ServerClosesWithoutHello(Close),
    ServerCertificate(String),
    ClientAlert {
        encrypted: bool,
        description: u8,
    },
    ClientClosesWithoutData(Close),
    CredsspMessage {
        n: usize,
        side: Side,
        bytes: usize,
    },
    LastMessage(Event),
    ServerSynAck,
    ClientAckRtt(f64),
    Retransmits {
        side: Side,
        bytes: u32,
    },
    SynRetransmitted,
    /// A segment lost before the capture point, sent again (it fills a hole).
    LostUpstreamResent {
        side: Side,
        bytes: u32,
    },
    LastDataArrived(Side),
    AheadUnseen {
        side: Side,
        ahead: u64,
    },
    RetransmitsLarge {
        side: Side,
        bytes: u32,
    },
    LastDataThrough,
    LastProgress,
    NextProgress,
    LastPacket,
    PhaseStarts(PhaseName),
    PhaseEnds(PhaseName),
    FirstPacketNoSyn,
    GapNeverCaptured {
        side: Side,
        bytes: u64,
    },
    UdpSyn,
    UdpNoSynAck {
        tcp: u64,
    },
    UdpSynAck,
    LastDatagram,
    LastUdpDatagram,
    BurstFirst,
    BurstLast,
    /// The first transmission of a segment that was then resent.
    SegmentSent {
        side: Side,
        bytes: u32,
    },
    /// The n-th retransmission of that segment.
    SegmentResent {
        n: u32,
    },
    /// The first bytes that are not RDP.
    NotRdpAnswer {
        len: usize,
    },
    /// A frame that breaks its protocol.
    Violation,
    /// The first frame captured twice.
    FirstDuplicate,
    /// An alert the server sent after the client's FIN (RFC 8446 6).
    AlertAfterClientFin {
        encrypted: bool,
        description: u8,
    },
    /// The server acknowledged `bytes` of the client that the capture lacks, after its own
    /// CredSSP message: the client's CredSSP message `n` was sent inside that gap.
    CredentialsInGap {
        n: usize,
        bytes: u64,
    },
    /// A decrypted frame (`diagnose::inside`).
    Inside(super::inside::InsideNote),
    /// A Kerberos or DNS packet beside the connection.
    Side(super::side::SideNote),
    /// A decrypted RD Gateway frame (`diagnose::gateway_inside`).
    GatewayInside(super::gateway_inside::GatewayNote),
    /// A frame of an RD Gateway connection.
    Gateway(super::gateway::GatewayNote),
}

/// A frame that shows a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub frame: u64,
    pub t_ms: f64,
    pub note: Note,
}

/// One finding: its code, how severe it is here, its facts and the frames that show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub code: FindingCode,
    pub severity: Severity,
    pub facts: Facts,
    pub evidence: Vec<Evidence>,
}

impl Finding {
    /// A finding with the catalog's severity for its code.
    pub fn new(code: FindingCode, facts: Facts, evidence: Vec<Evidence>) -> Self {
        Finding {
            code,
            severity: super::catalog::info(code).severity,
            facts,
            evidence,
        }
    }
}
