//! The captures `-w` writes (pcapng with per-frame comments, plain pcap) as tshark reads them.

use super::*;

/// `frame.comment` of each packet of `file`, as tshark reads it (None without tshark).
fn tshark_comments(file: &Path) -> Option<Vec<String>> {
    if !have_tool("tshark") {
        eprintln!("skipping the tshark read-back: tshark is not installed");
        return None;
    }
    let o = std::process::Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-T", "fields", "-e", "frame.comment"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    Some(
        String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn write_pcapng_comments_each_frame_with_its_origin_and_evidence_with_the_code() {
    let (dir, copy) = demo_copy("pcapng");
    let out = dir.join("failing.pcapng");
    let o = rdpscope(&[
        "analyze",
        "-w",
        out.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("wrote 29 packets"),
        "{o:?}"
    );
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(
        &bytes[..4],
        &[0x0A, 0x0D, 0x0D, 0x0A],
        "a pcapng section header"
    );
    if let Some(comments) = tshark_comments(&out) {
        assert_eq!(comments.len(), 29);
        let origin = format!("{} frame ", copy.display());
        assert!(comments.iter().all(|c| c.contains(&origin)), "{comments:?}");
        // The demo's NLA failure: its evidence frames 92-94 and 96 (the analysis shows
        // "evidence: frames 92, 93, 94, 96"), and the TLS reset's 108 and 109.
        let evidence: Vec<&String> = comments.iter().filter(|c| c.contains("evidence")).collect();
        assert_eq!(evidence.len(), 6, "{evidence:?}");
        assert!(comments.contains(&format!("rdpscope: {origin}92; evidence of nla-failed")));
        assert!(comments.contains(&format!("rdpscope: {origin}95")));
        assert!(comments.contains(&format!(
            "rdpscope: {origin}109; evidence of server-reset-after-client-hello"
        )));
        // Frames 99 and 100 belong to the healthy connection: not written.
        assert!(!comments
            .iter()
            .any(|c| c.ends_with("frame 99") || c.ends_with("frame 100")));
    }
    // rdpscope reads its own pcapng back: the same two failing connections.
    let again = rdpscope(&["analyze", "--json", out.to_str().unwrap()]);
    let lines = String::from_utf8_lossy(&again.stdout);
    assert_eq!(
        lines
            .lines()
            .filter(|l| l.contains("\"verdict\":\"failed\""))
            .count(),
        2
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn write_format_pcap_gives_a_plain_pcap_that_tshark_reads() {
    let (dir, copy) = demo_copy("pcap");
    let out = dir.join("failing.pcap");
    let o = rdpscope(&[
        "analyze",
        "-F",
        "PCAP",
        "-w",
        out.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("wrote 29 packets"),
        "{o:?}"
    );
    let bytes = std::fs::read(&out).unwrap();
    // The nanosecond pcap magic, little-endian.
    assert_eq!(&bytes[..4], &[0x4D, 0x3C, 0xB2, 0xA1]);
    // The header's snaplen is the largest captured length written (not a fixed 262144).
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let (mut at, mut largest, mut records) = (24, 0, 0);
    while at + 16 <= bytes.len() {
        let caplen = u32_at(at + 8);
        largest = largest.max(caplen);
        at += 16 + caplen as usize;
        records += 1;
    }
    assert_eq!((records, at), (29, bytes.len()));
    assert!(largest > 0 && largest < 262_144);
    assert_eq!(u32_at(16), largest);
    if let Some(comments) = tshark_comments(&out) {
        assert_eq!(comments.len(), 29);
        assert!(comments.iter().all(String::is_empty), "{comments:?}");
    }
    // -F alone, without -w, is refused.
    let lone = rdpscope(&["analyze", "-F", "pcap", copy.to_str().unwrap()]);
    assert_eq!(lone.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}
