//! The story around a connection (issue 17): Kerberos and DNS tied to it, and retries told as
//! one attempt, on real captures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use common::*;
use serde_json::Value;

fn connections(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|l| l["kind"] == "connection").collect()
}

fn summary(lines: &[Value]) -> Option<&Value> {
    lines.iter().find(|l| l["kind"] == "summary")
}

fn lab(name: &str) -> (Vec<Value>, std::process::Output) {
    let path = repo_root().join("fixtures/lab").join(name);
    analyze_json(&[path.to_str().unwrap()])
}

/// Each capture's two connections form one attempt of two tries, told once in the summary.
#[test]
fn zeek_retry_stories_are_one_attempt_each() {
    let Some(dir) = shared_captures() else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    for (file, standard) in [
        ("zeek_zeek/rdp-to-ssl.pcap", false),
        ("zeek_zeek/rdp-proprietary-encryption.pcap", true),
    ] {
        let (lines, _) = analyze_json(&[dir.join(file).to_str().unwrap()]);
        let conns = connections(&lines);
        assert_eq!(conns.len(), 2, "{file}");
        assert_eq!(
            conns[0]["attempt"]["id"], conns[1]["attempt"]["id"],
            "{file}"
        );
        assert_eq!(conns[0]["attempt"]["position"], 1, "{file}");
        assert_eq!(conns[1]["attempt"]["position"], 2, "{file}");
        let attempts = summary(&lines).expect("summary line")["summary"]["attempts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(attempts.len(), 1, "{file}");
        let a = &attempts[0];
        assert_eq!(a["succeeded"], true, "{file}");
        assert_eq!(a["tries"][0]["verdict"], "failed", "{file}");
        assert_eq!(a["tries"][1]["verdict"], "ok", "{file}");
        let story = a["story"].as_str().unwrap();
        assert!(story.contains("succeeded on the second try"), "{story}");
        assert_eq!(
            story.contains("with Standard RDP Security"),
            standard,
            "{story}"
        );
    }
}

/// A real Windows NLA logon with Kerberos: PREAUTH_REQUIRED, AS-REP, TGS-REQ for
/// TERMSRV/<host> tied by name; no alarm.
#[test]
fn windows_kerberos_logon_is_tied_and_gives_no_alarm() {
    let Some(dir) = shared_captures() else {
        eprintln!("skipped: ../shared/captures is absent");
        return;
    };
    let f = dir.join("awakecoding_wireshark-rdp/rdp-nla-kerberos-auth2.pcapng");
    let (lines, out) = analyze_json(&[f.to_str().unwrap()]);
    let conns = connections(&lines);
    let c = conns.first().expect("a connection");
    assert_eq!(c["verdict"], "ok");
    assert_eq!(out.status.code(), Some(0));
    let krb = c["auth_context"]["kerberos"].as_array().expect("kerberos");
    assert_eq!(krb[0]["request"], "AS-REQ");
    assert_eq!(krb[0]["error_code"], 25);
    assert!(krb.iter().any(|k| k["reply"] == "AS-REP"));
    let tgs = krb
        .iter()
        .find(|k| {
            k["sname"]
                .as_str()
                .is_some_and(|s| s.starts_with("TERMSRV/"))
        })
        .expect("a TGS-REQ for TERMSRV");
    assert_eq!(tgs["reply"], "TGS-REP");
    assert!(tgs["tie"]["offset_ms"].as_f64().is_some());
    assert!(c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !f["code"].as_str().unwrap().starts_with("kdc-")));
}

/// Wrong password: the nla-failed finding names the KDC's PREAUTH_FAILED as its cause.
#[test]
fn nla_failure_carries_the_kdc_cause() {
    let (lines, _) = lab("krb_wrong_password.pcap");
    let c = connections(&lines)[0];
    let codes: Vec<_> = c["auth_context"]["kerberos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["error_code"].clone())
        .collect();
    assert_eq!(codes, [Value::from(25), Value::from(24)]);
    let nla = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "nla-failed")
        .expect("nla-failed");
    assert!(nla["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["note"].as_str().unwrap().contains("kdc-preauth-failed")));
}

/// No RDP connection at all: the failed lookup is still reported, and fails the run.
#[test]
fn failed_lookup_without_a_connection_is_reported() {
    let (lines, out) = lab("dns_nxdomain.pcap");
    assert!(connections(&lines).is_empty());
    let s = summary(&lines).expect("summary line");
    let server = &s["summary"]["servers"][0];
    assert_eq!(server["server"], "10.99.0.3:53");
    assert_eq!(server["findings"][0]["code"], "dns-resolution-failed");
    assert!(server["findings"][0]["title"]
        .as_str()
        .unwrap()
        .contains("rdp-old.rdplab.test"));
    assert_eq!(out.status.code(), Some(1));
}

/// The KDC dropped: unanswered AS-REQs and SYNs to port 88, tied to the connection.
#[test]
fn blocked_kdc_is_unreachable() {
    let (lines, _) = lab("krb_kdc_blocked.pcap");
    let c = connections(&lines)[0];
    let ctx = &c["auth_context"];
    assert!(ctx["kerberos"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["reply"].is_null()));
    assert!(ctx["kdc_connects"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["answered"] == false && k["syns"].as_u64() > Some(1)));
}

/// `--redact` maps the side exchanges' principals, names and addresses too.
#[test]
fn redact_maps_principals_names_and_addresses_of_the_side_flows() {
    for name in [
        "krb_wrong_password.pcap",
        "dns_address_mismatch.pcap",
        "dns_nxdomain.pcap",
    ] {
        let path = repo_root().join("fixtures/lab").join(name);
        let out = rdpscope(&["analyze", "--json", "--redact", path.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
        assert!(text.contains("kind"), "{name}: no output");
        for secret in ["labuser", "rdplab", "10.99.0."] {
            assert!(
                !text.contains(secret),
                "{name}: {secret} left in the output"
            );
        }
    }
}
