//! Decrypting a connection's TLS records with the run's secrets (issue 15): the TLS
//! tracker hands the ClientHello random, the ServerHello and every record of both sides, in
//! stream order, to a per-connection `tls::KeyedDecryptor`; each plaintext goes to
//! `inner::plaintext` stamped with the packet that completed its record. At the end of the
//! connection the decryptor's status becomes `InnerState::decryption` (`decryption` in
//! the JSON). Connections of a run without any secret get no decryptor: keyless analysis
//! costs nothing more.

use std::collections::VecDeque;

use super::inner::{DecryptionOutcome, KeyOrigin};
use super::Connection;
use crate::flow::{PacketInfo, Side};
use crate::keys::{KeySource, KeyStore};
use crate::proto::tls::ServerHelloInfo;
use crate::tls::{
    CipherSuiteId, DecryptionState, KeyedDecryptor, Plaintext, ProtocolVersion, RecordIn,
    MAX_HELD_RECORDS,
};

/// Bytes of a TLS record header (RFC 5246 6.2.1): type, version, length.
const RECORD_HEADER: usize = 5;

/// Packets remembered to stamp plaintext released late (records held until keys came):
/// as many as records may be held, so every held record finds its packet.
const RECENT_PACKETS: usize = MAX_HELD_RECORDS * 2;

/// One connection's decryption: the decryptor and the packets its held records came in.
pub struct Decryption {
    decryptor: KeyedDecryptor,
    recent: VecDeque<PacketInfo>,
}

impl std::fmt::Debug for Decryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets: only what a reader of a state dump needs.
        f.debug_struct("Decryption")
            .field("status", &self.decryptor.decryptor.status())
            .finish()
    }
}

impl Decryption {
    fn remember(&mut self, at: &PacketInfo) {
        if self.recent.back().is_some_and(|p| p.frame == at.frame) {
            return;
        }
        if self.recent.len() >= RECENT_PACKETS {
            self.recent.pop_front();
        }
        self.recent.push_back(*at);
    }

    /// The packet of frame `frame`, or `fallback` (the current one) if it is forgotten.
    fn packet(recent: &VecDeque<PacketInfo>, frame: u64, fallback: &PacketInfo) -> PacketInfo {
        recent
            .iter()
            .rev()
            .find(|p| p.frame == frame)
            .copied()
            .unwrap_or(*fallback)
    }
}

/// Runs `f` on the connection's decryptor, handing every plaintext it yields to the inner
/// reader with its packet.
fn with_decryptor(
    conn: &mut Connection,
    at: &PacketInfo,
    f: impl FnOnce(&mut KeyedDecryptor, &mut dyn FnMut(Plaintext<'_>)),
) {
    let Some(mut d) = conn.decryption.take() else {
        return;
    };
    d.remember(at);
    let Decryption { decryptor, recent } = &mut *d;
    let mut out = |p: Plaintext<'_>| {
        let stamp = Decryption::packet(recent, p.frame, at);
        super::gateway::route_plaintext(conn, &stamp, p.side, p.content_type, p.data);
    };
    f(decryptor, &mut out);
    conn.decryption = Some(d);
}

/// The ClientHello: a connection of a run with secrets starts decrypting.
pub(super) fn client_hello(conn: &mut Connection, random: [u8; 32]) {
    let Some(store) = conn.keys.as_ref().filter(|s| !s.is_empty()) else {
        return;
    };
    if conn.decryption.is_none() {
        conn.decryption = Some(Box::new(Decryption {
            decryptor: KeyedDecryptor::new(store.clone()),
            recent: VecDeque::new(),
        }));
    }
    if let Some(d) = conn.decryption.as_mut() {
        d.decryptor.client_hello(random);
    }
}

pub(super) fn server_hello(conn: &mut Connection, at: &PacketInfo, hello: &ServerHelloInfo) {
    let info = crate::tls::ServerHelloInfo {
        random: hello.random,
        version: ProtocolVersion(hello.selected_version),
        cipher_suite: CipherSuiteId(hello.cipher_suite),
        encrypt_then_mac: hello.encrypt_then_mac,
    };
    with_decryptor(conn, at, |d, out| d.server_hello(info, out));
}

/// A gap in `side`'s stream (bytes the capture lost): see `TlsDecryptor::gap`.
pub(super) fn gap(conn: &mut Connection, side: Side) {
    if let Some(d) = conn.decryption.as_deref_mut() {
        d.decryptor.decryptor.gap(side);
    }
}

/// A whole record (header included) from `side`, completed by packet `at`.
pub(super) fn record(conn: &mut Connection, at: &PacketInfo, side: Side, record: &[u8]) {
    if conn.decryption.is_none() {
        return;
    }
    let (&[content_type, major, minor, ..], Some(fragment)) = (record, record.get(RECORD_HEADER..))
    else {
        return;
    };
    let version = u16::from_be_bytes([major, minor]);
    let rec = RecordIn {
        side,
        content_type,
        version,
        fragment,
        frame: at.frame,
    };
    with_decryptor(conn, at, |d, out| d.record(rec, out));
}

/// The connection ended: secrets that came after its last record open what was held, and
/// the outcome is recorded for the diagnosis and the JSON.
pub fn finish(conn: &mut Connection) {
    let Some(at) = conn
        .last_packet
        .iter()
        .flatten()
        .max_by_key(|p| p.ts_ns)
        .copied()
    else {
        return;
    };
    with_decryptor(conn, &at, |d, out| d.poll(out));
    let Some(d) = conn.decryption.as_ref() else {
        return;
    };
    let status = d.decryptor.decryptor.status();
    let failed_at = status
        .failure
        .map(|f| (f.side, Decryption::packet(&d.recent, f.frame, &at)));
    let outcome = match status.state {
        DecryptionState::NotStarted | DecryptionState::NoKeys => DecryptionOutcome::NoKeys,
        DecryptionState::Decrypted => DecryptionOutcome::Decrypted,
        DecryptionState::Failed => DecryptionOutcome::Failed,
        DecryptionState::Unsupported(_) => DecryptionOutcome::Unsupported,
    };
    let facts = &mut conn.inner_mut().decryption;
    facts.outcome = outcome;
    facts.records = status.records;
    facts.source = status.source.map(|s| match s {
        KeySource::Pcapng => KeyOrigin::Pcapng,
        KeySource::Keylog => KeyOrigin::Keylog,
    });
    facts.failed_at = failed_at;
    facts.dropped = status.dropped;
}

/// The run's secrets, for the connection to look its keys up in (none under `--no-keys`).
pub fn attach(conn: &mut Connection, keys: &KeyStore) {
    if conn.side.is_none() && conn.keys.is_none() {
        conn.keys = Some(keys.clone());
        // A flow followed because its first bytes were a ClientHello (an RD Gateway
        // candidate) is handed its keys after that ClientHello was read: start from it.
        let random = conn.tls.client_hello.as_ref().map(|ch| ch.value.random);
        if let (Some(random), None) = (random, conn.decryption.as_ref()) {
            client_hello(conn, random);
        }
    }
}
