#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::{fastpath, Framing};

fuzz_target!(|data: &[u8]| {
    match fastpath::find_size(data) {
        Framing::Complete(n) => assert!(n > 0 && n <= data.len()),
        Framing::NeedMore(n) => assert!(n > 0),
        Framing::Invalid => {}
    }
    let _ = fastpath::parse_header(data);
});
