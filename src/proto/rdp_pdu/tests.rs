//! Decoded fields of real Windows PDUs (awakecoding_wireshark-rdp captures, decrypted by tshark
//! with the secrets embedded in the pcapng: `tshark -r F -d tcp.port==3389,tls -x`), compared
//! with what tshark 4.0 prints for them (`-O rdp`); the fields tshark does not decode were
//! checked by hand against MS-RDPBCGR.

use super::*;
use crate::proto::test_util::hex;
use proptest::prelude::*;

fn bytes(parts: &[&str]) -> Vec<u8> {
    hex(&parts.concat())
}

fn send_data(parts: &[&str]) -> (bool, u16, u16, RdpPdu) {
    match parse_slow_path(&bytes(parts), PduContext::default()).unwrap() {
        SlowPathPdu::SendData {
            indication,
            initiator,
            channel_id,
            pdu,
        } => (indication, initiator, channel_id, pdu),
        other => panic!("not Send Data: {other:?}"),
    }
}

/// rdp-nla-kerberos-auth2.pcapng frame 49: decrypted TPKT of 413 bytes.
const CLIENT_INFO: &[&str] = &[
    "0300019d02f08064000803eb70818e40003ed7090409043b4103000e001a00000000000000490054002d00480045004c",
    "0050000000410064006d0069006e006900730074007200610074006f007200000000000000000002001800310030002e",
    "00310030002e0030002e003100330031000000400043003a005c00570069006e0064006f00770073005c007300790073",
    "00740065006d00330032005c006d007300740073006300610078002e0064006c006c0000002c01000045006100730074",
    "00650072006e0020005300740061006e0064006100720064002000540069006d00650000000000000000000000000000",
    "00000000000000000000000b00000001000200000000000000000000004500610073007400650072006e002000440061",
    "0079006c0069006700680074002000540069006d00650000000000000000000000000000000000000000000000000003",
    "00000002000200000000000000c4ffffff01000000860100000000640000002a004500610073007400650072006e0020",
    "005300740061006e0064006100720064002000540069006d0065000000",
];

/// rdp-nla-kerberos-auth2.pcapng frame 51: decrypted TPKT of 472 bytes.
const DEMAND_ACTIVE: &[&str] = &[
    "030001d802f08068000103eb7081c9c9011100ea03ea0301000400b301524450001100000009000800ea030000010018",
    "00010003000002000000001d04000000000000010114000c0002000000400600000a0008000600000008000a00010019",
    "0019001b00060003000e0008000100000002001c00200001000100010000040003000001000100001e010000001d0060",
    "0004b91b8dca0f004f15589fae2d1a87e2d6000300010103122f777672bd6344afb3b73c9c6f788600040000000000a6",
    "51439c3535ae42910ccdfce5760b5800040000000000d4cc44278a9d744e803c0ecbeea19c5400040000000000030058",
    "000000000000000000000000000000000040420f0001001400000001000000aa00010101010100000001000001000000",
    "0101010101010101000101010100000000a106060040420f0040420f00010000000000000012000800010000000d0058",
    "007503000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000000000000017000800ff00000018000b",
    "0002000000030c001a0008002a0030001c000c0052000000000000001e0008000000000000000000",
];

/// rdp-nla-kerberos-auth2.pcapng frame 53: decrypted TPKT of 611 bytes.
const CONFIRM_ACTIVE: &[&str] = &[
    "0300026302f08064000803eb70825454021300f103ea030100ea0306003e024d53545343001700000001001800010003",
    "000002000000001d04000000000000000002001c00200001000100010000040003000001000100001a01000000030058",
    "00000000000000000000000000000000000000000001001400000001000000aa00010101010100000101010001000000",
    "0101010101010101000101010000000000a1060600000000000084030000000000e40400001300280002000003780000",
    "00780000005101000000000000000000000000000000000000000000000a0008000600000007000c0000000000000000",
    "0005000c00000000000200020008000a0001001400150009000800000000000d005800b1000000090400000400000000",
    "0000000c0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000000000000000000c000800010000000e0008000100000010003400fe000400fe",
    "000400fe000800fe000800fe001000fe002000fe004000fe008000fe0000014000000800010001030000000f00080001",
    "00000011000c00010000000028640014000c00010000000000000015000c0002000000000a00011a0008002a0030001c",
    "000c0012000000000000001b00060003001e0008000200000018000b0002000000030c001d005f0002b91b8dca0f004f",
    "15589fae2d1a87e2d6010300010103d4cc44278a9d744e803c0ecbeea19c54053100310000000100000025000000c0cb",
    "080000000100c1cb1d00000001c0cf0200080000014000020101010001400002010104",
];

