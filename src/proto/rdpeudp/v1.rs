//! MS-RDPEUDP v1 datagrams (big-endian): RDPUDP_FEC_HEADER (MS-RDPEUDP 2.2.2.1) and every
//! optional structure its uFlags announce, in wire order (FACTS 4.1).

use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, u8 as byte};

use super::ack::{ack_vector, AckVector};
use super::syn::{syn_data, syn_ex, SynData, SynEx};
use super::LAYER_V1;
use crate::proto::wire::{field, run, when, Parsed};
use crate::proto::{flag_names, ProtoError};

/// RDPUDP_FEC_HEADER uFlags (FACTS 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpFlags(pub u16);

const UDP_FLAG_NAMES: [(u16, &str); 13] = [
    (UdpFlags::SYN, "SYN"),
    (UdpFlags::FIN, "FIN"),
    (UdpFlags::ACK, "ACK"),
    (UdpFlags::DATA, "DATA"),
    (UdpFlags::FEC, "FEC"),
    (UdpFlags::CN, "CN"),
    (UdpFlags::CWR, "CWR"),
    (UdpFlags::SACK_OPTION, "SACK_OPTION"),
    (UdpFlags::ACK_OF_ACKS, "ACK_OF_ACKS"),
    (UdpFlags::SYNLOSSY, "SYNLOSSY"),
    (UdpFlags::ACKDELAYED, "ACKDELAYED"),
    (UdpFlags::CORRELATION_ID, "CORRELATION_ID"),
    (UdpFlags::SYNEX, "SYNEX"),
];

impl UdpFlags {
    pub const SYN: u16 = 0x0001;
    pub const FIN: u16 = 0x0002;
    pub const ACK: u16 = 0x0004;
    pub const DATA: u16 = 0x0008;
    pub const FEC: u16 = 0x0010;
    pub const CN: u16 = 0x0020;
    pub const CWR: u16 = 0x0040;
    pub const SACK_OPTION: u16 = 0x0080;
    pub const ACK_OF_ACKS: u16 = 0x0100;
    pub const SYNLOSSY: u16 = 0x0200;
    pub const ACKDELAYED: u16 = 0x0400;
    pub const CORRELATION_ID: u16 = 0x0800;
    pub const SYNEX: u16 = 0x1000;

    /// True when every bit of `bit` is set.
    pub fn contains(self, bit: u16) -> bool {
        self.0 & bit == bit
    }

    /// Every set bit by name, unknown bits as "0x....".
    pub fn names(self) -> Vec<String> {
        flag_names(self.0, &UDP_FLAG_NAMES)
    }
}

/// RDPUDP_SOURCE_PAYLOAD_HEADER (MS-RDPEUDP 2.2.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourcePayload {
    pub sn_coded: u32,
    pub sn_source_start: u32,
}

/// RDPUDP_FEC_PAYLOAD_HEADER (MS-RDPEUDP 2.2.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FecPayload {
    pub sn_coded: u32,
    pub sn_source_start: u32,
    pub range: u8,
    pub fec_index: u8,
}

/// One v1 datagram: every optional structure the flags announce, in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Datagram {
    pub sn_source_ack: u32,
    pub receive_window: u16,
    pub flags: UdpFlags,
    pub ack_vector: Option<AckVector>,
    /// RDPUDP_ACK_OF_ACKVECTOR_HEADER snResetSeqNum.
    pub ack_of_acks: Option<u32>,
    pub syn: Option<SynData>,
    pub correlation_id: Option<[u8; 16]>,
    pub synex: Option<SynEx>,
    pub source: Option<SourcePayload>,
    pub fec: Option<FecPayload>,
    /// Bytes after the last header: the (D)TLS payload of a DATA datagram, the zero padding of
    /// a SYN / SYN+ACK.
    pub payload_len: usize,
}

impl V1Datagram {
    /// The client's first datagram: SYN without ACK.
    pub fn is_syn(&self) -> bool {
        self.flags.contains(UdpFlags::SYN) && !self.flags.contains(UdpFlags::ACK)
    }

