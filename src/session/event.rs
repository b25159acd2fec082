//! What a connection's timeline records: typed events, each carrying the wire values it saw.
//! The words people read are made from them in `report::events`.

use crate::capture::IcmpUnreachable;
use crate::proto::mcs::{DisconnectReason, McsResult};
use crate::proto::nego::{FailureCode, Protocols};
use crate::proto::tls::TlsMalformed;
use crate::proto::ProtoError;

/// One milestone of a connection, in the order it went by.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A SYN; `retry` 0 is the first, 1.. the retransmissions (RFC 9293 3.8.1).
    TcpSyn {
        retry: usize,
    },
    TcpSynAck,
    /// The side's first FIN.
    TcpFin,
    /// The side's first RST.
    TcpRst,
    /// A segment that carried bytes already sent; `bytes` is its length on the wire.
    TcpRetransmission {
        bytes: u32,
    },
    TcpZeroWindow,
    /// Bytes of the stream the capture never saw.
    Gap {
        bytes: u64,
    },
    /// The first bytes of a side that are neither TPKT, fast-path nor TLS framing.
    NotRdpBytes {
        len: usize,
        first_byte: u8,
        /// The first bytes, to tell which protocol answered instead.
        head: Head,
    },
    /// An ICMP destination unreachable quoting one of the connection's packets (boxed, as
    /// the rare payloads below: every event is as small as the common ones).
    IcmpUnreachable(Box<IcmpUnreachable>),
    /// X.224 Connection Request (MS-RDPBCGR 2.2.1.1); `protocols` is None without
    /// RDP_NEG_REQ (Standard RDP Security).
    X224Request {
        cookie: Option<Box<str>>,
        routing_token: bool,
        protocols: Option<Protocols>,
    },
    /// X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2).
    X224Confirm(ConfirmKind),
    X224DisconnectRequest,
    X224Error,
    X224UnknownTpdu {
        code: u8,
    },
    /// MCS Connect Initial (MS-RDPBCGR 2.2.1.3) with the client core data when present.
    McsConnectInitial {
        client: Option<ClientSummary>,
    },
    /// MCS Connect Response (MS-RDPBCGR 2.2.1.4).
    McsConnectResponse {
        result: McsResult,
    },
    /// MCS Disconnect Provider Ultimatum (T.125 11.15).
    Ultimatum {
        reason: DisconnectReason,
    },
    McsErectDomainRequest,
    McsAttachUserRequest,
    McsAttachUserConfirm,
    /// Standard RDP Security PDUs told apart by their security header (MS-RDPBCGR 2.2.8.1.1.2.1).
    SecurityExchange,
    ClientInfo,
    Licensing,
    /// The side's first fast-path PDU (MS-RDPBCGR 2.2.9.1.2, 2.2.8.1.2).
    FirstFastPath,
    /// TLS ClientHello (RFC 8446 4.1.2): lowest and highest version offered.
    TlsClientHello {
        versions: Option<(u16, u16)>,
        cipher_suites: usize,
        sni: Option<Box<str>>,
    },
    /// TLS ServerHello or HelloRetryRequest (RFC 8446 4.1.3, 4.1.4).
    TlsServerHello {
        retry_request: bool,
        version: u16,
        cipher_suite: u16,
    },
    /// The server's leaf certificate (RFC 8446 4.4.2).
    TlsCertificate(Box<CertificateEvent>),
    /// Other cleartext handshake messages, by type.
    TlsHandshake(TlsMessage),
    /// TLS alert (RFC 8446 6); level and description are 0 when `encrypted`.
    TlsAlert {
        level: u8,
        description: u8,
        encrypted: bool,
    },
    TlsChangeCipherSpec,
    /// The side's first encrypted handshake record (its Finished).
    TlsFinished,
    /// TLS 1.3: the server's encrypted flight (EncryptedExtensions to Finished).
    TlsEncryptedServerFlight,
    /// RDP-UDP SYN (MS-RDPEUDP 3.1.5.1.1): first one, with the mode and offered version.
    UdpSyn {
        lossy: bool,
        offered_version: Option<u16>,
    },
    UdpSynRetry {
        retry: u32,
    },
    UdpSynAck {
        version: u16,
    },
    /// The client's first datagram after the SYN+ACK.
    UdpEstablished {
        rdpeudp2: bool,
    },
    DecodeError(Box<DecodeError>),
    /// A message read from the decrypted TLS stream.
    Inner(InnerEvent),
    /// A message read from a decrypted RD Gateway stream (HTTP, KDC proxy, MS-TSGU).
    Gateway(Box<super::gateway::inside_facts::GatewayEvent>),
}

