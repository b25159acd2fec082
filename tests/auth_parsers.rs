//! The authentication parsers (CredSSP, SPNEGO, NTLM, Kerberos) on real Windows bytes from
//! `../shared/captures/awakecoding_wireshark-rdp/`: Kerberos in clear on TCP 88, CredSSP
//! decrypted by tshark with the secrets embedded in the pcapng. The expected values are
//! what `tshark -O credssp,ntlmssp,kerberos,spnego` shows for each frame.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use rdpscope::proto::credssp::{parse_ts_request, NtStatus, TsRequest};
use rdpscope::proto::kerberos::{self, ErrorData, Etype, KrbErrorCode, KrbMessage, PaType};
use rdpscope::proto::ntlm::{self, NtlmMessage, NtlmResponseKind};
use rdpscope::proto::spnego::{parse_nego_token, Mech, MechToken, NegState};

fn capture(name: &str) -> Option<PathBuf> {
    let p = shared_captures()?
        .join("awakecoding_wireshark-rdp")
        .join(name);
    if !p.is_file() {
        eprintln!("skipped: {} is absent", p.display());
        return None;
    }
    have_tool("tshark").then_some(p)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .expect("run tshark");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (frame, TCP or UDP payload) of every Kerberos frame.
fn kerberos_payloads(file: &Path) -> Vec<(u32, Vec<u8>)> {
    let fields = [
        "-e",
        "frame.number",
        "-e",
        "tcp.payload",
        "-e",
        "udp.payload",
    ];
    let mut args = vec!["-Y", "kerberos", "-T", "fields"];
    args.extend_from_slice(&fields);
    tshark(file, &args)
        .lines()
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let frame = cols.next()?.parse().ok()?;
            let payload: String = cols.collect();
            Some((frame, unhex(&payload)))
        })
        .collect()
}

/// (frame, decrypted TLS bytes) of every CredSSP frame, from tshark's hex dump.
fn decrypted_credssp(file: &Path) -> Vec<(u32, Vec<u8>)> {
    let decode = ["-d", "tcp.port==3389,tls", "-Y", "credssp"];
    let frames: Vec<u32> = tshark(
        file,
        &[&decode[..], &["-T", "fields", "-e", "frame.number"]].concat(),
    )
    .lines()
    .filter_map(|l| l.trim().parse().ok())
    .collect();
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    let mut in_block = false;
    for line in tshark(file, &[&decode[..], &["-x"]].concat()).lines() {
        if line.starts_with("Decrypted TLS") {
            blocks.push(Vec::new());
            in_block = true;
        } else if line.trim().is_empty() || line.ends_with("):") {
            in_block = false;
        } else if in_block {
            // "0000  30 0d a0 03 ...   ascii": the hex sits in columns 6..54.
            let hex: String = line.get(6..54).unwrap_or("").split_whitespace().collect();
            if let Some(b) = blocks.last_mut() {
                b.extend(unhex(&hex));
            }
        }
    }
    assert_eq!(
        frames.len(),
        blocks.len(),
        "one decrypted block per CredSSP frame"
    );
    frames.into_iter().zip(blocks).collect()
}

fn ts_request(frames: &[(u32, Vec<u8>)], frame: u32) -> TsRequest<'_> {
    let (_, b) = frames
        .iter()
        .find(|(f, _)| *f == frame)
        .unwrap_or_else(|| panic!("frame {frame} not among the CredSSP frames"));
    parse_ts_request(b).unwrap_or_else(|e| panic!("frame {frame}: {e}"))
}

fn only_token<'a>(req: &TsRequest<'a>, frame: u32) -> MechToken<'a> {
    assert_eq!(req.nego_tokens.len(), 1, "frame {frame}");
    parse_nego_token(req.nego_tokens[0]).unwrap_or_else(|e| panic!("frame {frame}: {e}"))
}

fn ntlm_of(req: &TsRequest<'_>, frame: u32) -> NtlmMessage {
    match only_token(req, frame) {
        MechToken::Ntlm(b) => {
            ntlm::parse_message(b).unwrap_or_else(|e| panic!("frame {frame}: {e}"))
        }
        other => panic!("frame {frame}: not NTLM: {:?}", other.mech()),
    }
}

