//! docs/json.md documents exactly the keys rdpscope emits: no undocumented key, no stale one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

/// Every object key path in `v` ("a.b", "a[].b"); arrays of scalars add no path of their own.
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone());
                key_paths(x, &path, out);
            }
        }
        Value::Array(items) => {
            for x in items {
                key_paths(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

fn documented() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(repo_root().join("docs/json.md")).expect("docs/json.md");
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn documented_keys_are_the_emitted_keys() {
    let mut files = captures_under(&repo_root().join("fixtures/lab"));
    if let Some(dir) = shared_captures() {
        files.extend(captures_under(&dir));
    }
    let mut emitted = BTreeSet::new();
    for f in &files {
        let (conns, _) = analyze_json(&[f.to_str().unwrap()]);
        for c in &conns {
            key_paths(c, "", &mut emitted);
        }
    }
    // The summary line: a small synthetic SYN flood, through a flow table too small for it.
    let flood = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("schema_flood.pcap");
    write_syn_flood(&flood, 300, 1_000);
    let (lines, _) = analyze_json(&["--max-flows", "50", flood.to_str().unwrap()]);
    let summary = lines.last().expect("lines");
    assert_eq!(summary["kind"], "summary", "{summary}");
    key_paths(summary, "", &mut emitted);
    // With -f the summary line says what the filter did.
    let filtered = repo_root().join("fixtures/demo/demo.pcap");
    let (lines, _) = analyze_json(&["-f", "tcp port 3389", filtered.to_str().unwrap()]);
    let summary = lines.last().expect("lines");
    assert_eq!(summary["kind"], "summary", "{summary}");
    key_paths(summary, "", &mut emitted);
    // With --each: the `file` key on every line, a summary line per file, `error` on the
    // summary of a file that could not be read (a real capture cut inside its first packet).
    let cut = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("schema_cut.pcap");
    let bytes = std::fs::read(&filtered).expect("demo capture");
    std::fs::write(&cut, &bytes[..40]).expect("write the cut capture");
    let (lines, out) = analyze_json(&["--each", filtered.to_str().unwrap(), cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(lines.iter().all(|l| l.get("file").is_some()), "{lines:?}");
    assert!(lines.last().is_some_and(|l| l.get("error").is_some()));
    for l in &lines {
        key_paths(l, "", &mut emitted);
    }
    let documented = documented();
    let undocumented: Vec<_> = emitted.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&emitted).collect();
    assert!(
        undocumented.is_empty(),
        "emitted but not in docs/json.md: {undocumented:?}"
    );
    assert!(
        stale.is_empty(),
        "in docs/json.md but never emitted: {stale:?}"
    );
    assert!(documented.len() > 100);
}
