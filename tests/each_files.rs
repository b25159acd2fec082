//! `--each`: every file its own capture. On lab fixtures: the same bytes for `-j 1` and
//! `-j 2`, the files in the order given, each with its own summary, the same connections as
//! analysing that file alone (plus its `file` key, last), and the worst exit status, with a
//! bad file among good ones still leaving the good ones' results.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::path::{Path, PathBuf};

use common::{repo_root, run_on};
use serde_json::Value;

fn lab(names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|n| repo_root().join("fixtures/lab").join(n))
        .collect()
}

/// Four captures: a success, a failure, a retried connection and several connections.
const FILES: [&str; 4] = [
    "nla_ok.pcap",
    "firewall_drop.pcap",
    "krb_wrong_password.pcap",
    "lossy_timeout.pcap",
];

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("each_files-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A real capture cut inside its first packet: a header, no complete packet (exit 2).
fn cut_capture(dir: &Path) -> PathBuf {
    let bytes = std::fs::read(repo_root().join("fixtures/lab/nla_ok.pcap")).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..40]).unwrap();
    cut
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect()
}

fn name(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn each_gives_the_same_bytes_for_one_and_two_jobs() {
    let files = lab(&FILES);
    for mode in [&["--json"][..], &["--no-color", "--all"][..]] {
        let args = |j| [&["analyze", "--each", "-j", j][..], mode].concat();
        let one = run_on(&args("1"), &files);
        let two = run_on(&args("2"), &files);
        assert_eq!(one.status.code(), Some(1), "{mode:?}: {one:?}");
        assert_eq!(two.status.code(), one.status.code(), "{mode:?}");
        assert!(one.stdout == two.stdout, "{mode:?}: -j 2 wrote other bytes");
        assert!(
            one.stderr == two.stderr,
            "{mode:?}: -j 2 wrote other messages"
        );
    }
}

#[test]
fn each_file_is_its_own_capture_in_argument_order_with_its_own_summary() {
    // Not sorted: the output follows the arguments, not the names or the times.
    let files = lab(&[FILES[2], FILES[0], FILES[3], FILES[1]]);
    let out = run_on(&["analyze", "--each", "--json", "-j", "2"], &files);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out.stdout);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let mut rest = text.lines();
    for f in &files {
        let alone = run_on(&["analyze", "--json"], std::slice::from_ref(f));
        let alone_text = String::from_utf8(alone.stdout).unwrap();
        let alone_connections: Vec<&str> = alone_text
            .lines()
            .filter(|l| !l.starts_with("{\"kind\":\"summary\""))
            .collect();
        assert!(!alone_connections.is_empty(), "{f:?}");
        // The same lines as the file alone, in the same order, each with `file` added last.
        let key = format!(",\"file\":{}}}", serde_json::to_string(&name(f)).unwrap());
        for expected in &alone_connections {
            let line = rest.next().expect("a line per connection");
            let stripped = line.strip_suffix(&key).map(|l| format!("{l}}}"));
            assert_eq!(stripped.as_deref(), Some(*expected), "{f:?}");
        }
        // Then the file's own summary line, always there, `file` its last key.
        let raw = rest.next().expect("summary");
        assert!(raw.ends_with(&key), "{raw}");
        let summary: Value = serde_json::from_str(raw).unwrap();
        assert_eq!(summary["kind"], "summary");
        assert_eq!(summary["file"], name(f).as_str());
        assert_eq!(
            summary["summary"]["connections"].as_u64(),
            Some(alone_connections.len() as u64),
            "{f:?}"
        );
    }
    assert!(rest.next().is_none(), "lines after the last file's summary");
    // Ids restart in each file: each is its own capture.
    let first_ids = lines
        .iter()
        .filter(|l| l["id"] == 1)
        .map(|l| l["file"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(first_ids, files.iter().map(|f| name(f)).collect::<Vec<_>>());

    // The terminal: a heading per file, in the same order, each before its own table.
    let out = run_on(&["analyze", "--each", "--no-color", "-j", "2"], &files);
    let text = String::from_utf8(out.stdout).unwrap();
    let mut at = 0;
    for (i, f) in files.iter().enumerate() {
        let heading = format!("=== {} (file {} of 4) ===\n", name(f), i + 1);
        let found = text[at..]
            .find(&heading)
            .unwrap_or_else(|| panic!("{heading}"));
        at += found + heading.len();
        assert!(text[at..].starts_with('┌'), "a table under {heading}");
    }
}

#[test]
fn a_bad_file_among_good_ones_exits_2_and_the_others_are_still_printed() {
    let dir = scratch("bad");
    let cut = cut_capture(&dir);
    let good = lab(&[FILES[0], FILES[1]]);
    let files = vec![good[0].clone(), cut.clone(), good[1].clone()];
    let out = run_on(&["analyze", "--each", "--json"], &files);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("rdpscope: {}", name(&cut))),
        "{stderr}"
    );
    let lines = json_lines(&out.stdout);
    let summaries: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "summary").collect();
    assert_eq!(summaries.len(), 3);
    assert!(summaries[0].get("error").is_none());
    assert!(summaries[1]["error"]
        .as_str()
        .unwrap()
        .contains(&name(&cut)));
    assert_eq!(summaries[1]["summary"]["connections"], 0);
    // The good files on both sides of it are all there: the failed one after the bad file too.
    let failed: Vec<&Value> = lines.iter().filter(|l| l["verdict"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["file"], name(&good[1]).as_str());
    // Without the bad file the worst is the failed connection: 1.
    assert_eq!(run_on(&["analyze", "--each"], &good).status.code(), Some(1));
    assert_eq!(
        run_on(&["analyze", "--each"], &good[..1]).status.code(),
        Some(0)
    );
    // The terminal says it under the bad file's heading too.
    let out = run_on(&["analyze", "--each", "--no-color"], &files);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "(file 2 of 3) ===\n(nothing analysed: {}",
            name(&cut)
        )),
        "{text}"
    );
    assert_eq!(text.matches("=== ").count(), 3);
}

