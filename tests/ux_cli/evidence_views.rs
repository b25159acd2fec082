//! The timeline, HTML report, filter summary and waterfalls name the evidence frames the way
//! the findings do.

use super::*;

#[test]
fn evidence_names_each_frame_once_in_the_timeline_and_the_html() {
    // The server's MCS Disconnect Provider Ultimatum in frame 11 is both the last message and
    // the close: one frame, two notes.
    let capture = repo_root().join("fixtures/lab/legacy_cr_refused.pcap");
    let o = rdpscope(&[
        "analyze",
        "--timeline",
        "--no-color",
        capture.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout).replace("\n      ", " ");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("evidence: frame 11"))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(line.matches("frame 11").count(), 1, "{line}");
    assert!(
        line.contains("last message") && line.contains("server closes"),
        "{line}"
    );
    let html = rdpscope(&["report", "-o", "-", capture.to_str().unwrap()]);
    let html = String::from_utf8_lossy(&html.stdout);
    assert_eq!(html.matches("<li>frame 11 at").count(), 1, "{html}");
}

#[test]
fn a_filter_says_how_many_packets_were_read_and_how_many_it_kept() {
    let demo = demo();
    let demo = demo.to_str().unwrap();
    let none = rdpscope(&["analyze", "-f", "port 3390", demo]);
    let text = String::from_utf8_lossy(&none.stdout);
    assert!(text.contains("No RDP connections found."), "{text}");
    assert!(
        text.contains("The filter \"port 3390\" kept 0 of the 109 packets read."),
        "{text}"
    );
    // The demo's 109 frames: the 6 ARP frames are not kept (tshark: `not ip`).
    let some = rdpscope(&["analyze", "-f", "port 3389 and host 10.99.0.2", demo]);
    let text = String::from_utf8_lossy(&some.stdout);
    assert!(text.contains("kept 103 of the 109 packets read"), "{text}");
    let json = rdpscope(&["analyze", "--json", "-f", "port 3390", demo]);
    let line = String::from_utf8(json.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(v["summary"]["filter"]["read"], 109);
    assert_eq!(v["summary"]["filter"]["kept"], 0);
    assert_eq!(v["summary"]["filter"]["expression"], "port 3390");
    // Without a filter nothing is said about one.
    let plain = rdpscope(&["analyze", demo]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("The filter"));
}

#[test]
fn waterfalls_share_one_glyph_mapping_and_name_the_client_pause_before_the_client_hello() {
    let Some(dir) = shared_captures() else {
        eprintln!("skipping: ../shared/captures is absent");
        return;
    };
    // The client waits 3.25 s between the server's X.224 Connection Confirm (frame 5) and its
    // ClientHello (frame 13), as `tshark -r F -Y tls.handshake.type==1` shows.
    let capture = dir.join("awakecoding_wireshark-rdp/rdp-nla-kerberos-auth2.pcapng");
    let capture = capture.to_str().unwrap();
    let note = "· 3.25 s client pause before the ClientHello (frames 5 to 13): a prompt?";
    let all = rdpscope(&["analyze", "--all", "--no-color", capture]);
    let text = String::from_utf8_lossy(&all.stdout);
    assert_eq!(text.matches(note).count(), 1, "{text}");
    let line = text.lines().find(|l| l.starts_with("  ▕")).unwrap();
    assert!(
        line.contains("▒·") && line.contains("·idle") && line.contains("░tcp"),
        "{line}"
    );
    // --timeline: the rows use the same glyphs and legend, and name the pause once.
    let timeline = rdpscope(&["analyze", "--all", "--timeline", "--no-color", capture]);
    let text = String::from_utf8_lossy(&timeline.stdout);
    assert_eq!(text.matches(note).count(), 1, "{text}");
    let tcp_row = text
        .lines()
        .find(|l| l.starts_with("  tcp_connect"))
        .unwrap();
    assert!(tcp_row.trim_end().ends_with('░'), "{tcp_row}");
    let tls_row = text
        .lines()
        .find(|l| l.starts_with("  tls_handshake"))
        .unwrap();
    assert!(
        tls_row.contains("·▓") && !tls_row.contains('░'),
        "{tls_row}"
    );
    assert!(
        text.contains("  ░ tcp  ▒ x224  ▓ tls  █ credssp  ▞ mcs  ━ data  · idle"),
        "{text}"
    );
}
