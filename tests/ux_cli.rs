//! The command line as a person meets it: `-w` never destroys an input, enumerated options are
//! checked (any case, valid values in the error), every man page exists and renders, and the
//! README's code table lists exactly the codes `explain` knows.
//!
//! The tests live in `ux_cli/`, one file per promise; this root holds the demo fixture helpers
//! they share.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::path::{Path, PathBuf};

use common::{have_tool, rdpscope, repo_root, shared_captures};

fn demo() -> PathBuf {
    repo_root().join("fixtures/demo/demo.pcap")
}

/// A private copy of the demo fixture in a fresh directory (the fixture itself is never the
/// target of `-w`).
fn demo_copy(dir_name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("rdpscope-ux-{dir_name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("demo.pcap");
    std::fs::copy(demo(), &copy).unwrap();
    (dir, copy)
}

#[path = "ux_cli/evidence_views.rs"]
mod evidence_views;
#[path = "ux_cli/options_and_help.rs"]
mod options_and_help;
#[path = "ux_cli/write_safety.rs"]
mod write_safety;
#[path = "ux_cli/written_captures.rs"]
mod written_captures;
