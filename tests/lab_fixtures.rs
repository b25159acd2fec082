//! Every lab fixture is diagnosed with exactly the verdict and the error/warning codes its
//! manifest expects (written from the fault the scenario injects, not from rdpscope).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::collections::BTreeSet;

use common::*;

#[derive(serde::Deserialize)]
struct Manifest {
    fixture: Vec<Fixture>,
}

#[derive(serde::Deserialize)]
struct Fixture {
    name: String,
    file: String,
    verdict: String,
    codes: Vec<String>,
    /// The issue whose work the expectation needs (e.g. "issue 18"): skipped until then.
    #[serde(default)]
    pending: Option<String>,
}

fn manifest() -> Manifest {
    let path = repo_root().join("fixtures/lab/MANIFEST.toml");
    let text = std::fs::read_to_string(&path).expect("fixtures/lab/MANIFEST.toml");
    toml::from_str(&text).expect("valid manifest")
}

#[test]
fn every_lab_fixture_gets_its_expected_verdict_and_codes() {
    let m = manifest();
    assert!(m.fixture.len() >= 20, "only {} fixtures", m.fixture.len());
    let mut failures = Vec::new();
    for f in &m.fixture {
        if let Some(issue) = &f.pending {
            eprintln!("{}: skipped, pending {issue}", f.name);
            continue;
        }
        let path = repo_root().join("fixtures/lab").join(&f.file);
        let (conns, out) = analyze_json(&[path.to_str().unwrap()]);
        let tcp: Vec<_> = conns.iter().filter(|c| c["transport"] == "tcp").collect();
        // The connection that matters is the last attempt (FreeRDP retries refused ones).
        // Side findings that served no connection (a name that never resolved) sit on the
        // summary line's servers; with no connection at all they make the verdict.
        let side: Vec<serde_json::Value> = conns
            .iter()
            .filter(|c| c["kind"] == "summary")
            .flat_map(|c| {
                c["summary"]["servers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .flat_map(|s| s["findings"].as_array().cloned().unwrap_or_default())
            .collect();
        // A capture of UDP alone (an RD Gateway's blocked UDP transport): its last flow.
        let main = tcp
            .last()
            .copied()
            .or_else(|| conns.iter().rfind(|c| c["kind"] != "summary"));
        let verdict = match main {
            Some(main) => main["verdict"].as_str().unwrap_or("?"),
            None if side.iter().any(|x| x["severity"] == "error") => "failed",
            None => {
                failures.push(format!("{}: no connection found", f.name));
                continue;
            }
        };
        let codes: BTreeSet<String> = conns
            .iter()
            .flat_map(|c| c["findings"].as_array().cloned().unwrap_or_default())
            .chain(side.iter().cloned())
            .filter(|x| x["severity"] != "info")
            .map(|x| x["code"].as_str().unwrap_or("?").to_string())
            .collect();
        let expected: BTreeSet<String> = f.codes.iter().cloned().collect();
        let exit = out.status.code();
        let want_exit = if conns
            .iter()
            .any(|c| c["verdict"] == "failed" || c["verdict"] == "stalled")
            || side.iter().any(|x| x["severity"] == "error")
        {
            Some(1)
        } else {
            Some(0)
        };
        if verdict != f.verdict || codes != expected || exit != want_exit {
            failures.push(format!(
                "{}: verdict {verdict} (want {}), codes {codes:?} (want {expected:?}), exit {exit:?}",
                f.name, f.verdict
            ));
        } else {
            eprintln!("{}: {verdict} {codes:?}", f.name);
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}
