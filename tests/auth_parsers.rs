//! The CredSSP, SPNEGO and NTLM parsers on real Windows bytes: CredSSP decrypted by tshark
//! from `../shared/captures/awakecoding_wireshark-rdp/` with the secrets embedded in the
//! pcapng. The expected values are what `tshark -O credssp,ntlmssp,kerberos,spnego` shows
//! for each frame.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod auth_captures;
mod common;

use auth_captures::*;
use rdpscope::proto::credssp::{parse_ts_request, NtStatus, TsRequest};
use rdpscope::proto::kerberos::{self, Etype, KrbMessage};
use rdpscope::proto::ntlm::{self, NtlmMessage, NtlmResponseKind};
use rdpscope::proto::spnego::{parse_nego_token, Mech, MechToken, NegState};

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
