#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::flow::{PacketInfo, Side};
use rdpscope::session::{gateway, Connection};

// Decrypted gateway streams cut into records at 0xFF bytes, alternating sides.
fuzz_target!(|data: &[u8]| {
    let mut conn = Connection::default();
    for (i, rec) in data.split(|&x| x == 0xFF).enumerate() {
        let side = if i % 2 == 0 { Side::Client } else { Side::Server };
        let at = PacketInfo { file: 0, frame: i as u64, ts_ns: 0 };
        gateway::route_plaintext(&mut conn, &at, side, 23, rec);
    }
});
