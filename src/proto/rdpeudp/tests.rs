//! Tests on real RDP-UDP datagrams (public Windows captures) and synthetic edge cases.
use super::*;
use proptest::prelude::*;

use crate::proto::test_util::hex;

/// Handshake datagrams are zero-padded; the captures' tails are all zeros.
fn padded(h: &str, len: usize) -> Vec<u8> {
    let mut b = hex(h);
    b.resize(len, 0);
    b
}

/// zeek_zeek/rdpeudp-handshake-success.pcap frame 1 (client SYN, 1232 bytes).
const V1_SYN: &str = "ffffffff004018010b127f1504d004d07855d064fbaf43f0b6e8f8aadfad0000\
                      00000000000000000000000000000000 00010003";
/// Same capture, frame 2 (server SYN+ACK, 1232 bytes).
const V1_SYN_ACK: &str = "0b127f15004010050f94ea0b04d004d000010002";
/// Same capture, frame 3: client ACK|DATA, empty ack vector padded to 4, TLS ClientHello
/// (first 24 bytes; the datagram is 203 bytes).
const V1_DATA_CLIENT: &str = "0f94ea0b0400000c000000000b127f160b127f1616030300b2010000";
/// Same capture, frame 4: server ACK|DATA, one ack element 0x00 + pad byte 0x1f.
const V1_DATA_SERVER: &str = "0b127f1600c8000c0001001f0f94ea0c0f94ea0c160303047b020000";
/// ntop_nDPI/rdp2.pcap frame 13: ACK|ACKDELAYED, one element 0x04 (run of 5), pad.
const V1_ACK_ONLY: &str = "1097603703ff040400010400";
/// zeek_zeek/rdpeudp2-handshake-success.pcap frame 1 (client SYN v3, 1232 bytes).
const V3_SYN: &str = "ffffffff00401801a7eb5da404d004d0a2e2c8186de34f1e8d0f9175e4cd0000\
                      00000000000000000000000000000000 00010101";
/// Same capture, frame 2 (server SYN+ACK v3).
const V3_SYN_ACK: &str = "a7eb5da4004010050547d72b04d004d000010101";
/// Same capture, frame 3: RDPEUDP2 data, DELAYACKINFO|AOA|DATA, ClientHello (first 24 bytes).
const V2_DATA: &str = "0014c101f40164e064000100160303008e0100008a03035e";
/// Same capture, frame 4: RDPEUDP2 dummy (AOA|DATA), 1007 bytes, zero padding.
const V2_DUMMY: &str = "0014c064006500f0";
/// Same capture, frame 5: server ACK|DATA|AOA|OVERHEADSIZE|DELAYACKINFO (first 24 bytes).
const V2_ACK_DATA: &str = "0055c164000301e001000a01f401640064000100160301050b";

#[test]
fn decodes_a_client_syn() {
    let b = padded(V1_SYN, 1232);
    assert!(looks_like_syn(&b));
    assert!(!looks_like_syn_ack(&b));
    let d = parse_v1(&b).unwrap();
    // tshark: snSourceAck 0xffffffff, window 64, Flags 0x1801 Syn, Correlation id, SynEx.
    assert_eq!(d.sn_source_ack, 0xffff_ffff);
    assert_eq!(d.receive_window, 64);
    assert_eq!(d.flags, UdpFlags(0x1801));
    assert_eq!(d.flags.names(), vec!["SYN", "CORRELATION_ID", "SYNEX"]);
    assert!(d.is_syn());
    let syn = d.syn.unwrap();
    assert_eq!(syn.initial_sequence, 0x0b12_7f15);
    assert_eq!((syn.up_mtu, syn.down_mtu), (1232, 1232));
    assert!(syn.mtus_valid());
    // tshark: Correlation Id: 7855d064fbaf43f0b6e8f8aadfad0000
    assert_eq!(
        format_correlation_id(&d.correlation_id.unwrap()),
        "7855d064-fbaf-43f0-b6e8-f8aadfad0000"
    );
    // tshark: SynEx Flags 0x0001, Version: Unknown (0x0003) — not RDPEUDP2.
    let ex = d.synex.unwrap();
    assert_eq!((ex.flags, ex.version), (1, 3));
    assert!(ex.cookie_hash.is_none());
    assert!(!ex.is_rdpeudp2());
    assert_eq!(ex.version_name(), "0x0003");
    assert_eq!(d.payload_len, 1232 - 52);
    assert!(d.ack_vector.is_none() && d.source.is_none());
}

