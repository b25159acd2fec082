//! Baseline for bench/run.sh: reads every packet of a capture through libpcap (the pcap
//! crate, as rdpscope does) and touches nothing but the lengths.
//!
//!     cargo run --release --example bare_read -- capture.pcap
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bare_read FILE");
        std::process::exit(2);
    };
    let mut cap = match pcap::Capture::from_file_with_precision(&path, pcap::Precision::Nano) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let (mut packets, mut bytes) = (0u64, 0u64);
    while let Ok(p) = cap.next_packet() {
        packets += 1;
        bytes += p.data.len() as u64;
    }
    println!("{packets} packets, {bytes} captured bytes");
}
