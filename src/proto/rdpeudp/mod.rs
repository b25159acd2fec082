//! RDP-UDP transport (FACTS 4): MS-RDPEUDP v1/v2 datagrams (big-endian, `parse_v1`) and the
//! MS-RDPEUDP2 packets that follow a v3 (0x0101) handshake (little-endian, `parse_v2`).
//!
//! Only headers are decoded; the (D)TLS payload is counted, never interpreted here.
//! One file per concern: `v1` (the RDPUDP_FEC_HEADER datagram), `syn` (SYN / SYN+ACK payloads
//! and the header-only handshake checks), `ack` (v1 ack vectors), `v2` (MS-RDPEUDP2 packets),
//! `seq` (16-bit sequence unwrapping).

mod ack;
mod seq;
mod syn;
mod v1;
mod v2;

pub use ack::{AckRun, AckVector};
pub use seq::SeqUnwrapper;
pub use syn::{looks_like_syn, looks_like_syn_ack, SynData, SynEx};
pub use v1::{parse_v1, FecPayload, SourcePayload, UdpFlags, V1Datagram};
pub use v2::{
    parse_v2, AckVecEntry, DelayAckInfo, V2Ack, V2AckVec, V2Datagram, V2Flags, V2_PACKET_DATA,
    V2_PACKET_DUMMY,
};

#[cfg(test)]
use super::ProtoError;

const LAYER_V1: &str = "rdpeudp";
const LAYER_V2: &str = "rdpeudp2";

/// SYN / SYN+ACK MTU bounds (EUDP 2.2.2.5) and the smallest padded handshake datagram.
pub const MIN_MTU: u16 = 1132;
pub const MAX_MTU: u16 = 1232;
/// The spec's upper bound on uAckVectorSize (EUDP 2.2.2.7).
pub const MAX_ACK_VECTOR: u16 = 2048;

/// uUdpVer values carried in RDPUDP_SYNDATAEX_PAYLOAD.
pub const UDP_VERSION_1: u16 = 0x0001;
pub const UDP_VERSION_2: u16 = 0x0002;
/// Data transfer switches to MS-RDPEUDP2 after a handshake agreeing on this version.
pub const UDP_VERSION_3: u16 = 0x0101;

/// RDP-UDP's correlation id as GUID text. The field is a big-endian GUID (FACTS 4.2), so the
/// bytes print in wire order, unlike `nego::format_guid` (Windows' little-endian first
/// fields). tshark shows the same hex without dashes.
pub fn format_correlation_id(id: &[u8; 16]) -> String {
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let part = |r: std::ops::Range<usize>| hex.get(r).unwrap_or_default().to_string();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

#[cfg(test)]
mod tests;
