#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::{tls, Framing};

fuzz_target!(|data: &[u8]| {
    match tls::find_record_size(data) {
        Framing::Complete(n) => assert!(n > 0 && n <= data.len()),
        Framing::NeedMore(n) => assert!(n > 0),
        Framing::Invalid => {}
    }
});
