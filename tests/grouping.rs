//! Connections that repeat share a row (issue 19): on a real brute force the table is short
//! and each fix is printed once per group; `--all` and `--connection N` still show each
//! connection; connections that fail differently are never merged; the JSON stays one
//! object per connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::path::PathBuf;

use common::{have_tool, rdpscope, repo_root, shared_captures};

fn brute_force() -> Option<PathBuf> {
    let Some(dir) = shared_captures() else {
        eprintln!("skipping: ../shared/captures is absent");
        return None;
    };
    let path = dir.join("initconf_RDP-bruteforce/RDP-bruteforce.pcap");
    if !path.exists() {
        eprintln!("skipping: {} is absent", path.display());
        return None;
    }
    Some(path)
}

/// The terminal report, wide enough that no row wraps.
fn analyze_wide(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["analyze", "--no-color"])
        .args(args)
        .env("COLUMNS", "400")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// The table's body rows (one line each at this width).
fn table_rows(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|l| !l.starts_with('└'))
        .filter(|l| l.starts_with("│ ") && !l.starts_with("│ # "))
        .collect()
}

#[test]
fn a_brute_force_is_a_short_table_and_each_fix_once_per_group() {
    let Some(bf) = brute_force() else { return };
    let bf = bf.to_str().unwrap();
    let text = analyze_wide(&[bf]);
    let rows = table_rows(&text);
    // 12 rows: #64 stands alone since its Connection Request was black-holed on the path
    // (segment-black-holed), no longer grouped with #22's unanswered requests.
    assert_eq!(rows.len(), 12, "{text}");
    assert!(
        rows.iter()
            .any(|r| r.starts_with("│ 22 ×2 ") && r.contains("never answered")),
        "{text}"
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with("│ 64    ") && r.contains("X.224 Connection Request")),
        "{text}"
    );
    // The biggest group: 23 connections from one client to 21 servers, all ending in the
    // client's close during the X.224 negotiation, frames 1 to 925.
    let big = rows
        .iter()
        .find(|r| r.starts_with("│ 1 ×23 "))
        .expect("group of #1");
    let cells: Vec<&str> = big.trim_matches('│').split('┆').map(str::trim).collect();
    assert_eq!(
        cells[..7],
        [
            "1 ×23",
            "2018-08-20 18:24:17",
            "51.235.163.75",
            "21 hosts:3389",
            "failed",
            "x224_negotiation",
            "12.3–55.3 s"
        ],
        "{big}"
    );
    assert!(
        cells[7].ends_with("[frames 1–925, until 2018-08-21 17:02:15]"),
        "{big}"
    );
    assert!(text.contains("71 connections in 12 rows"), "{text}");
    assert!(
        text.contains("23 connections (#1, #2, #6, #8, #10, #13, #14, #24, #31, #32, #36, #39 and 11 more), frames 1–925, 2018-08-20 18:24:17 to 2018-08-21 17:02:15 UTC"),
        "{text}"
    );
    // The client-abort fix: once per group that has the code, not once per connection.
    let fix = "fix: Look at the client's error message and its event log";
    let groups_with_abort = text
        .lines()
        .filter(|l| l.starts_with("  [error]") && l.contains("(client-abort)"))
        .count();
    assert_eq!(text.matches(fix).count(), groups_with_abort);
    assert!(groups_with_abort <= 6, "{groups_with_abort}");
    let all = analyze_wide(&["--all", bf]);
    assert_eq!(table_rows(&all).len(), 71);
    assert!(all.matches(fix).count() > 30);
    assert!(!all.contains(" ×"), "--all merges nothing");
    // One connection asked for by id is shown alone, with its own block.
    let one = analyze_wide(&["--connection", "2", bf]);
    let rows = table_rows(&one);
    assert_eq!(rows.len(), 1, "{one}");
    assert!(rows[0].starts_with("│ 2 "), "{one}");
    assert!(
        one.contains("\n#2 51.235.163.75:17814 -> 158.153.47.4:3389: failed"),
        "{one}"
    );
}

#[test]
fn connections_that_fail_differently_are_not_merged() {
    // The demo: three connections between the same peers, one ok and two failing in
    // different phases for different causes.
    let demo = repo_root().join("fixtures/demo/demo.pcap");
    let demo = demo.to_str().unwrap();
    let grouped = analyze_wide(&[demo]);
    assert_eq!(table_rows(&grouped).len(), 3, "{grouped}");
    assert!(!grouped.contains(" ×"), "{grouped}");
    assert!(!grouped.contains("connections in"), "{grouped}");
    assert_eq!(table_rows(&analyze_wide(&["--all", demo])).len(), 3);
}

#[test]
fn the_json_stays_one_object_per_connection() {
    let Some(bf) = brute_force() else { return };
    let (lines, _) = common::analyze_json(&[bf.to_str().unwrap()]);
    let conns = lines.iter().filter(|l| l["kind"] == "connection").count();
    assert_eq!(conns, 71);
}

#[test]
fn the_html_report_groups_too_and_all_shows_each() {
    let Some(bf) = brute_force() else { return };
    let dir = std::env::temp_dir().join(format!("rdpscope-grouping-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let html_of = |extra: &[&str]| {
        let out = dir.join("r.html");
        let mut args = vec!["report", "-o", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(bf.to_str().unwrap());
        rdpscope(&args);
        std::fs::read_to_string(&out).unwrap()
    };
    let grouped = html_of(&[]);
    assert_eq!(grouped.matches("<tr id=\"row-").count(), 12);
    assert!(grouped.contains("<tr id=\"row-1\" class=\"group\">"));
    assert!(grouped.contains(">1 ×23</a>"));
    assert!(grouped.contains("71 connections in 12 rows"));
    let fix = "<strong>Fix:</strong> Look at the client&#39;s error message";
    let all = html_of(&["--all"]);
    assert_eq!(all.matches("<tr id=\"row-").count(), 71);
    assert!(grouped.matches(fix).count() <= 6);
    assert!(all.matches(fix).count() > 30);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn grouped_rows_and_blocks_fit_80_columns() {
    let Some(bf) = brute_force() else { return };
    if !have_tool("script") {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_rdpscope");
    let command = format!("stty cols 80 rows 60; {bin} --no-color {}", bf.display());
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    let too_wide: Vec<&str> = text.lines().filter(|l| l.chars().count() > 80).collect();
    assert!(too_wide.is_empty(), "wider than 80: {too_wide:#?}");
    // The finding keeps whole words: the first group's summary reads on a few lines.
    assert!(
        text.contains("│ 1 ×23 ┆ 51.235.163.75 ┆ 21 hosts:3389 "),
        "{text}"
    );
    assert!(text.contains("#1 and 22 more: 51.235.163.75 -> 21 hosts:3389: failed"));
}

#[test]
fn every_block_fits_80_columns_with_all_and_timeline() {
    // Timelines, waterfall legends of six phases and long words (registry paths) wrap too.
    for name in [
        "demo/demo.pcap",
        "lab/bridge_duplicates.pcap",
        "lab/tls_version_mismatch.pcap",
        "lab/dns_address_mismatch.pcap",
    ] {
        let file = repo_root().join("fixtures").join(name);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rdpscope"))
            .args(["--no-color", "--all", "--timeline"])
            .arg(&file)
            .env("COLUMNS", "80")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let too_wide: Vec<&str> = text.lines().filter(|l| l.chars().count() > 80).collect();
        assert!(too_wide.is_empty(), "{name}: wider than 80: {too_wide:#?}");
        assert!(text.contains("t (ms)"), "{name}: the timeline is there");
    }
}
