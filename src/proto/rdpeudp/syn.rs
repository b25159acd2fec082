//! MS-RDPEUDP v1 handshake payloads: RDPUDP_SYNDATA_PAYLOAD (MS-RDPEUDP 2.2.2.5),
//! RDPUDP_SYNDATAEX_PAYLOAD (2.2.2.9), and the header-only SYN / SYN+ACK checks the flow table
//! uses to tell the client from the server.

use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32};

use super::{UdpFlags, LAYER_V1, MAX_MTU, MIN_MTU, UDP_VERSION_1, UDP_VERSION_2, UDP_VERSION_3};
use crate::proto::wire::{field, run, Parsed};

/// RDPUDP_SYNDATA_PAYLOAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynData {
    pub initial_sequence: u32,
    pub up_mtu: u16,
    pub down_mtu: u16,
}

impl SynData {
    /// Both MTUs inside 1132..=1232 as the spec requires.
    pub fn mtus_valid(&self) -> bool {
        mtu_ok(self.up_mtu) && mtu_ok(self.down_mtu)
    }
}

fn mtu_ok(mtu: u16) -> bool {
    (MIN_MTU..=MAX_MTU).contains(&mtu)
}

pub(super) fn syn_data(i: &[u8]) -> Parsed<'_, SynData> {
    let (i, initial_sequence) = field("snInitialSequenceNumber", be_u32)(i)?;
    let (i, up_mtu) = field("uUpStreamMtu", be_u16)(i)?;
    let (i, down_mtu) = field("uDownStreamMtu", be_u16)(i)?;
    Ok((
        i,
        SynData {
            initial_sequence,
            up_mtu,
            down_mtu,
        },
    ))
}

/// RDPUDP_SYNDATAEX_PAYLOAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynEx {
    pub flags: u16,
    /// uUdpVer: 1, 2 or 0x0101 (RDPEUDP2); other values are kept as sent.
    pub version: u16,
    /// SHA-256 of the multitransport security cookie, in a client SYN with version 0x0101.
    pub cookie_hash: Option<[u8; 32]>,
}

impl SynEx {
    /// RDPUDP_VERSION_INFO_VALID: the version field means something.
    pub fn version_valid(&self) -> bool {
        self.flags & 0x0001 != 0
    }

    pub fn version_name(&self) -> String {
        match self.version {
            UDP_VERSION_1 => "RDPUDP_PROTOCOL_VERSION_1".into(),
            UDP_VERSION_2 => "RDPUDP_PROTOCOL_VERSION_2".into(),
            UDP_VERSION_3 => "RDPUDP_PROTOCOL_VERSION_3 (RDPEUDP2)".into(),
            other => format!("0x{other:04x}"),
        }
    }

    /// After a SYN+ACK with this version the data phase uses the MS-RDPEUDP2 format.
    pub fn is_rdpeudp2(&self) -> bool {
        self.version_valid() && self.version == UDP_VERSION_3
    }
}

pub(super) fn syn_ex(i: &[u8], client_syn: bool) -> Parsed<'_, SynEx> {
    {
        let (i, flags) = field("uSynExFlags", be_u16)(i)?;
        let (i, version) = field("uUdpVer", be_u16)(i)?;
        // Lenient: the hash is only read when the whole 32 bytes are there.
        let (i, cookie_hash) = if client_syn && version == UDP_VERSION_3 && i.len() >= 32 {
            let (i, hash) = field("cookieHash", take(32usize))(i)?;
            (i, <[u8; 32]>::try_from(hash).ok())
        } else {
            (i, None)
        };
        Ok((
            i,
            SynEx {
                flags,
                version,
                cookie_hash,
            },
        ))
    }
}

/// Handshake fields read without a full parse: (snSourceAck, flags, up MTU, down MTU).
fn handshake_fields(p: &[u8]) -> Option<(u32, UdpFlags, u16, u16)> {
    if p.len() < usize::from(MIN_MTU) {
        return None;
    }
    run(LAYER_V1, p, |i| {
        let (i, ack) = field("snSourceAck", be_u32)(i)?;
        let (i, _window) = field("uReceiveWindowSize", be_u16)(i)?;
        let (i, flags) = field("uFlags", be_u16)(i)?;
        let (i, syn) = syn_data(i)?;
        Ok((i, (ack, UdpFlags(flags), syn.up_mtu, syn.down_mtu)))
    })
    .ok()
}

/// The client SYN, by its header alone: snSourceAck 0xFFFFFFFF, SYN without ACK/DATA/FEC,
/// both MTUs in 1132..=1232 and the datagram zero-padded to at least 1132 bytes.
pub fn looks_like_syn(payload: &[u8]) -> bool {
    match handshake_fields(payload) {
        Some((ack, flags, up, down)) => {
            ack == u32::MAX
                && flags.contains(UdpFlags::SYN)
                && flags.0 & (UdpFlags::ACK | UdpFlags::DATA | UdpFlags::FEC) == 0
                && mtu_ok(up)
                && mtu_ok(down)
        }
        None => false,
    }
}

/// The server SYN+ACK, by its header alone: SYN|ACK without DATA/FEC, MTUs in range, padded.
pub fn looks_like_syn_ack(payload: &[u8]) -> bool {
    match handshake_fields(payload) {
        Some((_, flags, up, down)) => {
            flags.contains(UdpFlags::SYN | UdpFlags::ACK)
                && flags.0 & (UdpFlags::DATA | UdpFlags::FEC) == 0
                && mtu_ok(up)
                && mtu_ok(down)
        }
        None => false,
    }
}
