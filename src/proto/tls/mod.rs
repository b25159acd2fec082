//! TLS records and handshake messages (tls-parser), followed per connection: handshake
//! messages reassembled across records, and each side's switch to encrypted records noted,
//! so that what follows is reported as encrypted rather than misparsed.

mod cert;
mod names;

use nom::multi::{length_data, many0};
use nom::number::complete::be_u16;
use nom::sequence::pair;
use nom::IResult;

use tls_parser::{
    parse_tls_client_hello_extensions, parse_tls_message_handshake, TlsExtension, TlsMessage,
    TlsMessageHandshake,
};

pub use cert::{parse_certificate, CertificateInfo};
pub use names::{
    alert_description_name, alert_level_name, cipher_suite_name, cipher_suite_static_name,
    version_name,
};

use super::Framing;

pub const RECORD_HEADER: usize = 5;
/// TLSCiphertext may exceed 2^14 by up to 2048 bytes.
pub const MAX_RECORD: usize = (1 << 14) + 2048;
/// Handshake messages are reassembled up to this size (certificate chains fit easily).
pub const MAX_HANDSHAKE: usize = 64 * 1024;
/// Lists from the wire are capped before they are kept.
const MAX_LIST: usize = 512;

pub const CONTENT_CCS: u8 = 20;
pub const CONTENT_ALERT: u8 = 21;
pub const CONTENT_HANDSHAKE: u8 = 22;
pub const CONTENT_APP_DATA: u8 = 23;
pub const CONTENT_HEARTBEAT: u8 = 24;

/// SHA-256("HelloRetryRequest"): the fixed random of a TLS 1.3 HelloRetryRequest.
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// How long the TLS record at the front of `buf` is, from its header alone.
pub fn find_record_size(buf: &[u8]) -> Framing {
    match buf {
        [t, ..] if !(CONTENT_CCS..=CONTENT_HEARTBEAT).contains(t) => Framing::Invalid,
        [_, major, ..] if *major != 3 => Framing::Invalid,
        [_, _, minor, ..] if *minor > 4 => Framing::Invalid,
        [_, _, _, hi, lo, ..] => {
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            if len == 0 || len > MAX_RECORD {
                Framing::Invalid
            } else if buf.len() >= RECORD_HEADER + len {
                Framing::Complete(RECORD_HEADER + len)
            } else {
                Framing::NeedMore(RECORD_HEADER + len - buf.len())
            }
        }
        _ => Framing::NeedMore(RECORD_HEADER - buf.len()),
    }
}

/// GREASE values (RFC 8701) are noise a client adds to keep servers tolerant.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientHelloInfo {
    /// The hello's random (RFC 8446 4.1.2): key logs name connections by it. Not output.
    pub random: [u8; 32],
    pub record_version: u16,
    pub legacy_version: u16,
    pub supported_versions: Vec<u16>,
    pub cipher_suites: Vec<u16>,
    pub sni: Option<String>,
    pub supported_groups: Vec<u16>,
    pub signature_algorithms: Vec<u16>,
    pub alpn: Vec<String>,
}

