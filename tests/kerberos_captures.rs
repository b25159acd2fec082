//! The Kerberos parser on the real KDC exchanges of `../shared/captures/` (TCP/UDP 88, in
//! clear). The expected values are what `tshark -O kerberos` shows for each frame.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod auth_captures;
mod common;

use auth_captures::*;
use common::*;
use rdpscope::proto::kerberos::{self, ErrorData, Etype, KrbErrorCode, KrbMessage, PaType};

/// One row of what tshark shows for a Kerberos frame.
struct Expected {
    frame: u32,
    kind: &'static str,
    realm: &'static str,
    cname: Option<&'static str>,
    sname: &'static str,
}

fn check_kerberos(file: &str, expected: &[Expected]) {
    let Some(path) = capture(file) else {
        return;
    };
    let payloads = kerberos_payloads(&path);
    let frames: Vec<u32> = payloads.iter().map(|(f, _)| *f).collect();
    let wanted: Vec<u32> = expected.iter().map(|e| e.frame).collect();
    assert_eq!(frames, wanted, "{file}: Kerberos frames");
    for ((frame, b), want) in payloads.iter().zip(expected) {
        let (msg, rest) =
            kerberos::parse_tcp_record(b).unwrap_or_else(|e| panic!("{file} frame {frame}: {e}"));
        assert!(
            rest.is_empty(),
            "{file} frame {frame}: bytes after the record"
        );
        let (kind, realm, cname, sname) = match &msg {
            KrbMessage::AsReq(r) | KrbMessage::TgsReq(r) => (
                if matches!(msg, KrbMessage::AsReq(_)) {
                    "AS-REQ"
                } else {
                    "TGS-REQ"
                },
                r.realm.clone(),
                r.cname.as_ref().map(|c| c.joined()),
                r.sname.as_ref().map(|s| s.joined()).unwrap_or_default(),
            ),
            KrbMessage::AsRep(r) | KrbMessage::TgsRep(r) => (
                if matches!(msg, KrbMessage::AsRep(_)) {
                    "AS-REP"
                } else {
                    "TGS-REP"
                },
                r.crealm.clone(),
                Some(r.cname.joined()),
                r.ticket.sname.joined(),
            ),
            KrbMessage::Error(e) => (
                "KRB-ERROR",
                e.realm.clone(),
                e.cname.as_ref().map(|c| c.joined()),
                e.sname.joined(),
            ),
            other => panic!("{file} frame {frame}: unexpected {other:?}"),
        };
        assert_eq!(kind, want.kind, "{file} frame {frame}");
        assert_eq!(realm, want.realm, "{file} frame {frame}");
        assert_eq!(cname.as_deref(), want.cname, "{file} frame {frame}");
        assert_eq!(sname, want.sname, "{file} frame {frame}");
    }
}

macro_rules! row {
    ($frame:expr, $kind:expr, $realm:expr, $cname:expr, $sname:expr) => {
        Expected {
            frame: $frame,
            kind: $kind,
            realm: $realm,
            cname: $cname,
            sname: $sname,
        }
    };
}

