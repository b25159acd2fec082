#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::{tpkt, Framing};

fuzz_target!(|data: &[u8]| {
    match tpkt::find_size(data) {
        Framing::Complete(n) => assert!(n > 0 && n <= data.len()),
        Framing::NeedMore(n) => assert!(n > 0),
        Framing::Invalid => {}
    }
    if let Ok((_, payload)) = tpkt::parse_tpkt(data) {
        assert!(payload.len() <= data.len());
    }
});
