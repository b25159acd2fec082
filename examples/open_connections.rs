//! For bench/run.sh: the most connections rdpscope holds open at once on a capture (flows in
//! the flow table, followed or not), which divides rdpscope's peak memory into bytes per
//! open connection. Runs the same pipeline, with the same defaults, as `rdpscope analyze`.
//!
//!     cargo run --release --example open_connections -- capture.pcap
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

use rdpscope::capture::FileSet;
use rdpscope::pipeline::{Pipeline, PipelineConfig};

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: open_connections FILE...");
        std::process::exit(2);
    }
    let mut files = match FileSet::open(&paths, None) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let mut pipeline = Pipeline::new(PipelineConfig::default());
    let (mut peak, mut finished) = (0usize, 0u64);
    let read = files.for_each(|raw| {
        pipeline.packet(raw, &mut |_| finished += 1);
        peak = peak.max(pipeline.active_connections());
    });
    if let Err(e) = read {
        eprintln!("{e}");
    }
    let summary = pipeline.finish(&mut |_| finished += 1);
    println!(
        "{peak} peak open, {finished} connections, {} packets",
        summary.packets
    );
}