/// rdp-nla-ntlm-rejected1: raw NTLMSSP in negoTokens, then the server's errorCode.
#[test]
fn credssp_ntlm_rejected_matches_tshark() {
    let Some(file) = capture("rdp-nla-ntlm-rejected1.pcapng") else {
        return;
    };
    let frames = decrypted_credssp(&file);
    let numbers: Vec<u32> = frames.iter().map(|(f, _)| *f).collect();
    assert_eq!(numbers, [12, 13, 14, 15]);

    // Frame 12: NTLMSSP_NEGOTIATE, flags 0xe20882b7, Version 10.0 (Build 22621), rev 15.
    let req = ts_request(&frames, 12);
    assert_eq!(req.version, 6);
    let NtlmMessage::Negotiate(n) = ntlm_of(&req, 12) else {
        panic!("frame 12")
    };
    assert_eq!(n.flags.0, 0xe208_82b7);
    assert_eq!(
        n.version
            .map(|v| (v.major, v.minor, v.build, v.ntlm_revision)),
        Some((10, 0, 22621, 15))
    );

    // Frame 13: NTLMSSP_CHALLENGE, target IT-HELP, flags 0xe2898235, Build 20348.
    let NtlmMessage::Challenge(c) = ntlm_of(&ts_request(&frames, 13), 13) else {
        panic!("frame 13")
    };
    assert_eq!(
        (c.target_name.as_str(), c.flags.0),
        ("IT-HELP", 0xe289_8235)
    );
    assert_eq!(
        c.target_info.dns_domain.as_deref(),
        Some("ad.it-help.ninja")
    );
    assert_eq!(c.version.map(|v| v.build), Some(20348));

    // Frame 14: NTLMSSP_AUTH IT-HELP\Administrator from IT-HELP-CLIENT, flags 0xe2888235,
    // NTLMv2 response of 364 bytes (LM 24) whose target name is TERMSRV/10.10.0.10;
    // pubKeyAuth and clientNonce present.
    let req = ts_request(&frames, 14);
    assert!(req.has_pub_key_auth() && req.client_nonce.map(<[u8]>::len) == Some(32));
    let NtlmMessage::Authenticate(a) = ntlm_of(&req, 14) else {
        panic!("frame 14")
    };
    assert_eq!(
        (a.domain.as_str(), a.user.as_str(), a.workstation.as_str()),
        ("IT-HELP", "Administrator", "IT-HELP-CLIENT")
    );
    assert_eq!(a.flags.0, 0xe288_8235);
    assert_eq!(
        (a.response, a.nt_response_len, a.lm_response_len),
        (NtlmResponseKind::V2, 364, 24)
    );
    let info = a.client_info.expect("NTLMv2 AV pairs");
    assert_eq!(info.target_name.as_deref(), Some("TERMSRV/10.10.0.10"));
    assert_eq!(info.flags, Some(2));
    assert_eq!(a.version.map(|v| v.build), Some(22621));

    // Frame 15: errorCode -2146893054 = 0x80090302.
    let req = ts_request(&frames, 15);
    assert_eq!(req.error_code, Some(NtStatus::SEC_E_UNSUPPORTED_FUNCTION));
    assert!(req.nego_tokens.is_empty());
}

