//! MCS (T.125) PDUs inside X.224 Data: the BER-encoded Connect Initial / Connect Response that
//! carry the GCC conference data, and the PER-encoded domain PDUs (FACTS 2.2), plus the basic
//! security header that tells Standard RDP Security PDUs apart.

use nom::bytes::complete::take;
use nom::multi::count;
use nom::number::complete::{be_u16, le_u16, u8 as byte};

use super::gcc::{self, ClientData, ServerData};
use super::wire::{field, run, run_rest, trailing, Parsed, WireError};
use super::ProtoError;

const LAYER: &str = "mcs";
/// H.221 keys in the GCC conference data: client to server, server to client.
const KEY_CLIENT: &[u8] = b"Duca";
const KEY_SERVER: &[u8] = b"McDn";

/// MCS Connect Response result (T.125 Result ENUMERATED).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectInitial {
    pub client: ClientData,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectResponse {
    pub result: McsResult,
    pub server: ServerData,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DomainPdu<'a> {
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
        user_data: &'a [u8],
    },
    SendDataIndication {
        initiator: u16,
        channel_id: u16,
        user_data: &'a [u8],
    },
    Other {
        choice: u8,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum McsPdu<'a> {
    ConnectInitial(ConnectInitial),
    ConnectResponse(ConnectResponse),
    Domain(DomainPdu<'a>),
}

/// Basic security header flags (BCGR 2.2.8.1.1.2.1), unknown bits kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    let (rest, flags) = run_rest("security", user_data, |i| {
        let (i, flags) = field("flags", le_u16)(i)?;
        let (i, _flags_hi) = field("flagsHi", le_u16)(i)?;
        Ok((i, flags))
    })?;
    Ok((SecurityFlags(flags), rest))
}

/// A BER identifier, definite length and content (X.690 8.1.2-8.1.3): tags up to two bytes
/// (`7F 65`), lengths up to four octets. Returns (tag, content).
fn ber_tlv(i: &[u8]) -> Parsed<'_, (u16, &[u8])> {
    let (i, first) = field("BER tag", byte)(i)?;
    let (i, tag) = if first & 0x1f == 0x1f {
        let (i, second) = field("BER tag", byte)(i)?;
        (i, (u16::from(first) << 8) | u16::from(second))
    } else {
        (i, u16::from(first))
    };
    let length_at = i;
    let (i, l0) = field("BER length", byte)(i)?;
    let (i, len) = if l0 & 0x80 == 0 {
        (i, usize::from(l0))
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 {
            return Err(WireError::invalid(
                length_at,
                "BER length",
                format!("{n} length octets"),
            ));
        }
        let (i, octets) = field("BER length", take(n))(i)?;
        let len = octets
            .iter()
            .fold(0usize, |len, b| (len << 8) | usize::from(*b));
        (i, len)
    };
    let (i, content) = field("BER content", take(len))(i)?;
    Ok((i, (tag, content)))
}

/// The GCC user data after the H.221 key (T.124 ConnectData): skip the PER length that
/// precedes the blocks.
fn gcc_blocks<'a>(user_data: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let pos = user_data.windows(key.len()).position(|w| w == key)?;
    let after = user_data.get(pos + key.len()..)?;
    let per_length = |i| -> Parsed<'_, ()> {
        let (i, l0) = byte(i)?;
        let (i, _) = take(if l0 & 0x80 != 0 { 1usize } else { 0 })(i)?;
        Ok((i, ()))
    };
    per_length(after).ok().map(|(blocks, ())| blocks)
}

/// Connect-Initial (T.125 7, BCGR 2.2.1.3): callingDomainSelector, calledDomainSelector,
/// upwardFlag, three DomainParameters, userData.
fn connect_initial(i: &[u8]) -> Parsed<'_, ConnectInitial> {
    let start = i;
    let (i, fields) = count(field("Connect-Initial field", ber_tlv), 7)(i)?;
    // The domain selectors are OCTET STRINGs too: userData is the last one.
    let Some((_, user_data)) = fields.iter().rev().find(|(tag, _)| *tag == 0x04) else {
        return Err(WireError::invalid(start, "userData", "missing"));
    };
    let Some(blocks) = gcc_blocks(user_data, KEY_CLIENT) else {
        return Err(WireError::invalid(
            user_data,
            "H.221 key",
            "no \"Duca\" client key",
        ));
    };
    Ok((
        i,
        ConnectInitial {
            client: gcc::parse_client_data(blocks),
        },
    ))
}

/// Connect-Response (T.125 7, BCGR 2.2.1.4): result, calledConnectId, domainParameters,
/// userData. Only the result is required: a refusal may stop after it.
fn connect_response(i: &[u8]) -> Parsed<'_, ConnectResponse> {
    let start = i;
    let (mut i, (tag, value)) = field("result", ber_tlv)(i)?;
    if tag != 0x0a {
        return Err(WireError::invalid(
            start,
            "result",
            format!("tag 0x{tag:02x} is not ENUMERATED"),
        ));
    }
    let Some(&result) = value.first() else {
        return Err(WireError::invalid(start, "result", "empty ENUMERATED"));
    };
    let mut server = ServerData::default();
    for _ in 0..3 {
        let Ok((next, (tag, value))) = ber_tlv(i) else {
            break;
        };
        if tag == 0x04 {
            if let Some(blocks) = gcc_blocks(value, KEY_SERVER) {
                server = gcc::parse_server_data(blocks);
            }
        }
        i = next;
    }
    Ok((
        i,
        ConnectResponse {
            result: McsResult(result),
            server,
        },
    ))
}

