#![no_main]
//! Input: chunks of [direction byte (bit 0: 0 client, 1 server)][u16 BE length][record],
//! the format the stable harness (tests/fuzz_parsers.rs) writes its seeds in.
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::tls::TlsConversation;

fuzz_target!(|data: &[u8]| {
    let mut conv = TlsConversation::new();
    let mut input = data;
    while let [dir, hi, lo, rest @ ..] = input {
        let n = usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len());
        let _ = conv.feed_record(dir & 1 == 0, &rest[..n]);
        input = &rest[n..];
    }
});