/// `tshark -Y kerberos -T fields -e kerberos.msg_type -e kerberos.realm -e
/// kerberos.CNameString -e kerberos.SNameString` (the body's realm and sname for requests,
/// crealm/cname and the ticket's sname for replies).
#[test]
fn kerberos_kdc_exchange_matches_tshark() {
    let tgs = "TERMSRV/IT-HELP-TEST.ad.it-help.ninja";
    check_kerberos(
        "rdp-nla-kerberos-auth2.pcapng",
        &[
            row!(
                7,
                "AS-REQ",
                "IT-HELP",
                Some("Administrator"),
                "krbtgt/IT-HELP"
            ),
            row!(8, "KRB-ERROR", "IT-HELP", None, "krbtgt/IT-HELP"),
            row!(
                9,
                "AS-REQ",
                "IT-HELP",
                Some("Administrator"),
                "krbtgt/IT-HELP"
            ),
            row!(
                10,
                "AS-REP",
                "AD.IT-HELP.NINJA",
                Some("Administrator"),
                "krbtgt/AD.IT-HELP.NINJA"
            ),
            row!(11, "TGS-REQ", "AD.IT-HELP.NINJA", None, tgs),
            row!(
                12,
                "TGS-REP",
                "AD.IT-HELP.NINJA",
                Some("Administrator"),
                tgs
            ),
            row!(20, "TGS-REQ", "AD.IT-HELP.NINJA", None, tgs),
            row!(
                21,
                "TGS-REP",
                "AD.IT-HELP.NINJA",
                Some("Administrator"),
                tgs
            ),
        ],
    );
    let gw = "HTTP/it-help-gw.ad.it-help.ninja";
    let pu = Some("ProtectedUser");
    let pu_upn = Some("ProtectedUser@ad.it-help.ninja");
    let admin_upn = Some("Administrator@ad.it-help.ninja");
    let realm = "AD.IT-HELP.NINJA";
    check_kerberos(
        "rdp-rdg-diff-creds-kerberos-smartcard.pcapng",
        &[
            row!(
                9,
                "AS-REQ",
                "ad.it-help.ninja",
                admin_upn,
                "krbtgt/ad.it-help.ninja"
            ),
            row!(
                10,
                "KRB-ERROR",
                "ad.it-help.ninja",
                None,
                "krbtgt/ad.it-help.ninja"
            ),
            row!(
                12,
                "AS-REQ",
                "ad.it-help.ninja",
                admin_upn,
                "krbtgt/ad.it-help.ninja"
            ),
            row!(
                13,
                "AS-REP",
                realm,
                Some("Administrator"),
                "krbtgt/AD.IT-HELP.NINJA"
            ),
            row!(14, "TGS-REQ", realm, None, gw),
            row!(15, "TGS-REP", realm, Some("Administrator"), gw),
            row!(
                32,
                "AS-REQ",
                "ad.it-help.ninja",
                pu_upn,
                "krbtgt/ad.it-help.ninja"
            ),
            row!(
                33,
                "KRB-ERROR",
                "ad.it-help.ninja",
                None,
                "krbtgt/ad.it-help.ninja"
            ),
            row!(
                34,
                "AS-REQ",
                "ad.it-help.ninja",
                pu_upn,
                "krbtgt/ad.it-help.ninja"
            ),
            row!(35, "AS-REP", realm, pu, "krbtgt/AD.IT-HELP.NINJA"),
            row!(36, "TGS-REQ", realm, None, tgs),
            row!(37, "TGS-REP", realm, pu, tgs),
            row!(45, "TGS-REQ", realm, None, tgs),
            row!(46, "TGS-REP", realm, pu, tgs),
        ],
    );
}

