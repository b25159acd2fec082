//! What a newcomer sees first: the README demo fits one 40x120 screen, shows every verdict and
//! the fix for each failing connection, and honours NO_COLOR.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::process::Command;

use common::*;

fn demo_output(envs: &[(&str, &str)]) -> String {
    let demo = repo_root().join("fixtures/demo/demo.pcap");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdpscope"));
    cmd.arg(demo).env("COLUMNS", "120");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run rdpscope");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the demo has failing connections"
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn demo_fits_one_screen_with_verdicts_and_fixes() {
    let text = demo_output(&[]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() <= 40, "{} lines:\n{text}", lines.len());
    for l in &lines {
        assert!(l.chars().count() <= 120, "line wider than 120: {l}");
    }
    let (conns, _) = analyze_json(&[repo_root()
        .join("fixtures/demo/demo.pcap")
        .to_str()
        .unwrap()]);
    assert!(conns.len() >= 3);
    for c in &conns {
        assert!(text.contains(c["verdict"].as_str().unwrap()));
        if c["verdict"] != "ok" {
            let fix = c["findings"][0]["fix"].as_str().unwrap();
            let first_words: String = fix.split_whitespace().take(4).collect::<Vec<_>>().join(" ");
            assert!(
                text.contains(&first_words),
                "fix of connection {} missing",
                c["id"]
            );
        }
    }
}

#[test]
fn no_color_and_pipes_get_no_escape_codes() {
    assert!(!demo_output(&[("NO_COLOR", "1")]).contains('\u{1b}'));
    assert!(
        !demo_output(&[]).contains('\u{1b}'),
        "stdout is a pipe here"
    );
}

#[test]
fn written_pcap_holds_exactly_the_failing_connections() {
    let demo = repo_root().join("fixtures/demo/demo.pcap");
    let out = std::env::temp_dir().join(format!("rdpscope-failing-{}.pcap", std::process::id()));
    let run = rdpscope(&[
        "analyze",
        "-w",
        out.to_str().unwrap(),
        demo.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    let (all, _) = analyze_json(&[demo.to_str().unwrap()]);
    let (written, _) = analyze_json(&[out.to_str().unwrap()]);
    let key = |c: &serde_json::Value| {
        (
            c["client"].clone(),
            c["server"].clone(),
            c["verdict"].clone(),
            c["packets"].clone(),
        )
    };
    let want: Vec<_> = all
        .iter()
        .filter(|c| c["verdict"] != "ok")
        .map(key)
        .collect();
    let got: Vec<_> = written.iter().map(key).collect();
    assert_eq!(got, want);
    let _ = std::fs::remove_file(out);
}

#[test]
fn selection_flags_pick_connections() {
    let demo = repo_root().join("fixtures/demo/demo.pcap");
    let (ok, _) = analyze_json(&["--verdict", "ok", demo.to_str().unwrap()]);
    assert!(!ok.is_empty() && ok.iter().all(|c| c["verdict"] == "ok"));
    let (one, _) = analyze_json(&["--connection", "2", demo.to_str().unwrap()]);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["id"], 2);
    let (none, _) = analyze_json(&["--host", "192.0.2.1", demo.to_str().unwrap()]);
    assert!(none.is_empty());
}

#[test]
fn local_time_only_changes_the_terminal() {
    let demo = repo_root().join("fixtures/demo/demo.pcap");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
            .args(args)
            .arg(&demo)
            .env("TZ", "Asia/Tokyo")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    // tls13_ok starts at 23:12:01 UTC, 08:12:01 in Tokyo.
    assert!(run(&["analyze"]).contains("23:12:01"));
    assert!(run(&["analyze", "--local"]).contains("08:12:01"));
    let json = run(&["analyze", "--local", "--json"]);
    assert!(
        json.contains("T23:12:01.") && json.contains("Z\""),
        "JSON stays UTC"
    );
}
