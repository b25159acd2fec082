//! TLS secrets: NSS key log lines (from pcapng Decryption Secrets Blocks, `--keylog` files
//! and `SSLKEYLOGFILE`) kept in a bounded store, looked up by the ClientHello random.
//!
//! Format: the NSS key log format (`LABEL <client random, hex> <secret, hex>`), as written by
//! NSS, OpenSSL's `SSL_CTX_set_keylog_callback`, Schannel dumps and Wireshark's
//! `editcap --inject-secrets` (which embeds the same lines in a pcapng DSB,
//! draft-ietf-opsawg-pcapng 4.7, secrets type 0x544c534b).

mod keylog;
mod store;

pub use keylog::{parse_line, parse_lines, KeyLogFile, KeyLogStats, Line, LineKind, ParsedLine};
pub use store::{ConnectionSecrets, KeySource, KeyStore, MAX_CONNECTIONS};

/// The 32-byte `random` of a ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2): how a key log
/// line names its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientRandom(pub [u8; 32]);

/// A secret of up to 48 bytes (a TLS 1.2 master secret, a TLS 1.3 traffic secret of
/// SHA-256 or SHA-384). Its `Debug` never shows the bytes: secrets never reach any output.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Secret {
    bytes: [u8; 48],
    len: u8,
}

impl Secret {
    /// Longest secret kept: SHA-384's output (RFC 8446 7.1; RFC 5246 8.1: 48 bytes).
    pub const MAX_LEN: usize = 48;

    pub fn new(bytes: &[u8]) -> Option<Secret> {
        if bytes.is_empty() || bytes.len() > Self::MAX_LEN {
            return None;
        }
        let mut out = [0u8; 48];
        out.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Secret {
            bytes: out,
            len: bytes.len() as u8,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes, hidden)", self.len)
    }
}
