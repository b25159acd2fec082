//! Decryption of real captures: every TLS connection of the awakecoding Windows captures
//! (secrets in a pcapng DSB) decrypts, and its plaintext is byte for byte what tshark
//! decrypts, record by record, frame by frame; the same from a key log file; wrong keys
//! give a typed failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;
mod tls_harness;

use std::path::PathBuf;

use common::*;
use rdpscope::keys::{KeySource, KeyStore};
use rdpscope::tls::DecryptionState;
use tls_harness::*;

fn awakecoding() -> Vec<PathBuf> {
    let Some(dir) = shared_captures().map(|d| d.join("awakecoding_wireshark-rdp")) else {
        return Vec::new();
    };
    captures_under(&dir)
}

#[test]
fn every_tls_connection_of_the_windows_captures_decrypts_as_tshark_does() {
    let files = awakecoding();
    if files.is_empty() || !tshark_available() {
        eprintln!("skipped: captures or tshark absent");
        return;
    }
    for f in &files {
        let ours = decrypt_capture(f, &KeyStore::default(), true);
        assert!(
            !ours.connections.is_empty(),
            "{}: TLS connections",
            f.display()
        );
        for c in &ours.connections {
            assert_eq!(
                c.status.state,
                DecryptionState::Decrypted,
                "{}: {:?} {:?}",
                f.display(),
                c.client,
                c.status
            );
            assert_eq!(c.status.source, Some(KeySource::Pcapng));
            assert!(c.status.records >= 2);
        }
        let theirs = tshark_decrypted(f, &[]).expect("tshark runs");
        let mine = by_frame(&ours.opened);
        let total: usize = theirs.values().map(Vec::len).sum();
        assert!(
            total >= 2,
            "{}: tshark decrypted {total} records",
            f.display()
        );
        assert_eq!(
            mine.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>(),
            "{}: frames with decrypted records",
            f.display()
        );
        for (frame, records) in &theirs {
            assert_eq!(
                mine.get(frame),
                Some(records),
                "{}: frame {frame}",
                f.display()
            );
        }
        eprintln!(
            "{}: {} connections, {} records as tshark",
            f.display(),
            ours.connections.len(),
            total
        );
    }
}

/// The DSB's lines written to a key log file decrypt the same records.
#[test]
fn a_key_log_file_decrypts_what_the_dsb_does() {
    let Some(f) = awakecoding()
        .into_iter()
        .find(|f| f.to_string_lossy().contains("ntlm-rejected"))
    else {
        return;
    };
    let from_dsb = decrypt_capture(&f, &KeyStore::default(), true);
    let dir = std::env::temp_dir().join(format!("rdpscope-tls-keylog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("keys.log");
    let text = dsb_lines(&f);
    std::fs::write(&log, &text).unwrap();
    let store = KeyStore::default();
    let mut file = rdpscope::keys::KeyLogFile::new(&log);
    store.add_file(&mut file).unwrap();
    let from_file = decrypt_capture(&f, &store, false);
    assert_eq!(by_frame(&from_file.opened), by_frame(&from_dsb.opened));
    assert!(from_file
        .connections
        .iter()
        .all(|c| c.status.source == Some(KeySource::Keylog)
            && c.status.state == DecryptionState::Decrypted));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Right client random, wrong master secret: "keys do not match", never a panic.
#[test]
fn wrong_keys_are_a_typed_failure() {
    let Some(f) = awakecoding()
        .into_iter()
        .find(|f| f.to_string_lossy().contains("ntlm-rejected"))
    else {
        return;
    };
    let text = String::from_utf8(dsb_lines(&f)).unwrap();
    let wrong: String = text
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (label, cr, secret) = (w.next()?, w.next()?, w.next()?);
            let flipped: String = secret.chars().rev().collect();
            Some(format!("{label} {cr} {flipped}\n"))
        })
        .collect();
    let store = KeyStore::default();
    store.add_text(wrong.as_bytes(), KeySource::Keylog);
    let out = decrypt_capture(&f, &store, false);
    assert!(out.opened.is_empty());
    let c = &out.connections[0];
    assert_eq!(c.status.state, DecryptionState::Failed, "{:?}", c.status);
    let failure = c.status.failure.expect("the failing record is named");
    assert_eq!(failure.error, rdpscope::tls::OpenError::BadRecordMac);
    assert!(failure.frame > 0);
}

/// No keys at all: "no keys", nothing opened.
#[test]
fn missing_keys_leave_the_connection_undecrypted() {
    let Some(f) = awakecoding().into_iter().next() else {
        return;
    };
    let out = decrypt_capture(&f, &KeyStore::default(), false);
    assert!(out.opened.is_empty());
    for c in &out.connections {
        assert_eq!(c.status.state, DecryptionState::NoKeys, "{:?}", c.status);
    }
}

fn dsb_lines(f: &std::path::Path) -> Vec<u8> {
    let mut files =
        rdpscope::capture::FileSet::open(&[f.to_string_lossy().into_owned()], None).unwrap();
    let mut text = Vec::new();
    files
        .for_each_with_secrets(
            u64::MAX,
            |_| {},
            |s| {
                text.extend_from_slice(s.data);
                text.push(b'\n');
            },
            |_| {},
        )
        .unwrap();
    text
}
