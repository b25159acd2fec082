//! Resource limits: a SYN flood of 10^5 connections (each from its own address, none
//! answered) is analysed with bounded memory. Peak RSS is read from /proc/<pid>/status
//! (VmHWM, the high-water mark) while the binary runs; no timing is asserted.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const FLOOD: u32 = 100_000;
const LIMIT_KB: u64 = 200 * 1024;

fn syn(i: u32) -> Vec<u8> {
    let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
    let b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src, [192, 168, 255, 1], 64)
        .tcp(
            40_000 + (i % 20_000) as u16,
            3389,
            i.wrapping_mul(2_654_435_761),
            64_240,
        )
        .syn();
    let mut out = Vec::with_capacity(b.size(0));
    b.write(&mut out, &[]).expect("build SYN");
    out
}

/// The flood as a pcap: one SYN every 10 µs (one second in all, so no flow goes idle).
fn flood_pcap(path: &Path) {
    let mut b = Vec::with_capacity(24 + FLOOD as usize * 70);
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, 1] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    let t0 = 1_700_000_000u64 * 1_000_000;
    for i in 0..FLOOD {
        let t = t0 + u64::from(i) * 10;
        let frame = syn(i);
        for v in [
            (t / 1_000_000) as u32,
            (t % 1_000_000) as u32,
            frame.len() as u32,
            frame.len() as u32,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&frame);
    }
    std::fs::write(path, b).expect("write flood");
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs rdpscope on the flood; returns (peak RSS in KiB, exit code, stdout lines).
fn run_measured(args: &[&str]) -> (u64, Option<i32>, usize) {
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
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(k) = out.read(&mut buf) {
            if k == 0 {
                break;
            }
            n += buf[..k].iter().filter(|&&b| b == b'\n').count();
        }
        n
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
        flood_pcap(&tmp);
        std::fs::rename(&tmp, &path).expect("rename");
    }
    path
}

#[test]
fn syn_flood_of_100k_connections_stays_under_200_mb() {
    let path = flood_file();
    let p = path.to_str().unwrap();
    let (json_kb, code, lines) = run_measured(&["analyze", "--json", p]);
    eprintln!(
        "SYN flood, --json: peak RSS {} MB, {lines} lines",
        json_kb / 1024
    );
    assert!(matches!(code, Some(0) | Some(1)), "exit {code:?}");
    assert!(
        json_kb < LIMIT_KB,
        "--json: peak RSS {json_kb} KiB over {LIMIT_KB}"
    );
    let (table_kb, code, _) = run_measured(&["analyze", p]);
    eprintln!("SYN flood, table: peak RSS {} MB", table_kb / 1024);
    assert!(matches!(code, Some(0) | Some(1)), "exit {code:?}");
    assert!(
        table_kb < LIMIT_KB,
        "table: peak RSS {table_kb} KiB over {LIMIT_KB}"
    );
    // Leave the flood for the next run only if it is still wanted; it is 7 MB.
    let _ = std::io::stderr().flush();
}