/// rdp-nla-kerberos-auth2.pcapng frame 55: decrypted TPKT of 40 bytes.
const CONTROL_COOPERATE: &[&str] =
    &["0300002802f08064000803eb701a1a001700f103ea03010000010c00140000000400000000000000"];

/// rdp-nla-kerberos-auth2.pcapng frame 187: decrypted TPKT of 645 bytes.
const SAVE_SESSION_EXTENDED: &[&str] = &[
    "0300028502f08068000103eb70827676021700ea03ea0301000001760226000000030000002600010000001c0000001c",
    "00000001000000020000005c769f0d8dc059b8db733073c922a714000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000",
];

/// rdp-no-nla-smartcard-auth1.pcapng frame 1073: decrypted TPKT of 657 bytes.
const SAVE_SESSION_LOGON_LONG: &[&str] = &[
    "0300029102f08068000103eb70828282021700ea03ea0301000001820226000000010000000100120000000200000010",
    "0000001c0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000000000000000000000000000000000000000000000490054002d00480045004c",
    "0050000000410064006d0069006e006900730074007200610074006f0072000000",
];

/// rdp-no-nla-smartcard-auth1.pcapng frame 31: decrypted TPKT of 433 bytes.
const CLIENT_INFO_SMARTCARD: &[&str] = &[
    "030001b102f08064000803eb7081a240003250090409043341030000003c00000000000000000040004000420070004e",
    "00530072006b00610078004b00360044007500570047002d0046003300770073006e005800750079004b005000480062",
    "004800000000000000000002001800310030002e00310030002e0030002e003100330031000000400043003a005c0057",
    "0069006e0064006f00770073005c00730079007300740065006d00330032005c006d007300740073006300610078002e",
    "0064006c006c0000002c0100004500610073007400650072006e0020005300740061006e006400610072006400200054",
    "0069006d0065000000000000000000000000000000000000000000000000000b00000001000200000000000000000000",
    "004500610073007400650072006e0020004400610079006c0069006700680074002000540069006d0065000000000000",
    "000000000000000000000000000000000000000300000002000200000000000000c4ffffff0100000086010000000064",
    "0000002a004500610073007400650072006e0020005300740061006e0064006100720064002000540069006d00650000",
    "00",
];

/// rdp-nla-kerberos-auth2.pcapng frame 50: the licensing Error Alert (STATUS_VALID_CLIENT).
const LICENSE_VALID_CLIENT: &[&str] =
    &["0300002202f08068000103eb701480000000ff031000070000000200000004000000"];
/// rdp-nla-kerberos-auth2.pcapng frame 1111: Set Error Info at the end of the session.
const SET_ERROR_INFO_BYUSER: &[&str] =
    &["0300002402f08068000103eb3016160017000000ea030100000116002f0000000b000000"];
/// rdp-no-nla-smartcard-auth1.pcapng frame 1060: Set Error Info clearing the error.
const SET_ERROR_INFO_NONE: &[&str] =
    &["0300002402f08068000103eb3016160017000000ea030100000116002f00000000000000"];

#[test]
fn client_info_of_mstsc_as_tshark_shows_it() {
    let (indication, initiator, channel, pdu) = send_data(CLIENT_INFO);
    assert!(!indication);
    assert_eq!((initiator, channel), (1009, 1003));
    let RdpPdu::ClientInfo(info) = pdu else {
        panic!("not Client Info: {pdu:?}")
    };
    // tshark: codePage 67699721, optionFlags 0x0003413b, domain IT-HELP, userName
    // Administrator, cbPassword 0, clientAddress 10.10.0.131.
    assert_eq!(info.code_page, 67_699_721);
    assert_eq!(info.flags, InfoFlags(0x0003_413b));
    assert_eq!(info.domain, "IT-HELP");
    assert_eq!(info.user_name, "Administrator");
    assert!(!info.password_present);
    assert!(info.auto_logon());
    assert_eq!(info.client_address.as_deref(), Some("10.10.0.131"));
    assert!(info.flags.names().contains(&"INFO_LOGONERRORS".to_string()));
}

