//! Timeline events in words: what the table, the JSON `event` strings and the evidence
//! notes that quote an event show.

use std::borrow::Cow;

use crate::capture::IcmpUnreachable;
use crate::flow::Side;
use crate::proto::rdpeudp;
use crate::proto::tls::{self, TlsMalformed};
use crate::session::{ConfirmKind, DecodeError, Event, EventKind, TlsMessage};

/// One event as the timeline shows it (most are fixed words: borrowed, not allocated).
pub fn event_text(e: &Event) -> Cow<'static, str> {
    kind_text(&e.kind, e.dir)
}

/// An event seen going `dir`, in words.
pub fn kind_text(k: &EventKind, dir: Side) -> Cow<'static, str> {
    match k {
        EventKind::Inner(e) => super::inner_events::inner_text(e).into(),
        EventKind::Gateway(e) => super::gateway_inside_events::gateway_event_text(e).into(),
        EventKind::TcpSyn { retry: 0 } => "TCP SYN".into(),
        EventKind::TcpSyn { retry } => {
            concat(&["TCP SYN (retry ", itoa::Buffer::new().format(*retry), ")"]).into()
        }
        EventKind::TcpSynAck => "TCP SYN/ACK".into(),
        EventKind::TcpFin => "TCP FIN".into(),
        EventKind::TcpRst => "TCP RST".into(),
        EventKind::TcpRetransmission { bytes } => concat(&[
            "TCP retransmission (",
            itoa::Buffer::new().format(*bytes),
            " bytes)",
        ])
        .into(),
        EventKind::TcpZeroWindow => "TCP zero window".into(),
        EventKind::Gap { bytes } => format!("{bytes} bytes missing from the capture (gap)").into(),
        EventKind::NotRdpBytes {
            len, first_byte, ..
        } => format!("{len} bytes that are not RDP framing (first byte 0x{first_byte:02x})").into(),
        EventKind::IcmpUnreachable(icmp) => icmp_text(icmp).into(),
        EventKind::X224Request {
            cookie,
            routing_token,
            protocols,
        } => {
            // Room for a cookie and the protocols: one allocation for the usual request.
            let mut text = String::with_capacity(96);
            text.push_str("X.224 Connection Request");
            if let Some(c) = cookie {
                text.push_str(", cookie mstshash=");
                text.push_str(c);
            }
            if *routing_token {
                text.push_str(", routing token");
            }
            match protocols {
                Some(p) => {
                    text.push_str(", requests ");
                    text.push_str(&p.selected_name());
                }
                None => text.push_str(", no negotiation request (Standard RDP Security)"),
            }
            text.into()
        }
        EventKind::X224Confirm(c) => confirm_text(c).into(),
        EventKind::X224DisconnectRequest => "X.224 Disconnect Request".into(),
        EventKind::X224Error => "X.224 Error TPDU".into(),
        EventKind::X224UnknownTpdu { code } => {
            format!("X.224 TPDU with unknown code 0x{code:02x}").into()
        }
        EventKind::McsConnectInitial { client } => match client {
            Some(c) => format!(
                "MCS Connect Initial (client {:?}, build {}, {}x{})",
                c.name, c.build, c.width, c.height
            )
            .into(),
            None => "MCS Connect Initial".into(),
        },
        EventKind::McsConnectResponse { result } => {
            format!("MCS Connect Response, result {}", result.name()).into()
        }
        EventKind::Ultimatum { reason } => {
            concat(&["MCS Disconnect Provider Ultimatum (", &reason.name(), ")"]).into()
        }
        EventKind::McsErectDomainRequest => "MCS Erect Domain Request".into(),
        EventKind::McsAttachUserRequest => "MCS Attach User Request".into(),
        EventKind::McsAttachUserConfirm => "MCS Attach User Confirm".into(),
        EventKind::SecurityExchange => "Security Exchange (client random)".into(),
        EventKind::ClientInfo => "Client Info".into(),
        EventKind::Licensing => "Licensing".into(),
        EventKind::FirstFastPath => match dir {
            Side::Server => "first fast-path output (session graphics)".into(),
            Side::Client => "first fast-path input".into(),
        },
        EventKind::TlsClientHello {
            versions,
            cipher_suites,
            sni,
        } => {
            let mut text = concat(&[
                "TLS ClientHello (offers ",
                &version_range(*versions),
                ", ",
                itoa::Buffer::new().format(*cipher_suites),
                " cipher suites",
            ]);
            if let Some(s) = sni {
                text.push_str(", SNI ");
                text.push_str(s);
            }
            text.push(')');
            text.into()
        }
        EventKind::TlsServerHello {
            retry_request,
            version,
            cipher_suite,
        } => concat(&[
            if *retry_request {
                "TLS HelloRetryRequest ("
            } else {
                "TLS ServerHello ("
            },
            &tls::version_name(*version),
            ", ",
            &tls::cipher_suite_name(*cipher_suite),
            ")",
        ])
        .into(),
        EventKind::TlsCertificate(c) => format!(
            "TLS Certificate: {} (valid {} to {})",
            c.subject, c.not_before, c.not_after
        )
        .into(),
        EventKind::TlsHandshake(m) => format!("TLS {}", message_name(*m)).into(),
        EventKind::TlsAlert {
            encrypted: true, ..
        } => "TLS Alert (encrypted)".into(),
        EventKind::TlsAlert {
            level, description, ..
        } => format!(
            "TLS Alert {} {}",
            tls::alert_level_name(*level),
            tls::alert_description_name(*description)
        )
        .into(),
        EventKind::TlsChangeCipherSpec => "TLS ChangeCipherSpec".into(),
        EventKind::TlsFinished => "TLS Finished (encrypted)".into(),
        EventKind::TlsEncryptedServerFlight => {
            "TLS encrypted handshake (certificate, Finished)".into()
        }
        EventKind::UdpSyn {
            lossy,
            offered_version,
        } => format!(
            "RDP-UDP SYN ({} mode{})",
            if *lossy { "lossy" } else { "reliable" },
            offered_version
                .map(|v| format!(", offers version {}", udp_version_text(v)))
                .unwrap_or_default()
        )
        .into(),
        EventKind::UdpSynRetry { retry } => format!("RDP-UDP SYN (retry {retry})").into(),
        EventKind::UdpSynAck { version } => {
            format!("RDP-UDP SYN+ACK (version {})", udp_version_text(*version)).into()
        }
        EventKind::UdpEstablished { rdpeudp2: true } => {
            "RDP-UDP handshake complete (RDPEUDP2)".into()
        }
        EventKind::UdpEstablished { rdpeudp2: false } => "RDP-UDP handshake complete".into(),
        EventKind::DecodeError(e) => format!("decode error: {}", decode_error_text(e)).into(),
    }
}

