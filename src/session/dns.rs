//! One DNS conversation (RFC 1035 4.2: UDP or TCP port 53): each query with the answer it got
//! (matched by message ID and question, RFC 1035 7.3), its RCODE and the addresses, SRV targets
//! and aliases of the answer. Queries never answered stay without a reply.

use std::net::IpAddr;

use crate::flow::{PacketInfo, Side, StreamOutput};
use crate::proto::dns::{self, AnswerData, DnsMessage, Rcode, RecordType};

/// Lookups kept per flow (a UDP flow is usually one or two; a TCP one can be a zone walk).
pub const MAX_LOOKUPS: usize = 16;
/// Addresses, SRV targets and aliases kept per answer.
const MAX_VALUES: usize = 8;
const MAX_BUFFER: usize = 64 * 1024;

/// The answer to one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsReply {
    pub at: PacketInfo,
    pub rcode: Rcode,
    pub addresses: Vec<IpAddr>,
    pub srv_targets: Vec<String>,
    pub aliases: Vec<String>,
}

/// One query (its first question) and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsLookup {
    pub at: PacketInfo,
    pub id: u16,
    pub name: String,
    pub qtype: RecordType,
    pub reply: Option<DnsReply>,
}

impl DnsLookup {
    /// An A or AAAA query: a host name looked up for an address.
    pub fn is_address_query(&self) -> bool {
        self.qtype == RecordType::A || self.qtype == RecordType::AAAA
    }
}

#[derive(Debug, Default, Clone)]
pub struct DnsFlow {
    pub lookups: Vec<DnsLookup>,
    pub decode_errors: u32,
    buffers: crate::flow::Sides<Vec<u8>>,
    changed: bool,
}

fn reply_of(at: &PacketInfo, m: &DnsMessage) -> DnsReply {
    let mut r = DnsReply {
        at: *at,
        rcode: m.rcode,
        addresses: m.addresses().take(MAX_VALUES).collect(),
        srv_targets: Vec::new(),
        aliases: Vec::new(),
    };
    for a in &m.answers {
        match &a.data {
            AnswerData::Srv { target, .. } if r.srv_targets.len() < MAX_VALUES => {
                r.srv_targets.push(target.to_ascii_lowercase())
            }
            AnswerData::Cname { target } if r.aliases.len() < MAX_VALUES => {
                r.aliases.push(target.to_ascii_lowercase())
            }
            _ => {}
        }
    }
    r
}

impl DnsFlow {
    /// True once per change: the pipeline then copies the lookups to the correlator.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// One DNS message from either side.
    pub fn message(&mut self, at: &PacketInfo, m: &DnsMessage) {
        let Some(q) = m.question() else { return };
        let name = q.name.trim_end_matches('.').to_ascii_lowercase();
        if !m.is_response {
            if self.lookups.len() < MAX_LOOKUPS {
                // Most flows hold one or two lookups: no spare room for four.
                self.lookups.reserve_exact(1);
                self.lookups.push(DnsLookup {
                    at: *at,
                    id: m.id,
                    name,
                    qtype: q.qtype,
                    reply: None,
                });
                self.changed = true;
            }
            return;
        }
        if let Some(l) = self
            .lookups
            .iter_mut()
            .find(|l| l.id == m.id && l.reply.is_none() && l.name == name)
        {
            l.reply = Some(reply_of(at, m));
            self.changed = true;
        }
    }

    pub fn datagram(&mut self, at: &PacketInfo, payload: &[u8]) {
        match dns::parse_message(payload) {
            Ok(m) => self.message(at, &m),
            Err(_) => self.decode_errors += 1,
        }
    }

    /// Reassembled TCP bytes: 2-byte length-prefixed messages (RFC 1035 4.2.2).
    pub fn stream(&mut self, at: &PacketInfo, side: Side, out: StreamOutput<'_>) {
        let i = side;
        match out {
            StreamOutput::Gap(_) => self.buffers.get_mut(i).clear(),
            StreamOutput::Data(bytes) => {
                let mut buf = std::mem::take(self.buffers.get_mut(i));
                let mut errors = 0;
                let invalid = super::stream::length_prefixed(
                    &mut buf,
                    bytes,
                    MAX_BUFFER,
                    dns::find_size_tcp,
                    2,
                    &mut |msg| match dns::parse_message(msg) {
                        Ok(m) => self.message(at, &m),
                        Err(_) => errors += 1,
                    },
                );
                self.decode_errors += errors + invalid;
                *self.buffers.get_mut(i) = buf;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_garbage_and_short_tcp_messages_do_not_panic() {
        let at = PacketInfo {
            file: 0,
            frame: 1,
            ts_ns: 0,
        };
        let mut d = DnsFlow::default();
        d.datagram(&at, &[1, 2, 3]);
        d.stream(&at, Side::Client, StreamOutput::Data(&[0, 3, 1, 2, 3, 0]));
        d.stream(&at, Side::Client, StreamOutput::Data(&[0xff]));
        assert!(d.lookups.is_empty());
        assert!(d.decode_errors >= 2);
    }

    /// dns_address_mismatch.pcap frames 7, 8 (A rdp.rdplab.test -> 10.99.0.7) and
    /// dns_nxdomain.pcap frames 7, 8 (A rdp-old.rdplab.test -> NXDOMAIN).
    #[test]
    fn lab_lookups_pair_query_and_answer() {
        let hex = crate::proto::test_util::hex;
        let at = |frame| PacketInfo {
            file: 0,
            frame,
            ts_ns: frame as i64,
        };
        let mut d = DnsFlow::default();
        d.datagram(
            &at(7),
            &hex("0a820100000100000000000003726470067264706c616204746573740000010001"),
        );
        d.datagram(&at(8), &hex("0a828580000100010000000003726470067264706c616204746573740000010001c00c000100010000000000040a630007"));
        assert!(d.take_changed());
        let l = &d.lookups[0];
        assert_eq!(
            (l.name.as_str(), l.qtype, l.is_address_query()),
            ("rdp.rdplab.test", RecordType::A, true)
        );
        let r = l.reply.as_ref().unwrap();
        assert_eq!((r.at.frame, r.rcode), (8, Rcode::NOERROR));
        assert_eq!(r.addresses, ["10.99.0.7".parse::<IpAddr>().unwrap()]);

        let mut d = DnsFlow::default();
        d.datagram(
            &at(7),
            &hex("f3b601000001000000000000077264702d6f6c64067264706c616204746573740000010001"),
        );
        d.datagram(
            &at(8),
            &hex("f3b681830001000000000000077264702d6f6c64067264706c616204746573740000010001"),
        );
        let r = d.lookups[0].reply.as_ref().unwrap();
        assert_eq!((r.rcode, r.addresses.len()), (Rcode::NXDOMAIN, 0));
    }
}
