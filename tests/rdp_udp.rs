//! RDP over UDP on the public Windows captures: handshake, version and mode as tshark's
//! rdpudp dissector and Zeek's baselines show them, and loss figures on a capture with
//! known datagrams removed (editcap).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::process::Command;

use common::*;

#[test]
fn handshakes_versions_and_modes_on_public_captures() {
    let Some(dir) = shared_captures() else { return };
    let one = |rel: &str| {
        let (conns, _) = analyze_json(&[dir.join(rel).to_str().unwrap()]);
        conns
    };
    // Zeek: rdpeudp_syn, rdpeudp_synack, rdpeudp_established (v1 data format).
    let ok = one("zeek_zeek/rdpeudp-handshake-success.pcap");
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["transport"], "udp");
    assert_eq!(ok[0]["udp"]["synack"], true);
    assert_eq!(ok[0]["udp"]["established"], true);
    assert_eq!(ok[0]["udp"]["version"], "2");
    assert_eq!(ok[0]["verdict"], "ok");
    // The SYN+ACK selects 0x0101: the data phase is RDPEUDP2 (tshark: uUdpVer 0x0101).
    let v2 = one("zeek_zeek/rdpeudp2-handshake-success.pcap");
    assert_eq!(v2[0]["udp"]["version"], "3 (RDPEUDP2)");
    assert_eq!(v2[0]["udp"]["established"], true);
    // Zeek's conn.log: three SYNs, nothing back.
    let fail = one("zeek_zeek/rdpeudp-handshake-fail.pcap");
    assert_eq!(fail[0]["udp"]["syn_count"], 3);
    assert_eq!(fail[0]["udp"]["synack"], false);
    assert_eq!(fail[0]["findings"][0]["code"], "udp-blocked");
    // nDPI's VLAN-tagged flows: RDPEUDP2, one caught without its SYN, one lossy v2.
    let ndpi = one("ntop_nDPI/rdp2.pcap");
    assert_eq!(ndpi.len(), 3);
    assert_eq!(ndpi[0]["udp"]["mode"], "reliable");
    assert_eq!(ndpi[1]["udp"]["syn_count"], 0);
    assert_eq!(ndpi[1]["verdict"], "incomplete");
    assert_eq!(ndpi[2]["udp"]["mode"], "lossy");
    assert_eq!(ndpi[2]["udp"]["version"], "2");
}

#[test]
fn loss_figures_count_datagrams_removed_with_editcap() {
    let Some(dir) = shared_captures() else { return };
    if !have_tool("editcap") {
        return;
    }
    let cut = std::env::temp_dir().join(format!("rdpscope-udp-cut-{}.pcap", std::process::id()));
    // ntop_nDPI/rdp2.pcap flow 2 (frames 7-32): frames 11 and 20 are server data datagrams,
    // 16 a client one, all inside the sequence range (not its first or last).
    let st = Command::new("editcap")
        .arg(dir.join("ntop_nDPI/rdp2.pcap"))
        .arg(&cut)
        .args(["11", "20", "16"])
        .status()
        .unwrap();
    assert!(st.success());
    let (before, _) = analyze_json(&[dir.join("ntop_nDPI/rdp2.pcap").to_str().unwrap()]);
    let (after, _) = analyze_json(&[cut.to_str().unwrap()]);
    assert_eq!(before[1]["udp"]["loss_pct"]["server"], 0.0);
    assert_eq!(before[1]["udp"]["loss_pct"]["client"], 0.0);
    // 2 of 12 server datagrams and 1 of 9 client datagrams never seen.
    assert_eq!(after[1]["udp"]["data_packets"]["server"], 10);
    assert_eq!(after[1]["udp"]["loss_pct"]["server"], 16.7);
    assert_eq!(after[1]["udp"]["loss_pct"]["client"], 11.1);
    assert!(after[1]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "udp-loss"));
    let _ = std::fs::remove_file(cut);
}

/// A real TCP connection (lab, tls13_ok) and a real RDP-UDP handshake (Windows, rewritten to
/// the same hosts with tcprewrite and moved half a second into the TCP connection): the two
/// are paired both ways, and the table shows the UDP row under its TCP connection.
#[test]
fn udp_flow_is_paired_with_its_tcp_connection() {
    let Some(dir) = shared_captures() else { return };
    if !(have_tool("tcprewrite")
        && have_tool("editcap")
        && have_tool("mergecap")
        && have_tool("tshark"))
    {
        return;
    }
    let tmp = std::env::temp_dir().join(format!("rdpscope-pair-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let tcp = repo_root().join("fixtures/lab/tls13_ok.pcap");
    let udp = dir.join("zeek_zeek/rdpeudp2-handshake-success.pcap");
    let first = |f: &std::path::Path| -> f64 {
        let o = Command::new("tshark")
            .arg("-r")
            .arg(f)
            .args(["-c", "1", "-T", "fields", "-e", "frame.time_epoch"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
    };
    let shift = format!("{:.6}", first(&tcp) - first(&udp) + 0.5);
    let rw = tmp.join("rw.pcap");
    let shifted = tmp.join("shifted.pcap");
    let merged = tmp.join("merged.pcap");
    assert!(Command::new("tcprewrite")
        .arg("--pnat=192.168.57.5/32:10.99.0.2/32,192.168.57.8/32:10.99.0.1/32")
        .arg("-i")
        .arg(&udp)
        .arg("-o")
        .arg(&rw)
        .status()
        .unwrap()
        .success());
    assert!(Command::new("editcap")
        .args(["-t", &shift])
        .arg(&rw)
        .arg(&shifted)
        .status()
        .unwrap()
        .success());
    assert!(Command::new("mergecap")
        .args(["-F", "pcap", "-w"])
        .arg(&merged)
        .arg(&tcp)
        .arg(&shifted)
        .status()
        .unwrap()
        .success());
    let (conns, _) = analyze_json(&[merged.to_str().unwrap()]);
    assert_eq!(conns.len(), 2);
    assert_eq!(conns[0]["transport"], "tcp");
    assert_eq!(conns[0]["udp_peers"], serde_json::json!([2]));
    assert_eq!(conns[1]["transport"], "udp");
    assert_eq!(conns[1]["tcp_peer"], 1);
    let table = rdpscope(&["analyze", merged.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("└ 2 udp of 1"));
    let _ = std::fs::remove_dir_all(tmp);
}
