#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::kkdcp;

fuzz_target!(|data: &[u8]| {
    let _ = kkdcp::looks_like_message(data);
    if let Ok(m) = kkdcp::parse_message(data) {
        assert!(m.kerb_message.len() <= data.len());
        let _ = m.kerberos();
    }
});
