//! Bad input: every way a capture can be broken gets a clear message naming the file (and
//! the frame where there is one), the documented exit code, and never a panic or a hang.
//! Broken files are made here from the lab fixtures or by hand, in a scratch directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// How long one run may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(60);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// One JSON value per line of `--json` output.
    fn connections(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    }
}

/// Runs rdpscope with `args` (and `stdin` bytes, if any), killing it if it hangs.
fn run(args: &[&str], stdin: Option<Vec<u8>>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rdpscope");
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("stdin");
        // rdpscope may stop reading early (that is the point of some cases): ignore EPIPE.
        std::thread::spawn(move || drop(pipe.write_all(&bytes)))
    });
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rdpscope {args:?} hung (killed after {HANG:?})");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(t) = feeder {
        let _ = t.join();
    }
    let r = Run {
        code: status.code().expect("exited, not killed by a signal"),
        stdout: out_t.join().expect("stdout reader"),
        stderr: err_t.join().expect("stderr reader"),
    };
    assert!(
        !r.stderr.contains("panicked") && !r.stderr.contains("RUST_BACKTRACE"),
        "rdpscope {args:?} panicked:\n{}",
        r.stderr
    );
    r
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bad_input-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write scratch file");
    p.to_str().expect("utf-8 path").to_string()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("fixtures/lab").join(name)).expect("lab fixture")
}

fn assert_names(r: &Run, what: &[&str]) {
    for w in what {
        assert!(
            r.stderr.contains(w),
            "stderr does not mention {w:?}:\n{}",
            r.stderr
        );
    }
}

// ---- pcap writing and reading, by hand ------------------------------------------------

#[derive(Clone)]
struct Record {
    ts_sec: u32,
    ts_usec: u32,
    caplen: u32,
    len: u32,
    data: Vec<u8>,
}

impl Record {
    fn new(ts_sec: u32, data: Vec<u8>) -> Self {
        let n = data.len() as u32;
        Record {
            ts_sec,
            ts_usec: 0,
            caplen: n,
            len: n,
            data,
        }
    }
}

fn pcap_header(linktype: u32, snaplen: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&0i32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&snaplen.to_le_bytes());
    b.extend_from_slice(&linktype.to_le_bytes());
    b
}

fn record_bytes(r: &Record) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [r.ts_sec, r.ts_usec, r.caplen, r.len] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&r.data);
    b
}

fn pcap_file(linktype: u32, snaplen: u32, records: &[Record]) -> Vec<u8> {
    let mut b = pcap_header(linktype, snaplen);
    for r in records {
        b.extend(record_bytes(r));
    }
    b
}

/// The records of a little-endian microsecond pcap (the lab fixtures are all of that kind).
fn read_records(pcap: &[u8]) -> Vec<Record> {
    let u32_at = |at: usize| u32::from_le_bytes(pcap[at..at + 4].try_into().unwrap());
    assert_eq!(u32_at(0), 0xa1b2_c3d4, "little-endian µs pcap");
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let caplen = u32_at(at + 8);
        let data = pcap[at + 16..at + 16 + caplen as usize].to_vec();
        out.push(Record {
            ts_sec: u32_at(at),
            ts_usec: u32_at(at + 4),
            caplen,
            len: u32_at(at + 12),
            data,
        });
        at += 16 + caplen as usize;
    }
    out
}

/// An Ethernet/IPv4/TCP frame from a client to port 3389.
fn tcp_frame(src_port: u16, syn: bool, payload: &[u8]) -> Vec<u8> {
    let b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4([10, 1, 0, 2], [10, 1, 0, 1], 64)
        .tcp(src_port, 3389, 1000, 64240);
    let b = if syn { b.syn() } else { b.ack(1).psh() };
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).expect("build frame");
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

// ---- the cases -------------------------------------------------------------------------

#[test]
fn empty_file() {
    let dir = scratch("empty");
    let p = write(&dir, "empty.pcap", b"");
    let r = run(&["analyze", &p], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &[&p, "empty file"]);
}

