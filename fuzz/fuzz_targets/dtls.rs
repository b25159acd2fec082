#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::dtls;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = dtls::parse_record_header(data) {
        assert!(data.len() >= dtls::RECORD_HEADER_LEN);
        assert!(h.sequence < 1 << 48);
    }
    let _ = dtls::looks_like_dtls(data);
});
