//! Packet sources: capture files (pcap, pcapng, gzip, stdin; pcapng secrets blocks too) and
//! live interfaces (feature `live`),
//! and the decoding of link, network and transport headers.
// Wire lengths and sequence numbers: no silent truncation (checked conversions only).
#![cfg_attr(not(test), deny(clippy::cast_possible_truncation))]

pub mod decode;
#[cfg(feature = "live")]
mod libpcap_file;
#[cfg(feature = "live")]
pub mod live;
mod native;
pub mod pcapng_out;
mod prefetch;
pub mod source;
pub mod writer;

pub use decode::{
    decode_packet, Decoded, IcmpUnreachable, TcpFlags, TcpSegment, Transport, UdpDatagram,
};
pub use source::{
    CaptureError, CaptureWarning, FileReader, FileSet, RawPacket, SecretsBlock, SECRETS_TYPE_TLS,
};
