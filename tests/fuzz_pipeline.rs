//! Stable fuzzing of the whole pipeline: mutated capture files (the lab fixtures and small
//! public captures) written to a scratch file and run through `analyze_files`, as the binary
//! does. Mutations know the pcap layout: record header fields, and the IP, TCP and TPKT
//! length fields inside frames, besides the generic ones. Knobs: see tests/fuzz/mod.rs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;
mod fuzz;

use std::path::Path;
use std::time::Duration;

use fuzz::*;
use rdpscope::diagnose::Severity;
use rdpscope::pipeline::{analyze_files, PipelineConfig};
use rdpscope::report::{json, summary, table};

/// Offsets of the records of a little-endian µs/ns pcap (None for anything else).
fn record_offsets(b: &[u8]) -> Option<Vec<usize>> {
    let magic = u32::from_le_bytes(b.get(..4)?.try_into().ok()?);
    if magic != 0xa1b2_c3d4 && magic != 0xa1b2_3c4d {
        return None;
    }
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= b.len() {
        out.push(at);
        let caplen = u32::from_le_bytes(b[at + 8..at + 12].try_into().ok()?) as usize;
        at += 16 + caplen;
    }
    Some(out)
}

/// A mutation that knows where pcap records and the headers inside frames are.
fn mutate_capture(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    let Some(records) = record_offsets(data).filter(|r| !r.is_empty() && rng.below(3) != 0) else {
        mutate(rng, data, other);
        return;
    };
    let at = records[rng.below(records.len())];
    let put32 = |data: &mut Vec<u8>, i: usize, v: u32| {
        if let Some(s) = data.get_mut(i..i + 4) {
            s.copy_from_slice(&v.to_le_bytes());
        }
    };
    let put16be = |data: &mut Vec<u8>, i: usize, v: u16| {
        if let Some(s) = data.get_mut(i..i + 2) {
            s.copy_from_slice(&v.to_be_bytes());
        }
    };
    let frame = at + 16;
    let interesting = [0u16, 1, 4, 7, 20, 40, 0x7fff, 0xffff];
    match rng.below(9) {
        // Record header: timestamp seconds (backwards, zero, huge), caplen, orig len.
        0 => put32(data, at, [0, 1, u32::MAX, 0x7fff_ffff][rng.below(4)]),
        1 => put32(data, at + 4, [999_999, 1_000_000, u32::MAX][rng.below(3)]),
        2 => {
            let v = [0, 1, 14, 53, 54, 65_535, 262_144, 262_145, u32::MAX][rng.below(9)];
            put32(data, at + 8, v);
        }
        3 => put32(data, at + 12, [0, 1, 54, 65_535, u32::MAX][rng.below(5)]),
        // IPv4 total length, header length / version, TCP data offset (Ethernet frames).
        4 => {
            let v = interesting[rng.below(interesting.len())];
            put16be(data, frame + 16, v);
        }
        5 => {
            if let Some(b) = data.get_mut(frame + 14) {
                *b = [0x40, 0x45, 0x4f, 0x60, 0x00, 0x41][rng.below(6)];
            }
        }
        6 => {
            if let Some(b) = data.get_mut(frame + 46) {
                *b = [0x00, 0x10, 0x50, 0xf0, 0x80][rng.below(5)];
            }
        }
        // TPKT length / TLS record length at the start of the TCP payload (no options).
        7 => {
            let v = interesting[rng.below(interesting.len())];
            put16be(data, frame + 54 + 2 + rng.below(2), v);
        }
        // Generic mutations inside one frame.
        _ => {
            let caplen = data
                .get(at + 8..at + 12)
                .map(|s| u32::from_le_bytes(s.try_into().unwrap_or_default()) as usize)
                .unwrap_or(0);
            let end = (frame + caplen).min(data.len());
            if frame < end {
                let mut f = data[frame..end].to_vec();
                let len_before = f.len();
                mutate(rng, &mut f, other);
                if f.len() == len_before {
                    data[frame..end].copy_from_slice(&f);
                } else {
                    // Keep the file walkable: fix caplen, sometimes leave len as it was.
                    data.splice(frame..end, f.iter().copied());
                    put32(data, at + 8, f.len() as u32);
                    if rng.below(2) == 0 {
                        put32(data, at + 12, f.len() as u32);
                    }
                }
            }
        }
    }
}

#[test]
fn fuzz_pipeline() {
    let seeds = corpus().files.clone();
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fuzz-pipeline-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    let file = scratch.join("input.pcap");
    let path = file.to_str().expect("utf-8").to_string();
    // The pcap-aware mutator is applied in the target itself: the input is the seed plus
    // a generic mutation, and a second, structure-aware mutation is derived from it.
    fuzz(
        "pipeline",
        &seeds,
        budget(500),
        Duration::from_secs(30),
        |input| {
            let mut data = input.to_vec();
            let mut local = Rng::new(rng_seed(input));
            mutate_capture(&mut local, &mut data, input);
            for bytes in [input, data.as_slice()] {
                std::fs::write(&file, bytes).expect("write scratch capture");
                let mut all = Vec::new();
                let run = analyze_files(
                    std::slice::from_ref(&path),
                    None,
                    PipelineConfig::default(),
                    &mut |d| {
                        // Rendering must not panic either.
                        let _ = json::to_line(&d);
                        all.push(d);
                    },
                );
                let _ = table::summary_table(&all, false, Some(100)).to_string();
                let _ = table::footer(&all);
                for d in &all {
                    let _ = table::findings_block(d, Severity::Info, 120, true);
                }
                // The closing line and notes: side findings that served no connection, and
                // the attempts' stories (the krb_/dns_ lab seeds feed the side machines).
                let _ = json::summary_line(&run);
                let _ = summary::capture_notes(&run, &rdpscope::limits::Limits::default(), 100);
            }
        },
    );
    let _ = std::fs::remove_dir_all(&scratch);
}

fn rng_seed(input: &[u8]) -> u64 {
    input.iter().fold(0x1234_5678u64, |h, &b| {
        h.rotate_left(5) ^ u64::from(b).wrapping_mul(0x9e37_79b9)
    })
}
