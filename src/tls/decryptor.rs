//! The decryption of one TLS connection: told the hellos and given every record in order,
//! it yields the plaintext of the protected records with their frame numbers. Pure: keys
//! are handed to it (`offer_keys`); records whose keys are not known yet are held back,
//! within a fixed bound, and opened when the keys arrive.

use std::collections::VecDeque;

use crate::flow::Side;
use crate::keys::{ClientRandom, ConnectionSecrets, KeySource, Secret};

use super::cipher::{DirectionCipher, DirectionKeys, OpenError};
use super::schedule::{hkdf_expand_label, key_block};
use super::suite::{suite_info, CipherSuiteId, ProtocolVersion, SuiteInfo};

/// TLS record content types (RFC 8446 B.1, RFC 5246 6.2.1).
pub const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;
pub const CONTENT_ALERT: u8 = 21;
pub const CONTENT_HANDSHAKE: u8 = 22;
pub const CONTENT_APPLICATION_DATA: u8 = 23;

/// Handshake message types that change keys (RFC 8446 4.4.4, 4.6.3).
const HS_FINISHED: u8 = 20;
const HS_KEY_UPDATE: u8 = 24;

/// Records held back per connection while its keys are unknown, and their bytes.
pub const MAX_HELD_RECORDS: usize = 64;
pub const MAX_HELD_BYTES: usize = 1 << 20;
/// With only the TLS 1.3 traffic secrets, how many encrypted records of a direction may
/// fail under them (they are its handshake records) before the keys are judged wrong.
pub const TRAFFIC_SEARCH_LIMIT: u32 = 16;

/// What the ServerHello settled (RFC 8446 4.1.3, RFC 5246 7.4.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHelloInfo {
    pub random: [u8; 32],
    /// The negotiated version: TLS 1.3 from supported_versions, else the legacy field.
    pub version: ProtocolVersion,
    pub cipher_suite: CipherSuiteId,
    /// RFC 7366 encrypt-then-MAC was agreed (TLS 1.2 and earlier CBC suites only).
    pub encrypt_then_mac: bool,
}

/// One TLS record as framed from the stream.
#[derive(Debug, Clone, Copy)]
pub struct RecordIn<'a> {
    pub side: Side,
    pub content_type: u8,
    /// The record header's version field (part of TLS 1.2's MAC and AAD).
    pub version: u16,
    pub fragment: &'a [u8],
    /// The frame that completed the record.
    pub frame: u64,
}

/// Plaintext of one protected record.
#[derive(Debug, Clone, Copy)]
pub struct Plaintext<'a> {
    pub side: Side,
    /// The content type (TLS 1.3: the inner content type).
    pub content_type: u8,
    pub frame: u64,
    pub data: &'a [u8],
}

/// The outcome so far, for `decryption.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecryptionState {
    /// No ServerHello seen: nothing to decrypt (yet).
    NotStarted,
    /// Encrypted records but no secrets for this connection.
    NoKeys,
    /// A cipher suite rdpscope cannot decrypt.
    Unsupported(CipherSuiteId),
    /// Records were opened and none failed.
    Decrypted,
    /// A record did not authenticate under the keys: they do not match this connection.
    Failed,
}

/// The first record that failed to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub side: Side,
    pub frame: u64,
    pub error: OpenError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecryptionStatus {
    pub state: DecryptionState,
    /// Records opened.
    pub records: u64,
    /// Protected records that could not be opened (no keys for them, or failed).
    pub unopened: u64,
    /// Records waiting for keys now.
    pub held: usize,
    /// Records dropped unread because the hold was full when keys were missing.
    pub dropped: u64,
    pub failure: Option<Failure>,
    pub source: Option<KeySource>,
    /// TLS 1.3 with only the traffic secrets: the handshake records skipped before the
    /// application keys opened a record.
    pub traffic_search_skipped: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// TLS 1.2 record protection.
    Tls12,
    /// TLS 1.3 under the handshake traffic secret.
    Handshake,
    /// TLS 1.3 under an application traffic secret.
    Application,
    /// TLS 1.3, only the application secret known: looking for its first record.
    Searching { tried: u32 },
}

/// Finds handshake message boundaries in a direction's decrypted handshake bytes without
/// buffering them: only the 4-byte header of each message is kept (RFC 8446 4).
#[derive(Debug, Default)]
struct MessageScanner {
    header: [u8; 4],
    header_len: usize,
    remaining: usize,
}

