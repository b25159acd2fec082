//! Resource limits: a SYN flood of 10^5 connections (each from its own address, none
//! answered) is analysed with bounded memory and reported as a connection flood. Peak RSS is
//! read from /proc/<pid>/status (VmHWM, the high-water mark) while the binary runs; no timing
//! is asserted. Small limits given as options are honoured.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use common::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const FLOOD: u32 = 100_000;
const LIMIT_KB: u64 = 200 * 1024;

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What a measured run printed: its line count and its last 64 KiB.
struct Printed {
    lines: usize,
    tail: String,
}

/// Runs rdpscope on the flood; returns (peak RSS in KiB, exit code, stdout).
fn run_measured(args: &[&str]) -> (u64, Option<i32>, Printed) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rdpscope");
    let pid = child.id();
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let lines = std::thread::spawn(move || {
        let mut n = 0;
        let mut tail: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(k) = out.read(&mut buf) {
            if k == 0 {
                break;
            }
            n += buf[..k].iter().filter(|&&b| b == b'\n').count();
            tail.extend_from_slice(&buf[..k]);
            if tail.len() > 1 << 17 {
                tail.drain(..tail.len() - (1 << 16));
            }
        }
        Printed {
            lines: n,
            tail: String::from_utf8_lossy(&tail).into_owned(),
        }
    });
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut peak = 0;
    let status = loop {
        // VmHWM only grows: the last reading before the process exits is its peak, up to
        // what it allocated in its last few milliseconds (the end of its output).
        if let Some(kb) = vm_hwm_kb(pid) {
            peak = peak.max(kb);
        }
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = errs.join().expect("stderr");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (peak, status.code(), lines.join().expect("stdout"))
}

fn flood_file() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("syn_flood_1e5.pcap");
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        write_syn_flood(&tmp, FLOOD, 10);
        std::fs::rename(&tmp, &path).expect("rename");
    }
    path
}

#[test]
fn syn_flood_of_100k_connections_stays_under_200_mb() {
    let path = flood_file();
    let p = path.to_str().unwrap();
    let (json_kb, code, printed) = run_measured(&["analyze", "--json", p]);
    eprintln!(
        "SYN flood, --json: peak RSS {} MB, {} lines",
        json_kb / 1024,
        printed.lines
    );
    // Every connection, then the summary line naming the flooded server.
    assert_eq!(printed.lines, FLOOD as usize + 1);
    let last = printed.tail.lines().last().expect("a last line");
    let summary: serde_json::Value = serde_json::from_str(last).expect("summary JSON");
    assert_eq!(summary["kind"], "summary", "{last}");
    let servers = summary["summary"]["servers"].as_array().expect("servers");
    assert_eq!(servers.len(), 1, "{last}");
    let s = &servers[0];
    assert_eq!(s["server"], "192.168.255.1:3389");
    assert_eq!(s["connections"], u64::from(FLOOD));
    // Each SYN comes from its own address: 10^5 clients, counted in fixed memory.
    let clients = s["distinct_clients"].as_u64().expect("distinct_clients");
    let error = clients.abs_diff(u64::from(FLOOD)) as f64 / f64::from(FLOOD);
    assert!(error < 0.05, "distinct clients {clients} for {FLOOD}");
    assert_eq!(s["distinct_clients_estimated"], true);
    let f = &s["findings"][0];
    assert_eq!(f["code"], "connection-flood");
    assert_eq!(f["severity"], "info");
    eprintln!("flood finding: {}", f["title"]);
    assert!(
        f["title"]
            .as_str()
            .is_some_and(|t| t.contains("100000 connection attempts")),
        "{f}"
    );
    assert!(matches!(code, Some(0) | Some(1)), "exit {code:?}");
    assert!(
        json_kb < LIMIT_KB,
        "--json: peak RSS {json_kb} KiB over {LIMIT_KB}"
    );
    let (table_kb, code, printed) = run_measured(&["analyze", p]);
    eprintln!("SYN flood, table: peak RSS {} MB", table_kb / 1024);
    assert!(
        printed.tail.contains(&format!(
            "server 192.168.255.1:3389 (tcp): 100000 connections from about {clients} distinct clients"
        )) && printed.tail.contains("(connection-flood)"),
        "{}",
        printed.tail
    );
    assert!(matches!(code, Some(0) | Some(1)), "exit {code:?}");
    assert!(
        table_kb < LIMIT_KB,
        "table: peak RSS {table_kb} KiB over {LIMIT_KB}"
    );
    // Leave the flood for the next run only if it is still wanted; it is 7 MB.
    let _ = std::io::stderr().flush();
}

#[test]
fn small_limits_are_honoured_and_reported() {
    let demo = repo_root().join("fixtures/demo/demo.pcap");
    let demo = demo.to_str().unwrap();
    // Three connections, one flow slot: the older ones are evicted, and it is said.
    let (conns, _) = analyze_json(&["--max-flows", "1", demo]);
    let summary = conns.last().expect("lines");
    assert_eq!(summary["kind"], "summary");
    let evicted = summary["summary"]["evicted"].as_u64().unwrap();
    assert!(evicted >= 1, "{summary}");
    let flagged = conns.iter().filter(|c| c["evicted"] == true).count() as u64;
    assert_eq!(flagged, evicted);
    let text = String::from_utf8_lossy(&rdpscope(&["analyze", "--max-flows", "1", demo]).stdout)
        .into_owned();
    assert!(
        text.contains(&format!("{evicted} connection")) && text.contains("(--max-flows 1)"),
        "{text}"
    );
    // Five timeline events per connection, the rest counted and announced.
    let (conns, _) = analyze_json(&["--max-timeline-events", "5", demo]);
    for c in &conns {
        assert!(c["timeline"].as_array().unwrap().len() <= 5, "{c}");
    }
    assert!(conns
        .iter()
        .any(|c| c["timeline_dropped"].as_u64() > Some(0)));
    let text = String::from_utf8_lossy(
        &rdpscope(&["analyze", "--timeline", "--max-timeline-events", "5", demo]).stdout,
    )
    .into_owned();
    assert!(text.contains("more events not kept"), "{text}");
    assert!(text.contains("cut at 5 events"), "{text}");
    // A 100-byte TLS handshake cap skips the certificate flight and says so.
    let (conns, _) = analyze_json(&["--max-tls-handshake", "100", demo]);
    let said = conns.iter().any(|c| {
        c["timeline"].as_array().unwrap().iter().any(|e| {
            e["event"]
                .as_str()
                .is_some_and(|t| t.contains("exceeds the buffer cap"))
        })
    });
    assert!(said, "no connection reported a skipped handshake message");
    // Zero flows is refused.
    let out = rdpscope(&["analyze", "--max-flows", "0", demo]);
    assert_eq!(out.status.code(), Some(2));
}

/// `limits` names the TLS parser's cap without importing `proto` (utilities sit below every
/// layer, tests/architecture.rs): the two stay equal.
#[test]
fn default_tls_handshake_limit_is_the_parsers_cap() {
    assert_eq!(
        rdpscope::limits::Limits::default().max_tls_handshake,
        rdpscope::proto::tls::MAX_HANDSHAKE
    );
}
