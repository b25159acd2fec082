//! DNS messages (RFC 1035 section 4) on UDP and on TCP (2-byte length prefix, RFC 1035
//! 4.2.2 / RFC 7766), decoded with the `simple-dns` crate and kept as typed values: id, the
//! question (name and type), rcode, and the answers an RDP diagnosis needs (A/AAAA addresses,
//! CNAME, SRV targets, PTR). Section counts are checked against the message length before the
//! crate sizes anything by them, and at most `MAX_RECORDS` answers are kept.

use std::net::{Ipv4Addr, Ipv6Addr};

use simple_dns::rdata::RData;

use super::{Framing, ProtoError};

const LAYER: &str = "dns";
pub const HEADER_LEN: usize = 12;
pub const MAX_RECORDS: usize = 64;
/// The smallest encodings: a question is a root name (1) + type + class; a record adds TTL
/// and RDLENGTH.
const MIN_QUESTION: usize = 5;
const MIN_RECORD: usize = 11;

/// Record and query types (RFC 1035 3.2.2, RFC 3596, RFC 2782); unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordType(pub u16);

impl RecordType {
    pub const A: RecordType = RecordType(1);
    pub const NS: RecordType = RecordType(2);
    pub const CNAME: RecordType = RecordType(5);
    pub const SOA: RecordType = RecordType(6);
    pub const PTR: RecordType = RecordType(12);
    pub const MX: RecordType = RecordType(15);
    pub const TXT: RecordType = RecordType(16);
    pub const AAAA: RecordType = RecordType(28);
    pub const SRV: RecordType = RecordType(33);
    pub const OPT: RecordType = RecordType(41);
    pub const HTTPS: RecordType = RecordType(65);
    pub const ANY: RecordType = RecordType(255);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "A",
            2 => "NS",
            5 => "CNAME",
            6 => "SOA",
            12 => "PTR",
            15 => "MX",
            16 => "TXT",
            28 => "AAAA",
            33 => "SRV",
            41 => "OPT",
            64 => "SVCB",
            65 => "HTTPS",
            255 => "ANY",
            _ => return None,
        })
    }
}

/// Response code (RFC 1035 4.1.1, RFC 6895); unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rcode(pub u16);

