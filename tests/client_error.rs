//! Starting from the error the user saw: `explain 0x904 [0x7]` (hex or decimal), the JSON
//! `client_error` of each failed connection on lab fixtures that produce each code, and
//! `analyze --client-error` putting the consistent connections first.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use common::{analyze_json, rdpscope, repo_root};

fn fixture(rel: &str) -> String {
    repo_root().join(rel).to_string_lossy().into_owned()
}

/// (verdict, client_error.code) of each connection of `file`.
fn codes_of(file: &str) -> Vec<(String, Option<String>, bool)> {
    let (lines, _) = analyze_json(&[&fixture(file)]);
    lines
        .iter()
        .filter(|l| l["kind"] == "connection")
        .map(|l| {
            (
                l["verdict"].as_str().unwrap().to_string(),
                l["client_error"]["code"].as_str().map(str::to_string),
                l["client_error"]["inferred"].as_bool().unwrap_or(true),
            )
        })
        .collect()
}

#[test]
fn each_code_a_capture_can_show_on_a_fixture_that_produces_it() {
    for (file, code) in [
        ("fixtures/lab/firewall_drop.pcap", "0x204"),
        ("fixtures/lab/icmp_reject.pcap", "0x204"),
        ("fixtures/lab/cert_key_mismatch.pcap", "0x904"),
        ("fixtures/lab/cert_corrupt.pcap", "0x904"),
        ("fixtures/lab/keys_nla_wrong_password.pcap", "0x807"),
        ("fixtures/lab/keys_nla_unknown_user.pcap", "0x807"),
    ] {
        let conns = codes_of(file);
        let failed: Vec<_> = conns.iter().filter(|c| c.0 == "failed").collect();
        assert!(!failed.is_empty(), "{file}: {conns:?}");
        assert!(
            failed.iter().all(|c| c.1.as_deref() == Some(code) && c.2),
            "{file}: {conns:?}"
        );
        // Only failed connections say what the client would show.
        assert!(conns
            .iter()
            .filter(|c| c.0 != "failed")
            .all(|c| c.1.is_none()));
    }
}

#[test]
fn explain_a_client_error_pair_in_hex_and_decimal() {
    let hex = rdpscope(&["explain", "0x904", "0x7"]);
    assert!(hex.status.success());
    let text = String::from_utf8_lossy(&hex.stdout);
    assert!(text.contains("AtClientWinsockFDCLOSE"), "{text}");
    assert!(text.contains("socket closed"), "{text}");
    assert!(text.contains("ERRINFO_SERVER_DENIED_CONNECTION"), "{text}");
    assert!(text.contains("server-reset-after-client-hello"), "{text}");
    let decimal = rdpscope(&["explain", "2308", "7"]);
    assert_eq!(decimal.stdout, hex.stdout);
    let connect = String::from_utf8(rdpscope(&["explain", "0x204"]).stdout).unwrap();
    assert!(connect.contains("port-filtered") && connect.contains("connection-refused"));
    let logon = String::from_utf8(rdpscope(&["explain", "0X807"]).stdout).unwrap();
    assert!(logon.contains("nla-failed"), "{logon}");
    let unknown = String::from_utf8(rdpscope(&["explain", "0x907"]).stdout).unwrap();
    assert!(unknown.contains("No finding"), "{unknown}");
}

#[test]
fn client_error_option_puts_consistent_connections_first() {
    let demo = fixture("fixtures/demo/demo.pcap");
    let first_row = |args: &[&str]| {
        let o = rdpscope(args);
        let text = String::from_utf8(o.stdout).unwrap();
        text.lines()
            .find_map(|l| {
                let cells: Vec<&str> = l.split(['│', '┆']).map(str::trim).collect();
                cells.get(1)?.parse::<u64>().ok()
            })
            .unwrap()
    };
    assert_eq!(first_row(&["analyze", "--no-color", &demo]), 1);
    assert_eq!(
        first_row(&["analyze", "--client-error", "0x904/0x7", &demo]),
        3
    );
    assert_eq!(first_row(&["analyze", "--client-error", "2055", &demo]), 2);
    let bad = rdpscope(&["analyze", "--client-error", "0xZZ", &demo]);
    assert_eq!(bad.status.code(), Some(2));
    let o = rdpscope(&["analyze", &demo]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains(
            "The client would show error 0x807: the logon (NLA, CredSSP) failed (inferred)"
        ),
        "{text}"
    );
}