impl MessageScanner {
    /// Feeds a record's handshake bytes; returns the key-changing message types that start
    /// in it (Finished, KeyUpdate).
    fn feed(&mut self, mut data: &[u8], mut seen: impl FnMut(u8)) {
        while !data.is_empty() {
            if self.remaining > 0 {
                let n = self.remaining.min(data.len());
                self.remaining -= n;
                data = data.get(n..).unwrap_or_default();
                continue;
            }
            let (&b, rest) = data.split_first().unwrap_or((&0, &[]));
            data = rest;
            if let Some(slot) = self.header.get_mut(self.header_len) {
                *slot = b;
            }
            self.header_len += 1;
            if self.header_len == 4 {
                let [kind, a, b, c] = self.header;
                self.remaining = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
                self.header_len = 0;
                seen(kind);
            }
        }
    }
}

struct Direction {
    side: Side,
    /// Records of this direction are protected from now on.
    protected: bool,
    cipher: Option<DirectionCipher>,
    stage: Stage,
    /// TLS 1.3: the secret of the current keys (a KeyUpdate derives the next from it).
    secret: Option<Secret>,
    scanner: MessageScanner,
    /// Protected records seen before this direction had keys: the sequence number its
    /// first key-holding record starts from when the held ones were dropped.
    dropped_before_keys: u64,
    broken: bool,
}

impl Direction {
    fn new(side: Side) -> Self {
        Direction {
            side,
            protected: false,
            cipher: None,
            stage: Stage::Tls12,
            secret: None,
            scanner: MessageScanner::default(),
            dropped_before_keys: 0,
            broken: false,
        }
    }
}

struct HeldRecord {
    side: Side,
    content_type: u8,
    version: u16,
    frame: u64,
    data: Vec<u8>,
}

/// Decrypts one TLS connection. See the module documentation.
pub struct TlsDecryptor {
    client_random: Option<[u8; 32]>,
    hello: Option<ServerHelloInfo>,
    suite: Option<SuiteInfo>,
    secrets: Option<ConnectionSecrets>,
    dirs: [Direction; 2],
    held: VecDeque<HeldRecord>,
    held_bytes: usize,
    scratch: Vec<u8>,
    /// TLS 1.2: the key block (both directions' keys), derived at the first direction's
    /// ChangeCipherSpec and kept for the other's, so the PRF runs once per connection.
    key_block: Option<Vec<u8>>,
    status: DecryptionStatus,
}

impl Default for TlsDecryptor {
    fn default() -> Self {
        Self::new()
    }
}

impl TlsDecryptor {
    pub fn new() -> Self {
        TlsDecryptor {
            client_random: None,
            hello: None,
            suite: None,
            secrets: None,
            dirs: [Direction::new(Side::Client), Direction::new(Side::Server)],
            held: VecDeque::new(),
            held_bytes: 0,
            scratch: Vec::new(),
            key_block: None,
            status: DecryptionStatus {
                state: DecryptionState::NotStarted,
                records: 0,
                unopened: 0,
                held: 0,
                dropped: 0,
                failure: None,
                source: None,
                traffic_search_skipped: 0,
            },
        }
    }

    pub fn client_hello(&mut self, random: [u8; 32]) {
        self.client_random = Some(random);
    }

    /// The ServerHello. A second one (after a HelloRetryRequest, RFC 8446 4.1.4) replaces it.
    pub fn server_hello(&mut self, hello: ServerHelloInfo) {
        self.hello = Some(hello);
        self.suite = suite_info(hello.cipher_suite, hello.version);
        self.status.state = match self.suite {
            None => DecryptionState::Unsupported(hello.cipher_suite),
            Some(_) => DecryptionState::NoKeys,
        };
        if hello.version == ProtocolVersion::TLS13 {
            for d in &mut self.dirs {
                d.protected = true;
                d.stage = Stage::Handshake;
            }
        }
        if let Some(secrets) = self.secrets {
            self.install_keys(&secrets);
        }
    }

    /// The client random to look keys up by, while this connection still wants keys.
    pub fn wants_keys(&self) -> Option<ClientRandom> {
        match (self.secrets, self.client_random) {
            (None, Some(cr)) if self.suite.is_some() || self.hello.is_none() => {
                Some(ClientRandom(cr))
            }
            _ => None,
        }
    }

    pub fn status(&self) -> DecryptionStatus {
        DecryptionStatus {
            held: self.held.len(),
            ..self.status
        }
    }

