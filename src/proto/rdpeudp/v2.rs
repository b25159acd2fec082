//! MS-RDPEUDP2 packets (little-endian, MS-RDPEUDP2 2.2.1; FACTS 4.6): the header, ACK,
//! OverheadSize, DelayAckInfo, AckOfAcks, DataHeader, AckVec and DataBody payloads.

use nom::bytes::complete::take;
use nom::number::complete::{le_u16, le_u24, u8 as byte};

use super::LAYER_V2;
use crate::proto::wire::{field, run, when, Parsed};
use crate::proto::{flag_names, ProtoError};

/// RDPEUDP2 header flags (low 12 bits of the header, FACTS 4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V2Flags(pub u16);

const V2_FLAG_NAMES: [(u16, &str); 6] = [
    (V2Flags::ACK, "ACK"),
    (V2Flags::DATA, "DATA"),
    (V2Flags::ACKVEC, "ACKVEC"),
    (V2Flags::AOA, "AOA"),
    (V2Flags::OVERHEADSIZE, "OVERHEADSIZE"),
    (V2Flags::DELAYACKINFO, "DELAYACKINFO"),
];

impl V2Flags {
    pub const ACK: u16 = 0x001;
    pub const DATA: u16 = 0x004;
    pub const ACKVEC: u16 = 0x008;
    pub const AOA: u16 = 0x010;
    pub const OVERHEADSIZE: u16 = 0x040;
    pub const DELAYACKINFO: u16 = 0x100;

    pub fn contains(self, bit: u16) -> bool {
        self.0 & bit == bit
    }

    pub fn names(self) -> Vec<String> {
        flag_names(self.0, &V2_FLAG_NAMES)
    }
}

/// Packet_Type_Index values of the PacketPrefixByte.
pub const V2_PACKET_DATA: u8 = 0;
pub const V2_PACKET_DUMMY: u8 = 8;

/// RDPEUDP2 ACK payload (MS-RDPEUDP2 2.2.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Ack {
    pub seq_num: u16,
    /// Lower 24 bits of the receive timestamp, in 4 µs units.
    pub received_ts: u32,
    /// Milliseconds between receiving the packet and sending this ACK.
    pub send_ack_time_gap: u8,
    pub num_delayed_acks: u8,
    pub delay_ack_time_scale: u8,
    /// One byte per delayed ACK (at most 15), newest first.
    pub delay_ack_time_additions: Vec<u8>,
}

/// RDPEUDP2 DelayAckInfo payload (MS-RDPEUDP2 2.2.1.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayAckInfo {
    pub max_delayed_acks: u8,
    pub delayed_ack_timeout_ms: u16,
}

/// One coded AckVec byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckVecEntry {
    /// Bit 7 clear: bits 0-6 give the state of 7 consecutive packets, bit 0 first (1 = received).
    Bitmap(u8),
    /// Bit 7 set: a run of `length` packets all received (bit 6 set) or all lost.
    Run { received: bool, length: u8 },
}

impl AckVecEntry {
    fn from_byte(b: u8) -> Self {
        if b & 0x80 == 0 {
            AckVecEntry::Bitmap(b & 0x7f)
        } else {
            AckVecEntry::Run {
                received: b & 0x40 != 0,
                length: b & 0x3f,
            }
        }
    }

    /// (received, lost) packet counts this entry describes.
    pub fn counts(&self) -> (u32, u32) {
        match *self {
            AckVecEntry::Bitmap(bits) => {
                let received = (bits & 0x7f).count_ones();
                (received, 7 - received)
            }
            AckVecEntry::Run {
                received: true,
                length,
            } => (u32::from(length), 0),
            AckVecEntry::Run {
                received: false,
                length,
            } => (0, u32::from(length)),
        }
    }
}

/// RDPEUDP2 AckVec payload (MS-RDPEUDP2 2.2.1.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2AckVec {
    pub base_seq_num: u16,
    pub time_stamp: Option<u32>,
    pub send_ack_time_gap: Option<u8>,
    /// At most 127 entries (codedAckVecSize is 7 bits).
    pub entries: Vec<AckVecEntry>,
}

impl V2AckVec {
    /// Packets this vector reports as lost.
    pub fn lost(&self) -> u32 {
        self.entries.iter().map(|e| e.counts().1).sum()
    }
}

/// One RDPEUDP2 packet after the prefix-byte swap has been undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Datagram {
    pub prefix: u8,
    /// Packet_Type_Index: 0 data, 8 dummy (a probe, never data).
    pub packet_type: u8,
    /// Short_Packet_Length: the real length when below 7, otherwise 7.
    pub short_length: u8,
    pub flags: V2Flags,
    /// Receive window is `1 << log_window` packets.
    pub log_window: u8,
    pub ack: Option<V2Ack>,
    pub overhead_size: Option<u8>,
    pub delay_ack_info: Option<DelayAckInfo>,
    pub ack_of_acks: Option<u16>,
    /// DataHeader: low 16 bits of the coded sequence number (new on every retransmission).
    pub data_seq_num: Option<u16>,
    pub ack_vec: Option<V2AckVec>,
    /// DataBody: channel sequence number (stable across retransmissions). Absent in dummies.
    pub channel_seq_num: Option<u16>,
    /// Bytes after the last header: TLS records of a data packet, padding of a dummy.
    pub data_len: usize,
}

impl V2Datagram {
    pub fn is_dummy(&self) -> bool {
        self.packet_type == V2_PACKET_DUMMY
    }
}