#[test]
fn write_is_refused_with_each() {
    let dir = scratch("write");
    let out_file = dir.join("out.pcapng");
    let out = run_on(
        &["analyze", "--each", "-w", out_file.to_str().unwrap()],
        &lab(&FILES[..2]),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-w is not available with --each"));
    assert!(!out_file.exists());
}

#[test]
fn report_each_writes_a_page_per_file_and_an_index() {
    let dir = scratch("report");
    let pages = dir.join("pages");
    let files = lab(&FILES[..3]);
    let mut args = vec!["report", "--each", "-o", pages.to_str().unwrap()];
    let jobs = ["-j", "2"];
    args.extend(jobs);
    let out = run_on(&args, &files);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let index = std::fs::read_to_string(pages.join("index.html")).unwrap();
    let mut at = 0;
    for f in &files {
        let page = format!("{}.html", f.file_name().unwrap().to_str().unwrap());
        let html = std::fs::read_to_string(pages.join(&page)).unwrap();
        assert!(html.contains(&name(f)), "{page} names its capture");
        assert!(html.contains("RDP connection report"));
        // Linked from the index, in the order given.
        let link = format!("<a href=\"{page}\">");
        at += index[at..].find(&link).unwrap_or_else(|| panic!("{link}"));
    }
    assert!(
        index.contains("1 failed"),
        "the failed connection is counted"
    );

    // -o naming an input, or a page that would be an input, is refused before anything is read.
    let input = dir.join("nla_ok.pcap");
    std::fs::copy(&files[0], &input).unwrap();
    let refused = run_on(
        &["report", "--each", "-o", input.to_str().unwrap()],
        std::slice::from_ref(&input),
    );
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        std::fs::read(&input).unwrap(),
        std::fs::read(&files[0]).unwrap()
    );
    let inside = pages.join("index.html");
    let before = std::fs::read(&inside).unwrap();
    let refused = run_on(
        &["report", "--each", "-o", pages.to_str().unwrap()],
        &[files[0].clone(), inside.clone()],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("would overwrite the input"));
    assert_eq!(std::fs::read(&inside).unwrap(), before);
    let refused = run_on(&["report", "--each", "-o", "-"], &files[..1]);
    assert_eq!(refused.status.code(), Some(2));
}
