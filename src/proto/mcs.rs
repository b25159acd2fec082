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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::hex;
    use crate::proto::tpkt::parse_tpkt;
    use crate::proto::x224::{parse_tpdu, Tpdu};
    use proptest::prelude::*;

    /// OISF_suricata-verify/RDP-003.pcap frame 7: TPKT + X.224 DT + MCS Connect Initial
    /// (`7f 65` at offset 7) carrying the GCC Conference Create Request ("Duca").
    const CONNECT_INITIAL: &[&str] = &[
    "0300019c02f0807f658201900401010401010101ff30190201220201020201000201010201000201010202ffff020102",
    "301902010102010102010102010102010002010102020420020102301c0202ffff0202fc170202ffff02010102010002",
    "01010202ffff0201020482012f000500147c00018126000800100001c00044756361811801c0d4000400080080046003",
    "01ca03aa09040000280a000049005300440032002d004b004d0038003400310037003800000000000000000004000000",
    "000000000c00000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000000000000000000001ca0100000000000f000700010035003500320037003400",
    "2d004f0045004d002d0030003000310031003900300033002d0030003000310030003700000000000000000000000000",
    "000000000000000004c00c00090000000000000002c00c000b0000000000000003c02c00030000007264706472000000",
    "00008080636c6970726472000000a0c0726470736e640000000000c0",
    ];
    /// Same capture, frame 8: MCS Connect Response (`7f 66`), GCC "McDn" server blocks.
    const CONNECT_RESPONSE: &[&str] = &[
    "0300014d02f0807f668201410a0100020100301a020122020103020100020101020100020101020300fff80201020482",
    "011b000500147c00012a14760a01010001c0004d63446e8104010c080004000800030c1000eb030300ec03ed03ee0300",
    "00020cec00080000000200000020000000b8000000778e84ed14edf1083d361284c28dcd52da72301be1dc7fdf62accd",
    "22660b337201000000010000000100000006005c005253413148000000000200003f0000000100010083f6d4ca7c0597",
    "5a72cb0b5ca0ece59d468470e83ac0589091a00c9119bcab88efc96b261a6290e8a9385b5aa4198f5f29caa6c62c9143",
    "9003bda0a2e9b8a6c90000000000000000080048001b0c7249c4782f8c7d4c9fc6182f3164c66099979fa4f292683db0",
    "67cfc711a7237512767a01199ca613beaf0647dd0120a94e54066f6a61018e57e725ee0f3f0000000000000000",
    ];

    fn mcs_bytes(parts: &[&str]) -> Vec<u8> {
        let tpkt = hex(&parts.concat());
        let (_, payload) = parse_tpkt(&tpkt).unwrap();
        match parse_tpdu(payload).unwrap() {
            Tpdu::Data(d) => d.to_vec(),
            other => panic!("not a DT TPDU: {other:?}"),
        }
    }

    #[test]
    fn decodes_a_windows_connect_initial_as_tshark_does() {
        let McsPdu::ConnectInitial(ci) = parse_mcs_pdu(&mcs_bytes(CONNECT_INITIAL)).unwrap() else {
            panic!("not a Connect Initial")
        };
        let core = ci.client.core.unwrap();
        // tshark -O rdp: clientName ISD2-KM84178, clientBuild 2600, keyboardLayout 1033,
        // desktop 1152x864, encryptionMethods 0x0b, 3 channels.
        assert_eq!(core.client_name, "ISD2-KM84178");
        assert_eq!(core.client_build, 2600);
        assert_eq!(core.keyboard_layout, "0x00000409");
        assert_eq!((core.desktop_width, core.desktop_height), (1152, 864));
        assert_eq!(ci.client.security.unwrap().encryption_methods, 0x0b);
        assert_eq!(ci.client.channels.unwrap().len(), 3);
    }

    #[test]
    fn decodes_a_windows_connect_response_as_tshark_does() {
        let McsPdu::ConnectResponse(cr) = parse_mcs_pdu(&mcs_bytes(CONNECT_RESPONSE)).unwrap()
        else {
            panic!("not a Connect Response")
        };
        assert_eq!(cr.result.name(), "rt-successful");
        // tshark: MCSChannelId 1003, channels 1004-1006, 56-bit RC4, Client Compatible.
        assert_eq!(cr.server.io_channel, Some(1003));
        assert_eq!(cr.server.channel_ids, Some(vec![1004, 1005, 1006]));
        let sec = cr.server.security.unwrap();
        assert_eq!(sec.encryption_method, "56bit");
        assert_eq!(sec.encryption_level, "client_compatible");
        assert_eq!(sec.certificate.unwrap().kind, "proprietary");
    }

    #[test]
    fn classifies_domain_pdus() {
        // RDP-003 frames 10, 12, 13: Attach User Request, Attach User Confirm, Channel Join.
        assert_eq!(
            parse_mcs_pdu(&[0x28]).unwrap(),
            McsPdu::Domain(DomainPdu::AttachUserRequest)
        );
        assert!(matches!(
            parse_mcs_pdu(&hex("2e000006")).unwrap(),
            McsPdu::Domain(DomainPdu::AttachUserConfirm {
                initiator: Some(1007),
                ..
            })
        ));
        assert!(matches!(
            parse_mcs_pdu(&hex("38000603ef")).unwrap(),
            McsPdu::Domain(DomainPdu::ChannelJoinRequest {
                initiator: 1007,
                channel_id: 1007
            })
        ));
        // xrdp's refusal: 03 00 00 09 02 f0 80 21 80.
        assert_eq!(
            parse_mcs_pdu(&[0x21, 0x80]).unwrap(),
            McsPdu::Domain(DomainPdu::DisconnectProviderUltimatum {
                reason: DisconnectReason(3)
            })
        );
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..1024), cut in 0usize..700, flip in 0usize..700) {
            let _ = parse_mcs_pdu(&data);
            let _ = gcc::parse_client_data(&data);
            let _ = gcc::parse_server_data(&data);
            let mut ci = mcs_bytes(CONNECT_INITIAL);
            let _ = parse_mcs_pdu(&ci[..cut.min(ci.len())]);
            if let Some(b) = ci.get_mut(flip) {
                *b ^= 0xff;
            }
            let _ = parse_mcs_pdu(&ci);
        }
    }
}
