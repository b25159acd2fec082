#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::{websocket, Framing};

fuzz_target!(|data: &[u8]| {
    match websocket::find_size(data) {
        Framing::Complete(n) => assert!(n > 0 && n <= data.len()),
        Framing::NeedMore(n) => assert!(n > 0),
        Framing::Invalid => {}
    }
    if let Ok(f) = websocket::parse_frame(data) {
        assert_eq!(f.unmasked().count(), f.payload.len());
        let mut out = [0u8; 64];
        let _ = f.unmask_into(&mut out);
    }
});