/// The leaf certificate's names a `TlsCertificate` event shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateEvent {
    pub subject: String,
    pub not_before: String,
    pub not_after: String,
}

/// The first bytes of a run that fits no RDP framing (at most `Head::MAX`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Head {
    bytes: [u8; Head::MAX],
    len: u8,
}

impl Head {
    pub const MAX: usize = 16;

    pub fn new(b: &[u8]) -> Self {
        let mut h = Head::default();
        let n = b.len().min(Head::MAX);
        if let (Some(dst), Some(src)) = (h.bytes.get_mut(..n), b.get(..n)) {
            dst.copy_from_slice(src);
        }
        h.len = n as u8;
        h
    }

    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// What a Connection Confirm answered (MS-RDPBCGR 2.2.1.2.1, 2.2.1.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmKind {
    Selected(Protocols),
    Failure(FailureCode),
    UnknownType(u8),
    /// No negotiation data: Standard RDP Security.
    NoNegotiation,
}

/// The client core data values the timeline shows (MS-RDPBCGR 2.2.1.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSummary {
    pub name: String,
    pub build: u32,
    pub width: u16,
    pub height: u16,
}

/// Cleartext TLS handshake messages that only mark the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMessage {
    ServerKeyExchange,
    CertificateRequest,
    ServerHelloDone,
    ClientKeyExchange,
    CertificateVerify,
    NewSessionTicket,
    Heartbeat,
}

/// Bytes a parser could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Proto(ProtoError),
    Tls(TlsMalformed),
    /// A TLS handshake message longer than the reassembly cap (`--max-tls-handshake`).
    TlsHandshakeTooLarge {
        len: usize,
    },
}

impl EventKind {
    /// TCP bookkeeping (SYN, FIN, retransmissions...) rather than a protocol message.
    pub fn is_tcp(&self) -> bool {
        matches!(
            self,
            EventKind::TcpSyn { .. }
                | EventKind::TcpSynAck
                | EventKind::TcpFin
                | EventKind::TcpRst
                | EventKind::TcpRetransmission { .. }
                | EventKind::TcpZeroWindow
        )
    }
}

/// The authentication package CredSSP's SPNEGO exchange used (MS-CSSP 3.1.5, RFC 4178).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMech {
    Kerberos,
    Ntlm,
    Negoex,
    Pku2u,
    Other,
}

/// What one TSRequest's negoToken carried (MS-CSSP 2.2.1; MS-NLMP 2.2.1; RFC 4121 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthToken {
    /// SPNEGO NegTokenInit without an optimistic token (RFC 4178 4.2.1).
    SpnegoInit,
    /// SPNEGO NegTokenResp with negState reject (RFC 4178 4.2.2).
    SpnegoReject,
    NtlmNegotiate,
    NtlmChallenge,
    NtlmAuthenticate,
    KerberosApReq,
    KerberosApRep,
    KerberosError,
    Negoex,
    Other,
}

/// One decrypted TSRequest (MS-CSSP 2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredsspStep {
    pub version: u32,
    pub token: Option<AuthToken>,
    pub pub_key_auth: bool,
    pub auth_info: bool,
    pub error: Option<crate::proto::credssp::NtStatus>,
}

/// Decrypted RDP connection-sequence milestones (MS-RDPBCGR 1.3.1.1, 2.2.1.x), read inside TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InnerEvent {
    Credssp(CredsspStep),
    /// Early User Authorization Result PDU (MS-RDPBCGR 2.2.10.2).
    EarlyUserAuthorization(crate::proto::rdp_pdu::AuthorizationResult),
    /// Client Info PDU (2.2.1.11): its flags only; never the password.
    ClientInfo {
        auto_logon: bool,
        password_present: bool,
    },
    /// Licensing (2.2.1.12): the message type, and the error code of an ERROR_ALERT.
    Licensing {
        msg_type: crate::proto::rdp_pdu::LicenseMsgType,
        error: Option<crate::proto::rdp_pdu::LicenseErrorCode>,
    },
    DemandActive,
    ConfirmActive,
    /// Server Font Map (2.2.1.22): the connection sequence is finished.
    Finalised,
    DeactivateAll,
    /// Set Error Info PDU (2.2.5.1.1).
    SetErrorInfo(crate::proto::rdp_pdu::ErrInfo),
    /// Save Session Info logon notification (2.2.10.1); `error` for a LogonErrorsInfo.
    SaveSessionInfo {
        error: Option<crate::proto::rdp_pdu::LogonError>,
    },
    /// Server Redirection PDU (2.2.13): the target named in it, if any.
    ServerRedirection {
        target: Option<String>,
    },
    /// A TLS alert read from its decrypted record (RFC 8446 6).
    Alert {
        level: u8,
        description: u8,
    },
}
