//! RDP PDUs of the slow-path connection sequence (MS-RDPBCGR 2.2), as they appear in the
//! decrypted TLS stream or in clear with Standard RDP Security: TPKT → X.224 Data → MCS Send
//! Data Request/Indication → [basic security header] → Share Control Header → Share Data
//! Header → the PDU. Fast-path and virtual-channel traffic is recognised, not parsed.

pub mod capabilities;
pub mod client_info;
pub mod errinfo;
pub mod licensing;
pub mod redirect;
pub mod save_session;

use super::byte_cursor::ByteCursor;
use super::mcs::{self, DisconnectReason, DomainPdu, McsPdu, SecurityFlags};
use super::x224::{self, Tpdu};
use super::{tpkt, ProtoError};

pub use capabilities::{ActivePdu, CapabilitySetType, DeactivateAll};
pub use client_info::{AuthorizationResult, ClientInfo, InfoFlags};
pub use errinfo::{ErrInfo, ErrInfoClass};
pub use licensing::{LicenseErrorCode, LicenseMsgType, LicenseStateTransition, LicensingPdu};
pub use redirect::{RedirFlags, ServerRedirection};
pub use save_session::{LogonError, LogonErrorsInfo, SaveSessionInfo};

const LAYER: &str = "rdp";
/// The MCS I/O channel every Windows server announces (SC_NET MCSChannelId).
pub const DEFAULT_IO_CHANNEL: u16 = 0x03EB;
const SEC_HEARTBEAT: u16 = 0x4000;

/// Which security layer the connection negotiated: it decides whether a basic security
/// header precedes every PDU (MS-RDPBCGR 2.2.8.1.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityLayer {
    /// TLS, CredSSP or RDSTLS (the server chose ENCRYPTION_LEVEL_NONE): a security header only
    /// on the PDUs that need one (Client Info, licensing, auto-detect, heartbeat, multitransport).
    Enhanced,
    /// Standard RDP Security: a security header on every PDU, payload RC4-encrypted when
    /// SEC_ENCRYPT is set.
    Standard,
}

/// What the decoder knows about the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PduContext {
    pub security: SecurityLayer,
    /// The MCS I/O channel; data on other channels is virtual-channel traffic.
    pub io_channel: u16,
    /// The MCS message channel (SC_MCS_MSGCHANNEL), which carries auto-detect, heartbeat and
    /// multitransport PDUs; when unknown, those are recognised by their exact shape.
    pub message_channel: Option<u16>,
}

impl Default for PduContext {
    fn default() -> Self {
        PduContext {
            security: SecurityLayer::Enhanced,
            io_channel: DEFAULT_IO_CHANNEL,
            message_channel: None,
        }
    }
}

/// pduType of the Share Control Header (MS-RDPBCGR 2.2.8.1.1.1.1), low four bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PduType(pub u16);

impl PduType {
    pub const DEMAND_ACTIVE: PduType = PduType(0x1);
    pub const CONFIRM_ACTIVE: PduType = PduType(0x3);
    pub const DEACTIVATE_ALL: PduType = PduType(0x6);
    pub const DATA: PduType = PduType(0x7);
    pub const SERVER_REDIR: PduType = PduType(0xA);
}

/// pduType2 of the Share Data Header (MS-RDPBCGR 2.2.8.1.1.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PduType2(pub u8);

impl PduType2 {
    pub const UPDATE: PduType2 = PduType2(0x02);
    pub const CONTROL: PduType2 = PduType2(0x14);
    pub const INPUT: PduType2 = PduType2(0x1C);
    pub const SYNCHRONIZE: PduType2 = PduType2(0x1F);
    pub const SHUTDOWN_REQUEST: PduType2 = PduType2(0x24);
    pub const SHUTDOWN_DENIED: PduType2 = PduType2(0x25);
    pub const SAVE_SESSION_INFO: PduType2 = PduType2(0x26);
    pub const FONTLIST: PduType2 = PduType2(0x27);
    pub const FONTMAP: PduType2 = PduType2(0x28);
    pub const SET_ERROR_INFO: PduType2 = PduType2(0x2F);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x02 => "PDUTYPE2_UPDATE",
            0x14 => "PDUTYPE2_CONTROL",
            0x1B => "PDUTYPE2_POINTER",
            0x1C => "PDUTYPE2_INPUT",
            0x1F => "PDUTYPE2_SYNCHRONIZE",
            0x21 => "PDUTYPE2_REFRESH_RECT",
            0x22 => "PDUTYPE2_PLAY_SOUND",
            0x23 => "PDUTYPE2_SUPPRESS_OUTPUT",
            0x24 => "PDUTYPE2_SHUTDOWN_REQUEST",
            0x25 => "PDUTYPE2_SHUTDOWN_DENIED",
            0x26 => "PDUTYPE2_SAVE_SESSION_INFO",
            0x27 => "PDUTYPE2_FONTLIST",
            0x28 => "PDUTYPE2_FONTMAP",
            0x29 => "PDUTYPE2_SET_KEYBOARD_INDICATORS",
            0x2B => "PDUTYPE2_BITMAPCACHE_PERSISTENT_LIST",
            0x2C => "PDUTYPE2_BITMAPCACHE_ERROR_PDU",
            0x2D => "PDUTYPE2_SET_KEYBOARD_IME_STATUS",
            0x2E => "PDUTYPE2_OFFSCRCACHE_ERROR_PDU",
            0x2F => "PDUTYPE2_SET_ERROR_INFO_PDU",
            0x30 => "PDUTYPE2_DRAWNINEGRID_ERROR_PDU",
            0x31 => "PDUTYPE2_DRAWGDIPLUS_ERROR_PDU",
            0x32 => "PDUTYPE2_ARC_STATUS_PDU",
            0x36 => "PDUTYPE2_STATUS_INFO_PDU",
            0x37 => "PDUTYPE2_MONITOR_LAYOUT_PDU",
            _ => return None,
        })
    }
}