impl ClientHelloInfo {
    /// The versions the client can speak: supported_versions when present, else everything
    /// from TLS 1.0 up to the legacy version.
    pub fn offered_versions(&self) -> Vec<u16> {
        if !self.supported_versions.is_empty() {
            let mut v = self.supported_versions.clone();
            v.sort_unstable();
            v.dedup();
            return v;
        }
        if self.legacy_version < 0x0301 {
            return vec![self.legacy_version];
        }
        (0x0301..=self.legacy_version.min(0x0303)).collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerHelloInfo {
    /// The hello's random (RFC 8446 4.1.3): TLS 1.2 key derivation needs it. Not output.
    pub random: [u8; 32],
    pub legacy_version: u16,
    /// From supported_versions when present (TLS 1.3), else the legacy version.
    pub selected_version: u16,
    pub cipher_suite: u16,
    pub is_hello_retry_request: bool,
    /// The server agreed to encrypt-then-MAC (RFC 7366): CBC records carry their MAC after
    /// the ciphertext.
    pub encrypt_then_mac: bool,
}

/// Why a TLS record or handshake message could not be read (RFC 8446 5.1, 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMalformed {
    /// Fewer bytes than the 5-byte record header.
    ShortRecord,
    /// A record content type outside RFC 8446 5.1 and the heartbeat extension.
    UnknownContentType(u8),
    /// A handshake message of this type that does not parse.
    Handshake { msg_type: u8 },
    /// A handshake record with no message in it.
    EmptyHandshake,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TlsEvent {
    ClientHello(ClientHelloInfo),
    ServerHello(ServerHelloInfo),
    HelloRetryRequest(ServerHelloInfo),
    Certificate(Vec<CertificateInfo>),
    ServerKeyExchange,
    CertificateRequest,
    ServerHelloDone,
    ClientKeyExchange,
    CertificateVerify,
    NewSessionTicket,
    /// A handshake record after that side's keys changed (Finished, and TLS 1.3's flight).
    EncryptedHandshake {
        len: usize,
    },
    ChangeCipherSpec,
    Alert {
        level: u8,
        description: u8,
    },
    EncryptedAlert {
        len: usize,
    },
    ApplicationData {
        len: usize,
    },
    Heartbeat,
    Malformed(TlsMalformed),
    HandshakeTooLarge {
        len: usize,
    },
}

#[derive(Debug, Default)]
struct Direction {
    /// Handshake bytes waiting for the rest of their message.
    pending: Vec<u8>,
    encrypted: bool,
    /// A message too large to keep: skip this many bytes of it.
    skipping: usize,
}

/// The TLS state of one connection, fed whole records by the caller's framing.
#[derive(Debug)]
pub struct TlsConversation {
    client: Direction,
    server: Direction,
    tls13: bool,
    /// Largest handshake message reassembled; larger ones are skipped.
    max_handshake: usize,
}

impl Default for TlsConversation {
    fn default() -> Self {
        Self::with_max_handshake(MAX_HANDSHAKE)
    }
}

impl TlsConversation {
    /// Handshake messages over `max` bytes are skipped from now on.
    pub fn set_max_handshake(&mut self, max: usize) {
        self.max_handshake = max;
    }

    /// Heap bytes of the handshake messages waiting for their rest.
    pub fn heap_bytes(&self) -> usize {
        self.client.pending.capacity() + self.server.pending.capacity()
    }

    pub fn new() -> Self {
        Self::default()
    }

    /// A conversation that skips handshake messages longer than `max` bytes.
    pub fn with_max_handshake(max: usize) -> Self {
        TlsConversation {
            client: Direction::default(),
            server: Direction::default(),
            tls13: false,
            max_handshake: max,
        }
    }

    /// 0 is the client's direction, anything else the server's.
    fn dir(&mut self, d: usize) -> &mut Direction {
        if d == 0 {
            &mut self.client
        } else {
            &mut self.server
        }
    }

    /// Feeds one whole record (header included) sent by the client or the server.
    pub fn feed_record(&mut self, from_client: bool, record: &[u8]) -> Vec<TlsEvent> {
        let d = usize::from(!from_client);
        let mut events = Vec::new();
        let (Some(&content_type), Some(body)) = (record.first(), record.get(RECORD_HEADER..))
        else {
            events.push(TlsEvent::Malformed(TlsMalformed::ShortRecord));
            return events;
        };
        match content_type {
            CONTENT_CCS => {
                events.push(TlsEvent::ChangeCipherSpec);
                // TLS 1.3's compatibility CCS changes nothing; TLS 1.2's switches keys.
                if !self.tls13 {
                    self.dir(d).encrypted = true;
                }
            }
            CONTENT_ALERT => {
                // A cleartext alert is exactly level and description (RFC 8446 6).
                match body {
                    &[level, description] if !self.dir(d).encrypted => {
                        events.push(TlsEvent::Alert { level, description });
                    }
                    _ => events.push(TlsEvent::EncryptedAlert { len: body.len() }),
                }
            }
            CONTENT_HANDSHAKE => {
                if self.dir(d).encrypted {
                    events.push(TlsEvent::EncryptedHandshake { len: body.len() });
                } else {
                    self.handshake_bytes(d, body, &mut events);
                    // The record header was framed before this point, so its version is there.
                    if let Some(&[hi, lo]) = record.get(1..3) {
                        let record_version = u16::from_be_bytes([hi, lo]);
                        for ev in &mut events {
                            if let TlsEvent::ClientHello(ch) = ev {
                                ch.record_version = record_version;
                            }
                        }
                    }
                }
            }
            CONTENT_APP_DATA => events.push(TlsEvent::ApplicationData { len: body.len() }),
            CONTENT_HEARTBEAT => events.push(TlsEvent::Heartbeat),
            other => events.push(TlsEvent::Malformed(TlsMalformed::UnknownContentType(other))),
        }
        events
    }

    fn handshake_bytes(&mut self, d: usize, mut body: &[u8], events: &mut Vec<TlsEvent>) {
        let max_handshake = self.max_handshake;
        let dir = &mut self.dir(d);
        if dir.skipping > 0 {
            let n = dir.skipping.min(body.len());
            dir.skipping -= n;
            body = body.get(n..).unwrap_or_default();
        }
        dir.pending.extend_from_slice(body);
        loop {
            let dir = &mut self.dir(d);
            let Some(&[_, a, b, c]) = dir.pending.get(..4) else {
                break;
            };
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            if len > max_handshake {
                events.push(TlsEvent::HandshakeTooLarge { len });
                let have = dir.pending.len() - 4;
                dir.skipping = len.saturating_sub(have);
                dir.pending.clear();
                break;
            }
            if dir.pending.len() < 4 + len {
                break;
            }
            let msg: Vec<u8> = dir.pending.drain(..4 + len).collect();
            self.handshake_message(d, &msg, events);
            if self.dir(d).encrypted {
                // The rest of this flight is under the new keys.
                let rest = std::mem::take(&mut self.dir(d).pending);
                if !rest.is_empty() {
                    events.push(TlsEvent::EncryptedHandshake { len: rest.len() });
                }
                break;
            }
        }
        let dir = self.dir(d);
        if dir.pending.is_empty() {
            // Whole messages were read: the buffer (a certificate chain's worth) goes back.
            dir.pending = Vec::new();
        }
    }

    fn handshake_message(&mut self, d: usize, msg: &[u8], events: &mut Vec<TlsEvent>) {
        let parsed = match parse_tls_message_handshake(msg) {
            Ok((_, TlsMessage::Handshake(h))) => h,
            Ok(_) => return,
            Err(_) => {
                events.push(TlsEvent::Malformed(match msg.first() {
                    Some(&msg_type) => TlsMalformed::Handshake { msg_type },
                    None => TlsMalformed::EmptyHandshake,
                }));
                return;
            }
        };
        match parsed {
            TlsMessageHandshake::ClientHello(ch) => {
                let mut info = ClientHelloInfo {
                    random: ch.random.try_into().unwrap_or_default(),
                    record_version: 0,
                    legacy_version: ch.version.0,
                    cipher_suites: ch.ciphers.iter().map(|c| c.0).take(MAX_LIST).collect(),
                    ..Default::default()
                };
                if let Some(Ok((_, exts))) = ch.ext.map(parse_tls_client_hello_extensions) {
                    client_extensions(&mut info, &exts);
                }
                events.push(TlsEvent::ClientHello(info));
            }
            TlsMessageHandshake::ServerHello(sh) => {
                let selected = sh
                    .ext
                    .and_then(server_supported_version)
                    .unwrap_or(sh.version.0);
                let info = ServerHelloInfo {
                    random: sh.random.try_into().unwrap_or_default(),
                    legacy_version: sh.version.0,
                    selected_version: selected,
                    cipher_suite: sh.cipher.0,
                    is_hello_retry_request: sh.random == HRR_RANDOM,
                    encrypt_then_mac: sh.ext.is_some_and(server_encrypt_then_mac),
                };
                if info.is_hello_retry_request {
                    events.push(TlsEvent::HelloRetryRequest(info));
                } else {
                    if selected == 0x0304 {
                        self.tls13 = true;
                        // Everything after the ServerHello is under handshake keys.
                        self.dir(d).encrypted = true;
                        self.dir(1 - d).encrypted = true;
                    }
                    events.push(TlsEvent::ServerHello(info));
                }
            }
            TlsMessageHandshake::ServerHelloV13Draft18(sh) => {
                self.tls13 = true;
                self.dir(d).encrypted = true;
                self.dir(1 - d).encrypted = true;
                events.push(TlsEvent::ServerHello(ServerHelloInfo {
                    random: sh.random.try_into().unwrap_or_default(),
                    legacy_version: sh.version.0,
                    selected_version: sh.version.0,
                    cipher_suite: sh.cipher.0,
                    is_hello_retry_request: false,
                    encrypt_then_mac: false,
                }));
            }
            TlsMessageHandshake::HelloRetryRequest(hrr) => {
                events.push(TlsEvent::HelloRetryRequest(ServerHelloInfo {
                    random: [0; 32],
                    legacy_version: hrr.version.0,
                    selected_version: hrr.version.0,
                    cipher_suite: hrr.cipher.0,
                    is_hello_retry_request: true,
                    encrypt_then_mac: false,
                }));
            }
            TlsMessageHandshake::Certificate(c) => events.push(TlsEvent::Certificate(
                c.cert_chain
                    .iter()
                    .take(16)
                    .map(|raw| parse_certificate(raw.data))
                    .collect(),
            )),
            TlsMessageHandshake::ServerKeyExchange(_) => events.push(TlsEvent::ServerKeyExchange),
            TlsMessageHandshake::CertificateRequest(_) => events.push(TlsEvent::CertificateRequest),
            TlsMessageHandshake::ServerDone(_) => events.push(TlsEvent::ServerHelloDone),
            TlsMessageHandshake::ClientKeyExchange(_) => events.push(TlsEvent::ClientKeyExchange),
            TlsMessageHandshake::CertificateVerify(_) => events.push(TlsEvent::CertificateVerify),
            TlsMessageHandshake::NewSessionTicket(_) => events.push(TlsEvent::NewSessionTicket),
            TlsMessageHandshake::Finished(f) => {
                events.push(TlsEvent::EncryptedHandshake { len: f.len() })
            }
            _ => {}
        }
    }
}

fn client_extensions(info: &mut ClientHelloInfo, exts: &[TlsExtension]) {
    for e in exts {
        match e {
            TlsExtension::SNI(names) => {
                info.sni = names
                    .first()
                    .map(|(_, n)| String::from_utf8_lossy(n).into_owned());
            }
            TlsExtension::SupportedVersions(v) => {
                info.supported_versions = v
                    .iter()
                    .map(|x| x.0)
                    .filter(|x| !is_grease(*x))
                    .take(MAX_LIST)
                    .collect();
            }
            TlsExtension::EllipticCurves(g) => {
                info.supported_groups = g
                    .iter()
                    .map(|x| x.0)
                    .filter(|x| !is_grease(*x))
                    .take(MAX_LIST)
                    .collect();
            }
            TlsExtension::SignatureAlgorithms(s) => {
                info.signature_algorithms = s.iter().copied().take(MAX_LIST).collect();
            }
            TlsExtension::ALPN(p) => {
                info.alpn = p
                    .iter()
                    .take(32)
                    .map(|x| String::from_utf8_lossy(x).into_owned())
                    .collect();
            }
            _ => {}
        }
    }
}

/// supported_versions (RFC 8446 4.2).
const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// One extension (RFC 8446 4.2): type, then a u16-length-prefixed body.
fn extension(i: &[u8]) -> IResult<&[u8], (u16, &[u8])> {
    pair(be_u16, length_data(be_u16))(i)
}

/// TLS extension type of encrypt_then_mac (RFC 7366 2).
const EXT_ENCRYPT_THEN_MAC: u16 = 22;

/// The encrypt_then_mac extension in a ServerHello.
fn server_encrypt_then_mac(ext: &[u8]) -> bool {
    many0(extension)(ext)
        .ok()
        .is_some_and(|(_, exts)| exts.iter().any(|(kind, _)| *kind == EXT_ENCRYPT_THEN_MAC))
}

/// The supported_versions extension of a ServerHello holds the one chosen version
/// (RFC 8446 4.2.1); a list that cannot be framed has no answer.
fn server_supported_version(ext: &[u8]) -> Option<u16> {
    let (_, extensions) = many0(extension)(ext).ok()?;
    extensions.into_iter().find_map(|(kind, data)| match data {
        &[hi, lo] if kind == EXT_SUPPORTED_VERSIONS => Some(u16::from_be_bytes([hi, lo])),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
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
}
