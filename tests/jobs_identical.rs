//! `-j N` changes how many threads work, never what is written: `analyze --json` and the
//! terminal report are byte for byte the same for `-j 1`, `-j 2` and `-j 3`, on every fixture,
//! on every shared capture, on all lab fixtures read as one capture (64 connections: several
//! batches for the workers) and on a handshake-dense capture from bench/make-capture.py
//! (hundreds of connections).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{captures_under, repo_root, run_on, shared_captures};

const JOBS: [&str; 3] = ["1", "2", "3"];

/// Asserts the same stdout and exit status for every `-j`; returns how many JSON lines.
fn assert_same_for_every_jobs(files: &[PathBuf]) -> usize {
    assert_same_for_every_jobs_with(files, &[])
}

/// As `assert_same_for_every_jobs`, with `extra` arguments on every run.
fn assert_same_for_every_jobs_with(files: &[PathBuf], extra: &[&str]) -> usize {
    let mut lines = 0;
    for mode in [
        &["analyze", "--json"][..],
        &["analyze", "--no-color", "--all"][..],
    ] {
        let mode = &[mode, extra].concat()[..];
        let outputs: Vec<Output> = JOBS
            .iter()
            .map(|j| run_on(&[mode, &["-j", j]].concat(), files))
            .collect();
        let first = &outputs[0];
        assert!(
            first.status.code().is_some_and(|c| c <= 2),
            "{files:?} {mode:?}: {first:?}"
        );
        for (j, out) in JOBS.iter().zip(&outputs).skip(1) {
            assert_eq!(
                out.status.code(),
                first.status.code(),
                "{files:?} {mode:?} -j {j}"
            );
            assert!(
                out.stdout == first.stdout,
                "{files:?} {mode:?}: -j {j} wrote other bytes than -j 1"
            );
        }
        if mode.contains(&"--json") {
            lines = first.stdout.iter().filter(|&&b| b == b'\n').count();
        }
    }
    lines
}

fn each_file(dir: &Path) -> usize {
    let files = captures_under(dir);
    assert!(!files.is_empty(), "no capture under {}", dir.display());
    for f in &files {
        assert_same_for_every_jobs(std::slice::from_ref(f));
    }
    files.len()
}

#[test]
fn every_fixture_gives_the_same_bytes_for_every_jobs() {
    let n = each_file(&repo_root().join("fixtures"));
    assert!(n > 50, "{n} fixtures");
}

#[test]
fn every_shared_capture_gives_the_same_bytes_for_every_jobs() {
    let Some(dir) = shared_captures() else {
        return;
    };
    each_file(&dir);
}

#[test]
fn the_lab_fixtures_as_one_capture_give_the_same_bytes_for_every_jobs() {
    let lab = captures_under(&repo_root().join("fixtures/lab"));
    let lines = assert_same_for_every_jobs(&lab);
    // More connections than one batch (16): the workers really share the work.
    assert!(lines > 40, "{lines} lines");
}

/// A dense capture made by bench/make-capture.py in a fresh directory, or None (with a note)
/// when python3 cannot run.
fn dense_capture(tag: &str) -> Option<(PathBuf, PathBuf)> {
    let dir = std::env::temp_dir().join(format!("rdpscope-jobs-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let capture = dir.join("dense-2M.pcap");
    let made = Command::new("python3")
        .arg(repo_root().join("bench/make-capture.py"))
        .args(["--shape", "dense", "--size", "2M", "-o"])
        .arg(&capture)
        .output();
    let Ok(made) = made.map_err(|e| eprintln!("skipped: python3 cannot run: {e}")) else {
        let _ = std::fs::remove_dir_all(&dir);
        return None;
    };
    assert!(made.status.success(), "{made:?}");
    Some((dir, capture))
}

/// `--max-flows 100` on a capture with hundreds of connections open at once: the longest
/// idle flows are evicted early, at the same packets and in the same order for every `-j`
/// (the flow table and its ids stay on one thread; only the diagnosis moves).
#[test]
fn eviction_by_max_flows_gives_the_same_bytes_for_every_jobs() {
    let Some((dir, capture)) = dense_capture("evict") else {
        return;
    };
    let args = ["--max-flows", "100"];
    let lines = assert_same_for_every_jobs_with(std::slice::from_ref(&capture), &args);
    let json = run_on(
        &[&["analyze", "--json", "-j", "2"][..], &args].concat(),
        &[capture],
    );
    let _ = std::fs::remove_dir_all(&dir);
    let evicted = String::from_utf8_lossy(&json.stdout)
        .lines()
        .filter(|l| l.contains("\"evicted\":true"))
        .count();
    assert!(
        evicted > 10,
        "{evicted} evicted connections of {lines} lines"
    );
}

#[test]
fn a_dense_bench_capture_gives_the_same_bytes_for_every_jobs() {
    let Some((dir, capture)) = dense_capture("dense") else {
        return;
    };
    let lines = assert_same_for_every_jobs(std::slice::from_ref(&capture));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(lines > 300, "{lines} lines");
}

/// The parts of the run summary the flow stage keeps (the BPF filter's count, a read error)
/// come out the same when the merger is on another thread: a filter on the lab fixtures, and
/// a capture that does not exist next to one that does.
#[test]
fn a_filter_and_a_missing_file_give_the_same_bytes_for_every_jobs() {
    let lab = captures_under(&repo_root().join("fixtures/lab"));
    let lines = assert_same_for_every_jobs_with(&lab, &["--filter", "tcp port 3389"]);
    assert!(lines > 20, "{lines} lines");
    let missing = repo_root().join("fixtures/no-such-capture.pcap");
    let files = [lab[0].clone(), missing];
    for mode in [&["analyze", "--json"][..], &["analyze", "--no-color"][..]] {
        let outputs: Vec<Output> = JOBS
            .iter()
            .map(|j| run_on(&[mode, &["-j", j]].concat(), &files))
            .collect();
        for (j, out) in JOBS.iter().zip(&outputs).skip(1) {
            assert_eq!(out.status.code(), outputs[0].status.code(), "-j {j}");
            assert!(
                out.stdout == outputs[0].stdout,
                "{mode:?}: -j {j} other bytes"
            );
            assert!(
                out.stderr == outputs[0].stderr,
                "{mode:?}: -j {j} other errors"
            );
        }
        assert_ne!(outputs[0].status.code(), Some(0), "{:?}", outputs[0]);
    }
}