    /// Hands over the connection's secrets; records held back for them are opened now.
    pub fn offer_keys(&mut self, secrets: &ConnectionSecrets, out: &mut dyn FnMut(Plaintext<'_>)) {
        if self.secrets.is_some() {
            return;
        }
        self.secrets = Some(*secrets);
        self.status.source = secrets.source;
        if self.hello.is_some() {
            self.install_keys(secrets);
        }
        let held = std::mem::take(&mut self.held);
        self.held_bytes = 0;
        for h in held {
            let rec = RecordIn {
                side: h.side,
                content_type: h.content_type,
                version: h.version,
                fragment: &h.data,
                frame: h.frame,
            };
            self.record(rec, out);
        }
    }

    /// Makes the ciphers of the directions already protected (TLS 1.3: both, from the
    /// ServerHello on; TLS 1.2: those whose ChangeCipherSpec was seen).
    fn install_keys(&mut self, secrets: &ConnectionSecrets) {
        for i in 0..2 {
            if self
                .dirs
                .get(i)
                .is_some_and(|d| d.protected && d.cipher.is_none())
            {
                self.install_direction(i, secrets);
            }
        }
    }

    fn install_direction(&mut self, i: usize, secrets: &ConnectionSecrets) {
        let (Some(suite), Some(hello), Some(cr)) = (self.suite, self.hello, self.client_random)
        else {
            return;
        };
        let other_done = self
            .dirs
            .get(1 - i.min(1))
            .is_some_and(|d| d.cipher.is_some());
        let Some(dir) = self.dirs.get_mut(i) else {
            return;
        };
        let client = dir.side == Side::Client;
        if suite.tls13 {
            let (hs, app) = if client {
                (secrets.client_handshake, secrets.client_traffic0)
            } else {
                (secrets.server_handshake, secrets.server_traffic0)
            };
            let (secret, stage) = match (dir.stage, hs, app) {
                (Stage::Handshake, Some(hs), _) => (hs, Stage::Handshake),
                (Stage::Handshake, None, Some(app)) => (app, Stage::Searching { tried: 0 }),
                (Stage::Application, _, Some(app)) => (app, Stage::Application),
                _ => return,
            };
            dir.cipher = DirectionCipher::from_traffic_secret(&suite, secret.as_bytes());
            dir.secret = Some(secret);
            dir.stage = stage;
        } else if let Some(master) = secrets.master {
            let (mac, key, iv) = (suite.mac_len(), suite.key_len(), suite.fixed_iv_len());
            let len = 2 * (mac + key + iv);
            // The other direction is keyed already: this is the block's last use.
            let cached = if other_done {
                self.key_block.take()
            } else {
                self.key_block.clone()
            };
            let block = match cached {
                Some(b) if b.len() == len => b,
                _ => {
                    let b = key_block(suite.hash, master.as_bytes(), &cr, &hello.random, len);
                    if !other_done {
                        self.key_block = Some(b.clone());
                    }
                    b
                }
            };
            // RFC 5246 6.3: client MAC, server MAC, client key, server key, client IV, server IV.
            let part = |n: usize, len: usize, at: usize| {
                block
                    .get(at + n * len..at + (n + 1) * len)
                    .unwrap_or_default()
            };
            let n = usize::from(!client);
            let keys = DirectionKeys {
                mac_key: part(n, mac, 0),
                key: part(n, key, 2 * mac),
                iv: part(n, iv, 2 * (mac + key)),
            };
            let tls10 = hello.version == ProtocolVersion::TLS10;
            dir.cipher = DirectionCipher::new(&suite, &keys, tls10)
                .map(|c| c.with_encrypt_then_mac(hello.encrypt_then_mac));
            dir.stage = Stage::Tls12;
        }
        if let Some(c) = dir.cipher.as_mut() {
            c.seq = dir.dropped_before_keys;
        }
    }

    /// One record, in stream order. Plaintext of a protected record goes to `out`.
    /// Bytes of `side`'s stream were lost (a capture gap): its keys are no longer trusted
    /// to follow the records without authenticating them (`DirectionCipher::distrust`).
    pub fn gap(&mut self, side: Side) {
        if let Some(cipher) = self
            .dirs
            .get_mut(side.index())
            .and_then(|d| d.cipher.as_mut())
        {
            cipher.distrust();
        }
    }

    pub fn record(&mut self, rec: RecordIn<'_>, out: &mut dyn FnMut(Plaintext<'_>)) {
        let i = rec.side.index();
        let tls13 = self.suite.is_some_and(|s| s.tls13);
        let Some(dir) = self.dirs.get_mut(i) else {
            return;
        };
        if !dir.protected {
            // TLS 1.2: the ChangeCipherSpec turns this direction's protection on.
            if rec.content_type == CONTENT_CHANGE_CIPHER_SPEC && self.hello.is_some() {
                dir.protected = true;
                if let Some(secrets) = self.secrets {
                    self.install_direction(i, &secrets);
                }
            }
            return;
        }
        // TLS 1.3 sends ChangeCipherSpec (and may send alerts) in the clear (RFC 8446 D.4).
        if tls13 && rec.content_type != CONTENT_APPLICATION_DATA {
            return;
        }
        if dir.broken {
            self.status.unopened += 1;
            return;
        }
        if dir.cipher.is_none() {
            self.hold_or_drop(rec);
            return;
        }
        self.open(i, rec, out);
    }