/// The details tshark shows beyond names: error code, stime, e-data PA types, etypes,
/// the smartcard AS-REQ's PA-PK-AS-REQ, the TGS-REQ's TGT and U2U additional ticket.
#[test]
fn kerberos_details_match_tshark() {
    let Some(path) = capture("rdp-rdg-diff-creds-kerberos-smartcard.pcapng") else {
        return;
    };
    let payloads = kerberos_payloads(&path);
    let msg = |frame: u32| {
        let (_, b) = payloads.iter().find(|(f, _)| *f == frame).expect("frame");
        kerberos::parse_tcp_record(b).expect("parses").0
    };
    // Frame 10: KRB5KDC_ERR_PREAUTH_REQUIRED, stime May 10, 2024 20:05:09 UTC,
    // padata 19,2,16,15, etypes 18,23; the user-principal AS-REQ asked with 150,128.
    let KrbMessage::Error(e) = msg(10) else {
        panic!("frame 10")
    };
    assert_eq!(e.error_code, KrbErrorCode::KDC_ERR_PREAUTH_REQUIRED);
    assert_eq!(
        (
            e.stime.year,
            e.stime.month,
            e.stime.day,
            e.stime.hour,
            e.stime.minute,
            e.stime.second
        ),
        (2024, 5, 10, 20, 5, 9)
    );
    let Some(ErrorData::MethodData {
        pa_types,
        etypes,
        status: None,
    }) = e.e_data
    else {
        panic!("frame 10 e-data")
    };
    assert_eq!(pa_types, [PaType(19), PaType(2), PaType(16), PaType(15)]);
    assert_eq!(etypes, [Etype(18), Etype(23)]);
    let KrbMessage::AsReq(r) = msg(9) else {
        panic!("frame 9")
    };
    assert_eq!(
        (r.padata.as_slice(), r.kdc_options),
        (
            &[PaType::PA_AS_FRESHNESS, PaType::PA_PAC_REQUEST][..],
            0x4081_0010
        )
    );
    assert_eq!(
        r.cname.as_ref().map(|c| c.name_type),
        Some(10),
        "NT-ENTERPRISE"
    );
    // Frame 12: smartcard logon, padata 16 (PA-PK-AS-REQ), 18, 128; etype 18.
    let KrbMessage::AsReq(r) = msg(12) else {
        panic!("frame 12")
    };
    assert_eq!(
        r.padata,
        [PaType::PA_PK_AS_REQ, PaType(18), PaType::PA_PAC_REQUEST]
    );
    // Frame 36: TGS-REQ, padata 1,167, kdc-options 00810000, TGT krbtgt/AD.IT-HELP.NINJA.
    let KrbMessage::TgsReq(r) = msg(36) else {
        panic!("frame 36")
    };
    assert_eq!(
        (r.padata.as_slice(), r.kdc_options),
        (
            &[PaType::PA_TGS_REQ, PaType::PA_PAC_OPTIONS][..],
            0x0081_0000
        )
    );
    assert_eq!(
        r.tgt.as_ref().map(|t| t.sname.joined()).as_deref(),
        Some("krbtgt/AD.IT-HELP.NINJA")
    );
    assert!(!r.additional_tickets);
    // Frame 45: kdc-options 00810008 (enc-tkt-in-skey) with the server's TGT as an
    // additional ticket (user-to-user).
    let KrbMessage::TgsReq(r) = msg(45) else {
        panic!("frame 45")
    };
    assert_eq!(r.kdc_options, 0x0081_0008);
    assert!(r.additional_tickets);
}

/// Every Kerberos frame tshark finds in any shared capture (TCP records that start in
/// their frame, UDP datagrams) parses, with the msg-type tshark reads.
#[test]
fn every_shared_kerberos_frame_parses() {
    let Some(dir) = shared_captures() else {
        return;
    };
    if !have_tool("tshark") {
        return;
    }
    let mut parsed = 0;
    for file in captures_under(&dir) {
        let out = tshark(
            &file,
            &[
                "-Y",
                "kerberos",
                "-T",
                "fields",
                "-E",
                "occurrence=f",
                "-e",
                "frame.number",
                "-e",
                "kerberos.msg_type",
                "-e",
                "tcp.payload",
                "-e",
                "udp.payload",
            ],
        );
        for line in out.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            let [frame, msg_type, tcp, udp] = cols[..] else {
                continue;
            };
            let Ok(msg_type) = msg_type.parse::<i32>() else {
                continue;
            };
            let msg = if !udp.is_empty() {
                kerberos::parse_udp_datagram(&unhex(udp))
            } else {
                let b = unhex(tcp);
                if !matches!(
                    kerberos::find_tcp_record_size(&b),
                    rdpscope::proto::Framing::Complete(_)
                ) {
                    continue; // a record reassembled from several segments
                }
                kerberos::parse_tcp_record(&b).map(|(m, _)| m)
            };
            let msg = msg.unwrap_or_else(|e| panic!("{} frame {frame}: {e}", file.display()));
            assert_eq!(msg.msg_type(), msg_type, "{} frame {frame}", file.display());
            parsed += 1;
        }
    }
    assert!(parsed >= 30, "only {parsed} Kerberos messages found");
    eprintln!("{parsed} Kerberos messages parsed");
}
