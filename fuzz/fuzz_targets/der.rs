#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::der::Reader;

/// Walks every element with every accessor, descending into constructed ones.
fn walk(r: &mut Reader<'_>) {
    for _ in 0..256 {
        let Ok(tlv) = r.read("x") else { return };
        let _ = tlv.as_i64("x");
        let _ = tlv.as_unsigned_bytes("x");
        let _ = tlv.as_bit_string("x");
        let _ = tlv.as_time("x").map(|t| t.unix_seconds());
        let _ = tlv.as_oid("x").map(|o| o.to_string());
        if let Ok(mut inner) = r.enter(&tlv, "x") {
            walk(&mut inner);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    walk(&mut Reader::new("fuzz", data));
});
