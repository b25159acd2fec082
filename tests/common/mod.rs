//! Helpers shared by the integration tests: where the captures are, running the binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/captures` beside the checkout, or None (with a printed reason) when absent.
pub fn shared_captures() -> Option<PathBuf> {
    let dir = repo_root().join("../shared/captures");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: ../shared/captures is absent (public captures live beside the checkout)"
        );
        None
    }
}

/// Every capture file under `dir`, sorted.
pub fn captures_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x == "pcap" || x == "pcapng" || x == "gz")
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

pub fn rdpscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(args)
        .output()
        .expect("run rdpscope")
}

/// Runs rdpscope with `args` then `files`, at a fixed terminal width (120 columns), so the
/// terminal report's bytes can be compared between runs.
pub fn run_on(args: &[&str], files: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(args)
        .args(files)
        .env("COLUMNS", "120")
        .output()
        .expect("run rdpscope")
}

/// Runs `rdpscope --json` on files and returns one JSON value per connection.
pub fn analyze_json(args: &[&str]) -> (Vec<serde_json::Value>, Output) {
    let mut all = vec!["analyze", "--json"];
    all.extend_from_slice(args);
    let out = rdpscope(&all);
    let conns = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect();
    (conns, out)
}

pub fn have_tool(name: &str) -> bool {
    let ok = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: {name} is not installed (the README's test command installs it)");
    }
    ok
}

/// A SYN flood as a pcap: `n` SYNs to 192.168.255.1:3389, one every `spacing_us` µs, each
/// from its own address (10.x.y.z), none answered.
pub fn write_syn_flood(path: &Path, n: u32, spacing_us: u64) {
    let syn = |i: u32| {
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
    };
    let mut b = Vec::with_capacity(24 + n as usize * 70);
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, 1] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    let t0 = 1_700_000_000u64 * 1_000_000;
    for i in 0..n {
        let t = t0 + u64::from(i) * spacing_us;
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