#[test]
fn decodes_a_server_syn_ack() {
    let b = padded(V1_SYN_ACK, 1232);
    assert!(looks_like_syn_ack(&b));
    assert!(!looks_like_syn(&b));
    let d = parse_v1(&b).unwrap();
    // tshark: snSourceAck 0x0b127f15, Flags 0x1005 Syn, Ack, SynEx, ISN 0x0f94ea0b,
    // MTU 1232/1232, SynEx version UDPv1-2 (0x0002).
    assert_eq!(d.sn_source_ack, 0x0b12_7f15);
    assert_eq!(d.flags.names(), vec!["SYN", "ACK", "SYNEX"]);
    assert!(d.is_syn_ack());
    assert!(d.ack_vector.is_none());
    assert_eq!(d.syn.unwrap().initial_sequence, 0x0f94_ea0b);
    assert!(d.correlation_id.is_none());
    assert_eq!(d.synex.unwrap().version, UDP_VERSION_2);
}

#[test]
fn decodes_data_datagrams_with_padded_ack_vectors() {
    // tshark 4.0 shows snCoded 0x00000b12 here because it skips the DWORD padding; the
    // padded reading gives ISN+1 for both numbers, as the spec requires.
    let d = parse_v1(&hex(V1_DATA_CLIENT)).unwrap();
    assert_eq!(d.flags.names(), vec!["ACK", "DATA"]);
    assert_eq!(d.receive_window, 1024);
    assert_eq!(d.ack_vector.as_ref().unwrap().size, 0);
    let s = d.source.unwrap();
    assert_eq!((s.sn_coded, s.sn_source_start), (0x0b12_7f16, 0x0b12_7f16));
    assert_eq!(d.payload_len, 8);

    let d = parse_v1(&hex(V1_DATA_SERVER)).unwrap();
    let av = d.ack_vector.clone().unwrap();
    assert_eq!(
        av.runs,
        vec![AckRun {
            received: true,
            state: 0,
            length: 0
        }]
    );
    assert_eq!(av.missing(), 0);
    assert_eq!(d.sn_coded(), Some(0x0f94_ea0c));
    assert_eq!(d.sn_source_start(), Some(0x0f94_ea0c));
    assert!(!looks_like_syn(&hex(V1_DATA_SERVER)));
}

#[test]
fn decodes_an_ack_only_datagram() {
    // tshark: Flags 0x0404 Ack, Ack delayed; Ack item 0x04, run length 4; window 1023.
    let d = parse_v1(&hex(V1_ACK_ONLY)).unwrap();
    assert_eq!(d.flags.names(), vec!["ACK", "ACKDELAYED"]);
    assert_eq!(d.receive_window, 1023);
    let av = d.ack_vector.unwrap();
    assert_eq!(av.runs.len(), 1);
    assert_eq!(av.runs.first().unwrap().length, 4);
    assert_eq!(av.runs.first().unwrap().datagrams(), 5);
    assert_eq!(d.payload_len, 0);
    assert!(d.source.is_none());
}

/// ntop_nDPI/rdp2.pcap frame 39 (VLAN-tagged): ACK only, three elements 0x00 0xc0 0x00
/// (tshark lists the same three items) and three garbage pad bytes.
const V1_ACK_HOLE: &str = "9fd6752e00c80004000300c0006d5c18";

#[test]
fn reports_a_hole_in_an_ack_vector() {
    let d = parse_v1(&hex(V1_ACK_HOLE)).unwrap();
    assert_eq!(d.sn_source_ack, 0x9fd6_752e);
    assert_eq!(d.receive_window, 200);
    let av = d.ack_vector.unwrap();
    assert_eq!(av.size, 3);
    let states: Vec<u8> = av.runs.iter().map(|r| r.state).collect();
    assert_eq!(states, vec![0, 3, 0]);
    assert_eq!(av.missing(), 1);
    assert_eq!(d.payload_len, 0);
    // v1 bytes are not an RDPEUDP2 packet: byte 7 gives a short length in a long datagram.
    assert!(matches!(
        parse_v2(&hex(V1_ACK_HOLE)),
        Err(ProtoError::Invalid { offset: 7, .. })
    ));
}

