#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::{tsgu, Framing};

fuzz_target!(|data: &[u8]| {
    match tsgu::find_size(data) {
        Framing::Complete(n) => assert!(n > 0 && n <= data.len()),
        Framing::NeedMore(n) => assert!(n > 0),
        Framing::Invalid => {}
    }
    if let Ok((_, p)) = tsgu::parse_packet(data) {
        let _ = p.status().map(|s| (s.name(), s.canonical()));
    }
});
