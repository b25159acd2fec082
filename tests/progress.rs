//! The progress numbers the library reports while reading files: packets and bytes read,
//! filtered out or not, every N packets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use rdpscope::capture::source::{input_size, ReadCount};
use rdpscope::capture::FileSet;

use common::*;

fn demo() -> String {
    repo_root()
        .join("fixtures/demo/demo.pcap")
        .to_string_lossy()
        .into_owned()
}

fn reports(filter: Option<&str>, every: u64) -> (Vec<ReadCount>, u64) {
    let mut files = FileSet::open(&[demo()], filter).expect("open the demo");
    let mut seen = Vec::new();
    let mut delivered = 0u64;
    files
        .for_each_counted(every, |_| delivered += 1, |c| seen.push(c))
        .expect("read the demo");
    (seen, delivered)
}

#[test]
fn counts_every_packet_read_and_reaches_the_file_size() {
    let (all, delivered) = reports(None, 1);
    assert_eq!(all.len() as u64, delivered, "one report per packet");
    assert!(all
        .windows(2)
        .all(|w| w[1].packets == w[0].packets + 1 && w[1].bytes > w[0].bytes));
    // pcap: a 24-byte file header, then a 16-byte header and the captured bytes per packet.
    let size = input_size(&[demo()]).expect("a plain file has a size");
    assert_eq!(all.last().map(|c| c.bytes + 24), Some(size));
}

#[test]
fn reports_every_n_packets_even_those_a_filter_drops() {
    let (every_ten, _) = reports(None, 10);
    let (filtered, delivered) = reports(Some("udp port 9"), 10);
    assert_eq!(delivered, 0, "the filter matches nothing in the demo");
    assert_eq!(filtered, every_ten);
    assert!(every_ten.iter().all(|c| c.packets % 10 == 0));
}

#[test]
fn standard_input_and_gzip_have_no_size() {
    assert_eq!(input_size(&["-".to_string()]), None);
    let gz = std::env::temp_dir().join(format!("rdpscope-progress-{}.pcap.gz", std::process::id()));
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &std::fs::read(demo()).unwrap()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let gz_path = gz.to_string_lossy().into_owned();
    assert_eq!(input_size(&[demo(), gz_path]), None);
    let _ = std::fs::remove_file(gz);
}
