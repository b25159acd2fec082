//! A small mutation fuzzer that runs on stable Rust: seeds cut from real captures (the lab
//! fixtures and, when present, the public captures), mutated with a fixed-seed generator
//! (bit flips, truncations, length-field edits, splices), each input run under
//! `catch_unwind` with a watchdog for hangs.
//!
//! `FUZZ_ITERS` sets the iterations per target (default small, for CI); `FUZZ_SECS` runs each
//! target for that many seconds instead; `FUZZ_SEED` changes the generator's seed;
//! `FUZZ_CORPUS_OUT=dir` writes the seeds of every target under `dir/<target>/` (the corpus
//! of the cargo-fuzz targets in `fuzz/`). Inputs that panic are saved under
//! `$CARGO_TARGET_TMPDIR/fuzz-crashes/`, and the test fails naming them.
#![allow(dead_code)]

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use etherparse::{LaxSlicedPacket, TransportSlice};
use rdpscope::proto::{fastpath, tls, tpkt, Framing};

/// splitmix64: small, fixed, good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

const INTERESTING_16: [u16; 10] = [0, 1, 2, 3, 4, 0x7f, 0x80, 0x7fff, 0x8000, 0xffff];
const INTERESTING_8: [u8; 8] = [0, 1, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff];

/// Applies one to four mutations to `data`; `other` is a second seed for splices.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(10) {
            // Flip one bit.
            0 | 1 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            // An interesting byte (also BER/PER length prefixes).
            2 if len > 0 => {
                let i = rng.below(len);
                data[i] = INTERESTING_8[rng.below(INTERESTING_8.len())];
            }
            // A length field: a 16-bit value near the buffer length, or an extreme one.
            3 | 4 if len > 1 => {
                let i = rng.below(len - 1);
                let v = match rng.below(4) {
                    0 => INTERESTING_16[rng.below(INTERESTING_16.len())],
                    1 => (len - i) as u16,
                    2 => (len as u16)
                        .wrapping_add(rng.below(9) as u16)
                        .wrapping_sub(4),
                    _ => u16::from_be_bytes([data[i], data[i + 1]])
                        .wrapping_add(rng.below(33) as u16)
                        .wrapping_sub(16),
                };
                let b = if rng.chance(4) {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                data[i..i + 2].copy_from_slice(&b);
            }
            // Truncate.
            5 if len > 0 => data.truncate(rng.below(len)),
            // Delete a range.
            6 if len > 1 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(16)).min(len);
                data.drain(a..b);
            }
            // Insert random bytes.
            7 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            // Duplicate a range.
            8 if len > 1 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                let copy = data[a..b].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, copy);
            }
            // Splice with another seed.
            _ if !other.is_empty() => {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len());
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            _ => {}
        }
    }
}

/// Iterations per target, or a time budget per target.
pub enum Budget {
    Iters(u64),
    Time(Duration),
}

pub fn budget(default_iters: u64) -> Budget {
    if let Some(s) = std::env::var("FUZZ_SECS").ok().and_then(|v| v.parse().ok()) {
        return Budget::Time(Duration::from_secs(s));
    }
    Budget::Iters(
        std::env::var("FUZZ_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default_iters),
    )
}

fn seed_value() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_0f4d_5c09)
}

pub fn crash_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes")
}

/// Runs `f` on the seeds and on mutations of them; fails the test if any input panics.
/// An input that runs longer than `hang` is saved and the process aborted (a hang).
pub fn fuzz(name: &str, seeds: &[Vec<u8>], budget: Budget, hang: Duration, f: impl Fn(&[u8])) {
    assert!(!seeds.is_empty(), "{name}: no seeds");
    write_corpus(name, seeds);
    let current: Arc<Mutex<Vec<u8>>> = Arc::default();
    let started_ms = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let clock = Instant::now();
    let watchdog = {
        let (current, started_ms, done) = (current.clone(), started_ms.clone(), done.clone());
        let name = name.to_string();
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let s = started_ms.load(Ordering::Relaxed);
                let now = clock.elapsed().as_millis() as u64;
                if s != 0 && now.saturating_sub(s) > hang.as_millis() as u64 {
                    let input = current.lock().map(|c| c.clone()).unwrap_or_default();
                    let path = save_crash(&name, "hang", &input);
                    eprintln!("{name}: an input ran for more than {hang:?}: saved as {path:?}");
                    std::process::abort();
                }
            }
        })
    };
    let mut rng = Rng::new(seed_value() ^ fnv(name.as_bytes()));
    let mut crashes = Vec::new();
    let mut execs: u64 = 0;
    let start = Instant::now();
    let run_one = |input: &[u8], execs: &mut u64, crashes: &mut Vec<PathBuf>| {
        if let Ok(mut c) = current.lock() {
            c.clear();
            c.extend_from_slice(input);
        }
        started_ms.store(clock.elapsed().as_millis().max(1) as u64, Ordering::Relaxed);
        let r = catch_unwind(AssertUnwindSafe(|| f(input)));
        started_ms.store(0, Ordering::Relaxed);
        *execs += 1;
        if r.is_err() {
            crashes.push(save_crash(name, "panic", input));
        }
    };
    for s in seeds {
        run_one(s, &mut execs, &mut crashes);
    }
    let mut input = Vec::new();
    loop {
        match budget {
            Budget::Iters(n) if execs >= n + seeds.len() as u64 => break,
            Budget::Time(t) if start.elapsed() >= t => break,
            _ => {}
        }
        input.clear();
        input.extend_from_slice(&seeds[rng.below(seeds.len())]);
        let other = &seeds[rng.below(seeds.len())];
        mutate(&mut rng, &mut input, other);
        run_one(&input, &mut execs, &mut crashes);
        if crashes.len() >= 20 {
            break;
        }
    }
    done.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    eprintln!(
        "fuzz {name}: {execs} executions in {:.1} s, {} seeds, {} panics",
        start.elapsed().as_secs_f64(),
        seeds.len(),
        crashes.len()
    );
    assert!(
        crashes.is_empty(),
        "{name}: {} inputs panicked, saved as {crashes:?}",
        crashes.len()
    );
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
    })
}