#[test]
fn smart_card_client_info_has_no_domain_and_no_password() {
    let (_, _, _, pdu) = send_data(CLIENT_INFO_SMARTCARD);
    let RdpPdu::ClientInfo(info) = pdu else {
        panic!("not Client Info: {pdu:?}")
    };
    assert_eq!(info.domain, "");
    assert!(info.user_name.starts_with("@@"), "{}", info.user_name);
    assert!(!info.password_present);
    assert!(!info.auto_logon());
}

#[test]
fn licensing_valid_client_ends_the_phase_successfully() {
    let (indication, _, _, pdu) = send_data(LICENSE_VALID_CLIENT);
    assert!(indication);
    let RdpPdu::Licensing(lic) = pdu else {
        panic!("not licensing: {pdu:?}")
    };
    assert_eq!(lic.outcome(), Some(true));
}

#[test]
fn demand_active_as_tshark_shows_it() {
    let (indication, _, _, pdu) = send_data(DEMAND_ACTIVE);
    assert!(indication);
    let RdpPdu::DemandActive(da) = pdu else {
        panic!("not Demand Active: {pdu:?}")
    };
    // tshark: shareId 0x000103ea, sourceDescriptor RDP, numberCapabilities 17.
    assert_eq!(da.share_id, 0x0001_03ea);
    assert_eq!(da.source_descriptor, "RDP");
    assert_eq!(da.capability_sets.len(), 17);
    assert_eq!(da.capability_sets[0].name(), Some("CAPSTYPE_SHARE"));
    // tshark 4.0 reads sessionId from the first capability set (0x00080009); the real one
    // follows the 435 bytes of capability sets (Windows sends 0).
    assert_eq!(da.session_id, Some(0));
    assert_eq!(
        da.capability_sets[16].name(),
        Some("CAPSSETTYPE_FRAME_ACKNOWLEDGE")
    );
}

#[test]
fn confirm_active_as_tshark_shows_it() {
    let (_, _, _, pdu) = send_data(CONFIRM_ACTIVE);
    let RdpPdu::ConfirmActive(ca) = pdu else {
        panic!("not Confirm Active: {pdu:?}")
    };
    // tshark: originatorId 1002, sourceDescriptor MSTSC, numberCapabilities 23.
    assert_eq!(ca.originator_id, Some(1002));
    assert_eq!(ca.source_descriptor, "MSTSC");
    assert_eq!(ca.capability_sets.len(), 23);
}

#[test]
fn control_cooperate() {
    let (_, _, _, pdu) = send_data(CONTROL_COOPERATE);
    let RdpPdu::Data { header, body } = pdu else {
        panic!("not data: {pdu:?}")
    };
    assert_eq!(header.pdu_type2, PduType2::CONTROL);
    assert_eq!(body, DataPdu::Control { action: 4 });
}

#[test]
fn set_error_info_names_the_servers_reason() {
    let (_, _, _, pdu) = send_data(SET_ERROR_INFO_BYUSER);
    let RdpPdu::Data { header, body } = pdu else {
        panic!("not data: {pdu:?}")
    };
    // tshark: pduType2 Set Error Info (47), shareId 0x000103ea, uncompressedLength 22.
    assert_eq!(header.pdu_type2.name(), Some("PDUTYPE2_SET_ERROR_INFO_PDU"));
    assert_eq!(header.share_id, 0x0001_03ea);
    assert_eq!(header.uncompressed_length, 22);
    let DataPdu::SetErrorInfo { error_info } = body else {
        panic!()
    };
    assert_eq!(
        error_info.name(),
        Some("ERRINFO_RPC_INITIATED_DISCONNECT_BYUSER")
    );
    assert!(error_info.is_normal_end());
    let (_, _, _, pdu) = send_data(SET_ERROR_INFO_NONE);
    assert!(matches!(
        pdu,
        RdpPdu::Data {
            body: DataPdu::SetErrorInfo {
                error_info: ErrInfo::NONE
            },
            ..
        }
    ));
}