/// Share Control Header (MS-RDPBCGR 2.2.8.1.1.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareControlHeader {
    pub total_length: u16,
    pub pdu_type: PduType,
    /// Absent in a Deactivate All of some old servers: then None.
    pub pdu_source: Option<u16>,
}

/// Share Data Header (MS-RDPBCGR 2.2.8.1.1.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareDataHeader {
    pub share_id: u32,
    pub stream_id: u8,
    pub uncompressed_length: u16,
    pub pdu_type2: PduType2,
    pub compressed_type: u8,
    pub compressed_length: u16,
}

impl ShareDataHeader {
    /// PACKET_COMPRESSED (0x20): the body is bulk-compressed and not decoded here.
    pub fn compressed(&self) -> bool {
        self.compressed_type & 0x20 != 0
    }
}

/// The decoded body of a Data PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataPdu {
    SetErrorInfo {
        error_info: ErrInfo,
    },
    SaveSessionInfo(SaveSessionInfo),
    /// Control PDU action: REQUEST_CONTROL 1, GRANTED_CONTROL 2, DETACH 3, COOPERATE 4.
    Control {
        action: u16,
    },
    Synchronize,
    FontList,
    FontMap,
    ShutdownRequest,
    ShutdownDenied,
    Compressed,
    Other,
}

/// One PDU carried in an MCS Send Data user-data field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdpPdu {
    ClientInfo(ClientInfo),
    Licensing(LicensingPdu),
    DemandActive(ActivePdu),
    ConfirmActive(ActivePdu),
    DeactivateAll(DeactivateAll),
    ServerRedirection(ServerRedirection),
    Data {
        header: ShareDataHeader,
        body: DataPdu,
    },
    /// Standard RDP Security: the client random, encrypted with the server's key.
    SecurityExchange,
    AutoDetect {
        response: bool,
    },
    Heartbeat,
    Multitransport {
        response: bool,
    },
    /// Standard RDP Security with SEC_ENCRYPT: RC4 payload, unreadable without its keys.
    Encrypted {
        flags: SecurityFlags,
    },
    /// Flow-control PDUs and share-control types not decoded here.
    OtherShareControl {
        pdu_type: PduType,
    },
    /// Data on a channel other than the I/O channel.
    VirtualChannel {
        channel_id: u16,
        len: usize,
    },
}

/// A slow-path PDU decoded from one whole TPKT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlowPathPdu {
    /// MCS Send Data Request (client) or Indication (server) with its decoded content.
    SendData {
        indication: bool,
        initiator: u16,
        channel_id: u16,
        pdu: RdpPdu,
    },
    /// MCS Disconnect Provider Ultimatum (T.125): the peer is leaving.
    Ultimatum { reason: u8 },
    /// Connect Initial/Response, Erect Domain, Attach User, Channel Join, X.224 CR/CC/DR.
    Other,
}

/// Reads the Share Control Header and, for Data PDUs, the Share Data Header.
pub fn parse_share_control_header(c: &mut ByteCursor) -> Result<ShareControlHeader, ProtoError> {
    let total_length = c.le_u16("totalLength")?;
    let raw_type = c.le_u16("pduType")?;
    let pdu_source = if c.remaining() >= 2 {
        Some(c.le_u16("pduSource")?)
    } else {
        None
    };
    Ok(ShareControlHeader {
        total_length,
        pdu_type: PduType(raw_type & 0x000F),
        pdu_source,
    })
}

