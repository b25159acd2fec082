//! `--redact`: no address, user, client or host name of the capture survives in any output
//! (terminal table, timelines, findings, JSON, the capture-level summary), pseudonyms are
//! stable under one key, and `-w` is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

fn text(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| !s.is_empty())
}

/// The address of an "ip:port" / "[ip]:port" endpoint.
fn host_of(endpoint: &str) -> String {
    let (host, _) = endpoint.rsplit_once(':').expect("ip:port");
    host.trim_matches(['[', ']']).to_string()
}

/// Every private value the unredacted JSON shows: addresses, cookie, routing token, client
/// name, SNI, certificate names (attribute values of 4 characters or more).
fn secrets(conns: &[Value]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in conns.iter().filter(|c| c["kind"] == "connection") {
        for k in ["client", "server"] {
            out.insert(host_of(c[k].as_str().unwrap()));
        }
        let x = &c["x224"];
        out.extend(text(&x["cookie"]).map(str::to_string));
        out.extend(text(&x["routing_token"]).map(str::to_string));
        out.extend(text(&c["mcs"]["client"]["core"]["client_name"]).map(str::to_string));
        out.extend(text(&c["tls"]["sni"]).map(str::to_string));
        let cert = &c["tls"]["certificate"];
        for dn in ["subject", "issuer"] {
            for part in text(&cert[dn]).unwrap_or_default().split(", ") {
                if let Some((_, v)) = part.split_once('=') {
                    if v.len() >= 4 {
                        out.insert(v.to_string());
                    }
                }
            }
        }
        for san in cert["sans"].as_array().into_iter().flatten() {
            out.extend(text(san).map(str::to_string));
        }
    }
    out
}

fn stdout(args: &[&str]) -> String {
    let out = rdpscope(args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn nothing_private_survives_in_any_output_of_the_lab_fixtures() {
    let files = captures_under(&repo_root().join("fixtures/lab"));
    assert!(files.len() > 10);
    let mut checked = BTreeSet::new();
    for f in &files {
        let f = f.to_str().unwrap();
        let (plain, _) = analyze_json(&[f]);
        let secrets = secrets(&plain);
        for args in [
            vec!["analyze", "--redact", "--json", f],
            vec!["analyze", "--redact", f],
            vec!["analyze", "--redact", "--timeline", "--all", f],
        ] {
            let out = stdout(&args);
            for s in &secrets {
                assert!(
                    !out.contains(s.as_str()),
                    "{s:?} leaks from {args:?}:\n{out}"
                );
            }
        }
        checked.extend(secrets);
    }
    // The fixtures do hold cookies, SNIs and addresses: the check above was not empty.
    assert!(checked.contains("labuser"), "{checked:?}");
    assert!(checked.contains("10.99.0.1"), "{checked:?}");
}

#[test]
fn pseudonyms_are_stable_under_a_key_and_keep_the_analysis() {
    let demo = repo_root().join("fixtures/demo/demo.pcap");
    let demo = demo.to_str().unwrap();
    let a = stdout(&["analyze", "--json", "--redact-key", "k1", demo]);
    let b = stdout(&["analyze", "--json", "--redact-key", "k1", demo]);
    let c = stdout(&["analyze", "--json", "--redact-key", "k2", demo]);
    assert_eq!(a, b, "same key, same output");
    assert_ne!(a, c, "another key, other pseudonyms");
    let (plain, _) = analyze_json(&[demo]);
    let redacted: Vec<Value> = a
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(plain.len(), redacted.len());
    for (p, r) in plain.iter().zip(&redacted) {
        assert_eq!(p["verdict"], r["verdict"]);
        assert_eq!(
            p["findings"].as_array().unwrap().len(),
            r["findings"].as_array().unwrap().len()
        );
        // IPv4 stays IPv4, ports stay.
        let server = r["server"].as_str().unwrap();
        assert!(
            host_of(server).parse::<std::net::Ipv4Addr>().is_ok(),
            "{server}"
        );
        assert_eq!(
            server.rsplit(':').next(),
            p["server"].as_str().unwrap().rsplit(':').next()
        );
        assert!(r["x224"]["cookie"].as_str().unwrap().starts_with("user-"));
    }
    // The client's SNI was the server's address: both get the same pseudonym.
    assert_eq!(
        redacted[0]["tls"]["sni"].as_str(),
        Some(host_of(redacted[0]["server"].as_str().unwrap()).as_str())
    );
    // --host takes the real address and selects the redacted connections.
    let one = stdout(&["analyze", "--json", "--redact", "--host", "10.99.0.1", demo]);
    assert_eq!(one.lines().count(), plain.len());
    // -w writes packets: it cannot be redacted, so it is refused.
    let out = rdpscope(&["analyze", "--redact", "-w", "/dev/null", demo]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--redact"));
}

#[test]
fn the_flood_summary_is_redacted_too() {
    let flood = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("redact_flood.pcap");
    write_syn_flood(&flood, 300, 1_000);
    let out = stdout(&["analyze", "--redact", "--json", flood.to_str().unwrap()]);
    assert!(
        !out.contains("192.168.255.1") && !out.contains("\"10."),
        "{out}"
    );
    let summary: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let server = summary["summary"]["servers"][0]["server"].as_str().unwrap();
    assert!(
        server.ends_with(":3389") && !server.starts_with("192."),
        "{server}"
    );
    let table = stdout(&["analyze", "--redact", flood.to_str().unwrap()]);
    assert!(table.contains("(connection-flood)") && !table.contains("192.168.255.1"));
}
