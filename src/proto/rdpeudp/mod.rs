//! RDP-UDP transport (FACTS 4): MS-RDPEUDP v1/v2 datagrams (big-endian, `parse_v1`) and the
//! MS-RDPEUDP2 packets that follow a v3 (0x0101) handshake (little-endian, `parse_v2`).
//!
//! Only headers are decoded; the (D)TLS payload is counted, never interpreted here.

use serde::Serialize;

use super::flag_names;

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
/// A bounds-checked cursor that reports the offset of whatever it could not read.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    layer: &'static str,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], layer: &'static str) -> Self {
        Reader { buf, pos: 0, layer }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ProtoError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| ProtoError::truncated(self.layer, field, self.pos))?;
        let out = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| ProtoError::truncated(self.layer, field, self.pos))?;
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ProtoError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, ProtoError> {
        Ok(u8::from_be_bytes(self.array(field)?))
    }

    fn be_u16(&mut self, field: &'static str) -> Result<u16, ProtoError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    fn be_u32(&mut self, field: &'static str) -> Result<u32, ProtoError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    fn le_u16(&mut self, field: &'static str) -> Result<u16, ProtoError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    fn le_u24(&mut self, field: &'static str) -> Result<u32, ProtoError> {
        let [a, b, c] = self.array(field)?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }

    /// Skips up to `n` bytes (padding that may be cut off at the end of the datagram).
    fn skip_lenient(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.buf.len());
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }
}

// ---------------------------------------------------------------------------------------------
// v1 (MS-RDPEUDP, big-endian)
// ---------------------------------------------------------------------------------------------

/// RDPUDP_FEC_HEADER uFlags (FACTS 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
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

/// RDPUDP_SYNDATA_PAYLOAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// RDPUDP_SYNDATAEX_PAYLOAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// One RDPUDP_ACK_VECTOR_HEADER element: bits 7-6 state, bits 5-0 run length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AckRun {
    /// State 0 (DATAGRAM_RECEIVED).
    pub received: bool,
    /// Raw state: 0 received, 3 not yet received, 1/2 reserved.
    pub state: u8,
    /// Run length field; the run covers `length + 1` datagrams.
    pub length: u8,
}

impl AckRun {
    fn from_byte(b: u8) -> Self {
        let state = b >> 6;
        AckRun {
            received: state == 0,
            state,
            length: b & 0x3f,
        }
    }

    /// How many datagrams this run describes.
    pub fn datagrams(&self) -> u32 {
        u32::from(self.length) + 1
    }

    /// State 3 (DATAGRAM_NOT_YET_RECEIVED): the receiver reports a hole.
    pub fn not_received(&self) -> bool {
        self.state == 3
    }
}

/// RDPUDP_ACK_VECTOR_HEADER (runs in wire order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AckVector {
    pub size: u16,
    pub runs: Vec<AckRun>,
}

impl AckVector {
    /// Datagrams reported as not yet received (state 3).
    pub fn missing(&self) -> u32 {
        self.runs
            .iter()
            .filter(|r| r.not_received())
            .map(AckRun::datagrams)
            .sum()
    }
}

/// RDPUDP_SOURCE_PAYLOAD_HEADER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SourcePayload {
    pub sn_coded: u32,
    pub sn_source_start: u32,
}

/// RDPUDP_FEC_PAYLOAD_HEADER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FecPayload {
    pub sn_coded: u32,
    pub sn_source_start: u32,
    pub range: u8,
    pub fec_index: u8,
}

/// One v1 datagram: every optional structure the flags announce, in wire order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V1Datagram {
    pub sn_source_ack: u32,
    pub receive_window: u16,
    pub flags: UdpFlags,
    pub ack_vector: Option<AckVector>,
    /// RDPUDP_ACK_OF_ACKVECTOR_HEADER snResetSeqNum.
    pub ack_of_acks: Option<u32>,
    pub syn: Option<SynData>,
    #[serde(serialize_with = "serialize_opt_correlation_id")]
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

fn serialize_opt_correlation_id<S: serde::Serializer>(
    id: &Option<[u8; 16]>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => s.serialize_some(&format_correlation_id(id)),
        None => s.serialize_none(),
    }
}

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

