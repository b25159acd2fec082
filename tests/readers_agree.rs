//! The native file reader (pcap-parser) and libpcap's give the same analysis: the same
//! connections and the same `--json` output, on every fixture and shared capture. Both run
//! under `--no-keys`: libpcap skips pcapng Decryption Secrets Blocks, so only the native
//! reader can decrypt with them (tests/credssp_tshark.rs covers that).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking
#![cfg(feature = "live")]

mod common;

use std::path::PathBuf;

use common::*;

fn inputs() -> Vec<PathBuf> {
    let mut all = captures_under(&repo_root().join("fixtures"));
    if let Some(shared) = shared_captures() {
        all.extend(captures_under(&shared));
    }
    all
}

#[test]
fn native_and_libpcap_readers_give_the_same_json_on_every_capture() {
    let files = inputs();
    assert!(files.len() > 10, "fixtures found: {}", files.len());
    let mut compared = 0;
    for f in &files {
        let path = f.to_string_lossy();
        let native = rdpscope(&["analyze", "--json", "--no-keys", &path]);
        let libpcap = rdpscope(&[
            "analyze",
            "--json",
            "--no-keys",
            "--reader",
            "libpcap",
            &path,
        ]);
        assert_eq!(
            native.status.code(),
            libpcap.status.code(),
            "{path}: exit codes; native stderr: {}; libpcap stderr: {}",
            String::from_utf8_lossy(&native.stderr),
            String::from_utf8_lossy(&libpcap.stderr)
        );
        let (n, l) = (
            String::from_utf8_lossy(&native.stdout),
            String::from_utf8_lossy(&libpcap.stdout),
        );
        assert_eq!(n.lines().count(), l.lines().count(), "{path}: connections");
        for (a, b) in n.lines().zip(l.lines()) {
            assert_eq!(a, b, "{path}: one connection differs");
        }
        compared += 1;
    }
    eprintln!("{compared} captures compared");
}
