//! The decryption path driven by one arbitrary input, for the fuzz targets (cargo-fuzz and
//! tests/fuzz_parsers.rs): a suite, secrets, and records in both directions.
//!
//! Layout: byte 0 picks the version and suite (bit 7: keys offered only after the records,
//! which exercises the hold-back), bytes 1..49 are the secret of every key, and the rest is
//! records as `[direction][u16 length][record with its 5-byte header]`.

use crate::flow::Side;
use crate::keys::{ConnectionSecrets, KeySource, Secret};

use super::decryptor::{DecryptionStatus, RecordIn, ServerHelloInfo, TlsDecryptor};
use super::suite::{CipherSuiteId, ProtocolVersion};

/// The (version, suite) pairs byte 0 chooses from.
pub const FUZZ_SUITES: [(u16, u16); 12] = [
    (0x0304, 0x1301),
    (0x0304, 0x1302),
    (0x0304, 0x1303),
    (0x0303, 0xc02f),
    (0x0303, 0xc030),
    (0x0303, 0xcca8),
    (0x0303, 0xc013),
    (0x0303, 0x003d),
    (0x0303, 0xc028),
    (0x0301, 0x002f),
    (0x0302, 0x0035),
    (0x0303, 0x1234),
];

/// Encodes records in the layout `decrypt_fuzz_input` reads (for seeds).
pub fn encode_fuzz_input(selector: u8, secret: &[u8; 48], records: &[(Side, &[u8])]) -> Vec<u8> {
    let mut out = vec![selector];
    out.extend_from_slice(secret);
    for (side, r) in records {
        out.push(side.index() as u8);
        let n = r.len().min(0xffff);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(r.get(..n).unwrap_or_default());
    }
    out
}

/// Runs the input through a `TlsDecryptor`; never panics (that is what is fuzzed).
pub fn decrypt_fuzz_input(data: &[u8]) -> DecryptionStatus {
    let selector = data.first().copied().unwrap_or(0);
    let (version, suite) = FUZZ_SUITES
        .get(usize::from(selector & 0x7f) % FUZZ_SUITES.len())
        .copied()
        .unwrap_or((0x0303, 0xc030));
    let secret_bytes = data.get(1..49).unwrap_or(&[7; 48]);
    let secret = Secret::new(secret_bytes);
    let short = Secret::new(secret_bytes.get(..32).unwrap_or_default());
    let tls13_secret = if suite == 0x1302 { secret } else { short };
    let secrets = ConnectionSecrets {
        master: secret,
        client_handshake: tls13_secret,
        server_handshake: tls13_secret,
        client_traffic0: tls13_secret,
        server_traffic0: tls13_secret,
        source: Some(KeySource::Keylog),
    };
    let mut dec = TlsDecryptor::new();
    let mut sink = |p: super::decryptor::Plaintext<'_>| {
        let _ = p.data.len();
    };
    dec.client_hello([1; 32]);
    dec.server_hello(ServerHelloInfo {
        random: [2; 32],
        version: ProtocolVersion(version),
        cipher_suite: CipherSuiteId(suite),
        // Bit 6 of the selector: RFC 7366 encrypt-then-MAC.
        encrypt_then_mac: selector & 0x40 != 0,
    });
    let late = selector & 0x80 != 0;
    if !late {
        dec.offer_keys(&secrets, &mut sink);
    }
    let mut rest = data.get(49..).unwrap_or_default();
    let mut frame = 0;
    while let [dir, hi, lo, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (record, next) = tail.split_at(n);
        rest = next;
        frame += 1;
        let (Some(&content_type), Some(v), Some(fragment)) =
            (record.first(), record.get(1..3), record.get(5..))
        else {
            continue;
        };
        let side = if dir & 1 == 0 {
            Side::Client
        } else {
            Side::Server
        };
        dec.record(
            RecordIn {
                side,
                content_type,
                version: u16::from_be_bytes([
                    v.first().copied().unwrap_or(3),
                    v.get(1).copied().unwrap_or(3),
                ]),
                fragment,
                frame,
            },
            &mut sink,
        );
    }
    if late {
        dec.offer_keys(&secrets, &mut sink);
    }
    dec.status()
}