#[test]
fn random_bytes() {
    let dir = scratch("random");
    // A fixed xorshift stream: the same "random" file every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let p = write(&dir, "random.bin", &bytes);
    let r = run(&["analyze", &p], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &[&p, "not a pcap or pcapng capture"]);
}

#[test]
fn truncated_global_header() {
    let dir = scratch("short-header");
    let p = write(&dir, "short.pcap", &fixture("nla_ok.pcap")[..12]);
    let r = run(&["analyze", &p], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &[&p, "truncated", "file header"]);
}

#[test]
fn truncated_packet_keeps_the_connections_before_the_cut() {
    let dir = scratch("cut");
    // Two connections: a whole TLS one, then an NLA one whose frame 20 is cut in the middle.
    let first = read_records(&fixture("tls12_ok.pcap"));
    let second = read_records(&fixture("nla_ok.pcap"));
    let shift = first.last().unwrap().ts_sec + 10 - second[0].ts_sec;
    let mut bytes = pcap_header(1, 262_144);
    for r in &first {
        bytes.extend(record_bytes(r));
    }
    for r in &second[..19] {
        let mut r = r.clone();
        r.ts_sec += shift;
        bytes.extend(record_bytes(&r));
    }
    let mut cut = second[19].clone();
    cut.ts_sec += shift;
    let cut = record_bytes(&cut);
    assert!(cut.len() > 40, "frame to cut is long enough");
    bytes.extend_from_slice(&cut[..16 + (cut.len() - 16) / 2]);
    let p = write(&dir, "cut.pcap", &bytes);
    let last_whole = first.len() + 19;

    let r = run(&["analyze", "--json", &p], None);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    assert_names(
        &r,
        &[
            &p,
            "warning",
            &format!("truncated after frame {last_whole}"),
        ],
    );
    let conns = r.connections();
    assert_eq!(conns.len(), 2, "{}", r.stdout);
    assert_eq!(
        conns[0]["verdict"], "ok",
        "the whole connection: {}",
        conns[0]
    );
    assert!(conns[1]["last_frame"].as_u64().unwrap() <= last_whole as u64);

    // The table output prints them too.
    let r = run(&["analyze", &p], None);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    assert!(r.stdout.contains("2 connections"), "{}", r.stdout);
}

#[test]
fn caplen_larger_than_len() {
    let dir = scratch("caplen-over-len");
    let mut syn = Record::new(1_700_000_000, tcp_frame(50_000, true, b""));
    syn.len = syn.caplen - 10;
    let ack = Record::new(1_700_000_001, tcp_frame(50_000, false, b"\x03\x00\x00\x04"));
    let p = write(&dir, "x.pcap", &pcap_file(1, 262_144, &[syn, ack]));
    let r = run(&["analyze", "--json", &p], None);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    assert_names(&r, &[&p, "frame 1", "more bytes captured than the length"]);
    assert_eq!(r.connections().len(), 1, "{}", r.stdout);
}

#[test]
fn packet_longer_than_snaplen() {
    let dir = scratch("over-snaplen");
    // The file says snaplen 64; frame 2 is longer (254 bytes). libpcap cuts it to the snaplen.
    let frames = [
        Record::new(1_700_000_000, tcp_frame(50_001, true, b"")),
        Record::new(1_700_000_001, tcp_frame(50_001, false, &[0x55; 200])),
    ];
    let p = write(&dir, "snap.pcap", &pcap_file(1, 64, &frames));
    let r = run(&["analyze", &p], None);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    assert_names(&r, &[&p, "frame 2", "only 64 of"]);
}

#[test]
fn packet_longer_than_any_snaplen_is_an_error_naming_the_frame() {
    let dir = scratch("huge-caplen");
    let syn = Record::new(1_700_000_000, tcp_frame(50_002, true, b""));
    let mut huge = Record::new(1_700_000_001, vec![0; 300_000]);
    huge.len = 300_000;
    let after = Record::new(1_700_000_002, tcp_frame(50_002, false, b"x"));
    let p = write(
        &dir,
        "huge.pcap",
        &pcap_file(1, 262_144, &[syn, huge, after]),
    );
    let r = run(&["analyze", "--json", &p], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &[&p, "frame 2", "capture length"]);
    // The connection seen before the bad frame is still reported.
    assert_eq!(r.connections().len(), 1, "{}", r.stdout);
}