fn save_crash(name: &str, kind: &str, input: &[u8]) -> PathBuf {
    let dir = crash_dir();
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{name}-{kind}-{:016x}.bin", fnv(input)));
    let _ = std::fs::write(&path, input);
    path
}

fn write_corpus(name: &str, seeds: &[Vec<u8>]) {
    let Some(out) = std::env::var_os("FUZZ_CORPUS_OUT") else {
        return;
    };
    let dir = Path::new(&out).join(name);
    let _ = std::fs::create_dir_all(&dir);
    for s in seeds {
        let _ = std::fs::write(dir.join(format!("{:016x}", fnv(s))), s);
    }
}

// ---- seeds from real captures ----------------------------------------------------------

/// One PDU cut from a TCP stream, with its direction.
#[derive(Clone)]
pub struct Pdu {
    pub from_client: bool,
    pub bytes: Vec<u8>,
}

/// Everything cut from the captures once: per-connection PDU sequences and whole files.
pub struct Corpus {
    /// Each TCP connection's PDUs (TPKT, TLS records, fast-path), in capture order.
    pub conversations: Vec<Vec<Pdu>>,
    /// Whole capture files (small ones), for the pipeline target.
    pub files: Vec<Vec<u8>>,
    /// UDP payloads to or from an RDP-UDP port (3389, 3391): RDP-UDP v1 and v2 datagrams.
    pub datagrams: Vec<Vec<u8>>,
}

pub fn corpus() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(build_corpus)
}

/// The lab fixtures and the public captures (when present), small enough to seed from.
fn capture_files() -> Vec<PathBuf> {
    let root = crate::common::repo_root();
    let mut files = crate::common::captures_under(&root.join("fixtures/lab"));
    files.extend(crate::common::captures_under(
        &root.join("../shared/captures"),
    ));
    files.retain(|p| {
        p.extension().is_none_or(|x| x != "gz")
            && std::fs::metadata(p).is_ok_and(|m| m.len() < 4 << 20)
    });
    files
}

fn build_corpus() -> Corpus {
    let mut conversations = Vec::new();
    let mut files = Vec::new();
    let mut datagrams = Vec::new();
    for path in capture_files() {
        if let Ok(bytes) = std::fs::read(&path) {
            if bytes.len() <= 64 * 1024 {
                files.push(bytes);
            }
        }
        conversations.extend(conversations_in(&path, &mut datagrams));
    }
    Corpus {
        conversations,
        files,
        datagrams,
    }
}

type Dir = (std::net::IpAddr, u16, std::net::IpAddr, u16);

/// A packet's bytes, as the loop below used to get them from libpcap.
struct Packet<'a> {
    data: &'a [u8],
}