#[test]
fn decodes_a_v3_handshake() {
    let syn = parse_v1(&padded(V3_SYN, 1232)).unwrap();
    // tshark: Correlation Id a2e2c8186de34f1e8d0f9175e4cd0000, SynEx version 0x0101.
    assert_eq!(
        format_correlation_id(&syn.correlation_id.unwrap()),
        "a2e2c818-6de3-4f1e-8d0f-9175e4cd0000"
    );
    let ex = syn.synex.unwrap();
    assert!(ex.is_rdpeudp2());
    assert_eq!(ex.cookie_hash, Some([0u8; 32]));
    assert_eq!(syn.payload_len, 1232 - 52 - 32);
    let sa = parse_v1(&padded(V3_SYN_ACK, 1232)).unwrap();
    let ex = sa.synex.unwrap();
    assert!(ex.is_rdpeudp2());
    assert!(ex.cookie_hash.is_none());
    // Lenient: a v3 SYN cut right after the SYNEX still parses, without a hash.
    let cut = parse_v1(&hex(V3_SYN)).unwrap();
    assert!(cut.synex.unwrap().cookie_hash.is_none());
    assert!(!looks_like_syn(&hex(V3_SYN)));
}

#[test]
fn decodes_rdpeudp2_data_and_dummy_packets() {
    // tshark: prefix 0xe0 Data, Flags 0x114, LogWindow 12, MaxDelayedAcks 1, timeout 500,
    // AckOfAcks 0x0064, Data seq 0x0064, Channel seq 0x0001, then TLS.
    let d = parse_v2(&hex(V2_DATA)).unwrap();
    assert_eq!(d.prefix, 0xe0);
    assert_eq!(d.packet_type, V2_PACKET_DATA);
    assert_eq!(d.short_length, 7);
    assert_eq!(d.flags, V2Flags(0x114));
    assert_eq!(d.flags.names(), vec!["DATA", "AOA", "DELAYACKINFO"]);
    assert_eq!(d.log_window, 12);
    assert_eq!(
        d.delay_ack_info,
        Some(DelayAckInfo {
            max_delayed_acks: 1,
            delayed_ack_timeout_ms: 500
        })
    );
    assert_eq!(d.ack_of_acks, Some(0x64));
    assert_eq!(d.data_seq_num, Some(0x64));
    assert_eq!(d.channel_seq_num, Some(1));
    assert_eq!(d.data_len, 12);

    // tshark: prefix 0xf0 Dummy, Flags 0x014, AckOfAcks 0x0064, Dummy data seq 0x0065.
    let mut dummy = hex(V2_DUMMY);
    dummy.resize(1007, 0);
    let d = parse_v2(&dummy).unwrap();
    assert!(d.is_dummy());
    assert_eq!(d.ack_of_acks, Some(0x64));
    assert_eq!(d.data_seq_num, Some(0x65));
    assert_eq!(d.channel_seq_num, None);
    assert_eq!(d.data_len, 1007 - 7);
}

#[test]
fn decodes_an_rdpeudp2_ack() {
    // tshark: Flags 0x155; Ack Base Seq 0x0064, receivedTS 259, sendTimeGap 1, 0 delayed;
    // Overhead size 10; DelayAck 1/500; AckOfAcks 0x0064; Data 0x0064, channel 0x0001.
    let d = parse_v2(&hex(V2_ACK_DATA)).unwrap();
    assert_eq!(d.flags.0, 0x155);
    let ack = d.ack.unwrap();
    assert_eq!(ack.seq_num, 0x64);
    assert_eq!(ack.received_ts, 259);
    assert_eq!(ack.send_ack_time_gap, 1);
    assert_eq!(ack.num_delayed_acks, 0);
    assert_eq!(d.overhead_size, Some(10));
    assert_eq!(d.ack_of_acks, Some(0x64));
    assert_eq!(d.data_seq_num, Some(0x64));
    assert_eq!(d.channel_seq_num, Some(1));
    assert!(d.ack_vec.is_none());
}