#[test]
fn save_session_info_extended_keeps_the_cookie_out() {
    let (_, _, _, pdu) = send_data(SAVE_SESSION_EXTENDED);
    let RdpPdu::Data {
        body: DataPdu::SaveSessionInfo(SaveSessionInfo::Extended(x)),
        ..
    } = pdu
    else {
        panic!("not Logon Info Extended: {pdu:?}")
    };
    // FieldsPresent LOGON_EX_AUTORECONNECTCOOKIE; ARC_SC_PRIVATE_PACKET LogonId 2.
    assert_eq!(x.fields_present, 1);
    assert_eq!(x.auto_reconnect_logon_id, Some(2));
    assert_eq!(x.logon_errors, None);
    assert!(!format!("{x:?}").contains("5c769f"));
}

#[test]
fn save_session_info_logon_long_names_the_user() {
    let (_, _, _, pdu) = send_data(SAVE_SESSION_LOGON_LONG);
    let RdpPdu::Data {
        body: DataPdu::SaveSessionInfo(SaveSessionInfo::Logon(info)),
        ..
    } = pdu
    else {
        panic!("not Logon Info v2: {pdu:?}")
    };
    assert_eq!(info.version, Some(1));
    assert_eq!(info.session_id, 2);
    assert_eq!(info.domain, "IT-HELP");
    assert!(!info.user_name.is_empty());
}

#[test]
fn synthetic_standard_security_encrypted_pdu_is_not_decoded() {
    // Security header SEC_ENCRYPT, then dataSignature and RC4 bytes.
    let user_data = hex("08000000 0102030405060708 aabbccdd");
    let ctx = PduContext {
        security: SecurityLayer::Standard,
        io_channel: DEFAULT_IO_CHANNEL,
        message_channel: None,
    };
    assert!(matches!(
        parse_user_data(&user_data, DEFAULT_IO_CHANNEL, ctx).unwrap(),
        RdpPdu::Encrypted { .. }
    ));
}

#[test]
fn virtual_channel_data_is_counted_not_parsed() {
    // rdp-nla-kerberos-auth2 frame 66 style: CHANNEL_PDU_HEADER length 10, flags 3.
    let user_data = hex("0a000000 03000000 50000000 0000");
    assert_eq!(
        parse_user_data(&user_data, 1007, PduContext::default()).unwrap(),
        RdpPdu::VirtualChannel {
            channel_id: 1007,
            len: 14
        }
    );
}

#[test]
fn message_channel_pdus_without_the_channel_id() {
    // rdp-nla-kerberos-auth2.pcapng frame 68 (Heartbeat, channel 1008) and frame 215
    // (Autodetect Resp, flagsHi 0x0a80 as mstsc sends it).
    let (_, _, channel, pdu) = send_data(&["0300001602f08068000103f070080040000000010808"]);
    assert_eq!((channel, pdu), (1008, RdpPdu::Heartbeat));
    let (_, _, _, pdu) = send_data(&["0300001802f08064000803f0700a0020800a060100000000"]);
    assert_eq!(pdu, RdpPdu::AutoDetect { response: true });
}

#[test]
fn ultimatum_reason() {
    // xrdp's refusal: 03 00 00 09 02 f0 80 21 80 (rn-user-requested).
    assert_eq!(
        parse_slow_path(&hex("030000090 2f0802180"), PduContext::default()).unwrap(),
        SlowPathPdu::Ultimatum { reason: 3 }
    );
}

proptest! {
    #[test]
    fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..700), cut in 0usize..700, flip in 0usize..700) {
        let _ = parse_user_data(&data, DEFAULT_IO_CHANNEL, PduContext::default());
        let _ = parse_user_data(&data, DEFAULT_IO_CHANNEL, PduContext { security: SecurityLayer::Standard, ..PduContext::default() });
        for parts in [CLIENT_INFO, DEMAND_ACTIVE, CONFIRM_ACTIVE, SAVE_SESSION_EXTENDED, SAVE_SESSION_LOGON_LONG] {
            let mut b = bytes(parts);
            let _ = parse_slow_path(&b[..cut.min(b.len())], PduContext::default());
            if let Some(x) = b.get_mut(flip) {
                *x ^= 0x5a;
            }
            let _ = parse_slow_path(&b, PduContext::default());
        }
    }
}
