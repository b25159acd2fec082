//! MCS (T.125) PDUs inside X.224 Data: the BER-encoded Connect Initial / Connect Response that
//! carry the GCC conference data, and the PER-encoded domain PDUs (FACTS 2.2), plus the basic
//! security header that tells Standard RDP Security PDUs apart.

use serde::Serialize;

use super::gcc::{self, ClientData, ServerData};
use super::ProtoError;

const LAYER: &str = "mcs";
/// H.221 keys in the GCC conference data: client to server, server to client.
const KEY_CLIENT: &[u8] = b"Duca";
const KEY_SERVER: &[u8] = b"McDn";

/// MCS Connect Response result (T.125 Result ENUMERATED).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct McsResult(pub u8);

impl McsResult {
    pub fn name(self) -> String {
        const NAMES: [&str; 16] = [
            "rt-successful",
            "rt-domain-merging",
            "rt-domain-not-hierarchical",
            "rt-no-such-channel",
            "rt-no-such-domain",
            "rt-no-such-user",
            "rt-not-admitted",
            "rt-other-user-id",
            "rt-parameters-unacceptable",
            "rt-token-not-available",
            "rt-token-not-possessed",
            "rt-too-many-channels",
            "rt-too-many-tokens",
            "rt-too-many-users",
            "rt-unspecified-failure",
            "rt-user-rejected",
        ];
        NAMES
            .get(usize::from(self.0))
            .map(|s| s.to_string())
            .unwrap_or_else(|| format!("{}", self.0))
    }
}

/// Disconnect Provider Ultimatum reason (T.125 Reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisconnectReason(pub u8);

