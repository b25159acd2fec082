#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::{kerberos, Framing};

fuzz_target!(|data: &[u8]| {
    match kerberos::find_tcp_record_size(data) {
        Framing::Complete(n) => assert!(n > 4 && n <= data.len()),
        Framing::NeedMore(n) => assert!(n > 0),
        Framing::Invalid => {}
    }
    let _ = kerberos::parse_tcp_record(data);
    let _ = kerberos::parse_udp_datagram(data);
});
