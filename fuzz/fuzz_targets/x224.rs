#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::x224;

fuzz_target!(|data: &[u8]| {
    let _ = x224::parse_tpdu(data);
    let _ = x224::looks_like_connection_request(data);
});
