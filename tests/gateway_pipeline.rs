//! RD Gateway end to end (issue 16): the real Windows gateway captures of ../shared carry
//! their TLS secrets, so the pipeline decrypts the gateway's TLS, reads the HTTP / MS-TSGU
//! inside and reports the RDP connection tunnelled through it as a connection of its own.
//! With `--no-keys` the keyless half still finds the gateway connections.
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

fn lines(args: &[&str]) -> Vec<Value> {
    analyze_json(args)
        .0
        .into_iter()
        .filter(|l| l["kind"] != "summary")
        .collect()
}

#[test]
fn the_tunnelled_connection_is_found_through_the_decrypted_gateway() {
    let Some(p) = rdg("rdp-rdg-same-creds-kerberos-password-success1.pcapng") else {
        return;
    };
    let conns = lines(&[p.to_str().unwrap()]);
    let gw: Vec<&Value> = conns.iter().filter(|c| c["kind"] == "gateway").collect();
    assert_eq!(gw.len(), 2, "{conns:?}");
    let tunnel = gw
        .iter()
        .find(|c| c["gateway"]["role"] == "websocket")
        .expect("the WebSocket tunnel");
    assert_eq!(tunnel["decryption"]["state"], "decrypted");
    let g = &tunnel["gateway"];
    assert_eq!(g["connection_id"], "{EBB921D3-86CD-401F-8154-47360E45BF2F}");
    assert_eq!(g["basis"][0], "decrypted-gateway-http");
    assert_eq!(g["auth"]["status"], 101);
    assert_eq!(g["tunnel"]["status"]["name"], "S_OK");
    assert_eq!(g["channel"]["target"], "IT-HELP-TEST.ad.it-help.ninja");
    assert_eq!(g["channel"]["port"], 3389);
    let kdc = gw
        .iter()
        .find(|c| c["gateway"]["role"] == "kdc-proxy")
        .expect("the KDC proxy");
    assert_eq!(kdc["gateway"]["kdc_proxy"]["requests"], 3);
    assert_eq!(kdc["gateway"]["kdc_proxy"]["status"], 200);
    // The RDP connection inside the tunnel: its own object, tied to its gateway.
    let child: Vec<&Value> = conns
        .iter()
        .filter(|c| c["via_gateway"] == tunnel["id"])
        .collect();
    assert_eq!(child.len(), 1, "{conns:?}");
    let child = child[0];
    assert_eq!(child["kind"], "connection");
    assert_eq!(
        child["server"].as_str().unwrap().rsplit(':').next(),
        Some("3389")
    );
    assert_eq!(child["verdict"], "ok");
    assert!(child["x224"]["request_flags"].is_array(), "{child}");
    let phases: Vec<&str> = child["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        phases.starts_with(&["x224_negotiation", "tls_handshake", "credssp"]),
        "{phases:?}"
    );
}

#[test]
fn without_keys_the_gateway_connections_are_still_described() {
    let Some(p) = rdg("rdp-rdg-same-creds-kerberos-password-success1.pcapng") else {
        return;
    };
    let conns = lines(&["--no-keys", p.to_str().unwrap()]);
    assert!(conns.iter().all(|c| c["kind"] == "gateway"), "{conns:?}");
    assert_eq!(conns.len(), 2);
    assert!(conns.iter().all(|c| c["via_gateway"].is_null()));
    assert!(conns
        .iter()
        .all(|c| c["gateway"]["server_name"] == "it-help-gw.ad.it-help.ninja"));
    assert!(conns.iter().all(|c| c["gateway"]["auth"].is_null()));
}

#[test]
fn the_smartcard_gateway_capture_tunnels_one_connection() {
    let Some(p) = rdg("rdp-rdg-diff-creds-kerberos-smartcard.pcapng") else {
        return;
    };
    let conns = lines(&[p.to_str().unwrap()]);
    let tunnel = conns
        .iter()
        .find(|c| c["kind"] == "gateway")
        .expect("the gateway connection");
    assert_eq!(
        tunnel["gateway"]["channel"]["target"],
        "IT-HELP-TEST.ad.it-help.ninja"
    );
    assert_eq!(
        conns
            .iter()
            .filter(|c| c["via_gateway"] == tunnel["id"])
            .count(),
        1
    );
}
