#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = rdpscope::tls::fuzz_input::decrypt_fuzz_input(data);
    assert!(s.held <= rdpscope::tls::MAX_HELD_RECORDS);
});