/// Undoes the wire transform: the prefix byte was swapped with byte 7; short packets were
/// zero-padded to 7 bytes after the prefix.
fn unswap(payload: &[u8]) -> Result<Vec<u8>, ProtoError> {
    let (Some(&first), Some(&seventh)) = (payload.first(), payload.get(7)) else {
        return Err(ProtoError::truncated(LAYER_V2, "PacketPrefixByte", 7));
    };
    let mut out = payload.to_vec();
    if let Some(b) = out.first_mut() {
        *b = seventh;
    }
    if let Some(b) = out.get_mut(7) {
        *b = first;
    }
    let short = seventh >> 5;
    if short < 7 {
        let real = 1 + usize::from(short);
        // Short packets are padded to exactly 8 bytes; anything longer is not RDPEUDP2.
        if payload.len() > 8 {
            return Err(ProtoError::invalid(
                LAYER_V2,
                "Short_Packet_Length",
                7,
                format!("{short} in a {}-byte datagram", payload.len()),
            ));
        }
        out.truncate(real);
    }
    Ok(out)
}

fn ack(i: &[u8]) -> Parsed<'_, V2Ack> {
    let (i, seq_num) = field("SeqNum", le_u16)(i)?;
    let (i, received_ts) = field("receivedTS", le_u24)(i)?;
    let (i, send_ack_time_gap) = field("sendAckTimeGap", byte)(i)?;
    let (i, packed) = field("numDelayedAcks", byte)(i)?;
    let num_delayed_acks = packed & 0x0f;
    let delay_ack_time_scale = packed >> 4;
    let (i, additions) = field("delayAckTimeAdditions", take(usize::from(num_delayed_acks)))(i)?;
    Ok((
        i,
        V2Ack {
            seq_num,
            received_ts,
            send_ack_time_gap,
            num_delayed_acks,
            delay_ack_time_scale,
            delay_ack_time_additions: additions.to_vec(),
        },
    ))
}

fn delay_ack_info(i: &[u8]) -> Parsed<'_, DelayAckInfo> {
    let (i, max_delayed_acks) = field("MaxDelayedAcks", byte)(i)?;
    let (i, delayed_ack_timeout_ms) = field("DelayedAckTimeoutInMs", le_u16)(i)?;
    Ok((
        i,
        DelayAckInfo {
            max_delayed_acks,
            delayed_ack_timeout_ms,
        },
    ))
}

fn ack_vec(i: &[u8]) -> Parsed<'_, V2AckVec> {
    let (i, base_seq_num) = field("BaseSeqNum", le_u16)(i)?;
    let (i, packed) = field("codedAckVecSize", byte)(i)?;
    let size = usize::from(packed & 0x7f);
    let timed = packed & 0x80 != 0;
    let (i, time_stamp) = when(timed, field("TimeStamp", le_u24))(i)?;
    let (i, send_ack_time_gap) = when(timed, field("SendAckTimeGapInMs", byte))(i)?;
    let (i, coded) = field("codedAckVector", take(size))(i)?;
    Ok((
        i,
        V2AckVec {
            base_seq_num,
            time_stamp,
            send_ack_time_gap,
            entries: coded.iter().map(|b| AckVecEntry::from_byte(*b)).collect(),
        },
    ))
}

fn packet(i: &[u8]) -> Parsed<'_, V2Datagram> {
    let (i, prefix) = field("PacketPrefixByte", byte)(i)?;
    let packet_type = (prefix >> 1) & 0x0f;
    let short_length = prefix >> 5;
    let (i, header) = field("Flags", le_u16)(i)?;
    let flags = V2Flags(header & 0x0fff);
    // uLogWindowSize is the top 4 bits of the little-endian header word.
    let [_, high] = header.to_le_bytes();
    let log_window = high >> 4;
    let (i, ack) = when(flags.contains(V2Flags::ACK), ack)(i)?;
    let (i, overhead_size) = when(
        flags.contains(V2Flags::OVERHEADSIZE),
        field("OverheadSize", byte),
    )(i)?;
    let (i, delay_ack_info) = when(flags.contains(V2Flags::DELAYACKINFO), delay_ack_info)(i)?;
    let (i, ack_of_acks) = when(
        flags.contains(V2Flags::AOA),
        field("AckOfAcksSeqNum", le_u16),
    )(i)?;
    let data = flags.contains(V2Flags::DATA);
    let (i, data_seq_num) = when(data, field("DataSeqNum", le_u16))(i)?;
    let (i, ack_vec) = when(flags.contains(V2Flags::ACKVEC), ack_vec)(i)?;
    let (i, channel_seq_num) = when(
        data && packet_type != V2_PACKET_DUMMY,
        field("ChannelSeqNum", le_u16),
    )(i)?;
    Ok((
        i,
        V2Datagram {
            prefix,
            packet_type,
            short_length,
            flags,
            log_window,
            ack,
            overhead_size,
            delay_ack_info,
            ack_of_acks,
            data_seq_num,
            ack_vec,
            channel_seq_num,
            data_len: i.len(),
        },
    ))
}

/// Decodes one MS-RDPEUDP2 packet as captured (prefix byte still swapped) per FACTS 4.6.
pub fn parse_v2(payload: &[u8]) -> Result<V2Datagram, ProtoError> {
    let unswapped = unswap(payload)?;
    run(LAYER_V2, &unswapped, packet)
}
