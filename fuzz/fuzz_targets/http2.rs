#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::{http2, Framing};

fuzz_target!(|data: &[u8]| {
    match http2::find_size(data) {
        Framing::Complete(n) => assert!(n > 0 && n <= data.len()),
        Framing::NeedMore(n) => assert!(n > 0),
        Framing::Invalid => {}
    }
    if let Ok((_, http2::Frame::Headers { block })) = http2::parse_frame(data) {
        let _ = http2::response_status(block);
    }
    let _ = http2::response_status(data);
});
