//! Evidence notes in words: what each frame a finding cites shows.

use super::events::{event_text, icmp_text};
use crate::diagnose::{Close, Note};
use crate::proto::tls;

/// How a side ended the connection: "FIN", "RST", "MCS Disconnect Provider Ultimatum".
pub fn close_text(c: Close) -> &'static str {
    match c {
        Close::Fin => "FIN",
        Close::Rst => "RST",
        Close::Ultimatum(_) => "MCS Disconnect Provider Ultimatum",
        Close::DisconnectRequest => "X.224 Disconnect Request",
    }
}

/// One evidence frame's note.
pub fn note_text(n: &Note) -> String {
    match n {
        Note::ClientSyn => "client SYN".into(),
        Note::ClientSynRetry => "client SYN retry".into(),
        Note::ServerRst => "server answers with RST".into(),
        Note::Icmp(icmp) => icmp_text(icmp),
        Note::ClientRequests(p) => format!("client requests {}", p.names().join("|")),
        Note::NegFailure(f) => format!("RDP_NEG_FAILURE {}", f.name()),
        Note::ServerSelects(p) => format!("server selects {}", p.selected_name()),
        Note::Closes { side, close } => format!("{} closes ({})", side.name(), close_text(*close)),
        Note::StillNoAnswer => "last packet, still no answer".into(),
        Note::ClientHello { offered, suites } => format!(
            "ClientHello offers {} with {suites} cipher suites",
            offered
                .iter()
                .map(|v| tls::version_name(*v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Note::ServerHelloSelects(v) => format!("ServerHello selects {}", tls::version_name(*v)),
        Note::SendsAlert { side, description } => {
            format!(
                "{} sends alert {}",
                side.name(),
                tls::alert_description_name(*description)
            )
        }
        Note::ServerUltimatum(r) => format!(
            "server sends MCS Disconnect Provider Ultimatum ({})",
            r.name()
        ),
        Note::ServerClosesWithoutHello(c) => format!(
            "server closes ({}) without ServerHello or alert",
            close_text(*c)
        ),
        Note::ServerCertificate(subject) => format!("server certificate {subject}"),
        Note::ClientAlert {
            encrypted: true, ..
        } => "client sends an encrypted alert".into(),
        Note::ClientAlert { description, .. } => {
            format!(
                "client sends alert {}",
                tls::alert_description_name(*description)
            )
        }
        Note::ClientClosesWithoutData(c) => {
            format!("client closes ({}) without sending data", close_text(*c))
        }
        Note::CredsspMessage { n, side, bytes } => format!(
            "CredSSP message {n} from the {} ({bytes} bytes)",
            side.name()
        ),
        Note::LastMessage(e) => format!("last message: {}", event_text(e)),
        Note::ServerSynAck => "server SYN/ACK".into(),
        Note::ClientAckRtt(ms) => format!("client ACK: round trip {ms:.1} ms"),
        Note::Retransmits { side, bytes } => {
            format!("{} retransmits {bytes} bytes", side.name())
        }
        Note::SynRetransmitted => "SYN retransmitted".into(),
        Note::LostUpstreamResent { side, bytes } => format!(
            "{} resends {bytes} bytes lost before the capture point",
            side.name()
        ),
        Note::LastDataArrived(side) => {
            format!("last data from the {} that arrived", side.name())
        }
        Note::AheadUnseen { side, ahead } => format!(
            "{} is {ahead} bytes ahead of what arrived: its large segments were lost",
            side.name()
        ),
        Note::RetransmitsLarge { side, bytes } => {
            format!("{} retransmits a {bytes}-byte segment", side.name())
        }
        Note::LastDataThrough => "last data that got through".into(),
        Note::LastProgress => "last progress before the silence".into(),
        Note::NextProgress => "next progress".into(),
        Note::LastPacket => "last packet of the connection".into(),
        Note::PhaseStarts(p) => format!("{} starts", super::phase_text(*p)),
        Note::PhaseEnds(p) => format!("{} ends", super::phase_text(*p)),
        Note::FirstPacketNoSyn => "first packet seen, no SYN before it".into(),
        Note::GapNeverCaptured { side, bytes } => {
            format!("{bytes} bytes from the {} never captured", side.name())
        }
        Note::UdpSyn => "client RDP-UDP SYN".into(),
        Note::UdpNoSynAck { tcp } => format!("no SYN+ACK; TCP connection #{tcp} is the session"),
        Note::UdpSynAck => "server RDP-UDP SYN+ACK".into(),
        Note::LastDatagram => "last datagram".into(),
        Note::LastUdpDatagram => "last RDP-UDP datagram".into(),
        Note::BurstFirst => "first connection attempt of the burst".into(),
        Note::BurstLast => "last connection attempt of the burst".into(),
        Note::SegmentSent { side, bytes } => {
            format!("{} sends a {bytes}-byte segment", side.name())
        }
        Note::SegmentResent { n } => format!("retransmission {n}, not acknowledged"),
        Note::NotRdpAnswer { len } => format!("server answers with {len} bytes that are not RDP"),
        Note::Violation => "the malformed PDU".into(),
        Note::FirstDuplicate => "first frame captured twice".into(),
        Note::AlertAfterClientFin {
            encrypted: true, ..
        } => "server sends an encrypted alert after the client's FIN".into(),
        Note::AlertAfterClientFin { description, .. } => format!(
            "server sends alert {} after the client's FIN",
            tls::alert_description_name(*description)
        ),
        Note::CredentialsInGap { n, bytes } => format!(
            "server acknowledges {bytes} client bytes the capture lacks: CredSSP message {n} \
             from the client, sent in the gap"
        ),
        Note::Inside(n) => super::inside_findings::note_text(n),
        Note::Side(n) => super::side::side_note(n),
        Note::GatewayInside(n) => super::gateway_inside_findings::note_text(n),
        Note::Gateway(n) => super::gateway::gateway_note(n),
    }
}
