//! The lab end to end: record one scenario between real peers now and analyse it. Runs when
//! root and the lab's packages can be installed (as in CI); skipped with the reason otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::process::Command;

use common::*;

#[test]
fn a_freshly_recorded_scenario_is_diagnosed() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !root {
        eprintln!("skipped: the lab needs root (network namespaces, services)");
        return;
    }
    let lab = repo_root().join("lab");
    let setup = Command::new("bash")
        .arg(lab.join("setup.sh"))
        .output()
        .expect("run lab/setup.sh");
    if !setup.status.success() {
        eprintln!(
            "skipped: lab/setup.sh could not install the peers: {}",
            String::from_utf8_lossy(&setup.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return;
    }
    let run = Command::new("timeout")
        .args(["120", "bash"])
        .arg(lab.join("e2e-test.sh"))
        .output()
        .expect("run lab/e2e-test.sh");
    assert!(
        run.status.success(),
        "e2e-test.sh failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let path = String::from_utf8_lossy(&run.stdout).trim().to_string();
    let (conns, _) = analyze_json(&[&path]);
    assert!(!conns.is_empty(), "no connection in {path}");
    let last = conns.last().unwrap();
    assert_eq!(last["verdict"], "ok", "{last}");
    assert_eq!(last["tls"]["version"], "TLSv1.3");
    if let Some(dir) = std::path::Path::new(&path).parent() {
        if dir.starts_with("/tmp") {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
