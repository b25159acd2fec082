//! TLS records and handshake messages (tls-parser), followed per connection: handshake
//! messages reassembled across records, and each side's switch to encrypted records noted,
//! so that what follows is reported as encrypted rather than misparsed.

mod cert;
mod names;

use serde::Serialize;
use tls_parser::{
    parse_tls_client_hello_extensions, parse_tls_message_handshake, TlsExtension, TlsMessage,
    TlsMessageHandshake,
};

pub use cert::{parse_certificate, CertificateInfo};
pub use names::{alert_description_name, alert_level_name, cipher_suite_name, version_name};

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

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClientHelloInfo {
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

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServerHelloInfo {
    pub legacy_version: u16,
    /// From supported_versions when present (TLS 1.3), else the legacy version.
    pub selected_version: u16,
    pub cipher_suite: u16,
    pub is_hello_retry_request: bool,
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
    Malformed {
        reason: String,
    },
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
#[derive(Debug, Default)]
pub struct TlsConversation {
    client: Direction,
    server: Direction,
    tls13: bool,
}

impl TlsConversation {
    pub fn new() -> Self {
        Self::default()
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
            events.push(TlsEvent::Malformed {
                reason: "record shorter than its header".into(),
            });
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
                if self.dir(d).encrypted || body.len() != 2 {
                    events.push(TlsEvent::EncryptedAlert { len: body.len() });
                } else {
                    events.push(TlsEvent::Alert {
                        level: body.first().copied().unwrap_or(0),
                        description: body.get(1).copied().unwrap_or(0),
                    });
                }
            }
            CONTENT_HANDSHAKE => {
                if self.dir(d).encrypted {
                    events.push(TlsEvent::EncryptedHandshake { len: body.len() });
                } else {
                    self.handshake_bytes(d, body, &mut events);
                    let record_version = record
                        .get(1..3)
                        .map(|v| {
                            u16::from_be_bytes([
                                v.first().copied().unwrap_or(0),
                                v.get(1).copied().unwrap_or(0),
                            ])
                        })
                        .unwrap_or(0);
                    for ev in &mut events {
                        if let TlsEvent::ClientHello(ch) = ev {
                            ch.record_version = record_version;
                        }
                    }
                }
            }
            CONTENT_APP_DATA => events.push(TlsEvent::ApplicationData { len: body.len() }),
            CONTENT_HEARTBEAT => events.push(TlsEvent::Heartbeat),
            other => events.push(TlsEvent::Malformed {
                reason: format!("unknown record content type {other}"),
            }),
        }
        events
    }

    fn handshake_bytes(&mut self, d: usize, mut body: &[u8], events: &mut Vec<TlsEvent>) {
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
            if len > MAX_HANDSHAKE {
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
    }

    fn handshake_message(&mut self, d: usize, msg: &[u8], events: &mut Vec<TlsEvent>) {
        let parsed = match parse_tls_message_handshake(msg) {
            Ok((_, TlsMessage::Handshake(h))) => h,
            Ok(_) => return,
            Err(e) => {
                events.push(TlsEvent::Malformed {
                    reason: format!(
                        "handshake message type {}: {e:?}",
                        msg.first().copied().unwrap_or(0)
                    ),
                });
                return;
            }
        };
        match parsed {
            TlsMessageHandshake::ClientHello(ch) => {
                let mut info = ClientHelloInfo {
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
                    legacy_version: sh.version.0,
                    selected_version: selected,
                    cipher_suite: sh.cipher.0,
                    is_hello_retry_request: sh.random == HRR_RANDOM,
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
                    legacy_version: sh.version.0,
                    selected_version: sh.version.0,
                    cipher_suite: sh.cipher.0,
                    is_hello_retry_request: false,
                }));
            }
            TlsMessageHandshake::HelloRetryRequest(hrr) => {
                events.push(TlsEvent::HelloRetryRequest(ServerHelloInfo {
                    legacy_version: hrr.version.0,
                    selected_version: hrr.version.0,
                    cipher_suite: hrr.cipher.0,
                    is_hello_retry_request: true,
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

/// The supported_versions extension of a ServerHello holds the one chosen version.
fn server_supported_version(mut ext: &[u8]) -> Option<u16> {
    while ext.len() >= 4 {
        let t = u16::from_be_bytes([*ext.first()?, *ext.get(1)?]);
        let len = usize::from(u16::from_be_bytes([*ext.get(2)?, *ext.get(3)?]));
        let data = ext.get(4..4 + len)?;
        if t == 43 && data.len() == 2 {
            return Some(u16::from_be_bytes([*data.first()?, *data.get(1)?]));
        }
        ext = ext.get(4 + len..)?;
    }
    None
}
