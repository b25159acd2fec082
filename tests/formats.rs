//! The same capture read as pcap, pcapng, gzip, from standard input, and recorded with
//! `tcpdump -i any` (Linux cooked SLL2) gives the same connections.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

fn summary(conns: &[Value]) -> Vec<String> {
    conns
        .iter()
        .map(|c| {
            let codes: Vec<&str> = c["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["code"].as_str().unwrap())
                .collect();
            format!(
                "{} {} {} {} {:?} {}",
                c["client"], c["server"], c["packets"], c["verdict"], codes, c["first_frame"]
            )
        })
        .collect()
}

#[test]
fn every_format_gives_the_same_connections() {
    let pcap = repo_root().join("fixtures/lab/nla_wrong_password.pcap");
    let (base, _) = analyze_json(&[pcap.to_str().unwrap()]);
    let want = summary(&base);
    assert_eq!(want.len(), 1);
    let tmp = std::env::temp_dir().join(format!("rdpscope-formats-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();

    // gzip, recognised by magic even without a .gz name.
    let gz = tmp.join("capture.bin");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&std::fs::read(&pcap).unwrap()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    assert_eq!(
        summary(&analyze_json(&[gz.to_str().unwrap()]).0),
        want,
        "gzip"
    );

    // standard input
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["analyze", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&pcap).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdin: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(summary(&stdin), want, "stdin");

    // pcapng with nanosecond timestamps
    if have_tool("editcap") {
        let ng = tmp.join("capture.pcapng");
        assert!(
            Command::new("editcap")
                .args(["-F", "pcapng", "--set-TSprec", "9"])
                .arg(&pcap)
                .arg(&ng)
                .status()
                .unwrap()
                .success()
                || Command::new("editcap")
                    .args(["-F", "pcapng"])
                    .arg(&pcap)
                    .arg(&ng)
                    .status()
                    .unwrap()
                    .success()
        );
        assert_eq!(
            summary(&analyze_json(&[ng.to_str().unwrap()]).0),
            want,
            "pcapng"
        );
    }

    // Recorded again with `tcpdump -i any` (SLL2) while the fixture was replayed on a veth:
    // same connection, other frame numbers.
    let any = repo_root().join("fixtures/formats/nla_wrong_password.any.pcap");
    let (sll2, _) = analyze_json(&[any.to_str().unwrap()]);
    let strip = |v: Vec<String>| {
        v.into_iter()
            .map(|s| s.rsplit_once(' ').unwrap().0.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(summary(&sll2)), strip(want.clone()), "SLL2");
    let _ = std::fs::remove_dir_all(tmp);
}