    fn hold_or_drop(&mut self, rec: RecordIn<'_>) {
        let waiting = self.secrets.is_none() && self.suite.is_some();
        if waiting
            && self.held.len() < MAX_HELD_RECORDS
            && self.held_bytes + rec.fragment.len() <= MAX_HELD_BYTES
        {
            self.held_bytes += rec.fragment.len();
            self.held.push_back(HeldRecord {
                side: rec.side,
                content_type: rec.content_type,
                version: rec.version,
                frame: rec.frame,
                data: rec.fragment.to_vec(),
            });
            return;
        }
        self.status.unopened += 1;
        if waiting {
            self.status.dropped += 1;
            if let Some(d) = self.dirs.get_mut(rec.side.index()) {
                d.dropped_before_keys += 1;
            }
        }
    }

    fn open(&mut self, i: usize, rec: RecordIn<'_>, out: &mut dyn FnMut(Plaintext<'_>)) {
        let Some(dir) = self.dirs.get_mut(i) else {
            return;
        };
        let Some(cipher) = dir.cipher.as_mut() else {
            return;
        };
        match cipher.open(
            rec.content_type,
            rec.version,
            rec.fragment,
            &mut self.scratch,
        ) {
            Ok(opened) => {
                let inner = opened.content_type;
                let plaintext = self.scratch.get(opened.plaintext).unwrap_or_default();
                self.status.records += 1;
                if self.status.state != DecryptionState::Failed {
                    self.status.state = DecryptionState::Decrypted;
                }
                if let Stage::Searching { tried } = dir.stage {
                    dir.stage = Stage::Application;
                    self.status.traffic_search_skipped += tried;
                }
                let mut rekey = false;
                if inner == CONTENT_HANDSHAKE && self.suite.is_some_and(|s| s.tls13) {
                    dir.scanner.feed(plaintext, |kind| {
                        rekey |= kind == HS_FINISHED || kind == HS_KEY_UPDATE;
                    });
                }
                // Empty records (TLS 1.0's 1/n-1 split against BEAST) carry nothing.
                if !plaintext.is_empty() {
                    out(Plaintext {
                        side: rec.side,
                        content_type: inner,
                        frame: rec.frame,
                        data: plaintext,
                    });
                }
                if rekey {
                    self.next_tls13_keys(i);
                }
            }
            Err(error) => match dir.stage {
                Stage::Searching { tried } if tried < TRAFFIC_SEARCH_LIMIT => {
                    // A handshake record, sealed with keys we do not have: the traffic keys
                    // start later.
                    dir.stage = Stage::Searching { tried: tried + 1 };
                    self.status.unopened += 1;
                }
                _ => {
                    dir.broken = true;
                    self.status.unopened += 1;
                    self.status.state = DecryptionState::Failed;
                    self.status.failure.get_or_insert(Failure {
                        side: rec.side,
                        frame: rec.frame,
                        error,
                    });
                }
            },
        }
    }

    /// TLS 1.3: after this direction's Finished, its application traffic secret; after a
    /// KeyUpdate, the next one (RFC 8446 7.2).
    fn next_tls13_keys(&mut self, i: usize) {
        let (Some(suite), Some(secrets)) = (self.suite, self.secrets) else {
            return;
        };
        let Some(dir) = self.dirs.get_mut(i) else {
            return;
        };
        let next = match dir.stage {
            Stage::Handshake => match dir.side {
                Side::Client => secrets.client_traffic0,
                Side::Server => secrets.server_traffic0,
            },
            Stage::Application => dir.secret.and_then(|s| {
                let mut out = [0u8; Secret::MAX_LEN];
                let out = out.get_mut(..suite.hash.len())?;
                hkdf_expand_label(suite.hash, s.as_bytes(), b"traffic upd", out)
                    .then(|| Secret::new(out))
                    .flatten()
            }),
            _ => None,
        };
        dir.stage = Stage::Application;
        dir.secret = next;
        dir.cipher = next.and_then(|s| DirectionCipher::from_traffic_secret(&suite, s.as_bytes()));
    }
}
