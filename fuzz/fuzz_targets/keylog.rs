#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::keys::{KeySource, KeyStore};

fuzz_target!(|data: &[u8]| {
    let store = KeyStore::with_capacity(8);
    let stats = store.add_text(data, KeySource::Keylog);
    let lines = data.split(|&c| c == b'\n').count() as u64;
    assert_eq!(stats.accepted + stats.bad + stats.ignored + stats.comments, lines);
});
