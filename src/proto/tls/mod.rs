//! TLS records and handshake messages (tls-parser), followed per connection: handshake
//! messages reassembled across records, and each side's switch to encrypted records noted,
//! so that what follows is reported as encrypted rather than misparsed.
//!
//! Submodules: `extensions` reads the hello extensions, `cert` the certificate, `names` the
//! registry names; this file keeps record framing and the per-connection handshake state.

mod cert;
mod extensions;
mod names;

use extensions::{client_extensions, server_encrypt_then_mac, server_supported_version};

use tls_parser::{
    parse_tls_client_hello_extensions, parse_tls_message_handshake, TlsMessage, TlsMessageHandshake,
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

#[cfg(test)]
mod tests;
