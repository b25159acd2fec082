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
    /// The NSS key log of the capture: with it (or with `pcapng`, the same capture with the
    /// secrets embedded) the expected verdict and codes are those read inside TLS.
    #[serde(default)]
    keys: Option<String>,
    #[serde(default)]
    pcapng: Option<String>,
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
        let dir = repo_root().join("fixtures/lab");
        let file = dir.join(&f.file).to_string_lossy().into_owned();
        let mut runs: Vec<Vec<String>> = Vec::new();
        match (&f.keys, &f.pcapng) {
            (None, None) => runs.push(vec![file.clone()]),
            (keys, pcapng) => {
                if let Some(k) = keys {
                    let k = dir.join(k).to_string_lossy().into_owned();
                    runs.push(vec!["--keylog".into(), k, file.clone()]);
                }
                if let Some(p) = pcapng {
                    runs.push(vec![dir.join(p).to_string_lossy().into_owned()]);
                }
                keyless_unchanged(&f.name, &file, pcapng.as_deref(), &mut failures);
            }
        }
        for args in &runs {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            match check(f, &args) {
                Ok(line) => eprintln!("{} {args:?}: {line}", f.name),
                Err(e) => failures.push(format!("{} {args:?}: {e}", f.name)),
            }
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

/// What a run of the fixture gave: its main verdict, the codes above info and the exit code.
struct Outcome {
    verdict: String,
    codes: BTreeSet<String>,
    exit: Option<i32>,
    want_exit: Option<i32>,
    /// TLS connections whose `decryption.state` is not "decrypted".
    undecrypted: usize,
}

fn outcome(args: &[&str]) -> Result<Outcome, String> {
    let (conns, out) = analyze_json(args);
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
        None => return Err("no connection found".into()),
    };
    let codes: BTreeSet<String> = conns
        .iter()
        .flat_map(|c| c["findings"].as_array().cloned().unwrap_or_default())
        .chain(side.iter().cloned())
        .filter(|x| x["severity"] != "info")
        .map(|x| x["code"].as_str().unwrap_or("?").to_string())
        .collect();
    let want_exit = if conns
        .iter()
        .any(|c| c["verdict"] == "failed" || c["verdict"] == "stalled")
        || side.iter().any(|x| x["severity"] == "error")
    {
        Some(1)
    } else {
        Some(0)
    };
    let undecrypted = conns
        .iter()
        .filter(|c| !c["decryption"].is_null() && c["decryption"]["state"] != "decrypted")
        .count();
    Ok(Outcome {
        undecrypted,
        verdict: verdict.to_string(),
        codes,
        exit: out.status.code(),
        want_exit,
    })
}

fn check(f: &Fixture, args: &[&str]) -> Result<String, String> {
    let o = outcome(args)?;
    let keyed = f.keys.is_some() || f.pcapng.is_some();
    if keyed && o.undecrypted > 0 {
        return Err(format!("{} TLS connection(s) not decrypted", o.undecrypted));
    }
    let expected: BTreeSet<String> = f.codes.iter().cloned().collect();
    if o.verdict != f.verdict || o.codes != expected || o.exit != o.want_exit {
        return Err(format!(
            "verdict {} (want {}), codes {:?} (want {expected:?}), exit {:?}",
            o.verdict, f.verdict, o.codes, o.exit
        ));
    }
    Ok(format!("{} {:?}", o.verdict, o.codes))
}

/// Without keys (the plain pcap, or the pcapng under --no-keys) the diagnosis is the keyless
/// one, the same both ways: secrets only add what is read inside.
fn keyless_unchanged(name: &str, pcap: &str, pcapng: Option<&str>, failures: &mut Vec<String>) {
    let Some(pcapng) = pcapng else {
        return;
    };
    let dir = repo_root().join("fixtures/lab");
    let pcapng = dir.join(pcapng).to_string_lossy().into_owned();
    match (outcome(&[pcap]), outcome(&["--no-keys", &pcapng])) {
        (Ok(a), Ok(b)) if a.verdict == b.verdict && a.codes == b.codes && a.exit == b.exit => {}
        (Ok(a), Ok(b)) => failures.push(format!(
            "{name}: keyless pcap gives {} {:?}, --no-keys pcapng {} {:?}",
            a.verdict, a.codes, b.verdict, b.codes
        )),
        (Err(e), _) | (_, Err(e)) => failures.push(format!("{name} keyless: {e}")),
    }
}
