//! The key store: secrets by client random, bounded, shared by the connections of a run.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::keylog::{parse_lines, KeyLogFile, LineKind, ParsedLine};
use super::{ClientRandom, KeyLogStats, Secret};

/// Where a connection's secrets came from (`decryption.source` in the JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// A Decryption Secrets Block of the capture itself.
    Pcapng,
    /// A `--keylog` file or `SSLKEYLOGFILE`.
    Keylog,
}

impl KeySource {
    pub fn name(self) -> &'static str {
        match self {
            KeySource::Pcapng => "pcapng",
            KeySource::Keylog => "keylog",
        }
    }
}

/// Every secret known for one connection (one client random).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionSecrets {
    /// TLS <= 1.2 master secret (CLIENT_RANDOM).
    pub master: Option<Secret>,
    /// TLS 1.3 handshake traffic secrets (RFC 8446 7.1).
    pub client_handshake: Option<Secret>,
    pub server_handshake: Option<Secret>,
    /// TLS 1.3 first application traffic secrets.
    pub client_traffic0: Option<Secret>,
    pub server_traffic0: Option<Secret>,
    pub source: Option<KeySource>,
}

impl ConnectionSecrets {
    fn set(&mut self, line: &ParsedLine, source: KeySource) {
        let slot = match line.kind {
            LineKind::ClientRandom => &mut self.master,
            LineKind::ClientHandshakeTraffic => &mut self.client_handshake,
            LineKind::ServerHandshakeTraffic => &mut self.server_handshake,
            LineKind::ClientTraffic0 => &mut self.client_traffic0,
            LineKind::ServerTraffic0 => &mut self.server_traffic0,
        };
        *slot = Some(line.secret);
        self.source.get_or_insert(source);
    }
}

/// Connections whose secrets are kept at once (about 6 MB); the oldest go first.
pub const MAX_CONNECTIONS: usize = 32_768;

#[derive(Debug, Default)]
struct Inner {
    by_random: HashMap<ClientRandom, ConnectionSecrets>,
    order: VecDeque<ClientRandom>,
    capacity: usize,
    stats: KeyLogStats,
    evicted: u64,
}

/// A shared, bounded store of TLS secrets. Cloning it gives another handle on the same
/// store: the pipeline feeds it (DSBs as they are read, key log files), connections look
/// their keys up in it. `generation` changes whenever secrets are added, so a connection
/// holding records back knows when to look again.
#[derive(Debug, Clone)]
pub struct KeyStore {
    inner: Arc<RwLock<Inner>>,
    generation: Arc<AtomicU64>,
}

impl Default for KeyStore {
    fn default() -> Self {
        Self::with_capacity(MAX_CONNECTIONS)
    }
}

impl KeyStore {
    pub fn with_capacity(capacity: usize) -> Self {
        KeyStore {
            inner: Arc::new(RwLock::new(Inner {
                capacity: capacity.max(1),
                ..Inner::default()
            })),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Adds the secrets of NSS key log text (a DSB's content, a file) and counts its lines.
    pub fn add_text(&self, text: &[u8], source: KeySource) -> KeyLogStats {
        let mut lines = Vec::new();
        let stats = parse_lines(text, |p| lines.push(p));
        self.add_lines(&lines, source);
        self.note(stats);
        stats
    }

    /// Reads what was appended to a key log file since the last call (live capture).
    pub fn add_file(&self, file: &mut KeyLogFile) -> std::io::Result<KeyLogStats> {
        let mut lines = Vec::new();
        let stats = file.read_new(|p| lines.push(p))?;
        self.add_lines(&lines, KeySource::Keylog);
        self.note(stats);
        Ok(stats)
    }

    fn note(&self, stats: KeyLogStats) {
        if let Ok(mut inner) = self.inner.write() {
            inner.stats.add(stats);
        }
    }

    fn add_lines(&self, lines: &[ParsedLine], source: KeySource) {
        if lines.is_empty() {
            return;
        }
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        for line in lines {
            let inner = &mut *inner;
            if !inner.by_random.contains_key(&line.client_random) {
                if inner.order.len() >= inner.capacity {
                    if let Some(old) = inner.order.pop_front() {
                        inner.by_random.remove(&old);
                        inner.evicted += 1;
                    }
                }
                inner.order.push_back(line.client_random);
            }
            inner
                .by_random
                .entry(line.client_random)
                .or_default()
                .set(line, source);
        }
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// The secrets of the connection whose ClientHello carried `random`.
    pub fn lookup(&self, random: &ClientRandom) -> Option<ConnectionSecrets> {
        self.inner.read().ok()?.by_random.get(random).copied()
    }

    /// Changes whenever secrets are added.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Lines read so far, by what became of them.
    pub fn stats(&self) -> KeyLogStats {
        self.inner.read().map(|i| i.stats).unwrap_or_default()
    }

    /// Connections known, and connections forgotten because the store was full.
    pub fn len(&self) -> (usize, u64) {
        self.inner
            .read()
            .map(|i| (i.by_random.len(), i.evicted))
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len().0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(label: &str, n: u32, secret_byte: u8, len: usize) -> String {
        format!(
            "{label} {:064x} {}\n",
            n,
            format!("{secret_byte:02x}").repeat(len)
        )
    }

    #[test]
    fn synthetic_lines_merge_per_connection_and_bad_ones_are_counted() {
        let store = KeyStore::default();
        let g0 = store.generation();
        let mut text = line("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 7, 1, 32);
        text += &line("SERVER_TRAFFIC_SECRET_0", 7, 2, 32);
        text += "junk line\n# comment\n";
        text += &line("EXPORTER_SECRET", 7, 3, 32);
        let stats = store.add_text(text.as_bytes(), KeySource::Pcapng);
        assert_eq!((stats.accepted, stats.bad, stats.ignored), (2, 1, 1));
        assert!(store.generation() > g0);
        let mut cr = [0u8; 32];
        cr[31] = 7;
        let s = store.lookup(&ClientRandom(cr)).expect("known");
        assert_eq!(s.client_handshake.unwrap().as_bytes(), [1; 32]);
        assert_eq!(s.server_traffic0.unwrap().as_bytes(), [2; 32]);
        assert!(s.master.is_none() && s.client_traffic0.is_none());
        assert_eq!(s.source, Some(KeySource::Pcapng));
    }

    #[test]
    fn synthetic_store_keeps_the_newest_connections_when_full() {
        let store = KeyStore::with_capacity(2);
        for n in 1..=3 {
            store.add_text(
                line("CLIENT_RANDOM", n, 9, 48).as_bytes(),
                KeySource::Keylog,
            );
        }
        let random = |n: u8| {
            let mut cr = [0u8; 32];
            cr[31] = n;
            ClientRandom(cr)
        };
        assert!(store.lookup(&random(1)).is_none());
        assert!(store.lookup(&random(2)).is_some() && store.lookup(&random(3)).is_some());
        assert_eq!(store.len(), (2, 1));
    }
}