impl DisconnectReason {
    pub fn name(self) -> String {
        match self.0 {
            0 => "rn-domain-disconnected".into(),
            1 => "rn-provider-initiated".into(),
            2 => "rn-token-purged".into(),
            3 => "rn-user-requested".into(),
            4 => "rn-channel-purged".into(),
            other => format!("reason {other}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectInitial {
    pub client: ClientData,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectResponse {
    pub result: McsResult,
    pub server: ServerData,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DomainPdu {
    ErectDomainRequest,
    DisconnectProviderUltimatum {
        reason: DisconnectReason,
    },
    AttachUserRequest,
    AttachUserConfirm {
        result: McsResult,
        initiator: Option<u16>,
    },
    ChannelJoinRequest {
        initiator: u16,
        channel_id: u16,
    },
    ChannelJoinConfirm {
        result: McsResult,
        channel_id: Option<u16>,
    },
    SendDataRequest {
        initiator: u16,
        channel_id: u16,
        user_data: Vec<u8>,
    },
    SendDataIndication {
        initiator: u16,
        channel_id: u16,
        user_data: Vec<u8>,
    },
    Other {
        choice: u8,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum McsPdu {
    ConnectInitial(ConnectInitial),
    ConnectResponse(ConnectResponse),
    Domain(DomainPdu),
}

/// Basic security header flags (BCGR 2.2.8.1.1.2.1), unknown bits kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SecurityFlags(pub u16);

impl SecurityFlags {
    pub const EXCHANGE_PKT: u16 = 0x0001;
    pub const TRANSPORT_REQ: u16 = 0x0002;
    pub const TRANSPORT_RSP: u16 = 0x0004;
    pub const ENCRYPT: u16 = 0x0008;
    pub const INFO_PKT: u16 = 0x0040;
    pub const LICENSE_PKT: u16 = 0x0080;
    pub const REDIRECTION_PKT: u16 = 0x0400;
    pub const AUTODETECT_REQ: u16 = 0x1000;
    pub const AUTODETECT_RSP: u16 = 0x2000;

    pub fn contains(self, bit: u16) -> bool {
        self.0 & bit == bit
    }
}

/// Splits the basic security header (flags, flagsHi) off Standard RDP Security user data.
pub fn parse_security_header(user_data: &[u8]) -> Result<(SecurityFlags, &[u8]), ProtoError> {
    let flags = user_data
        .get(..2)
        .map(|b| {
            u16::from_le_bytes([
                b.first().copied().unwrap_or(0),
                b.get(1).copied().unwrap_or(0),
            ])
        })
        .ok_or(ProtoError::truncated("security", "flags", 0))?;
    let rest = user_data
        .get(4..)
        .ok_or(ProtoError::truncated("security", "flagsHi", 2))?;
    Ok((SecurityFlags(flags), rest))
}

/// A BER tag-length header: (tag, content, rest). Tags up to two bytes (`7F 65`).
fn ber_tlv(b: &[u8]) -> Option<(u16, &[u8], &[u8])> {
    let first = *b.first()?;
    let (tag, mut at) = if first & 0x1f == 0x1f {
        ((u16::from(first) << 8) | u16::from(*b.get(1)?), 2)
    } else {
        (u16::from(first), 1)
    };
    let l0 = *b.get(at)?;
    at += 1;
    let len = if l0 & 0x80 == 0 {
        usize::from(l0)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for k in 0..n {
            len = (len << 8) | usize::from(*b.get(at + k)?);
        }
        at += n;
        len
    };
    let content = b.get(at..at.checked_add(len)?)?;
    Some((tag, content, b.get(at + len..)?))
}

/// The GCC user data after the H.221 key: skip the PER length that precedes the blocks.
fn gcc_blocks<'a>(user_data: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let pos = user_data.windows(key.len()).position(|w| w == key)?;
    let after = user_data.get(pos + key.len()..)?;
    let l0 = *after.first()?;
    let skip = if l0 & 0x80 != 0 { 2 } else { 1 };
    after.get(skip..)
}

fn connect_initial(content: &[u8]) -> Result<ConnectInitial, ProtoError> {
    // callingDomainSelector, calledDomainSelector, upwardFlag, three DomainParameters, userData.
    let mut rest = content;
    let mut user_data = None;
    for _ in 0..7 {
        let (tag, value, next) = ber_tlv(rest).ok_or(ProtoError::truncated(
            LAYER,
            "Connect-Initial field",
            content.len() - rest.len(),
        ))?;
        if tag == 0x04 {
            user_data = Some(value);
        }
        rest = next;
    }
    let user_data = user_data.ok_or(ProtoError::invalid(LAYER, "userData", 0, "missing"))?;
    let blocks = gcc_blocks(user_data, KEY_CLIENT).ok_or(ProtoError::invalid(
        "gcc",
        "H.221 key",
        0,
        "no \"Duca\" client key",
    ))?;
    Ok(ConnectInitial {
        client: gcc::parse_client_data(blocks),
    })
}

fn connect_response(content: &[u8]) -> Result<ConnectResponse, ProtoError> {
    let (tag, value, mut rest) =
        ber_tlv(content).ok_or(ProtoError::truncated(LAYER, "result", 0))?;
    if tag != 0x0a {
        return Err(ProtoError::invalid(
            LAYER,
            "result",
            0,
            format!("tag 0x{tag:02x} is not ENUMERATED"),
        ));
    }
    let result = McsResult(value.first().copied().unwrap_or(0xff));
    let mut server = ServerData::default();
    // calledConnectId, domainParameters, userData.
    for _ in 0..3 {
        let Some((tag, value, next)) = ber_tlv(rest) else {
            break;
        };
        if tag == 0x04 {
            if let Some(blocks) = gcc_blocks(value, KEY_SERVER) {
                server = gcc::parse_server_data(blocks);
            }
        }
        rest = next;
    }
    Ok(ConnectResponse { result, server })
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Per-PDU user data is capped: Standard-Security PDUs we look into are small.
const MAX_USER_DATA: usize = 64 * 1024;

fn send_data(b: &[u8]) -> Option<(u16, u16, Vec<u8>)> {
    let initiator = be16(b, 1)?.wrapping_add(1001);
    let channel_id = be16(b, 3)?;
    // b[5] is dataPriority + segmentation; then a PER length.
    let l0 = *b.get(6)?;
    let (len, at) = if l0 & 0x80 != 0 {
        ((usize::from(l0 & 0x3f) << 8) | usize::from(*b.get(7)?), 8)
    } else {
        (usize::from(l0), 7)
    };
    let data = b.get(at..)?;
    let data = data.get(..len.min(data.len()).min(MAX_USER_DATA))?;
    Some((initiator, channel_id, data.to_vec()))
}

fn domain_pdu(b: &[u8]) -> Result<DomainPdu, ProtoError> {
    let first = *b
        .first()
        .ok_or(ProtoError::truncated(LAYER, "DomainMCSPDU choice", 0))?;
    let choice = first >> 2;
    let trunc = |f| ProtoError::truncated(LAYER, f, 1);
    Ok(match choice {
        1 => DomainPdu::ErectDomainRequest,
        8 => {
            let second = b.get(1).copied().unwrap_or(0);
            DomainPdu::DisconnectProviderUltimatum {
                reason: DisconnectReason(((first & 0x03) << 1) | (second >> 7)),
            }
        }
        10 => DomainPdu::AttachUserRequest,
        11 => DomainPdu::AttachUserConfirm {
            result: McsResult(b.get(1).copied().unwrap_or(0xff) >> 4),
            initiator: be16(b, 2).map(|i| i.wrapping_add(1001)),
        },
        14 => DomainPdu::ChannelJoinRequest {
            initiator: be16(b, 1).ok_or(trunc("initiator"))?.wrapping_add(1001),
            channel_id: be16(b, 3).ok_or(trunc("channelId"))?,
        },
        15 => DomainPdu::ChannelJoinConfirm {
            result: McsResult(b.get(1).copied().unwrap_or(0xff) >> 4),
            channel_id: be16(b, 6),
        },
        25 | 26 => {
            let (initiator, channel_id, user_data) =
                send_data(b).ok_or(trunc("SendData header"))?;
            if choice == 25 {
                DomainPdu::SendDataRequest {
                    initiator,
                    channel_id,
                    user_data,
                }
            } else {
                DomainPdu::SendDataIndication {
                    initiator,
                    channel_id,
                    user_data,
                }
            }
        }
        other => DomainPdu::Other { choice: other },
    })
}

/// Decodes the MCS PDU carried by an X.224 Data TPDU.
pub fn parse_mcs_pdu(data: &[u8]) -> Result<McsPdu, ProtoError> {
    match data {
        [0x7f, 0x65, ..] => {
            let (_, content, _) =
                ber_tlv(data).ok_or(ProtoError::truncated(LAYER, "Connect-Initial", 0))?;
            Ok(McsPdu::ConnectInitial(connect_initial(content)?))
        }
        [0x7f, 0x66, ..] => {
            let (_, content, _) =
                ber_tlv(data).ok_or(ProtoError::truncated(LAYER, "Connect-Response", 0))?;
            Ok(McsPdu::ConnectResponse(connect_response(content)?))
        }
        _ => Ok(McsPdu::Domain(domain_pdu(data)?)),
    }
}