#[test]
fn timestamps_going_backwards() {
    let dir = scratch("backwards");
    let mut records = read_records(&fixture("nla_ok.pcap"));
    let base = records[0].ts_sec;
    let n = records.len() as u32;
    for (i, r) in records.iter_mut().enumerate() {
        r.ts_sec = base + n - i as u32;
    }
    let p = write(&dir, "back.pcap", &pcap_file(1, 262_144, &records));
    let r = run(&["analyze", "--json", &p], None);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    assert_names(&r, &[&p, "frame 2", "backwards"]);
    let conns = r.connections();
    assert_eq!(conns.len(), 1, "{}", r.stdout);
    for c in &conns {
        assert!(c["duration_ms"].as_f64().unwrap() >= 0.0, "{c}");
    }
}

#[test]
fn unknown_link_type() {
    let dir = scratch("linktype");
    let records = read_records(&fixture("nla_ok.pcap"));
    let p = write(&dir, "user0.pcap", &pcap_file(147, 262_144, &records));
    let r = run(&["analyze", &p], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &[&p, "unsupported link type", "147"]);
}

/// One pcapng block: type, total length, body padded to 32 bits, total length again.
fn pcapng_block(block_type: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let total = (body.len() + 12) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(&block_type.to_le_bytes());
    b.extend_from_slice(&total.to_le_bytes());
    b.extend(body);
    b.extend_from_slice(&total.to_le_bytes());
    b
}

#[test]
fn pcapng_with_unknown_block_types() {
    let dir = scratch("pcapng");
    let records = read_records(&fixture("nla_ok.pcap"));
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    let mut bytes = pcapng_block(0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&262_144u32.to_le_bytes());
    bytes.extend(pcapng_block(1, &idb));
    bytes.extend(pcapng_block(0x0bad_cafe, b"a block type nobody knows"));
    for (i, r) in records.iter().enumerate() {
        let ts = u64::from(r.ts_sec) * 1_000_000 + u64::from(r.ts_usec);
        let mut epb = Vec::new();
        for v in [0, (ts >> 32) as u32, ts as u32, r.caplen, r.len] {
            epb.extend_from_slice(&v.to_le_bytes());
        }
        epb.extend_from_slice(&r.data);
        bytes.extend(pcapng_block(6, &epb));
        if i == 5 {
            // A "local use" block type (high bit set) in the middle of the packets.
            bytes.extend(pcapng_block(0x8000_0bad, &[0xee; 13]));
        }
    }
    let p = write(&dir, "unknown-blocks.pcapng", &bytes);
    let r = run(&["analyze", "--json", &p], None);
    let plain = run(
        &[
            "analyze",
            "--json",
            repo_root()
                .join("fixtures/lab/nla_ok.pcap")
                .to_str()
                .unwrap(),
        ],
        None,
    );
    assert_eq!(r.code, plain.code, "{}", r.stderr);
    let (a, b) = (r.connections(), plain.connections());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x["verdict"], y["verdict"]);
        assert_eq!(x["packets"], y["packets"]);
        assert_eq!(x["last_frame"], y["last_frame"]);
    }
}

#[test]
fn gzip_that_ends_early() {
    let dir = scratch("gzip-short");
    let gz = gzip(&fixture("nla_ok.pcap"));
    let p = write(&dir, "short.pcap.gz", &gz[..gz.len() / 2]);
    let r = run(&["analyze", "--json", &p], None);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    assert_names(&r, &[&p, "warning", "compressed data ends early"]);
    assert_eq!(r.connections().len(), 1, "{}", r.stdout);
}