fn share_data_header(c: &mut ByteCursor) -> Result<ShareDataHeader, ProtoError> {
    let share_id = c.le_u32("shareId")?;
    c.skip(1, "pad1")?;
    Ok(ShareDataHeader {
        share_id,
        stream_id: c.u8("streamId")?,
        uncompressed_length: c.le_u16("uncompressedLength")?,
        pdu_type2: PduType2(c.u8("pduType2")?),
        compressed_type: c.u8("compressedType")?,
        compressed_length: c.le_u16("compressedLength")?,
    })
}

fn data_body(header: &ShareDataHeader, c: &mut ByteCursor) -> Result<DataPdu, ProtoError> {
    if header.compressed() {
        return Ok(DataPdu::Compressed);
    }
    Ok(match header.pdu_type2 {
        PduType2::SET_ERROR_INFO => DataPdu::SetErrorInfo {
            error_info: ErrInfo(c.le_u32("errorInfo")?),
        },
        PduType2::SAVE_SESSION_INFO => {
            DataPdu::SaveSessionInfo(save_session::parse_save_session_info(c.rest())?)
        }
        PduType2::CONTROL => DataPdu::Control {
            action: c.le_u16("action")?,
        },
        PduType2::SYNCHRONIZE => DataPdu::Synchronize,
        PduType2::FONTLIST => DataPdu::FontList,
        PduType2::FONTMAP => DataPdu::FontMap,
        PduType2::SHUTDOWN_REQUEST => DataPdu::ShutdownRequest,
        PduType2::SHUTDOWN_DENIED => DataPdu::ShutdownDenied,
        _ => DataPdu::Other,
    })
}

/// A PDU that starts with a Share Control Header.
fn share_control(b: &[u8]) -> Result<RdpPdu, ProtoError> {
    let mut c = ByteCursor::new(LAYER, b);
    let header = parse_share_control_header(&mut c)?;
    Ok(match header.pdu_type {
        PduType::DEMAND_ACTIVE => {
            RdpPdu::DemandActive(capabilities::parse_demand_active(c.rest())?)
        }
        PduType::CONFIRM_ACTIVE => {
            RdpPdu::ConfirmActive(capabilities::parse_confirm_active(c.rest())?)
        }
        PduType::DEACTIVATE_ALL => {
            RdpPdu::DeactivateAll(capabilities::parse_deactivate_all(c.rest())?)
        }
        PduType::DATA => {
            let header = share_data_header(&mut c)?;
            let body = data_body(&header, &mut c)?;
            RdpPdu::Data { header, body }
        }
        // Enhanced Security Server Redirection (2.2.13.3.1): pad(2) then the packet.
        PduType::SERVER_REDIR => {
            c.skip(2, "pad")?;
            RdpPdu::ServerRedirection(redirect::parse_server_redirection(c.rest())?)
        }
        pdu_type => RdpPdu::OtherShareControl { pdu_type },
    })
}

/// Does `b` start with a Share Control Header for a PDU of exactly `b.len()` bytes?
/// (version 1 in pduType bits 4-15, MS-RDPBCGR 2.2.8.1.1.1.1).
fn looks_like_share_control(b: &[u8]) -> bool {
    match b {
        [l0, l1, t0, t1, ..] => {
            let total = usize::from(u16::from_le_bytes([*l0, *l1]));
            let raw_type = u16::from_le_bytes([*t0, *t1]);
            total == b.len() && raw_type >> 4 == 1
        }
        _ => false,
    }
}

/// A PDU after a basic security header, routed by its flags.
fn secured(flags: SecurityFlags, body: &[u8], whole: &[u8]) -> Result<RdpPdu, ProtoError> {
    if flags.contains(SecurityFlags::ENCRYPT) {
        return Ok(RdpPdu::Encrypted { flags });
    }
    Ok(if flags.contains(SecurityFlags::EXCHANGE_PKT) {
        RdpPdu::SecurityExchange
    } else if flags.contains(SecurityFlags::INFO_PKT) {
        RdpPdu::ClientInfo(client_info::parse_client_info(body)?)
    } else if flags.contains(SecurityFlags::LICENSE_PKT) {
        RdpPdu::Licensing(licensing::parse_licensing(body)?)
    } else if flags.contains(SecurityFlags::REDIRECTION_PKT) {
        // Standard Security Server Redirection (2.2.13.2.1): the packet's own Flags field
        // may be the one just read as the security header.
        let packet = if body.starts_with(&[0x00, 0x04]) {
            body
        } else {
            whole
        };
        RdpPdu::ServerRedirection(redirect::parse_server_redirection(packet)?)
    } else if flags.contains(SecurityFlags::AUTODETECT_REQ) {
        RdpPdu::AutoDetect { response: false }
    } else if flags.contains(SecurityFlags::AUTODETECT_RSP) {
        RdpPdu::AutoDetect { response: true }
    } else if flags.contains(SEC_HEARTBEAT) {
        RdpPdu::Heartbeat
    } else if flags.contains(SecurityFlags::TRANSPORT_REQ) {
        RdpPdu::Multitransport { response: false }
    } else if flags.contains(SecurityFlags::TRANSPORT_RSP) {
        RdpPdu::Multitransport { response: true }
    } else {
        share_control(body)?
    })
}