#[test]
fn synthetic_v2_ackvec() {
    // Prefix 0xe0 swapped with byte 7; header 0xc008 (ACKVEC, window 2^12); BaseSeqNum
    // 0x1234; size 3 with timestamp 0x030201 and gap 5; entries: bitmap 0b0101_0101,
    // run of 10 received (0xca), run of 3 lost (0x83).
    let packet = [
        0xe0, 0x08, 0xc0, 0x34, 0x12, 0x83, 0x01, 0x02, 0x03, 0x05, 0x55, 0xca, 0x83,
    ];
    let mut wire = packet;
    wire.swap(0, 7);
    let d = parse_v2(&wire).unwrap();
    assert_eq!(d.flags.names(), vec!["ACKVEC"]);
    let av = d.ack_vec.unwrap();
    assert_eq!(av.base_seq_num, 0x1234);
    assert_eq!(av.time_stamp, Some(0x030201));
    assert_eq!(av.send_ack_time_gap, Some(5));
    assert_eq!(
        av.entries,
        vec![
            AckVecEntry::Bitmap(0x55),
            AckVecEntry::Run {
                received: true,
                length: 10
            },
            AckVecEntry::Run {
                received: false,
                length: 3
            },
        ]
    );
    assert_eq!(av.lost(), 3 + 3);
    assert_eq!(d.data_len, 0);
}

#[test]
fn synthetic_short_v2_packet_is_cut_to_its_length() {
    // A 3-byte packet: prefix with short length 2 (0x40) + header 0xc000 (no flags),
    // zero-padded to 8 bytes on the wire; the padding is not counted as data.
    let packet = [0x40, 0x00, 0xc0, 0, 0, 0, 0, 0];
    let mut wire = packet;
    wire.swap(0, 7);
    let d = parse_v2(&wire).unwrap();
    assert_eq!(d.short_length, 2);
    assert_eq!(d.data_len, 0);
    assert!(parse_v2(&[0u8; 5]).is_err());
}

#[test]
fn synthetic_sequence_wrap() {
    let mut u = SeqUnwrapper::new();
    assert_eq!(u.unwrap(65530), 65530);
    assert_eq!(u.unwrap(65535), 65535);
    assert_eq!(u.unwrap(2), 65538);
    // Late packet from before the wrap.
    assert_eq!(u.unwrap(65534), 65534);
    assert_eq!(u.unwrap(3), 65539);
    for step in [20000u16, 40000, 60000] {
        assert_eq!(u.unwrap(step), 65536 + u64::from(step));
    }
    assert_eq!(u.unwrap(10), 2 * 65536 + 10);
    assert_eq!(u.unwrap(59000), 65536 + 59000);
    // Reordered before the first value seen: stays in epoch 0.
    let mut u = SeqUnwrapper::new();
    assert_eq!(u.unwrap(5), 5);
    assert_eq!(u.unwrap(65533), 65533);
    assert_eq!(u.unwrap(6), 6);
}

#[test]
fn rejects_oversized_ack_vectors_and_keeps_unknown_flags() {
    let mut b = hex("00000000000000040801");
    b.resize(64, 0);
    assert!(matches!(
        parse_v1(&b),
        Err(ProtoError::Invalid { offset: 8, .. })
    ));
    assert_eq!(UdpFlags(0x8001).names(), vec!["SYN", "0x8000"]);
    assert_eq!(V2Flags(0x202).names(), vec!["0x0202"]);
    assert!(parse_v1(&hex("ffffffff0040")).is_err());
}

proptest! {
    #[test]
    fn never_panics(
        data in proptest::collection::vec(any::<u8>(), 0..1300),
        big in proptest::collection::vec(any::<u8>(), 1132..1300),
        prefix in any::<u32>().prop_filter("not the SYN marker", |p| *p != u32::MAX),
        cut in 0usize..1232,
    ) {
        let _ = parse_v1(&data);
        let _ = parse_v2(&data);
        let _ = parse_v1(&big);
        let _ = parse_v2(&big);
        let syn = padded(V3_SYN, 1232);
        let _ = parse_v1(syn.get(..cut).unwrap_or(&syn));
        let _ = parse_v2(syn.get(..cut).unwrap_or(&syn));
        for random in [&data, &big] {
            if random.get(..4) != Some(&[0xff, 0xff, 0xff, 0xff][..]) {
                prop_assert!(!looks_like_syn(random));
            }
        }
        // A real SYN with any other snSourceAck is not a SYN.
        let mut forged = syn.clone();
        forged.splice(0..4, prefix.to_be_bytes());
        prop_assert!(!looks_like_syn(&forged));
    }
}