/// A bad frame in the middle of a streamed (gzip, stdin) capture, with more than a pipe's
/// worth of data after it: rdpscope used to wait forever for its decompression thread.
fn bad_frame_then_lots(records: &[Record]) -> Vec<u8> {
    let mut all: Vec<Record> = (0..40).flat_map(|_| records.iter().cloned()).collect();
    all[5].caplen = 0x7fff_ffff;
    pcap_file(1, 262_144, &all)
}

#[test]
fn gzip_with_a_bad_frame_in_the_middle_does_not_hang() {
    let dir = scratch("gzip-bad-frame");
    let bytes = bad_frame_then_lots(&read_records(&fixture("nla_ok.pcap")));
    let p = write(&dir, "bad.pcap.gz", &gzip(&bytes));
    let r = run(&["analyze", &p], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &[&p, "frame 6", "capture length"]);
}

#[test]
fn a_directory() {
    let dir = scratch("directory");
    let p = dir.to_str().unwrap().to_string();
    let r = run(&["analyze", &p], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &[&p, "is a directory"]);
}

fn fifo_case(name: &str, bytes: Vec<u8>) -> (String, Run) {
    let dir = scratch(name);
    let fifo = dir.join("capture.fifo");
    let ok = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok, "mkfifo failed");
    let path = fifo.clone();
    let writer = std::thread::spawn(move || {
        // Blocks until rdpscope opens the FIFO; a reader that stops early is not our concern.
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&path) {
            let _ = f.write_all(&bytes);
        }
    });
    let p = fifo.to_str().unwrap().to_string();
    let r = run(&["analyze", "--json", &p], None);
    writer.join().expect("fifo writer");
    (p, r)
}

#[test]
fn a_fifo() {
    let (_, r) = fifo_case("fifo", fixture("nla_ok.pcap"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let conns = r.connections();
    assert_eq!(conns.len(), 1, "{}", r.stdout);
    assert_eq!(conns[0]["verdict"], "ok");
}

#[test]
fn a_fifo_carrying_gzip() {
    let (_, r) = fifo_case("fifo-gz", gzip(&fixture("nla_ok.pcap")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.connections().len(), 1, "{}", r.stdout);
}

#[test]
fn a_fifo_carrying_garbage() {
    let (p, r) = fifo_case("fifo-garbage", b"this is not a capture at all".repeat(100));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &[&p, "not a pcap or pcapng capture"]);
}

#[test]
fn a_missing_file() {
    let dir = scratch("missing");
    let p = dir.join("no-such.pcap").to_str().unwrap().to_string();
    let r = run(&["analyze", &p], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &[&p, "No such file"]);
}

#[test]
fn standard_input() {
    let r = run(&["analyze", "--json", "-"], Some(fixture("nla_ok.pcap")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let conns = r.connections();
    assert_eq!(conns.len(), 1, "{}", r.stdout);
    assert_eq!(conns[0]["verdict"], "ok");
    // The short form, gzip on stdin.
    let r = run(&["-"], Some(gzip(&fixture("nla_ok.pcap"))));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("1 connection"), "{}", r.stdout);
}

#[test]
fn standard_input_empty_or_garbage() {
    let r = run(&["analyze", "-"], Some(Vec::new()));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &["rdpscope: -: "]);
    let r = run(
        &["analyze", "-"],
        Some(b"GET / HTTP/1.1\r\n\r\n".repeat(50)),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &["rdpscope: -: ", "not a pcap or pcapng capture"]);
}

#[test]
fn standard_input_with_a_bad_frame_in_the_middle_does_not_hang() {
    let bytes = bad_frame_then_lots(&read_records(&fixture("nla_ok.pcap")));
    let r = run(&["analyze", "-"], Some(bytes));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &["rdpscope: -: frame 6", "capture length"]);
}

#[test]
fn a_bad_file_among_good_ones_is_named() {
    let dir = scratch("several");
    let bad = write(&dir, "bad.pcap", b"garbage, not a capture");
    let good = repo_root().join("fixtures/lab/nla_ok.pcap");
    let r = run(&["analyze", good.to_str().unwrap(), &bad], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_names(&r, &[&bad, "not a pcap"]);
}
