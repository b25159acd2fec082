//! Issue 2 acceptance: per capture, the TCP connections on port 3389 that rdpscope reports
//! match tshark's conversations: same count, same frame counts, same first/last frames.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;

/// (packets, first frame, last frame) per tshark TCP stream touching port 3389.
fn tshark_streams(file: &Path) -> Vec<(u64, u64, u64)> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args([
            "-Y",
            "tcp.port == 3389 && !icmp",
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "frame.number",
        ])
        .output()
        .expect("run tshark");
    let mut streams: BTreeMap<u64, (u64, u64, u64)> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut it = line.split('\t');
        let (Some(s), Some(f)) = (it.next(), it.next()) else {
            continue;
        };
        let (Ok(s), Ok(f)) = (s.parse::<u64>(), f.parse::<u64>()) else {
            continue;
        };
        let e = streams.entry(s).or_insert((0, f, f));
        e.0 += 1;
        e.1 = e.1.min(f);
        e.2 = e.2.max(f);
    }
    let mut v: Vec<_> = streams.into_values().collect();
    v.sort_by_key(|x| x.1);
    v
}

fn rdpscope_streams(file: &Path) -> Vec<(u64, u64, u64)> {
    let (conns, out) = analyze_json(&[file.to_str().unwrap()]);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}: exit {:?}, stderr {}",
        file.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Vec<_> = conns
        .iter()
        .filter(|c| c["transport"] == "tcp")
        // A connection tunnelled through an RD Gateway is not a TCP conversation of its own.
        .filter(|c| c["via_gateway"].is_null())
        .filter(|c| {
            c["client"].as_str().unwrap().ends_with(":3389")
                || c["server"].as_str().unwrap().ends_with(":3389")
        })
        .map(|c| {
            (
                c["packets"].as_u64().unwrap(),
                c["first_frame"].as_u64().unwrap(),
                c["last_frame"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort_by_key(|x| x.1);
    v
}

#[test]
fn port_3389_connections_match_tshark_on_public_captures() {
    let Some(dir) = shared_captures() else { return };
    if !have_tool("tshark") {
        return;
    }
    let mut compared = 0;
    for file in captures_under(&dir) {
        let expected = tshark_streams(&file);
        let got = rdpscope_streams(&file);
        eprintln!(
            "{}: tshark {} connection(s), rdpscope {}",
            file.display(),
            expected.len(),
            got.len()
        );
        assert_eq!(
            got,
            expected,
            "{}: (packets, first, last) per connection",
            file.display()
        );
        compared += expected.len();
    }
    assert!(compared > 50, "compared only {compared} connections");
}