/// Handshake fields read without a full parse: (snSourceAck, flags, up MTU, down MTU).
fn handshake_fields(p: &[u8]) -> Option<(u32, UdpFlags, u16, u16)> {
    if p.len() < usize::from(MIN_MTU) {
        return None;
    }
    let mut r = Reader::new(p, LAYER_V1);
    let ack = r.be_u32("snSourceAck").ok()?;
    let _window = r.be_u16("uReceiveWindowSize").ok()?;
    let flags = UdpFlags(r.be_u16("uFlags").ok()?);
    let _isn = r.be_u32("snInitialSequenceNumber").ok()?;
    let up = r.be_u16("uUpStreamMtu").ok()?;
    let down = r.be_u16("uDownStreamMtu").ok()?;
    Some((ack, flags, up, down))
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

fn ack_vector(r: &mut Reader<'_>) -> Result<AckVector, ProtoError> {
    let at = r.pos;
    let size = r.be_u16("uAckVectorSize")?;
    if size > MAX_ACK_VECTOR {
        return Err(ProtoError::invalid(
            LAYER_V1,
            "uAckVectorSize",
            at,
            format!("{size} is above {MAX_ACK_VECTOR}"),
        ));
    }
    let bytes = r.take(usize::from(size), "AckVectorElement")?;
    let runs = bytes.iter().map(|b| AckRun::from_byte(*b)).collect();
    // The header is padded to a DWORD boundary; tshark 4.0 ignores this padding.
    let used = 2 + usize::from(size);
    r.skip_lenient((4 - used % 4) % 4);
    Ok(AckVector { size, runs })
}

fn syn_ex(r: &mut Reader<'_>, client_syn: bool) -> Result<SynEx, ProtoError> {
    let flags = r.be_u16("uSynExFlags")?;
    let version = r.be_u16("uUdpVer")?;
    // Lenient: the hash is only read when the whole 32 bytes are there.
    let cookie_hash = if client_syn && version == UDP_VERSION_3 && r.remaining() >= 32 {
        Some(r.array("cookieHash")?)
    } else {
        None
    };
    Ok(SynEx {
        flags,
        version,
        cookie_hash,
    })
}

/// Decodes one MS-RDPEUDP v1 datagram (handshake, ACK, data, FEC) per FACTS 4.1.
pub fn parse_v1(payload: &[u8]) -> Result<V1Datagram, ProtoError> {
    let mut r = Reader::new(payload, LAYER_V1);
    let sn_source_ack = r.be_u32("snSourceAck")?;
    let receive_window = r.be_u16("uReceiveWindowSize")?;
    let flags = UdpFlags(r.be_u16("uFlags")?);
    let syn = flags.contains(UdpFlags::SYN);
    let ack_vector = if flags.contains(UdpFlags::ACK) && !syn {
        Some(ack_vector(&mut r)?)
    } else {
        None
    };
    let ack_of_acks = if flags.contains(UdpFlags::ACK_OF_ACKS) {
        Some(r.be_u32("snResetSeqNum")?)
    } else {
        None
    };
    let syn_data = if syn {
        Some(SynData {
            initial_sequence: r.be_u32("snInitialSequenceNumber")?,
            up_mtu: r.be_u16("uUpStreamMtu")?,
            down_mtu: r.be_u16("uDownStreamMtu")?,
        })
    } else {
        None
    };
    let correlation_id = if flags.contains(UdpFlags::CORRELATION_ID) {
        let id = r.array("uCorrelationId")?;
        r.take(16, "uReserved")?;
        Some(id)
    } else {
        None
    };
    let synex = if flags.contains(UdpFlags::SYNEX) {
        let client_syn = syn && !flags.contains(UdpFlags::ACK);
        Some(syn_ex(&mut r, client_syn)?)
    } else {
        None
    };
    let (source, fec) = match (
        flags.contains(UdpFlags::DATA),
        flags.contains(UdpFlags::FEC),
    ) {
        (true, false) => (
            Some(SourcePayload {
                sn_coded: r.be_u32("snCoded")?,
                sn_source_start: r.be_u32("snSourceStart")?,
            }),
            None,
        ),
        (true, true) => {
            let sn_coded = r.be_u32("snCoded")?;
            let sn_source_start = r.be_u32("snSourceStart")?;
            let range = r.u8("uRange")?;
            let fec_index = r.u8("uFecIndex")?;
            r.take(2, "uPadding")?;
            let fec = FecPayload {
                sn_coded,
                sn_source_start,
                range,
                fec_index,
            };
            (None, Some(fec))
        }
        _ => (None, None),
    };
    Ok(V1Datagram {
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
        payload_len: r.remaining(),
    })
}

// ---------------------------------------------------------------------------------------------
// MS-RDPEUDP2 (little-endian)
// ---------------------------------------------------------------------------------------------

/// RDPEUDP2 header flags (low 12 bits of the header, FACTS 4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
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

/// RDPEUDP2 ACK payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// RDPEUDP2 DelayAckInfo payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DelayAckInfo {
    pub max_delayed_acks: u8,
    pub delayed_ack_timeout_ms: u16,
}

/// One coded AckVec byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// RDPEUDP2 AckVec payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

