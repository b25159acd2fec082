#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::ntlm;

fuzz_target!(|data: &[u8]| {
    if let Ok(ntlm::NtlmMessage::Negotiate(n)) = ntlm::parse_message(data) {
        let _ = n.flags.names();
    }
});