const SECURITY_FLAGGED: u16 = SecurityFlags::EXCHANGE_PKT
    | SecurityFlags::INFO_PKT
    | SecurityFlags::LICENSE_PKT
    | SecurityFlags::REDIRECTION_PKT
    | MESSAGE_CHANNEL_FLAGGED;
const MESSAGE_CHANNEL_FLAGGED: u16 = SecurityFlags::AUTODETECT_REQ
    | SecurityFlags::AUTODETECT_RSP
    | SEC_HEARTBEAT
    | SecurityFlags::TRANSPORT_REQ
    | SecurityFlags::TRANSPORT_RSP;

/// Without the message channel's id, a PDU on another channel is taken for a message-channel
/// PDU only when its security header is exactly one such flag and, for the multitransport
/// PDUs, flagsHi is 0 and the body has its fixed size (MS-RDPBCGR 2.2.15.1, 2.2.15.2): a
/// virtual-channel header (length, flags) could otherwise pass for one. (mstsc leaves
/// garbage in flagsHi of auto-detect responses, so it is not checked there.)
fn looks_like_message_channel(user_data: &[u8]) -> bool {
    let Ok((flags, body)) = mcs::parse_security_header(user_data) else {
        return false;
    };
    let flags_hi_zero = matches!(user_data.get(2..4), Some([0, 0]));
    match flags.0 {
        SecurityFlags::AUTODETECT_REQ | SecurityFlags::AUTODETECT_RSP | SEC_HEARTBEAT => true,
        SecurityFlags::TRANSPORT_REQ => flags_hi_zero && body.len() == 24,
        SecurityFlags::TRANSPORT_RSP => flags_hi_zero && body.len() == 8,
        _ => false,
    }
}

/// Decodes the user data of an MCS Send Data Request/Indication on `channel_id`.
pub fn parse_user_data(
    user_data: &[u8],
    channel_id: u16,
    ctx: PduContext,
) -> Result<RdpPdu, ProtoError> {
    let enhanced = ctx.security == SecurityLayer::Enhanced;
    if channel_id != ctx.io_channel {
        let message_channel = match ctx.message_channel {
            Some(mc) => mc == channel_id,
            None => looks_like_message_channel(user_data),
        };
        if !message_channel {
            return Ok(RdpPdu::VirtualChannel {
                channel_id,
                len: user_data.len(),
            });
        }
    } else if enhanced && looks_like_share_control(user_data) {
        return share_control(user_data);
    }
    let (flags, body) = mcs::parse_security_header(user_data)?;
    if enhanced && flags.0 & SECURITY_FLAGGED == 0 {
        return Err(ProtoError::invalid(
            LAYER,
            "securityHeader.flags",
            0,
            format!(
                "0x{:04x} names no PDU and no Share Control Header follows",
                flags.0
            ),
        ));
    }
    secured(flags, body, user_data)
}

/// Decodes one whole TPKT of the slow path (as framed by `tpkt::find_size`).
pub fn parse_slow_path(tpkt_bytes: &[u8], ctx: PduContext) -> Result<SlowPathPdu, ProtoError> {
    let (_, payload) = tpkt::parse_tpkt(tpkt_bytes)?;
    let Tpdu::Data(data) = x224::parse_tpdu(payload)? else {
        return Ok(SlowPathPdu::Other);
    };
    Ok(match mcs::parse_mcs_pdu(data)? {
        McsPdu::Domain(d) => slow_path_from_domain(d, ctx)?,
        _ => SlowPathPdu::Other,
    })
}

/// The slow-path PDU of an MCS domain PDU already decoded (what `parse_slow_path` does
/// after its TPKT, X.224 and MCS layers).
pub fn slow_path_from_domain(d: DomainPdu<'_>, ctx: PduContext) -> Result<SlowPathPdu, ProtoError> {
    Ok(match d {
        DomainPdu::SendDataRequest {
            initiator,
            channel_id,
            user_data,
        } => SlowPathPdu::SendData {
            indication: false,
            initiator,
            channel_id,
            pdu: parse_user_data(user_data, channel_id, ctx)?,
        },
        DomainPdu::SendDataIndication {
            initiator,
            channel_id,
            user_data,
        } => SlowPathPdu::SendData {
            indication: true,
            initiator,
            channel_id,
            pdu: parse_user_data(user_data, channel_id, ctx)?,
        },
        DomainPdu::DisconnectProviderUltimatum {
            reason: DisconnectReason(reason),
        } => SlowPathPdu::Ultimatum { reason },
        _ => SlowPathPdu::Other,
    })
}

#[cfg(test)]
mod tests;
