//! Payloads of fixtures/dns/dnsmasq_dig.pcap (real dig and dnsmasq, see its README) and of
//! zeek_zeek/edge/mapi.pcap (a Windows client's reverse lookup), with the values tshark
//! prints for them (`tshark -r F -Y dns`).

use super::*;
use crate::proto::test_util::hex;
use proptest::prelude::*;

/// Frame 1: query 0xf9e2 A rdp.lab.test (with an EDNS OPT record).
const QUERY_A: &str = "f9e20120000100000000000103726470036c61620474657374000001000100002904d000000000000c000a0008bfb97ce41be2bab5";
/// Frame 2: response 0xf9e2 A 10.1.2.3.
const ANSWER_A: &str = "f9e28580000100010000000103726470036c616204746573740000010001c00c000100010000000000040a01020300002904d0000000000000";
/// Frame 4: response 0x2155 AAAA fd00::3.
const ANSWER_AAAA: &str = "21558580000100010000000103726470036c6162047465737400001c0001c00c001c0001000000000010fd00000000000000000000000000000300002904d0000000000000";
/// Frame 6: response 0x5733 SRV 0 100 88 kdc.lab.test.
const ANSWER_SRV: &str = "573385800001000100000001095f6b65726265726f73045f746370036c616204746573740000210001c00c00210001000000000014000000640058036b6463036c616204746573740000002904d0000000000000";
/// Frame 8: response 0x4a80 A gw.lab.test → CNAME rdp.lab.test.
const ANSWER_CNAME: &str = "4a8085800001000100000001026777036c616204746573740000010001c00c0005000100000000000e03726470036c616204746573740000002904d0000000000000";
/// Frame 10: response 0x7931 No such name A missing.lab.test.
const NXDOMAIN: &str =
    "793181830001000000000001076d697373696e67036c61620474657374000001000100002904d0000000000000";
/// Frame 12: response 0xa12e Refused A other.example.
const REFUSED: &str = "a12e81850001000000000001056f74686572076578616d706c65000001000100002904d0000000000006000f0002000e";
/// Frame 18: the TCP response 0x01e6 A 10.1.2.3, with its 2-byte length.
const TCP_ANSWER: &str = "003901e68580000100010000000103726470036c616204746573740000010001c00c000100010000000000040a01020300002904d0000000000000";
/// mapi.pcap frame 129: response 0xb2a9 No such name PTR 3.0.168.192.in-addr.arpa, SOA.
const MAPI_PTR_NXDOMAIN: &str = "b2a98583000100000001000001330130033136380331393207696e2d61646472046172706100000c00010130033136380331393207696e2d616464720461727061000006000100000e1000420676656e7461780b736f6c7574696f6e73697103636f6d00136a64756261696c40736f6c7574696f6e736971c05f0000005000000384000002580001518000000e10";

fn msg(h: &str) -> DnsMessage {
    parse_message(&hex(h)).unwrap()
}

#[test]
fn query_and_a_answer_as_tshark_shows_them() {
    let q = msg(QUERY_A);
    assert_eq!(q.id, 0xf9e2);
    assert!(!q.is_response);
    let question = q.question().unwrap();
    assert_eq!(
        (question.name.as_str(), question.qtype.name()),
        ("rdp.lab.test", Some("A"))
    );
    let a = msg(ANSWER_A);
    assert!(a.is_response);
    assert_eq!(a.rcode.name(), Some("NOERROR"));
    assert_eq!(
        a.answers,
        vec![Answer {
            name: "rdp.lab.test".into(),
            ttl: 0,
            data: AnswerData::A {
                address: Ipv4Addr::new(10, 1, 2, 3)
            }
        }]
    );
    assert_eq!(a.additional_count, 1);
}

#[test]
fn aaaa_srv_and_cname_answers() {
    let v6: Vec<_> = msg(ANSWER_AAAA).addresses().collect();
    assert_eq!(v6, vec!["fd00::3".parse::<std::net::IpAddr>().unwrap()]);
    let srv = msg(ANSWER_SRV);
    assert_eq!(srv.question().unwrap().qtype, RecordType::SRV);
    assert_eq!(
        srv.answers[0].data,
        AnswerData::Srv {
            priority: 0,
            weight: 100,
            port: 88,
            target: "kdc.lab.test".into()
        }
    );
    assert_eq!(
        msg(ANSWER_CNAME).answers[0].data,
        AnswerData::Cname {
            target: "rdp.lab.test".into()
        }
    );
}

#[test]
fn failures_carry_their_rcode() {
    let nx = msg(NXDOMAIN);
    assert_eq!((nx.id, nx.rcode), (0x7931, Rcode::NXDOMAIN));
    assert!(nx.answers.is_empty());
    assert_eq!(msg(REFUSED).rcode, Rcode::REFUSED);
    let ptr = msg(MAPI_PTR_NXDOMAIN);
    assert_eq!(ptr.rcode.name(), Some("NXDOMAIN"));
    assert_eq!(ptr.question().unwrap().name, "3.0.168.192.in-addr.arpa");
    assert_eq!(ptr.question().unwrap().qtype, RecordType::PTR);
    assert_eq!(ptr.authority_count, 1);
}

#[test]
fn tcp_messages_are_length_prefixed() {
    let b = hex(TCP_ANSWER);
    assert_eq!(find_size_tcp(&b), Framing::Complete(59));
    assert_eq!(find_size_tcp(&b[..10]), Framing::NeedMore(49));
    let (m, used) = parse_tcp(&b).unwrap();
    assert_eq!((m.id, used), (0x01e6, 59));
    assert_eq!(m.addresses().count(), 1);
    assert_eq!(find_size_tcp(&[0, 3, 1, 2, 3]), Framing::Invalid);
}

#[test]
fn synthetic_counts_that_cannot_fit_are_refused() {
    // A header claiming 65535 answers in a 12-byte message.
    assert!(matches!(
        parse_message(&hex("1234 8180 0000 ffff 0000 0000")),
        Err(ProtoError::Invalid {
            field: "section counts",
            ..
        })
    ));
    assert!(parse_message(&hex("1234")).is_err());
    // A compression pointer loop.
    assert!(parse_message(&hex("1234 0100 0001 0000 0000 0000 c00c 0001 0001")).is_err());
}

proptest! {
    #[test]
    fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..300), cut in 0usize..150, flip in 0usize..150) {
        let _ = parse_message(&data);
        let _ = parse_tcp(&data);
        for h in [ANSWER_SRV, ANSWER_CNAME, MAPI_PTR_NXDOMAIN] {
            let mut b = hex(h);
            let _ = parse_message(&b[..cut.min(b.len())]);
            if let Some(x) = b.get_mut(flip) {
                *x ^= 0x3c;
            }
            let _ = parse_message(&b);
        }
    }
}

#[test]
fn names_read_as_simple_dns_displays_them() {
    // A query whose name has a dot, a backslash and bytes that are not UTF-8 inside labels.
    let mut b = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(b"\x03a.b\x02\\x\x02\xff\xfe\x03rdp\x04test\x00\x00\x01\x00\x01");
    let packet = simple_dns::Packet::parse(&b);
    assert!(packet.is_ok(), "{packet:?}");
    for q in packet.iter().flat_map(|p| p.questions.iter()) {
        assert_eq!(name_text(&q.qname), q.qname.to_string());
        assert_eq!(name_text(&q.qname), "a\\.b.\\\\x.\u{fffd}\u{fffd}.rdp.test");
    }
    let plain = msg(REFUSED);
    assert_eq!(
        plain.questions.first().map(|q| q.name.as_str()),
        Some("other.example")
    );
}
