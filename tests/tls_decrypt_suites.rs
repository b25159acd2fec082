//! Decryption of every protocol version and cipher suite rdpscope supports, on real OpenSSL
//! sessions (fixtures/tls, recorded by scripts/tls-fixtures.sh with the client's key log in a
//! DSB): the plaintext is tshark's, byte for byte; TLS 1.3 KeyUpdate; TLS 1.3 with only the
//! traffic secrets (as LSA dumps give); secrets that come after the records they unlock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;
mod tls_harness;

use std::path::{Path, PathBuf};

use common::*;
use rdpscope::flow::Side;
use rdpscope::keys::{KeySource, KeyStore};
use rdpscope::tls::DecryptionState;
use tls_harness::*;

const PORTS: &str = "tcp.port==44301-44399,tls";

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = captures_under(&repo_root().join("fixtures/tls"));
    v.retain(|p| p.extension().is_some_and(|e| e == "pcapng"));
    v
}

fn fixture(name: &str) -> PathBuf {
    repo_root().join("fixtures/tls").join(name)
}

fn text_of(opened: &[Opened], side: Side) -> String {
    let bytes: Vec<u8> = opened
        .iter()
        .filter(|o| o.1 == side && o.2 == 23)
        .flat_map(|o| o.3.clone())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn every_suite_decrypts_as_tshark_does() {
    let files = fixtures();
    assert!(files.len() >= 10, "fixtures/tls: {}", files.len());
    for f in &files {
        let ours = decrypt_capture(f, &KeyStore::default(), true);
        assert_eq!(ours.connections.len(), 1, "{}", f.display());
        let c = &ours.connections[0];
        assert_eq!(
            c.status.state,
            DecryptionState::Decrypted,
            "{}: {:?}",
            f.display(),
            c.status
        );
        assert_eq!(c.status.unopened, 0, "{}: {:?}", f.display(), c.status);
        assert!(text_of(&ours.opened, Side::Client).contains("hello from the client"));
        assert!(text_of(&ours.opened, Side::Server).contains("tneilc eht morf olleh"));
        if tshark_available() {
            let theirs = tshark_decrypted(f, &["-d", PORTS]).expect("tshark runs");
            assert_eq!(by_frame(&ours.opened), theirs, "{}", f.display());
        }
    }
}

#[test]
fn tls13_key_update_switches_to_the_next_traffic_secret() {
    let f = fixture("tls13_aes128gcm.pcapng");
    let ours = decrypt_capture(&f, &KeyStore::default(), true);
    // The KeyUpdate (handshake type 24) is in a record of the client's, and the line sent
    // after it opens under the next secret.
    let client: Vec<&Opened> = ours.opened.iter().filter(|o| o.1 == Side::Client).collect();
    let update = client
        .iter()
        .position(|o| o.2 == 22 && o.3.first() == Some(&24))
        .expect("a KeyUpdate from the client");
    assert!(client[update + 1..]
        .iter()
        .any(|o| String::from_utf8_lossy(&o.3).contains("second line after the key update")));
    assert_eq!(ours.connections[0].status.state, DecryptionState::Decrypted);
}

fn keys_with(f: &Path, keep: impl Fn(&str) -> bool) -> KeyStore {
    let text = std::fs::read_to_string(f.with_extension("keys")).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| keep(l))
        .map(|l| format!("{l}\n"))
        .collect();
    let store = KeyStore::default();
    store.add_text(kept.as_bytes(), KeySource::Keylog);
    store
}

/// An LSA dump of Windows holds only the `*_TRAFFIC_SECRET_0` lines: the handshake records
/// cannot be opened, the application data still is, found by trying the traffic keys
/// record by record.
#[test]
fn tls13_with_only_the_traffic_secrets_finds_where_the_application_keys_start() {
    for name in [
        "tls13_aes128gcm.pcapng",
        "tls13_aes256gcm.pcapng",
        "tls13_chacha20.pcapng",
    ] {
        let f = fixture(name);
        let full = decrypt_capture(&f, &KeyStore::default(), true);
        let store = keys_with(&f, |l| l.contains("_TRAFFIC_SECRET_0 "));
        let only = decrypt_capture(&f, &store, false);
        let c = &only.connections[0];
        assert_eq!(
            c.status.state,
            DecryptionState::Decrypted,
            "{name}: {:?}",
            c.status
        );
        assert!(
            c.status.traffic_search_skipped >= 1,
            "{name}: {:?}",
            c.status
        );
        for side in [Side::Client, Side::Server] {
            assert_eq!(
                text_of(&only.opened, side),
                text_of(&full.opened, side),
                "{name}"
            );
        }
        // What opens is exactly the records after each side's Finished.
        let full_app: Vec<&Opened> = full.opened.iter().rev().take(only.opened.len()).collect();
        let only_rev: Vec<&Opened> = only.opened.iter().rev().collect();
        assert_eq!(full_app, only_rev, "{name}");
    }
}

/// A DSB after the records it unlocks: the records are held back and opened when it comes.
#[test]
fn secrets_after_the_records_they_unlock_release_the_held_records() {
    for f in fixtures() {
        let moved = move_dsbs_to_the_end(&std::fs::read(&f).unwrap());
        let dir = std::env::temp_dir().join(format!("rdpscope-dsb-late-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let late = dir.join(f.file_name().unwrap());
        std::fs::write(&late, moved).unwrap();
        let early = decrypt_capture(&f, &KeyStore::default(), true);
        let after = decrypt_capture(&late, &KeyStore::default(), true);
        let c = &after.connections[0];
        assert_eq!(
            c.status.state,
            DecryptionState::Decrypted,
            "{}: {:?}",
            f.display(),
            c.status
        );
        let strip = |o: &[Opened]| {
            o.iter()
                .map(|o| (o.1.index(), o.2, o.3.clone()))
                .collect::<Vec<_>>()
        };
        let mut a = strip(&after.opened);
        let mut e = strip(&early.opened);
        a.sort();
        e.sort();
        assert_eq!(a, e, "{}", f.display());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// pcapng blocks (little-endian, as tcpdump and editcap write them here) with every
/// Decryption Secrets Block moved after the last packet.
fn move_dsbs_to_the_end(bytes: &[u8]) -> Vec<u8> {
    let (mut out, mut dsbs) = (Vec::new(), Vec::new());
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let kind = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        let block = &bytes[at..at + len];
        if kind == 0x0A {
            dsbs.extend_from_slice(block);
        } else {
            out.extend_from_slice(block);
        }
        at += len;
    }
    assert!(!dsbs.is_empty());
    out.extend(dsbs);
    out
}
