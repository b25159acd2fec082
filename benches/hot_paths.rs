//! Micro-benchmarks of the per-packet paths, on real frames from fixtures/lab held in memory:
//! `cargo bench --bench hot_paths`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rdpscope::capture::{decode_packet, RawPacket, Transport};
use rdpscope::flow::{FlowConfig, FlowTable};
use rdpscope::pipeline::{Pipeline, PipelineConfig};
use rdpscope::proto::tls::{find_record_size, TlsConversation};
use rdpscope::proto::{tpkt, x224, Framing};
use rdpscope::session::Connection;

const LINKTYPE_ETHERNET: i32 = 1;

struct Frame {
    ts_ns: i64,
    orig_len: u32,
    data: Vec<u8>,
}

fn fixture(name: &str) -> Vec<Frame> {
    let path = format!("{}/fixtures/lab/{name}.pcap", env!("CARGO_MANIFEST_DIR"));
    let mut cap = pcap::Capture::from_file_with_precision(&path, pcap::Precision::Nano)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut frames = Vec::new();
    while let Ok(p) = cap.next_packet() {
        frames.push(Frame {
            ts_ns: p.header.ts.tv_sec * 1_000_000_000 + p.header.ts.tv_usec,
            orig_len: p.header.len,
            data: p.data.to_vec(),
        });
    }
    frames
}

fn raw(frames: &[Frame]) -> Vec<RawPacket<'_>> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| RawPacket {
            file: 0,
            frame: i as u64 + 1,
            ts_ns: f.ts_ns,
            orig_len: f.orig_len,
            linktype: LINKTYPE_ETHERNET,
            data: &f.data,
        })
        .collect()
}

/// TCP payloads of a fixture with their direction (true: client to server).
fn payloads(frames: &[Frame]) -> Vec<(bool, Vec<u8>)> {
    frames
        .iter()
        .filter_map(
            |f| match decode_packet(LINKTYPE_ETHERNET, &f.data, f.orig_len)?.transport {
                Transport::Tcp(t) if !t.payload.is_empty() => {
                    Some((t.dst_port == 3389, t.payload.to_vec()))
                }
                _ => None,
            },
        )
        .collect()
}

/// Whole PDUs that start a segment and fit in it, as cut by `size`.
fn pdus(
    payloads: &[(bool, Vec<u8>)],
    first: impl Fn(u8) -> bool,
    size: impl Fn(&[u8]) -> Framing,
) -> Vec<(bool, Vec<u8>)> {
    let mut out = Vec::new();
    for (from_client, p) in payloads {
        let mut rest = p.as_slice();
        while let Some(&b) = rest.first() {
            if !first(b) {
                break;
            }
            let Framing::Complete(n) = size(rest) else {
                break;
            };
            out.push((*from_client, rest[..n].to_vec()));
            rest = &rest[n..];
        }
    }
    out
}

fn decode(c: &mut Criterion) {
    let frames: Vec<Frame> = ["tls12_ok", "nla_ok", "rdp_security_ok", "mtu_blackhole"]
        .iter()
        .flat_map(|n| fixture(n))
        .collect();
    let mut g = c.benchmark_group("decode_packet");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("lab frames", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for f in &frames {
                if let Some(d) = decode_packet(LINKTYPE_ETHERNET, black_box(&f.data), f.orig_len) {
                    n += usize::from(d.ttl);
                }
            }
            n
        })
    });
    g.finish();
}

fn reassembly(c: &mut Criterion) {
    let frames: Vec<Frame> = ["tls13_ok", "nla_ok", "lossy_ok", "rdp_security_ok"]
        .iter()
        .flat_map(|n| fixture(n))
        .collect();
    let packets = raw(&frames);
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Elements(packets.len() as u64));
    g.bench_function("FlowTable::process", |b| {
        b.iter(|| {
            let mut table: FlowTable<Connection> =
                FlowTable::new(FlowConfig::default(), Default::default());
            let mut done = Vec::new();
            for p in &packets {
                table.process(black_box(p), &mut done);
            }
            for flow in table.open_flows() {
                table.finish_one(flow, &mut done);
            }
            done.len()
        })
    });
    g.bench_function("Pipeline (diagnosis included)", |b| {
        b.iter(|| {
            let mut pipeline = Pipeline::new(PipelineConfig::default());
            let mut n = 0usize;
            for p in &packets {
                pipeline.packet(black_box(p), &mut |d| n += d.findings.len());
            }
            pipeline.finish(&mut |d| n += d.findings.len());
            n
        })
    });
    g.finish();
}

fn tls(c: &mut Criterion) {
    let seg: Vec<(bool, Vec<u8>)> = ["tls12_ok", "tls13_ok", "self_signed_cert_ignored"]
        .iter()
        .flat_map(|n| payloads(&fixture(n)))
        .collect();
    let records = pdus(&seg, |b| (0x14..=0x18).contains(&b), find_record_size);
    assert!(!records.is_empty());
    let mut g = c.benchmark_group("tls");
    g.throughput(Throughput::Elements(records.len() as u64));
    g.bench_function("find_record_size", |b| {
        b.iter(|| {
            records
                .iter()
                .map(|(_, r)| match find_record_size(black_box(r)) {
                    Framing::Complete(n) => n,
                    _ => 0,
                })
                .sum::<usize>()
        })
    });
    g.bench_function("TlsConversation::feed_record", |b| {
        b.iter(|| {
            let mut conv = TlsConversation::new();
            records
                .iter()
                .map(|(from_client, r)| conv.feed_record(*from_client, black_box(r)).len())
                .sum::<usize>()
        })
    });
    g.finish();
}

fn tpkt_parse(c: &mut Criterion) {
    let seg: Vec<(bool, Vec<u8>)> = ["rdp_security_ok", "neg_failure_ssl_required", "tls12_ok"]
        .iter()
        .flat_map(|n| payloads(&fixture(n)))
        .collect();
    let pdus = pdus(&seg, |b| b == 0x03, tpkt::find_size);
    assert!(!pdus.is_empty());
    let mut g = c.benchmark_group("tpkt");
    g.throughput(Throughput::Elements(pdus.len() as u64));
    g.bench_function("find_size", |b| {
        b.iter(|| {
            pdus.iter()
                .map(|(_, p)| match tpkt::find_size(black_box(p)) {
                    Framing::Complete(n) => n,
                    _ => 0,
                })
                .sum::<usize>()
        })
    });
    g.bench_function("parse_tpkt + x224::parse_tpdu", |b| {
        b.iter(|| {
            pdus.iter()
                .filter_map(|(_, p)| {
                    let (_, payload) = tpkt::parse_tpkt(black_box(p)).ok()?;
                    x224::parse_tpdu(payload).ok().map(|_| 1usize)
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, decode, reassembly, tls, tpkt_parse);
criterion_main!(benches);
