#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::spnego::{parse_nego_token, MechToken};
use rdpscope::proto::{kerberos, ntlm};

fuzz_target!(|data: &[u8]| {
    let inner = match parse_nego_token(data) {
        Ok(MechToken::NegTokenInit(i)) => i.mech_token,
        Ok(MechToken::NegTokenResp(r)) => r.response_token,
        _ => None,
    };
    match inner.map(parse_nego_token) {
        Some(Ok(MechToken::Ntlm(b))) => drop(ntlm::parse_message(b)),
        Some(Ok(MechToken::Kerberos(k))) => drop(kerberos::parse_message(k.message)),
        _ => {}
    }
});
