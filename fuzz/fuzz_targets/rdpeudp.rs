#![no_main]
//! Input: one UDP payload on an RDP-UDP port, decoded as MS-RDPEUDP (v1: handshake, ACK,
//! data, FEC) and as MS-RDPEUDP2 (v2, prefix byte swapped as captured), and the header-only
//! SYN / SYN+ACK checks the flow table uses to pick the client.
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::rdpeudp;

fuzz_target!(|data: &[u8]| {
    let _ = rdpeudp::parse_v1(data);
    let _ = rdpeudp::parse_v2(data);
    let _ = rdpeudp::looks_like_syn(data);
    let _ = rdpeudp::looks_like_syn_ack(data);
});
