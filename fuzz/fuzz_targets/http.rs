#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::http;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(r)) = http::parse_request(data) {
        let _ = (r.rdg(), r.authorization(), r.gateway_request(), r.content_length());
    }
    if let Ok(Some(r)) = http::parse_response(data) {
        let _ = (r.www_authenticate(), r.is_websocket_accept(), r.is_chunked());
    }
    let _ = http::parse_chunk_size(data);
});
