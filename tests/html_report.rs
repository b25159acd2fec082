//! `rdpscope report`: one self-contained HTML file whose summary agrees with `analyze --json`,
//! checked in the HTML text and, when Chromium is installed, in the DOM a browser builds from it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const LAB: [&str; 5] = [
    "nla_ok.pcap",
    "nla_wrong_password.pcap",
    "server_hung.pcap",
    "port_closed.pcap",
    "tls_version_mismatch.pcap",
];

const CHROMIUM: &str = "/usr/bin/chromium";

fn lab_files() -> Vec<String> {
    LAB.iter()
        .map(|f| {
            repo_root()
                .join("fixtures/lab")
                .join(f)
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn temp_html(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("rdpscope-report-{tag}-{}.html", std::process::id()))
}

/// Runs `rdpscope report` with `extra` options on the lab files; returns the HTML and exit code.
fn report(tag: &str, extra: &[&str]) -> (String, PathBuf, Option<i32>) {
    let out = temp_html(tag);
    let mut args = vec!["report", "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let files = lab_files();
    args.extend(files.iter().map(String::as_str));
    let run = rdpscope(&args);
    assert!(
        out.exists(),
        "no report written: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = std::fs::read_to_string(&out).expect("read the report");
    (html, out, run.status.code())
}

/// The summary row of connection `id` in `html` (the text between its `<tr` and `</tr>`).
fn row(html: &str, id: u64) -> &str {
    let start = html
        .find(&format!("id=\"row-{id}\""))
        .unwrap_or_else(|| panic!("no summary row for connection {id}"));
    let rest = html.get(start..).unwrap_or_default();
    rest.get(..rest.find("</tr>").unwrap_or(rest.len()))
        .unwrap_or_default()
}

/// The connection lines of `--json`: a closing summary line (attempts, floods) has no row.
fn connection_lines(lines: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    lines
        .into_iter()
        .filter(|c| c["kind"] == "connection")
        .collect()
}

/// Every connection of `analyze --json` has its row, showing its verdict.
fn assert_rows_match_json(html: &str, json: &[serde_json::Value]) {
    assert!(!json.is_empty());
    assert_eq!(html.matches("id=\"row-").count(), json.len());
    for c in json {
        let id = c["id"].as_u64().unwrap();
        let verdict = c["verdict"].as_str().unwrap();
        assert!(
            row(html, id).contains(&format!(">{verdict}</span>")),
            "connection {id} should read {verdict}: {}",
            row(html, id)
        );
    }
}

fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for fetch in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "url(",
        "@import",
        "<link",
        "<script",
        "<iframe",
    ] {
        assert!(
            !lower.contains(fetch),
            "the report fetches or runs: {fetch}"
        );
    }
}

fn dump_dom(path: &Path) -> String {
    let profile = std::env::temp_dir().join(format!("rdpscope-chromium-{}", std::process::id()));
    let out = Command::new("timeout")
        .arg("120")
        .arg(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", path.display()))
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 DOM")
}

#[test]
fn report_agrees_with_json_in_text_and_in_a_browser() {
    let files = lab_files();
    let file_args: Vec<&str> = files.iter().map(String::as_str).collect();
    let (json, _) = analyze_json(&file_args);
    let json = connection_lines(json);
    let (html, path, code) = report("all", &[]);
    assert_eq!(code, Some(1), "the lab files include failing connections");
    assert_self_contained(&html);
    assert_rows_match_json(&html, &json);
    // Every connection has its waterfall, every error finding its fix.
    assert_eq!(html.matches("<svg class=\"waterfall\"").count(), json.len());
    for c in &json {
        for f in c["findings"].as_array().unwrap() {
            let title = f["title"].as_str().unwrap();
            let first_words: String = title
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ");
            assert!(html.contains(&first_words), "finding {title:?} missing");
        }
    }
    if Path::new(CHROMIUM).exists() {
        let dom = dump_dom(&path);
        assert!(dom.contains("RDP connection report"));
        assert_rows_match_json(&dom, &json);
    } else {
        eprintln!(
            "skipped the browser check: {CHROMIUM} is not installed (scripts/setup.sh installs it)"
        );
    }
    let _ = std::fs::remove_file(path);
}

#[test]
fn report_shares_selection_and_filter_with_analyze() {
    let files = lab_files();
    let mut args = vec!["--verdict", "failed", "-f", "tcp port 3389"];
    args.extend(files.iter().map(String::as_str));
    let (json, _) = analyze_json(&args);
    let json = connection_lines(json);
    let (html, path, _) = report("failed", &["--verdict", "failed", "-f", "tcp port 3389"]);
    assert_rows_match_json(&html, &json);
    assert!(json.iter().all(|c| c["verdict"] == "failed"));
    assert!(!html.contains(">ok</span>"));
    let _ = std::fs::remove_file(path);
}

#[test]
fn report_to_standard_output() {
    let files = lab_files();
    let out = rdpscope(&["report", "-o", "-", &files[0]]);
    assert_eq!(out.status.code(), Some(0), "nla_ok is healthy");
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    // A healthy connection is collapsed.
    assert!(html.contains("<details class=\"conn\" id=\"conn-1\">"));
}

#[test]
fn capture_level_findings_and_redaction_reach_the_report() {
    // Five lab connections to one server within minutes, with a flood threshold low enough
    // (3 within 600 s) to call them one: the server's connection-flood finding is on the
    // page, and under --redact the server's real address is not.
    let (html, path, _) = report(
        "flood",
        &[
            "--flood-connections",
            "3",
            "--flood-rate",
            "0.005",
            "--redact-key",
            "k",
        ],
    );
    assert!(html.contains("<pre class=\"notes\">"), "capture notes");
    assert!(html.contains("(connection-flood)"), "the flood finding");
    assert!(
        !html.contains("10.99.0.1"),
        "the server's address is redacted"
    );
    let _ = std::fs::remove_file(path);
}
