#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::tls;

fuzz_target!(|data: &[u8]| {
    let info = tls::parse_certificate(data);
    let _ = info.matches_host("rdp.example.com");
    let _ = info.weak_key();
    let _ = info.expired_at(1_800_000_000);
});