fn confirm_text(c: &ConfirmKind) -> String {
    match c {
        ConfirmKind::Selected(p) => concat(&[
            "X.224 Connection Confirm, server selects ",
            &p.selected_name(),
        ]),
        ConfirmKind::Failure(f) => {
            format!("X.224 Connection Confirm with RDP_NEG_FAILURE {}", f.name())
        }
        ConfirmKind::UnknownType(t) => {
            format!("X.224 Connection Confirm with unknown negotiation type 0x{t:02x}")
        }
        ConfirmKind::NoNegotiation => {
            "X.224 Connection Confirm without negotiation data (Standard RDP Security)".into()
        }
    }
}

/// The pieces one after the other, in one allocation: the frequent event texts are built
/// this way rather than with `format!`, whose machinery cost more than the bytes.
fn concat(parts: &[&str]) -> String {
    let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        text.push_str(p);
    }
    text
}

fn message_name(m: TlsMessage) -> &'static str {
    match m {
        TlsMessage::ServerKeyExchange => "ServerKeyExchange",
        TlsMessage::CertificateRequest => "CertificateRequest",
        TlsMessage::ServerHelloDone => "ServerHelloDone",
        TlsMessage::ClientKeyExchange => "ClientKeyExchange",
        TlsMessage::CertificateVerify => "CertificateVerify",
        TlsMessage::NewSessionTicket => "NewSessionTicket",
        TlsMessage::Heartbeat => "Heartbeat",
    }
}

fn version_range(v: Option<(u16, u16)>) -> String {
    match v {
        Some((lo, hi)) if lo == hi => tls::version_name(lo),
        Some((lo, hi)) => concat(&[&tls::version_name(lo), " to ", &tls::version_name(hi)]),
        None => "no version".to_string(),
    }
}

/// What a parser could not read, in words.
pub fn decode_error_text(e: &DecodeError) -> String {
    match e {
        DecodeError::Proto(p) => p.to_string(),
        DecodeError::Tls(TlsMalformed::ShortRecord) => "TLS: record shorter than its header".into(),
        DecodeError::Tls(TlsMalformed::UnknownContentType(t)) => {
            format!("TLS: unknown record content type {t}")
        }
        DecodeError::Tls(TlsMalformed::EmptyHandshake) => "TLS: empty handshake message".into(),
        DecodeError::Tls(TlsMalformed::Handshake { msg_type }) => {
            format!("TLS: handshake message type {msg_type} does not parse")
        }
        DecodeError::TlsHandshakeTooLarge { len } => {
            format!("TLS: handshake message of {len} bytes exceeds the buffer cap")
        }
    }
}

/// uUdpVer as a person reads it: 1, 2, or 3 (RDPEUDP2, sent as 0x0101).
pub fn udp_version_text(v: u16) -> String {
    match v {
        rdpeudp::UDP_VERSION_1 => "1".to_string(),
        rdpeudp::UDP_VERSION_2 => "2".to_string(),
        rdpeudp::UDP_VERSION_3 => "3 (RDPEUDP2)".to_string(),
        other => format!("0x{other:04x}"),
    }
}

/// "ICMP 3/13 administratively prohibited".
pub fn icmp_text(icmp: &IcmpUnreachable) -> String {
    let what = match (icmp.v6, icmp.code) {
        (false, 0) => "network unreachable",
        (false, 1) => "host unreachable",
        (false, 3) => "port unreachable",
        (false, 9) | (false, 10) | (false, 13) => "administratively prohibited",
        (false, 4) => "fragmentation needed",
        (true, 0) => "no route to destination",
        (true, 1) => "administratively prohibited",
        (true, 3) => "address unreachable",
        (true, 4) => "port unreachable",
        (true, 5) | (true, 6) => "rejected by policy",
        _ => "unreachable",
    };
    format!(
        "ICMP{} {}/{} {}",
        if icmp.v6 { "v6" } else { "" },
        icmp.icmp_type,
        icmp.code,
        what
    )
}