    /// The server's answer: SYN with ACK.
    pub fn is_syn_ack(&self) -> bool {
        self.flags.contains(UdpFlags::SYN | UdpFlags::ACK)
    }

    /// The sequence number identifying the payload (stable across retransmissions).
    pub fn sn_source_start(&self) -> Option<u32> {
        self.source
            .map(|s| s.sn_source_start)
            .or(self.fec.map(|f| f.sn_source_start))
    }

    /// The per-datagram sequence number (new for every transmission).
    pub fn sn_coded(&self) -> Option<u32> {
        self.source
            .map(|s| s.sn_coded)
            .or(self.fec.map(|f| f.sn_coded))
    }
}

/// RDPUDP_CORRELATION_ID_PAYLOAD (MS-RDPEUDP 2.2.2.8): the id and 16 reserved bytes.
fn correlation_id(i: &[u8]) -> Parsed<'_, [u8; 16]> {
    let (i, id) = field("uCorrelationId", take(16usize))(i)?;
    let (i, _) = field("uReserved", take(16usize))(i)?;
    let mut out = [0u8; 16];
    out.copy_from_slice(id);
    Ok((i, out))
}

fn source_payload(i: &[u8]) -> Parsed<'_, SourcePayload> {
    let (i, sn_coded) = field("snCoded", be_u32)(i)?;
    let (i, sn_source_start) = field("snSourceStart", be_u32)(i)?;
    Ok((
        i,
        SourcePayload {
            sn_coded,
            sn_source_start,
        },
    ))
}

fn fec_payload(i: &[u8]) -> Parsed<'_, FecPayload> {
    let (i, sn_coded) = field("snCoded", be_u32)(i)?;
    let (i, sn_source_start) = field("snSourceStart", be_u32)(i)?;
    let (i, range) = field("uRange", byte)(i)?;
    let (i, fec_index) = field("uFecIndex", byte)(i)?;
    let (i, _) = field("uPadding", take(2usize))(i)?;
    Ok((
        i,
        FecPayload {
            sn_coded,
            sn_source_start,
            range,
            fec_index,
        },
    ))
}

fn datagram(i: &[u8]) -> Parsed<'_, V1Datagram> {
    let (i, sn_source_ack) = field("snSourceAck", be_u32)(i)?;
    let (i, receive_window) = field("uReceiveWindowSize", be_u16)(i)?;
    let (i, flags) = field("uFlags", be_u16)(i)?;
    let flags = UdpFlags(flags);
    let syn = flags.contains(UdpFlags::SYN);
    let (i, ack_vector) = when(flags.contains(UdpFlags::ACK) && !syn, ack_vector)(i)?;
    let (i, ack_of_acks) = when(
        flags.contains(UdpFlags::ACK_OF_ACKS),
        field("snResetSeqNum", be_u32),
    )(i)?;
    let (i, syn_data) = when(syn, syn_data)(i)?;
    let (i, correlation_id) = when(flags.contains(UdpFlags::CORRELATION_ID), correlation_id)(i)?;
    let client_syn = syn && !flags.contains(UdpFlags::ACK);
    let (i, synex) = when(flags.contains(UdpFlags::SYNEX), |i| syn_ex(i, client_syn))(i)?;
    let data = flags.contains(UdpFlags::DATA);
    let fec_flag = flags.contains(UdpFlags::FEC);
    let (i, source) = when(data && !fec_flag, source_payload)(i)?;
    let (i, fec) = when(data && fec_flag, fec_payload)(i)?;
    Ok((
        i,
        V1Datagram {
            sn_source_ack,
            receive_window,
            flags,
            ack_vector,
            ack_of_acks,
            syn: syn_data,
            correlation_id,
            synex,
            source,
            fec,
            payload_len: i.len(),
        },
    ))
}

/// Decodes one MS-RDPEUDP v1 datagram (handshake, ACK, data, FEC) per FACTS 4.1.
pub fn parse_v1(payload: &[u8]) -> Result<V1Datagram, ProtoError> {
    run(LAYER_V1, payload, datagram)
}