impl Rcode {
    pub const NOERROR: Rcode = Rcode(0);
    pub const FORMERR: Rcode = Rcode(1);
    pub const SERVFAIL: Rcode = Rcode(2);
    pub const NXDOMAIN: Rcode = Rcode(3);
    pub const NOTIMP: Rcode = Rcode(4);
    pub const REFUSED: Rcode = Rcode(5);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            4 => "NOTIMP",
            5 => "REFUSED",
            6 => "YXDOMAIN",
            7 => "YXRRSET",
            8 => "NXRRSET",
            9 => "NOTAUTH",
            10 => "NOTZONE",
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub name: String,
    pub qtype: RecordType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerData {
    A {
        address: Ipv4Addr,
    },
    Aaaa {
        address: Ipv6Addr,
    },
    Cname {
        target: String,
    },
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Ptr {
        target: String,
    },
    Other {
        rtype: RecordType,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub name: String,
    pub ttl: u32,
    pub data: AnswerData,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsMessage {
    pub id: u16,
    pub is_response: bool,
    pub opcode: u8,
    pub rcode: Rcode,
    /// TC: the UDP answer was cut and the client should retry over TCP.
    pub truncated: bool,
    pub questions: Vec<Question>,
    pub answers: Vec<Answer>,
    /// Answers beyond MAX_RECORDS, counted and dropped.
    pub answers_dropped: usize,
    pub authority_count: u16,
    pub additional_count: u16,
}

impl DnsMessage {
    /// The first question's name and type (a client asks one question per message).
    pub fn question(&self) -> Option<&Question> {
        self.questions.first()
    }

    /// Every IPv4 and IPv6 address among the answers.
    pub fn addresses(&self) -> impl Iterator<Item = std::net::IpAddr> + '_ {
        self.answers.iter().filter_map(|a| match a.data {
            AnswerData::A { address } => Some(address.into()),
            AnswerData::Aaaa { address } => Some(address.into()),
            _ => None,
        })
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([
        b.get(at).copied().unwrap_or(0),
        b.get(at + 1).copied().unwrap_or(0),
    ])
}

/// Refuses section counts that could not fit the message, before anything is sized by them.
fn check_counts(b: &[u8]) -> Result<(), ProtoError> {
    let body = b.len() - HEADER_LEN;
    let qd = usize::from(be16(b, 4));
    let records = usize::from(be16(b, 6)) + usize::from(be16(b, 8)) + usize::from(be16(b, 10));
    if qd * MIN_QUESTION + records * MIN_RECORD > body {
        return Err(ProtoError::invalid(
            LAYER,
            "section counts",
            4,
            format!("{qd} questions and {records} records cannot fit {body} bytes"),
        ));
    }
    Ok(())
}

fn answer_data(rdata: &RData) -> AnswerData {
    match rdata {
        RData::A(a) => AnswerData::A {
            address: Ipv4Addr::from(a.address),
        },
        RData::AAAA(a) => AnswerData::Aaaa {
            address: Ipv6Addr::from(a.address),
        },
        RData::CNAME(c) => AnswerData::Cname {
            target: name_text(&c.0),
        },
        RData::PTR(p) => AnswerData::Ptr {
            target: name_text(&p.0),
        },
        RData::SRV(s) => AnswerData::Srv {
            priority: s.priority,
            weight: s.weight,
            port: s.port,
            target: name_text(&s.target),
        },
        other => AnswerData::Other {
            rtype: RecordType(u16::from(other.type_code())),
        },
    }
}

/// `name` as simple_dns's `Display` writes it: the labels read as UTF-8 (lossily) joined by
/// dots, a dot or backslash inside a label escaped with a backslash. That `Display` goes
/// through `fmt` once per character, about 3,000 instructions for a message's names; a label
/// with nothing to escape (nearly all) is copied whole here.
pub fn name_text(name: &simple_dns::Name<'_>) -> String {
    let labels = name.get_labels();
    let mut out = String::with_capacity(labels.iter().map(|l| l.len() + 1).sum());
    for (i, label) in labels.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        let text = String::from_utf8_lossy(label.as_ref());
        if !text.contains(['.', '\\']) {
            out.push_str(&text);
            continue;
        }
        for c in text.chars() {
            if c == '.' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// Decodes one DNS message (a UDP payload, or a TCP message without its length prefix).
pub fn parse_message(b: &[u8]) -> Result<DnsMessage, ProtoError> {
    if b.len() < HEADER_LEN {
        return Err(ProtoError::truncated(LAYER, "header", 0));
    }
    check_counts(b)?;
    let packet = simple_dns::Packet::parse(b)
        .map_err(|e| ProtoError::invalid(LAYER, "message", HEADER_LEN, e.to_string()))?;
    let flags = be16(b, 2);
    // The header's four bits; the EDNS extended rcode (RFC 6891 6.1.3) only adds codes
    // (BADVERS and above) that name-resolution failures do not use.
    let rcode = Rcode(flags & 0x000F);
    let questions = packet
        .questions
        .iter()
        .take(MAX_RECORDS)
        .map(|q| Question {
            name: name_text(&q.qname),
            qtype: RecordType(u16::from(q.qtype)),
        })
        .collect();
    let answers: Vec<Answer> = packet
        .answers
        .iter()
        .take(MAX_RECORDS)
        .map(|rr| Answer {
            name: name_text(&rr.name),
            ttl: rr.ttl,
            data: answer_data(&rr.rdata),
        })
        .collect();
    Ok(DnsMessage {
        id: be16(b, 0),
        is_response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0F) as u8,
        rcode,
        truncated: flags & 0x0200 != 0,
        questions,
        answers_dropped: packet.answers.len().saturating_sub(answers.len()),
        answers,
        authority_count: be16(b, 8),
        additional_count: be16(b, 10),
    })
}

/// How long the length-prefixed DNS message at the front of a TCP stream is, prefix included.
pub fn find_size_tcp(buf: &[u8]) -> Framing {
    match buf {
        [] | [_] => Framing::NeedMore(2 - buf.len()),
        [hi, lo, ..] => {
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            if len < HEADER_LEN {
                Framing::Invalid
            } else if buf.len() >= len + 2 {
                Framing::Complete(len + 2)
            } else {
                Framing::NeedMore(len + 2 - buf.len())
            }
        }
    }
}

/// Decodes the length-prefixed message at the front of a TCP stream; returns it and the
/// bytes it took.
pub fn parse_tcp(buf: &[u8]) -> Result<(DnsMessage, usize), ProtoError> {
    match find_size_tcp(buf) {
        Framing::Complete(n) => Ok((parse_message(buf.get(2..n).unwrap_or_default())?, n)),
        Framing::NeedMore(_) => Err(ProtoError::truncated(LAYER, "TCP message", 0)),
        Framing::Invalid => Err(ProtoError::invalid(
            LAYER,
            "TCP length",
            0,
            "shorter than a header",
        )),
    }
}

#[cfg(test)]
#[path = "dns_tests.rs"]
mod tests;
