//! Words of the findings that reason from what the packets prove (issue 18): a segment the
//! path drops, a port that answers with another protocol, a PDU that breaks its protocol,
//! frames captured twice.

use super::events::{decode_error_text, event_text};
use super::notes::close_text;
use crate::diagnose::finding::{OtherProtocol, Violation};
use crate::diagnose::{Close, Facts};
use crate::flow::Side;
use crate::session::{Event, PhaseName};

/// Title and explanation of the issue-18 facts; None for the others.
pub fn proof_words(facts: &Facts) -> Option<(String, String)> {
    Some(match facts {
        Facts::ProtocolViolation { side, violation } => violation_words(*side, violation),
        Facts::NotRdpService {
            port,
            len,
            head,
            recognised,
            close,
        } => not_rdp_words(*port, *len, head, *recognised, *close),
        Facts::DuplicateFrames { count } => (
            format!("{count} frame(s) captured twice (capture artefact, not loss)"),
            format!(
                "{count} frame(s) appear twice with the same IP ID and bytes, microseconds apart: the \
                 capture point sees each packet twice (tcpdump -i any across a bridge, a SPAN port). \
                 They were left out: they are not retransmissions and count as no loss."
            ),
        ),
        Facts::SegmentBlackHoled {
            side,
            bytes,
            carried,
            retransmits,
            span_ms,
            backed_off,
            phase,
            close,
        } => black_hole_words(
            *side,
            *bytes,
            carried.as_ref(),
            *retransmits,
            *span_ms,
            *backed_off,
            *phase,
            *close,
        ),
        _ => return None,
    })
}

fn violation_words(side: Side, v: &Violation) -> (String, String) {
    let what = match v {
        Violation::Decode(e) => decode_error_text(e),
        Violation::NegotiationLength(len) => format!(
            "X.224 Connection Confirm: RDP_NEG_RSP length field is {len}, the specification requires 8 \
             (MS-RDPBCGR 2.2.1.2.1)"
        ),
    };
    (
        format!("Protocol violation from the {}: {what}", side.name()),
        format!(
            "The {} sent a PDU that breaks the protocol ({what}). A conforming RDP peer does not send \
             it: what follows cannot be trusted to be RDP.",
            side.name()
        ),
    )
}

fn other_protocol_text(p: OtherProtocol) -> &'static str {
    match p {
        OtherProtocol::Http => "HTTP",
        OtherProtocol::Ssh => "SSH",
        OtherProtocol::Tls => "TLS",
        OtherProtocol::TextBanner => "a text banner (SMTP, FTP, POP3...)",
    }
}

/// The first bytes as hex, with their printable ASCII when there is some.
fn head_text(head: &[u8]) -> String {
    let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
    let ascii: String = head
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("{} \"{}\"", hex.join(" "), ascii)
}

fn not_rdp_words(
    port: u16,
    len: usize,
    head: &[u8],
    recognised: Option<OtherProtocol>,
    close: Option<Close>,
) -> (String, String) {
    let looks = recognised
        .map(|p| format!(", which is {}", other_protocol_text(p)))
        .unwrap_or_default();
    (
        format!(
            "The service on port {port} is not an RDP server: it answered with {}{looks}",
            head_text(head.get(..8).unwrap_or(head))
        ),
        format!(
            "Instead of an X.224 Connection Confirm the server sent {len} bytes that are not TPKT \
             framing, starting {}{looks}{}. Another service listens on the port, or the port leads \
             to the wrong host.",
            head_text(head),
            close
                .map(|c| format!("; then it closed the connection ({})", close_text(c)))
                .unwrap_or_default()
        ),
    )
}

#[allow(clippy::too_many_arguments)]
fn black_hole_words(
    side: Side,
    bytes: u32,
    carried: Option<&Event>,
    retransmits: u32,
    span_ms: f64,
    backed_off: bool,
    phase: Option<PhaseName>,
    close: Option<(Side, Close)>,
) -> (String, String) {
    let what = carried
        .map(|e| event_text(e).into_owned())
        .unwrap_or_else(|| format!("{bytes}-byte segment"));
    let phase = phase.map(super::phase_text).unwrap_or("connection setup");
    (
        format!(
            "The {}'s {what} never got through: sent {} times over {:.1} s, never acknowledged",
            side.name(),
            retransmits + 1,
            span_ms / 1000.0
        ),
        format!(
            "During the {phase} the {} sent one segment ({bytes} bytes: {what}) and retransmitted it \
             {retransmits} time(s){} over {:.1} s; the peer never acknowledged it, while it had \
             acknowledged everything before it. The path drops that segment (an IPS or content \
             filter, or an MTU black hole for a full-size segment): the connection made no progress \
             from the first transmission on{}.",
            side.name(),
            if backed_off {
                " with doubling timeouts"
            } else {
                ""
            },
            span_ms / 1000.0,
            close
                .map(|(s, c)| format!(", until the {} gave up ({})", s.name(), close_text(c)))
                .unwrap_or_else(|| ", until the capture ended".into())
        ),
    )
}
