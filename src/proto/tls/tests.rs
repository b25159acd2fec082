//! Records and handshake messages from real captures (zeek, lab fixtures), decoded as
//! tshark decodes them, and the reassembly of messages split across records.

use super::*;
use crate::proto::test_util::hex;
use proptest::prelude::*;

/// zeek_zeek/rdp-to-ssl.pcap frame 8: one record (type 22 at offset 0, length 0x0074)
/// holding the Windows 7 client's ClientHello.
const CLIENT_HELLO: &[&str] = &[
"16030100740100007003014d570ec58a9b7d325ed908de8cb2b4de50ec88184a1f6ec723c1d5a344a6cc34000018002f",
"00350005000ac013c014c009c00a00320038001300040100002f00000012001000000d3139322e3136382e312e313530",
"000500050100000000000a0006000400170018000b00020100",
];
/// Same capture, frame 9: ServerHello, Certificate and ServerHelloDone in one record.
const SERVER_FLIGHT: &[&str] = &[
"16030103560200004603014d570ec5dce926336048a81f74582427b8dbdd75b023967bc5b9e8f0d64a473f20bc330000",
"feec8017719c03aaf0ab2544484d8ccfa3a8a343239161d750f089ca002f000b0003040003010002fe308202fa308201",
"e2a003020102021016ed2aa0495f259d4f5d99edada570d1300d06092a864886f70d0101050500302631243022060355",
"0403131b57494e324b3852322e6177616b65636f64696e672e6174682e6378301e170d3131303231323231333733355a",
"170d3231303231323030303030305a3026312430220603550403131b57494e324b3852322e6177616b65636f64696e67",
"2e6174682e637830820122300d06092a864886f70d01010105000382010f003082010a0282010100fb55c684d0ee3a06",
"ddbbbe86b33ffa8494d047fe4e794e576e5f8a29819bf7b2f47bcd14d33818bd54ac62c9ad3ec9cde23d2838dd8d4062",
"032597e04f15d3351901498fbd67ae1e23d019734ac54c29a85f889ce11b33f0dfb197cf497532b21cee9d85d81ee8d1",
"eef5d444c78442506b7310704c33db5287fcc9f0d7f0fcb8bedf9e5542228092e876665d331f353c6e4e3abb5dd8d6aa",
"59d23d7bdb06ba10ff4d6e575d9adbb3776ff5e0e1df4ec24fde665f88bee40e731a39a02036d607d127bdae1181aa5b",
"7b99715bfdbbf55f4149da451d57e3a205311c75b673dd04e77bedc63a00bdb7837344f2fd3b2ae58db51963e02aa715",
"aa42e3a3d5def1970203010001a3243022300b0603551d0f04040302043030130603551d25040c300a06082b06010505",
"070301300d06092a864886f70d010105050003820101007c430c5abb0c7218c2bb3820a68af5995b588a445160ed4082",
"238382ed517c69b9cadc358dc9d07921cdbdf34b3f8057c83523ff952ad201a8b6305065c46a5526d6d7a41834768d9d",
"5c7399f4bc3fdfe31dbd1b7f1c7db02f50b448384b0ae83583aae53051cbc2616587ae857747f5d1ccec8983850e8beb",
"252f25fa3535509fbd3672a3f6eee6b3e89936cc884485782fdcfdb9dd6b8e40e7586423de429ebaf5008da53755e659",
"3b0fad9b0213fc8e49aee922b09c768e354de12a14a07e429e019ab8acd092a7c7858f43d88cd1308aa6f41a06348423",
"e19289a536e1697557433fedc07576192259d1cd2875daf50238d25ac323742c40c7f1f1addf6c0e000000",
];
/// fixtures/lab/tls_cipher_mismatch.pcap: xrdp's plaintext alert, fatal (2),
/// handshake_failure (40).
const ALERT: &str = "15030300020228";

