#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::{dns, Framing};

fuzz_target!(|data: &[u8]| {
    match dns::find_size_tcp(data) {
        Framing::Complete(n) => assert!(n > 0 && n <= data.len()),
        Framing::NeedMore(n) => assert!(n > 0),
        Framing::Invalid => {}
    }
    if let Ok(m) = dns::parse_message(data) {
        assert!(m.answers.len() <= dns::MAX_RECORDS);
    }
    let _ = dns::parse_tcp(data);
});