/// rdp-nla-kerberos-auth2: SPNEGO with Kerberos user-to-user, AP-REQ to TERMSRV, AP-REP.
#[test]
fn credssp_kerberos_matches_tshark() {
    let Some(file) = capture("rdp-nla-kerberos-auth2.pcapng") else {
        return;
    };
    let frames = decrypted_credssp(&file);
    let numbers: Vec<u32> = frames.iter().map(|(f, _)| *f).collect();
    assert_eq!(numbers, [18, 19, 22, 24, 25, 26, 27]);

    // Frame 18: negTokenInit, mechTypes MS KRB5, KRB5, NEGOEX, NTLMSSP; mechToken is a
    // KERB_TGT_REQUEST for TERMSRV/IT-HELP-TEST.ad.it-help.ninja.
    let req = ts_request(&frames, 18);
    let MechToken::NegTokenInit(init) = only_token(&req, 18) else {
        panic!("frame 18")
    };
    assert_eq!(
        init.mech_types,
        [Mech::MsKerberos, Mech::Kerberos, Mech::Negoex, Mech::Ntlm]
    );
    let MechToken::Kerberos(k) = parse_nego_token(init.mech_token.unwrap()).unwrap() else {
        panic!("frame 18 mechToken")
    };
    assert_eq!((k.mech, k.tok_id), (Mech::KerberosU2u, 0x0400));
    let KrbMessage::TgtReq(t) = kerberos::parse_message(k.message).unwrap() else {
        panic!("frame 18 TGT-REQ")
    };
    assert_eq!(
        t.server_name.unwrap().joined(),
        "TERMSRV/IT-HELP-TEST.ad.it-help.ninja"
    );

    // Frame 19: negTokenTarg accept-incomplete, supportedMech MS KRB5, KERB_TGT_REPLY with
    // a ticket for krbtgt/AD.IT-HELP.NINJA (etype 18, kvno 2).
    let MechToken::NegTokenResp(resp) = only_token(&ts_request(&frames, 19), 19) else {
        panic!("frame 19")
    };
    assert_eq!(
        (resp.neg_state, resp.supported_mech),
        (Some(NegState::ACCEPT_INCOMPLETE), Some(Mech::MsKerberos))
    );
    let MechToken::Kerberos(k) = parse_nego_token(resp.response_token.unwrap()).unwrap() else {
        panic!("frame 19 token")
    };
    let KrbMessage::TgtRep(ticket) = kerberos::parse_message(k.message).unwrap() else {
        panic!("frame 19 TGT-REP")
    };
    assert_eq!(
        (ticket.realm.as_str(), ticket.sname.joined().as_str()),
        ("AD.IT-HELP.NINJA", "krbtgt/AD.IT-HELP.NINJA")
    );
    assert_eq!(
        (ticket.etype, ticket.kvno),
        (Etype::AES256_CTS_HMAC_SHA1_96, Some(2))
    );

    // Frame 22: AP-REQ, ap-options 0x60000000, ticket AD.IT-HELP.NINJA
    // TERMSRV/IT-HELP-TEST.ad.it-help.ninja, etype 18.
    let MechToken::NegTokenResp(resp) = only_token(&ts_request(&frames, 22), 22) else {
        panic!("frame 22")
    };
    let MechToken::Kerberos(k) = parse_nego_token(resp.response_token.unwrap()).unwrap() else {
        panic!("frame 22 token")
    };
    assert_eq!(k.tok_id, 0x0100);
    let KrbMessage::ApReq(ap) = kerberos::parse_message(k.message).unwrap() else {
        panic!("frame 22 AP-REQ")
    };
    assert_eq!(ap.ap_options, 0x6000_0000);
    assert_eq!(ap.ticket.realm, "AD.IT-HELP.NINJA");
    assert_eq!(
        ap.ticket.sname.joined(),
        "TERMSRV/IT-HELP-TEST.ad.it-help.ninja"
    );
    assert_eq!(ap.ticket.sname.service(), Some("TERMSRV"));
    assert_eq!(ap.authenticator_etype, Etype::AES256_CTS_HMAC_SHA1_96);

    // Frame 24: AP-REP (etype 18) and a mechListMIC.
    let MechToken::NegTokenResp(resp) = only_token(&ts_request(&frames, 24), 24) else {
        panic!("frame 24")
    };
    assert!(resp.has_mech_list_mic);
    let MechToken::Kerberos(k) = parse_nego_token(resp.response_token.unwrap()).unwrap() else {
        panic!("frame 24 token")
    };
    let KrbMessage::ApRep(rep) = kerberos::parse_message(k.message).unwrap() else {
        panic!("frame 24 AP-REP")
    };
    assert_eq!(rep.enc_part_etype, Etype::AES256_CTS_HMAC_SHA1_96);

    // Frame 25: accept-completed, pubKeyAuth and a 32-byte clientNonce.
    let req = ts_request(&frames, 25);
    let MechToken::NegTokenResp(resp) = only_token(&req, 25) else {
        panic!("frame 25")
    };
    assert_eq!(resp.neg_state, Some(NegState::ACCEPT_COMPLETED));
    assert!(req.has_pub_key_auth() && req.client_nonce.map(<[u8]>::len) == Some(32));
    // Frame 26: the server's pubKeyAuth only; frame 27: authInfo only.
    let req = ts_request(&frames, 26);
    assert!(req.has_pub_key_auth() && !req.has_auth_info() && req.nego_tokens.is_empty());
    let req = ts_request(&frames, 27);
    assert!(req.has_auth_info() && !req.has_pub_key_auth() && req.error_code.is_none());
}

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