fn records(parts: &[&str]) -> Vec<Vec<u8>> {
    let bytes = hex(&parts.concat());
    let mut out = Vec::new();
    let mut rest = &bytes[..];
    while let Framing::Complete(n) = find_record_size(rest) {
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    out
}

#[test]
fn decodes_a_windows_client_hello_as_tshark_does() {
    let mut conv = TlsConversation::new();
    let recs = records(CLIENT_HELLO);
    assert_eq!(recs.len(), 1);
    let ev = conv.feed_record(true, &recs[0]);
    let Some(TlsEvent::ClientHello(ch)) = ev.first() else {
        panic!("{ev:?}")
    };
    // tshark: record version TLS 1.0, 12 cipher suites (Zeek's ssl.log: TLSv10).
    assert_eq!(ch.record_version, 0x0301);
    assert_eq!(ch.legacy_version, 0x0301);
    assert_eq!(ch.cipher_suites.len(), 12);
    assert_eq!(ch.offered_versions(), vec![0x0301]);
}

#[test]
fn decodes_the_server_flight_and_its_certificate() {
    let mut conv = TlsConversation::new();
    conv.feed_record(true, &records(CLIENT_HELLO)[0]);
    let mut events = Vec::new();
    for r in records(SERVER_FLIGHT) {
        events.extend(conv.feed_record(false, &r));
    }
    let sh = events
        .iter()
        .find_map(|e| match e {
            TlsEvent::ServerHello(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    // Zeek's ssl.log: TLSv10, TLS_RSA_WITH_AES_128_CBC_SHA.
    assert_eq!(version_name(sh.selected_version), "TLSv1.0");
    assert_eq!(
        cipher_suite_name(sh.cipher_suite),
        "TLS_RSA_WITH_AES_128_CBC_SHA"
    );
    let chain = events
        .iter()
        .find_map(|e| match e {
            TlsEvent::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        chain[0].common_name.as_deref(),
        Some("WIN2K8R2.awakecoding.ath.cx")
    );
    assert!(chain[0].self_signed);
    assert!(events.contains(&TlsEvent::ServerHelloDone));
}

#[test]
fn handshake_messages_split_across_records_are_reassembled() {
    // The ClientHello record cut into two records of the same type.
    let rec = &records(CLIENT_HELLO)[0];
    let body = &rec[5..];
    let (a, b) = body.split_at(40);
    let wrap = |part: &[u8]| {
        let mut r = vec![22, 3, 1, (part.len() >> 8) as u8, part.len() as u8];
        r.extend_from_slice(part);
        r
    };
    let mut conv = TlsConversation::new();
    assert!(conv.feed_record(true, &wrap(a)).is_empty());
    assert!(matches!(
        conv.feed_record(true, &wrap(b)).first(),
        Some(TlsEvent::ClientHello(_))
    ));
}

#[test]
fn reads_a_plaintext_alert_and_hides_encrypted_ones() {
    let alert = hex(ALERT);
    let mut conv = TlsConversation::new();
    assert_eq!(
        conv.feed_record(false, &alert),
        vec![TlsEvent::Alert {
            level: 2,
            description: 40
        }]
    );
    assert_eq!(
        conv.feed_record(false, &[20, 3, 3, 0, 1, 1]),
        vec![TlsEvent::ChangeCipherSpec]
    );
    assert_eq!(
        conv.feed_record(false, &alert),
        vec![TlsEvent::EncryptedAlert { len: 2 }]
    );
}

proptest! {
    #[test]
    fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..2048), cut in 0usize..900, flip in 0usize..900) {
        let _ = find_record_size(&data);
        let mut conv = TlsConversation::new();
        let _ = conv.feed_record(true, &data);
        let _ = conv.feed_record(false, &data);
        let _ = parse_certificate(&data);
        for mut r in records(SERVER_FLIGHT) {
            let _ = conv.feed_record(false, &r[..cut.min(r.len())]);
            if let Some(b) = r.get_mut(flip) {
                *b ^= 0x5a;
            }
            let _ = conv.feed_record(false, &r);
        }
    }
}
