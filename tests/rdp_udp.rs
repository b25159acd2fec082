//! RDP over UDP on the public Windows captures: handshake, version and mode as tshark's
//! rdpudp dissector and Zeek's baselines show them, and loss figures on a capture with
//! known datagrams removed (editcap).

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
