#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::gcc;

fuzz_target!(|data: &[u8]| {
    let _ = gcc::parse_server_data(data);
});
