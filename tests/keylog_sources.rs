//! TLS secrets reach the key store from a capture's Decryption Secrets Blocks and from
//! `--keylog` files; bad lines are counted, never fatal; secrets never reach any output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::path::PathBuf;

use common::*;
use rdpscope::capture::{FileSet, SECRETS_TYPE_TLS};
use rdpscope::keys::{KeySource, KeyStore};

fn awakecoding(name: &str) -> Option<PathBuf> {
    let p = shared_captures()?
        .join("awakecoding_wireshark-rdp")
        .join(name);
    p.is_file().then_some(p)
}

/// The NSS key log text of every DSB of a capture, in file order.
pub fn dsb_text(path: &std::path::Path) -> Vec<u8> {
    let mut files = FileSet::open(&[path.to_string_lossy().into_owned()], None).unwrap();
    let mut text = Vec::new();
    files
        .for_each_with_secrets(
            u64::MAX,
            |_| {},
            |s| {
                assert_eq!(s.secrets_type, SECRETS_TYPE_TLS);
                text.extend_from_slice(s.data);
                text.push(b'\n');
            },
            |_| {},
        )
        .unwrap();
    text
}

#[test]
fn every_awakecoding_capture_carries_secrets_in_a_dsb() {
    let Some(dir) = shared_captures().map(|d| d.join("awakecoding_wireshark-rdp")) else {
        return;
    };
    for f in captures_under(&dir) {
        let text = dsb_text(&f);
        let store = KeyStore::default();
        let stats = store.add_text(&text, KeySource::Pcapng);
        assert!(stats.accepted >= 1, "{}: {stats:?}", f.display());
        assert_eq!(stats.bad, 0, "{}: {stats:?}", f.display());
    }
}

#[test]
fn keylog_files_with_bad_lines_are_read_and_never_printed() {
    let Some(cap) = awakecoding("rdp-nla-ntlm-rejected1.pcapng") else {
        return;
    };
    let mut text = dsb_text(&cap);
    text.extend_from_slice(b"this is not a key log line\nCLIENT_RANDOM 00 11\n");
    let dir = std::env::temp_dir().join(format!("rdpscope-keylog-src-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("keys.log");
    std::fs::write(&log, &text).unwrap();
    let secret_hex: Vec<String> = String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_lowercase))
        .filter(|s| s.len() >= 64)
        .collect();
    assert!(!secret_hex.is_empty());
    let out = rdpscope(&[
        "analyze",
        "--json",
        "--keylog",
        &log.to_string_lossy(),
        &cap.to_string_lossy(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_lowercase();
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
    assert!(
        stderr.contains("2 line(s) are not nss key log lines"),
        "{stderr}"
    );
    for s in &secret_hex {
        assert!(!stdout.contains(s.as_str()) && !stderr.contains(s.as_str()));
    }
    let missing = rdpscope(&[
        "analyze",
        "--keylog",
        "/nonexistent/keys.log",
        &cap.to_string_lossy(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/keys.log"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The pipeline feeds the capture's DSBs to the run's key store as it reads them.
#[test]
fn the_pipeline_fills_its_key_store_from_the_capture() {
    let Some(cap) = awakecoding("rdp-nla-kerberos-auth2.pcapng") else {
        return;
    };
    let config = rdpscope::pipeline::PipelineConfig::default();
    let store = config.keys.clone();
    let summary = rdpscope::pipeline::analyze_files(
        &[cap.to_string_lossy().into_owned()],
        None,
        config,
        &mut |_| {},
    );
    assert!(summary.error.is_none(), "{:?}", summary.error);
    assert!(summary.keylog.accepted >= 1, "{:?}", summary.keylog);
    assert_eq!(summary.keylog.bad, 0);
    assert!(!store.is_empty(), "the caller's handle sees the same store");
}
