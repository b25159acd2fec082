//! RD Gateway connections found and described without keys (issue 16, keyless half), on the
//! real gateway captures of ../shared, and ordinary HTTPS that must stay unreported.
//! The pipeline reads no TLS keys here: these are the facts every capture gives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;

fn rdg(name: &str) -> Option<PathBuf> {
    let p = shared_captures()?
        .join("awakecoding_wireshark-rdp")
        .join(name);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    // The shared gateway captures embed their TLS secrets: keyless is what --no-keys gives.
    analyze_json(&["--no-keys", path.to_str().unwrap()])
        .0
        .into_iter()
        .filter(|l| l["kind"] != "summary")
        .collect()
}

fn phase_names(c: &Value) -> Vec<&str> {
    c["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

#[test]
fn websocket_tunnel_and_kdc_proxy_are_gateway_connections() {
    let Some(f) = rdg("rdp-rdg-same-creds-kerberos-password-success1.pcapng") else {
        return;
    };
    let conns = lines(&f);
    assert_eq!(conns.len(), 2, "{conns:#?}");
    let tunnel = &conns[0];
    assert_eq!(tunnel["kind"], "gateway");
    assert_eq!(tunnel["client"], "10.10.0.131:49790");
    assert_eq!(tunnel["server"], "10.10.0.7:443");
    assert_eq!(tunnel["verdict"], "ok");
    let g = &tunnel["gateway"];
    assert_eq!(g["transport"], "websocket");
    assert_eq!(g["role"], "websocket");
    assert_eq!(g["server_name"], "it-help-gw.ad.it-help.ninja");
    assert_eq!(g["connection_id"], Value::Null);
    assert_eq!(g["basis"][0], "named-interactive");
    assert_eq!(
        phase_names(tunnel),
        [
            "tcp_connect",
            "tls_handshake",
            "gateway_auth",
            "gateway_tunnel",
            "gateway_data",
            "closed"
        ]
    );
    // The gateway's answer to the WebSocket upgrade (frame 41, "101 Switching Protocols"
    // in tshark's decrypted view) ends the authentication phase.
    let auth = &tunnel["phases"][2];
    assert!(auth["complete"].as_bool().unwrap());
    assert_eq!(tunnel["tls"]["version"], "TLSv1.2");

    let kdc = &conns[1];
    assert_eq!(kdc["kind"], "gateway");
    assert_eq!(kdc["client"], "10.10.0.131:49791");
    assert_eq!(kdc["gateway"]["role"], "kdc-proxy");
    assert_eq!(kdc["gateway"]["paired_with"], tunnel["id"]);
    assert_eq!(kdc["gateway"]["basis"][0], "kdc-proxy-beside");
    assert_eq!(kdc["verdict"], "ok");
    assert_eq!(kdc["tls"]["sni"], "it-help-gw.ad.it-help.ninja");
    assert!(kdc["findings"].as_array().unwrap().is_empty());
}

#[test]
fn single_websocket_tunnel_with_a_smart_card_prompt_is_found() {
    let Some(f) = rdg("rdp-rdg-diff-creds-kerberos-smartcard.pcapng") else {
        return;
    };
    let conns = lines(&f);
    assert_eq!(conns.len(), 1, "{conns:#?}");
    let c = &conns[0];
    assert_eq!(c["kind"], "gateway");
    assert_eq!(c["gateway"]["role"], "websocket");
    assert_eq!(c["gateway"]["paired_with"], Value::Null);
    // 6 s in the tunnel while the user answered the session host's prompt: not "slow".
    assert_eq!(c["verdict"], "ok");
    assert_eq!(c["phase"], "gateway_data");
}

#[test]
fn the_table_names_the_gateway_hop() {
    let Some(f) = rdg("rdp-rdg-same-creds-kerberos-password-success1.pcapng") else {
        return;
    };
    let out = rdpscope(&["analyze", "--all", f.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("No RDP connections found"), "{text}");
    assert!(text.contains("RD Gateway websocket"), "{text}");
    assert!(text.contains("RD Gateway KDC proxy"), "{text}");
    assert!(text.contains("gw-auth"), "{text}");
}

/// Every TLS flow of the shared captures that is not an RD Gateway's (Zeek's TLS handshake
/// failure and aborted TLS 1.3 to tls13.crypto.mozilla.org on 443) and every lab fixture
/// stays out of the report.
#[test]
fn ordinary_https_and_rdp_captures_have_no_gateway_connection() {
    let mut files: Vec<PathBuf> = captures_under(&repo_root().join("fixtures"))
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("gateway"))
        .collect();
    if let Some(dir) = shared_captures() {
        files.extend(
            captures_under(&dir)
                .into_iter()
                .filter(|p| !p.to_string_lossy().contains("rdp-rdg-")),
        );
    }
    let mut https_seen = 0;
    for f in &files {
        let conns = lines(f);
        for c in &conns {
            assert_ne!(c["kind"], "gateway", "{}: {c}", f.display());
        }
        https_seen += usize::from(f.to_string_lossy().contains("tls-adjunct"));
    }
    if shared_captures().is_some() {
        assert!(https_seen >= 2, "the Zeek HTTPS captures were read");
    }
}