/// Per-PDU user data is capped: Standard-Security PDUs we look into are small.
const MAX_USER_DATA: usize = 64 * 1024;

/// PER-encoded UserId (T.125: initiator is sent as an offset from 1001).
fn user_id<'a>(name: &'static str) -> impl FnMut(&'a [u8]) -> Parsed<'a, u16> {
    nom::combinator::map(field(name, be_u16), |id| id.wrapping_add(1001))
}

/// SendDataRequest / SendDataIndication after the choice byte: initiator, channelId,
/// dataPriority + segmentation, a PER length, userData (what is there, capped).
fn send_data(i: &[u8]) -> Parsed<'_, (u16, u16, &[u8])> {
    let (i, initiator) = user_id("initiator")(i)?;
    let (i, channel_id) = field("channelId", be_u16)(i)?;
    let (i, _priority) = field("dataPriority", byte)(i)?;
    let (i, l0) = field("userData length", byte)(i)?;
    let (i, len) = if l0 & 0x80 != 0 {
        let (i, l1) = field("userData length", byte)(i)?;
        (i, (usize::from(l0 & 0x3f) << 8) | usize::from(l1))
    } else {
        (i, usize::from(l0))
    };
    let (i, data) = take(len.min(i.len()).min(MAX_USER_DATA))(i)?;
    Ok((i, (initiator, channel_id, data)))
}

/// The 4-bit Result that follows a PER choice byte (T.125 AttachUserConfirm,
/// ChannelJoinConfirm).
fn per_result(i: &[u8]) -> Parsed<'_, McsResult> {
    nom::combinator::map(field("result", byte), |b| McsResult(b >> 4))(i)
}

/// A PER-encoded DomainMCSPDU (T.125 annex A, BCGR 2.2.1.5-2.2.1.10).
fn domain_pdu(i: &[u8]) -> Parsed<'_, DomainPdu<'_>> {
    let (i, first) = field("DomainMCSPDU choice", byte)(i)?;
    let choice = first >> 2;
    match choice {
        1 => Ok((i, DomainPdu::ErectDomainRequest)),
        8 => {
            // The 3-bit reason straddles the choice byte and the next one.
            let (i, second) = field("reason", byte)(i)?;
            let reason = DisconnectReason(((first & 0x03) << 1) | (second >> 7));
            Ok((i, DomainPdu::DisconnectProviderUltimatum { reason }))
        }
        10 => Ok((i, DomainPdu::AttachUserRequest)),
        11 => {
            let (i, result) = per_result(i)?;
            let (i, initiator) = trailing(user_id("initiator"))(i)?;
            Ok((i, DomainPdu::AttachUserConfirm { result, initiator }))
        }
        14 => {
            let (i, initiator) = user_id("initiator")(i)?;
            let (i, channel_id) = field("channelId", be_u16)(i)?;
            Ok((
                i,
                DomainPdu::ChannelJoinRequest {
                    initiator,
                    channel_id,
                },
            ))
        }
        15 => {
            let (i, result) = per_result(i)?;
            // initiator, requested channelId, then the joined channelId (optional).
            let (i, _initiator) = trailing(be_u16)(i)?;
            let (i, _requested) = trailing(be_u16)(i)?;
            let (i, channel_id) = trailing(be_u16)(i)?;
            Ok((i, DomainPdu::ChannelJoinConfirm { result, channel_id }))
        }
        25 | 26 => {
            let (i, (initiator, channel_id, user_data)) = send_data(i)?;
            let pdu = if choice == 25 {
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
            };
            Ok((i, pdu))
        }
        other => Ok((i, DomainPdu::Other { choice: other })),
    }
}

/// The content of the BER Connect-Initial / Connect-Response application tag.
fn application<'a, O>(
    tag_field: &'static str,
    mut body: impl FnMut(&'a [u8]) -> Parsed<'a, O>,
) -> impl FnMut(&'a [u8]) -> Parsed<'a, O> {
    move |i: &'a [u8]| {
        let (rest, (_, content)) = field(tag_field, ber_tlv)(i)?;
        let (_, out) = body(content)?;
        Ok((rest, out))
    }
}

/// Decodes the MCS PDU carried by an X.224 Data TPDU.
pub fn parse_mcs_pdu(data: &[u8]) -> Result<McsPdu<'_>, ProtoError> {
    match data {
        [0x7f, 0x65, ..] => run(
            LAYER,
            data,
            nom::combinator::map(
                application("Connect-Initial", connect_initial),
                McsPdu::ConnectInitial,
            ),
        ),
        [0x7f, 0x66, ..] => run(
            LAYER,
            data,
            nom::combinator::map(
                application("Connect-Response", connect_response),
                McsPdu::ConnectResponse,
            ),
        ),
        _ => run(
            LAYER,
            data,
            nom::combinator::map(domain_pdu, McsPdu::Domain),
        ),
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
        assert_eq!(
            sec.certificate.unwrap().kind,
            gcc::CertificateKind::Proprietary
        );
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
