use super::*;
use crate::proto::test_util::hex;

/// rdp-nla-kerberos-auth2.pcapng frame 7, the TCP payload (record marker included).
/// tshark: AS-REQ, kdc-options 40810010, cname Administrator, realm IT-HELP,
/// sname krbtgt/IT-HELP, padata 128 (PA-PAC-REQUEST) only.
const AS_REQ_FRAME_7: &str = "000000df6a81dc3081d9a103020105a20302010aa31530133011a10402020080a2\
    0904073005a0030101ffa481b53081b2a00703050040810010a11a3018a003020101a111300f1b0d41646d696e69\
    73747261746f72a2091b0749542d48454c50a31c301aa003020102a11330111b066b72627467741b0749542d4845\
    4c50a511180f32313030303931333032343830355aa611180f32313030303931333032343830355aa70602045ce8\
    731da81530130201120201110201170201180202ff79020103a91d301b3019a003020114a112041049542d48454c\
    502d434c49454e542020";

/// Frame 8: KRB-ERROR KDC_ERR_PREAUTH_REQUIRED (25), stime 2024-05-06 20:07:42 UTC,
/// realm IT-HELP, sname krbtgt/IT-HELP, e-data METHOD-DATA 19, 2, 16, 15; etypes 18, 23.
const KRB_ERROR_FRAME_8: &str = "000000b57e81b23081afa003020105a10302011ea411180f3230323430353036\
    3230303734325aa50502030b9623a603020119a9091b0749542d48454c50aa1c301aa003020102a11330111b066b\
    72627467741b0749542d48454c50ac5b045930573034a103020113a22d042b30293020a003020112a1191b174954\
    2d48454c502d444341646d696e6973747261746f723005a0030201173009a103020102a20204003009a103020110\
    a20204003009a10302010fa2020400";

#[test]
fn as_req_from_windows() {
    let b = hex(AS_REQ_FRAME_7);
    assert_eq!(find_tcp_record_size(&b), Framing::Complete(b.len()));
    let (msg, rest) = parse_tcp_record(&b).unwrap();
    assert!(rest.is_empty());
    let KrbMessage::AsReq(req) = msg else {
        panic!("not an AS-REQ: {msg:?}");
    };
    assert_eq!(req.kdc_options, 0x4081_0010);
    assert_eq!(req.cname.as_ref().unwrap().joined(), "Administrator");
    assert_eq!(req.realm, "IT-HELP");
    assert_eq!(req.sname.as_ref().unwrap().joined(), "krbtgt/IT-HELP");
    assert_eq!(req.padata, vec![PaType::PA_PAC_REQUEST]);
    assert_eq!(
        req.etypes,
        vec![
            Etype(18),
            Etype(17),
            Etype(23),
            Etype(24),
            Etype(-135),
            Etype(3)
        ]
    );
    assert_eq!(req.till.unwrap().year, 2100);
}

#[test]
fn krb_error_preauth_required_from_windows() {
    let b = hex(KRB_ERROR_FRAME_8);
    let KrbMessage::Error(e) = parse_tcp_record(&b).unwrap().0 else {
        panic!("not a KRB-ERROR");
    };
    assert_eq!(e.error_code, KrbErrorCode::KDC_ERR_PREAUTH_REQUIRED);
    assert_eq!(e.stime.unix_seconds(), 1_715_026_062);
    assert_eq!(e.realm, "IT-HELP");
    assert_eq!(e.sname.joined(), "krbtgt/IT-HELP");
    assert_eq!(e.sname.service(), Some("krbtgt"));
    assert_eq!((e.ctime, e.cname, e.e_text), (None, None, None));
    let Some(ErrorData::MethodData {
        pa_types,
        etypes,
        status: None,
    }) = e.e_data
    else {
        panic!("e-data is not METHOD-DATA");
    };
    assert_eq!(
        pa_types,
        vec![
            PaType::PA_ETYPE_INFO2,
            PaType::PA_ENC_TIMESTAMP,
            PaType::PA_PK_AS_REQ,
            PaType::PA_PK_AS_REP_OLD
        ]
    );
    assert_eq!(
        etypes,
        vec![Etype::AES256_CTS_HMAC_SHA1_96, Etype::RC4_HMAC]
    );
}

#[test]
fn synthetic_tcp_framing() {
    assert_eq!(find_tcp_record_size(&[0, 0]), Framing::NeedMore(2));
    assert_eq!(
        find_tcp_record_size(&[0, 0, 0, 2, 0x30]),
        Framing::NeedMore(1)
    );
    assert_eq!(
        find_tcp_record_size(&[0x80, 0, 0, 2, 0x30, 0]),
        Framing::Invalid
    );
    assert_eq!(find_tcp_record_size(&[0, 0, 0, 0]), Framing::Invalid);
    let b = hex(KRB_ERROR_FRAME_8);
    for n in 0..b.len() {
        assert!(parse_tcp_record(&b[..n]).is_err(), "prefix {n}");
    }
}

/// A KRB-ERROR from a Windows KDC for a disabled account carries KERB-EXT-ERROR with the
/// NTSTATUS (MS-KILE 2.2.2): built here from the structure, as no capture holds one.
#[test]
fn synthetic_extended_error_status() {
    // KERB-ERROR-DATA { data-type [1] 3, data-value [2] OCTET STRING (12 bytes) }
    let mut ed = hex("3015a103020103a20e040c");
    ed.extend_from_slice(&0xC000_0072u32.to_le_bytes());
    ed.extend_from_slice(&[0; 8]);
    assert_eq!(
        error_data(&ed),
        ErrorData::Typed {
            data_type: 3,
            status: Some(NtStatus::STATUS_ACCOUNT_DISABLED)
        }
    );
    assert_eq!(error_data(&[0xff]), ErrorData::Other { len: 1 });
}

/// A Windows KDC refusing a locked-out account: METHOD-DATA with a 12-byte PA-PW-SALT
/// holding STATUS_ACCOUNT_LOCKED_OUT (the layout Wireshark decodes as the NT status).
#[test]
fn synthetic_pw_salt_status() {
    // SEQUENCE OF { PA-DATA { [1] 3, [2] OCTET STRING (12 bytes) } }
    let mut ed = hex("30173015a103020103a20e040c");
    ed.extend_from_slice(&0xC000_0234u32.to_le_bytes());
    ed.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
    let ErrorData::MethodData {
        status, pa_types, ..
    } = error_data(&ed)
    else {
        panic!("not METHOD-DATA: {:?}", error_data(&ed));
    };
    assert_eq!(pa_types, vec![PaType::PA_PW_SALT]);
    assert_eq!(status, Some(NtStatus::STATUS_ACCOUNT_LOCKED_OUT));
}
