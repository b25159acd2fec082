#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::{credssp, spnego};

fuzz_target!(|data: &[u8]| {
    let _ = credssp::looks_like_ts_request(data);
    let _ = credssp::find_ts_request_size(data);
    if let Ok(req) = credssp::parse_ts_request(data) {
        let _ = req.error_code.map(|c| c.to_string());
        for t in &req.nego_tokens {
            let _ = spnego::parse_nego_token(t);
        }
    }
});
