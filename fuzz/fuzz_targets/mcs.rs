#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::mcs;

fuzz_target!(|data: &[u8]| {
    let _ = mcs::parse_mcs_pdu(data);
    let _ = mcs::parse_security_header(data);
});