/// Cuts every TCP connection with an RDP port into PDUs, naively reassembled (in order,
/// retransmissions dropped by sequence number), at most 64 KiB per direction; the payloads
/// of UDP datagrams on an RDP-UDP port go to `datagrams` (at most 2000 per file).
fn conversations_in(path: &Path, datagrams: &mut Vec<Vec<u8>>) -> Vec<Vec<Pdu>> {
    let datagrams_before = datagrams.len();
    // Read with rdpscope's own reader: the harness needs no libpcap.
    let mut packets: Vec<(i32, Vec<u8>)> = Vec::new();
    let opened = rdpscope::capture::FileSet::open(&[path.to_string_lossy().into_owned()], None);
    let Ok(mut files) = opened else {
        return Vec::new();
    };
    if files
        .for_each(|raw| packets.push((raw.linktype, raw.data.to_vec())))
        .is_err()
        && packets.is_empty()
    {
        return Vec::new();
    }
    struct Half {
        next_seq: Option<u32>,
        buf: Vec<u8>,
        total: usize,
        tls: bool,
    }
    let mut halves: HashMap<Dir, Half> = HashMap::new();
    let mut convs: HashMap<(Dir, Dir), usize> = HashMap::new();
    let mut out: Vec<Vec<Pdu>> = Vec::new();
    for (linktype, data) in &packets {
        let p = Packet { data };
        let sliced = match *linktype {
            1 => LaxSlicedPacket::from_ethernet(p.data).ok(),
            101 | 228 | 229 => LaxSlicedPacket::from_ip(p.data).ok(),
            113 => p
                .data
                .get(16..)
                .and_then(|d| LaxSlicedPacket::from_ip(d).ok()),
            _ => None,
        };
        let Some(s) = sliced else { continue };
        let (src, dst) = match &s.net {
            Some(etherparse::LaxNetSlice::Ipv4(v4)) => (
                std::net::IpAddr::V4(v4.header().source_addr()),
                std::net::IpAddr::V4(v4.header().destination_addr()),
            ),
            Some(etherparse::LaxNetSlice::Ipv6(v6)) => (
                std::net::IpAddr::V6(v6.header().source_addr()),
                std::net::IpAddr::V6(v6.header().destination_addr()),
            ),
            None => continue,
        };
        if let Some(TransportSlice::Udp(udp)) = &s.transport {
            let ports = [udp.source_port(), udp.destination_port()];
            if ports.iter().any(|p| [3389, 3391].contains(p))
                && !udp.payload().is_empty()
                && datagrams.len() - datagrams_before < 2000
            {
                datagrams.push(udp.payload().to_vec());
            }
            continue;
        }
        let Some(TransportSlice::Tcp(tcp)) = &s.transport else {
            continue;
        };
        let (sp, dp) = (tcp.source_port(), tcp.destination_port());
        if ![sp, dp].iter().any(|p| [3389, 443, 3391].contains(p)) {
            continue;
        }
        let from_client = dp == 3389 || dp == 443 || dp == 3391;
        let dir: Dir = (src, sp, dst, dp);
        let rev: Dir = (dst, dp, src, sp);
        let key = if from_client { (dir, rev) } else { (rev, dir) };
        let n = out.len();
        let conv = *convs.entry(key).or_insert(n);
        if conv == n {
            out.push(Vec::new());
        }
        let half = halves.entry(dir).or_insert(Half {
            next_seq: None,
            buf: Vec::new(),
            total: 0,
            tls: false,
        });
        let payload = tcp.payload();
        let seq = tcp.sequence_number().wrapping_add(u32::from(tcp.syn()));
        if payload.is_empty() {
            half.next_seq.get_or_insert(seq);
            continue;
        }
        if let Some(next) = half.next_seq {
            if (seq.wrapping_sub(next) as i32) < 0 {
                continue; // a retransmission
            }
        }
        half.next_seq = Some(seq.wrapping_add(payload.len() as u32));
        if half.total > 64 * 1024 {
            continue;
        }
        half.total += payload.len();
        half.buf.extend_from_slice(payload);
        // Cut whole PDUs off the front.
        loop {
            let framing = match half.buf.first() {
                Some(0x03) if !half.tls => tpkt::find_size(&half.buf),
                Some(0x14..=0x18) => {
                    half.tls = true;
                    tls::find_record_size(&half.buf)
                }
                Some(_) => fastpath::find_size(&half.buf),
                None => break,
            };
            match framing {
                Framing::Complete(n) if n > 0 && n <= half.buf.len() => {
                    let bytes: Vec<u8> = half.buf.drain(..n).collect();
                    out[conv].push(Pdu { from_client, bytes });
                }
                Framing::Complete(_) | Framing::Invalid => {
                    // Lost our place (a gap, CredSSP inside TLS...): keep the rest as one blob.
                    let bytes = std::mem::take(&mut half.buf);
                    out[conv].push(Pdu { from_client, bytes });
                    break;
                }
                Framing::NeedMore(_) => break,
            }
        }
    }
    out.retain(|c| !c.is_empty());
    out
}

/// Distinct byte strings, at most `max`, spread over the whole list.
pub fn dedup(mut v: Vec<Vec<u8>>, max: usize) -> Vec<Vec<u8>> {
    v.sort();
    v.dedup();
    if v.len() > max {
        let step = v.len() as f64 / max as f64;
        v = (0..max)
            .filter_map(|i| v.get((i as f64 * step) as usize).cloned())
            .collect();
    }
    v
}

/// All PDUs of the corpus.
pub fn all_pdus() -> impl Iterator<Item = &'static Pdu> {
    corpus().conversations.iter().flatten()
}

/// DER certificates found in TLS streams (a SEQUENCE with a two-byte length that fits).
pub fn certificates() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for pdu in all_pdus().filter(|p| p.bytes.first() == Some(&0x16)) {
        let b = &pdu.bytes;
        let mut i = 0;
        while i + 4 < b.len() {
            if b[i] == 0x30 && b[i + 1] == 0x82 {
                let n = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]])) + 4;
                if n > 200 && i + n <= b.len() && b.get(i + 4) == Some(&0x30) {
                    out.push(b[i..i + n].to_vec());
                    i += n;
                    continue;
                }
            }
            i += 1;
        }
    }
    out
}