fn v2_ack(r: &mut Reader<'_>) -> Result<V2Ack, ProtoError> {
    let seq_num = r.le_u16("SeqNum")?;
    let received_ts = r.le_u24("receivedTS")?;
    let send_ack_time_gap = r.u8("sendAckTimeGap")?;
    let packed = r.u8("numDelayedAcks")?;
    let num_delayed_acks = packed & 0x0f;
    let delay_ack_time_scale = packed >> 4;
    let delay_ack_time_additions = r
        .take(usize::from(num_delayed_acks), "delayAckTimeAdditions")?
        .to_vec();
    Ok(V2Ack {
        seq_num,
        received_ts,
        send_ack_time_gap,
        num_delayed_acks,
        delay_ack_time_scale,
        delay_ack_time_additions,
    })
}

fn v2_ack_vec(r: &mut Reader<'_>) -> Result<V2AckVec, ProtoError> {
    let base_seq_num = r.le_u16("BaseSeqNum")?;
    let packed = r.u8("codedAckVecSize")?;
    let size = usize::from(packed & 0x7f);
    let (time_stamp, send_ack_time_gap) = if packed & 0x80 != 0 {
        (
            Some(r.le_u24("TimeStamp")?),
            Some(r.u8("SendAckTimeGapInMs")?),
        )
    } else {
        (None, None)
    };
    let entries = r
        .take(size, "codedAckVector")?
        .iter()
        .map(|b| AckVecEntry::from_byte(*b))
        .collect();
    Ok(V2AckVec {
        base_seq_num,
        time_stamp,
        send_ack_time_gap,
        entries,
    })
}

/// Decodes one MS-RDPEUDP2 packet as captured (prefix byte still swapped) per FACTS 4.6.
pub fn parse_v2(payload: &[u8]) -> Result<V2Datagram, ProtoError> {
    let packet = unswap(payload)?;
    let mut r = Reader::new(&packet, LAYER_V2);
    let prefix = r.u8("PacketPrefixByte")?;
    let packet_type = (prefix >> 1) & 0x0f;
    let short_length = prefix >> 5;
    let header = r.le_u16("Flags")?;
    let flags = V2Flags(header & 0x0fff);
    let log_window = u8::try_from(header >> 12).unwrap_or(0);
    let ack = if flags.contains(V2Flags::ACK) {
        Some(v2_ack(&mut r)?)
    } else {
        None
    };
    let overhead_size = if flags.contains(V2Flags::OVERHEADSIZE) {
        Some(r.u8("OverheadSize")?)
    } else {
        None
    };
    let delay_ack_info = if flags.contains(V2Flags::DELAYACKINFO) {
        Some(DelayAckInfo {
            max_delayed_acks: r.u8("MaxDelayedAcks")?,
            delayed_ack_timeout_ms: r.le_u16("DelayedAckTimeoutInMs")?,
        })
    } else {
        None
    };
    let ack_of_acks = if flags.contains(V2Flags::AOA) {
        Some(r.le_u16("AckOfAcksSeqNum")?)
    } else {
        None
    };
    let data = flags.contains(V2Flags::DATA);
    let data_seq_num = if data {
        Some(r.le_u16("DataSeqNum")?)
    } else {
        None
    };
    let ack_vec = if flags.contains(V2Flags::ACKVEC) {
        Some(v2_ack_vec(&mut r)?)
    } else {
        None
    };
    let channel_seq_num = if data && packet_type != V2_PACKET_DUMMY {
        Some(r.le_u16("ChannelSeqNum")?)
    } else {
        None
    };
    Ok(V2Datagram {
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
        data_len: r.remaining(),
    })
}

// ---------------------------------------------------------------------------------------------
// Sequence unwrapping
// ---------------------------------------------------------------------------------------------

/// Extends 16-bit sequence numbers (RDPEUDP2 DataSeqNum / ChannelSeqNum) to 64 bits: each value
/// is placed in the epoch nearest the highest one seen so far, so wraps count forward and
/// reordering of up to 32767 packets goes backward without advancing the epoch.
#[derive(Debug, Clone, Default)]
pub struct SeqUnwrapper {
    highest: Option<u64>,
}

impl SeqUnwrapper {
    pub fn new() -> Self {
        SeqUnwrapper { highest: None }
    }

    pub fn unwrap(&mut self, seq16: u16) -> u64 {
        let Some(high) = self.highest else {
            self.highest = Some(u64::from(seq16));
            return u64::from(seq16);
        };
        // Truncation is the point: the low 16 bits of the highest value, and the signed
        // distance from them.
        let low = (high & 0xffff) as u16;
        let delta = i64::from(seq16.wrapping_sub(low) as i16);
        let candidate = i64::try_from(high)
            .unwrap_or(i64::MAX)
            .saturating_add(delta);
        match u64::try_from(candidate) {
            Ok(value) => {
                self.highest = Some(high.max(value));
                value
            }
            // Older than the first value seen, before any wrap: keep it in epoch 0.
            Err(_) => u64::from(seq16),
        }
    }
}

#[cfg(test)]
mod tests;
