//! SPNEGO (RFC 4178 4.2, MS-SPNG 2.2) and the GSS-API initial context token (RFC 2743 3.1):
//! which mechanisms a client offers, which one the server picks, and whether it refuses.
//!
//! The mechanism tokens inside are handed on as slices to [`super::ntlm`] and
//! [`super::kerberos`] through [`MechToken`].

use std::fmt;

use super::der::{Oid, Reader, Tag};
use super::ProtoError;

const LAYER: &str = "spnego";
/// Windows offers four mechanisms; a hostile list is cut here.
const MAX_MECH_TYPES: usize = 16;

const OID_SPNEGO: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
const OID_KERBEROS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
const OID_MS_KERBEROS: &[u8] = &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];
const OID_KERBEROS_U2U: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x03];
const OID_NTLM: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];
const OID_NEGOEX: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e];
const OID_PKU2U: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x02, 0x07];

/// NTLMSSP messages start with this signature (MS-NLMP 2.2.1).
const NTLMSSP_SIGNATURE: &[u8] = b"NTLMSSP\0";
/// NEGOEX messages start with this signature (MS-NEGOEX 2.2.6.1).
const NEGOEX_SIGNATURE: &[u8] = b"NEGOEXTS";

/// A GSS-API mechanism, by OID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mech<'a> {
    /// 1.2.840.113554.1.2.2 (RFC 4121).
    Kerberos,
    /// 1.2.840.48018.1.2.2: the OID Windows uses for Kerberos (MS-SPNG 3.3.5.1).
    MsKerberos,
    /// 1.2.840.113554.1.2.2.3: Kerberos user-to-user, used by Windows CredSSP.
    KerberosU2u,
    /// 1.3.6.1.4.1.311.2.2.10 (MS-NLMP).
    Ntlm,
    /// 1.3.6.1.4.1.311.2.2.30 (MS-NEGOEX).
    Negoex,
    /// 1.3.6.1.5.2.7 (PKU2U, certificate logons between Azure AD joined machines).
    Pku2u,
    /// 1.3.6.1.5.5.2 (SPNEGO itself, as the GSS-API token's mechanism).
    Spnego,
    Other(Oid<'a>),
}

impl<'a> Mech<'a> {
    pub fn from_oid(oid: Oid<'a>) -> Self {
        match oid.0 {
            OID_KERBEROS => Mech::Kerberos,
            OID_MS_KERBEROS => Mech::MsKerberos,
            OID_KERBEROS_U2U => Mech::KerberosU2u,
            OID_NTLM => Mech::Ntlm,
            OID_NEGOEX => Mech::Negoex,
            OID_PKU2U => Mech::Pku2u,
            OID_SPNEGO => Mech::Spnego,
            _ => Mech::Other(oid),
        }
    }

    /// Any of the Kerberos OIDs.
    pub fn is_kerberos(self) -> bool {
        matches!(self, Mech::Kerberos | Mech::MsKerberos | Mech::KerberosU2u)
    }

    /// A short identifier: "kerberos", "ntlm", ... (the JSON `mechanism` values).
    pub fn name(self) -> &'static str {
        match self {
            Mech::Kerberos | Mech::MsKerberos | Mech::KerberosU2u => "kerberos",
            Mech::Ntlm => "ntlm",
            Mech::Negoex => "negoex",
            Mech::Pku2u => "pku2u",
            Mech::Spnego => "spnego",
            Mech::Other(_) => "other",
        }
    }
}

impl fmt::Display for Mech<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mech::Other(oid) => write!(f, "{oid}"),
            m => f.write_str(m.name()),
        }
    }
}

/// NegTokenResp `negState` (RFC 4178 4.2.2), unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegState(pub i64);

impl NegState {
    pub const ACCEPT_COMPLETED: NegState = NegState(0);
    pub const ACCEPT_INCOMPLETE: NegState = NegState(1);
    pub const REJECT: NegState = NegState(2);
    pub const REQUEST_MIC: NegState = NegState(3);

    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("accept-completed"),
            1 => Some("accept-incomplete"),
            2 => Some("reject"),
            3 => Some("request-mic"),
            _ => None,
        }
    }
}

/// NegTokenInit (RFC 4178 4.2.1), also the NegTokenInit2 of MS-SPNG 2.2.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegTokenInit<'a> {
    /// `mechTypes` in the client's order of preference.
    pub mech_types: Vec<Mech<'a>>,
    /// `mechToken`: the optimistic first token of the preferred mechanism.
    pub mech_token: Option<&'a [u8]>,
}

/// NegTokenResp (RFC 4178 4.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegTokenResp<'a> {
    pub neg_state: Option<NegState>,
    pub supported_mech: Option<Mech<'a>>,
    pub response_token: Option<&'a [u8]>,
    pub has_mech_list_mic: bool,
}

/// A Kerberos GSS-API token (RFC 4121 4.1, RFC 1964 1.1): the 2-byte TOK_ID and the
/// Kerberos message after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Krb5Token<'a> {
    pub mech: Mech<'a>,
    /// 0x0100 AP-REQ, 0x0200 AP-REP, 0x0300 KRB-ERROR; 0x0400 TGT-REQ and 0x0401 TGT-REP
    /// for user-to-user (draft-swift-win2k-krb-user2user).
    pub tok_id: u16,
    /// The Kerberos message, for [`super::kerberos::parse_message`].
    pub message: &'a [u8],
}

/// What a CredSSP `negoToken`, a `mechToken` or a `responseToken` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MechToken<'a> {
    NegTokenInit(NegTokenInit<'a>),
    NegTokenResp(NegTokenResp<'a>),
    /// An NTLMSSP message, for [`super::ntlm::parse_message`].
    Ntlm(&'a [u8]),
    Kerberos(Krb5Token<'a>),
    /// A Kerberos message without the GSS-API wrapper (starts with its APPLICATION tag).
    KerberosRaw(&'a [u8]),
    /// NEGOEX messages (MS-NEGOEX 2.2.6), not decoded further.
    Negoex(&'a [u8]),
    /// A GSS-API token of another mechanism.
    Other {
        mech: Mech<'a>,
        inner: &'a [u8],
    },
}

impl MechToken<'_> {
    /// The mechanism this token belongs to, when it says so.
    pub fn mech(&self) -> Option<Mech<'_>> {
        match self {
            MechToken::NegTokenInit(_) | MechToken::NegTokenResp(_) => Some(Mech::Spnego),
            MechToken::Ntlm(_) => Some(Mech::Ntlm),
            MechToken::Kerberos(k) => Some(k.mech),
            MechToken::KerberosRaw(_) => Some(Mech::Kerberos),
            MechToken::Negoex(_) => Some(Mech::Negoex),
            MechToken::Other { mech, .. } => Some(*mech),
        }
    }
}

/// Reads any token that CredSSP or SPNEGO carries: a GSS-API initial context token
/// ([APPLICATION 0]), a bare NegotiationToken (`[0]` / `[1]`, the later SPNEGO rounds),
/// raw NTLMSSP or NEGOEX, or a bare Kerberos message.
pub fn parse_nego_token(b: &[u8]) -> Result<MechToken<'_>, ProtoError> {
    if b.starts_with(NTLMSSP_SIGNATURE) {
        return Ok(MechToken::Ntlm(b));
    }
    if b.starts_with(NEGOEX_SIGNATURE) {
        return Ok(MechToken::Negoex(b));
    }
    let mut r = Reader::new(LAYER, b);
    match r.peek_tag() {
        Some(t) if t == Tag::application(0) => parse_initial_context_token(&mut r),
        Some(t) if t == Tag::context(0) || t == Tag::context(1) => parse_negotiation_token(&mut r)?
            .ok_or_else(|| ProtoError::invalid(LAYER, "token", 0, "not a NegotiationToken")),
        // Kerberos messages are [APPLICATION 10..30] (RFC 4120 5.10).
        Some(t) if t.class == super::der::Class::Application && (10..=30).contains(&t.number) => {
            Ok(MechToken::KerberosRaw(b))
        }
        _ => Err(ProtoError::invalid(
            LAYER,
            "token",
            0,
            "neither GSS-API, SPNEGO, NTLMSSP nor Kerberos",
        )),
    }
}

/// NegotiationToken (RFC 4178 4.2): `[0] NegTokenInit` or `[1] NegTokenResp`; None for
/// another tag.
fn parse_negotiation_token<'a>(r: &mut Reader<'a>) -> Result<Option<MechToken<'a>>, ProtoError> {
    match r.peek_tag() {
        Some(t) if t == Tag::context(0) => {
            let mut inner = r.constructed(Tag::context(0), "negTokenInit")?;
            parse_neg_token_init(&mut inner).map(|i| Some(MechToken::NegTokenInit(i)))
        }
        Some(t) if t == Tag::context(1) => {
            let mut inner = r.constructed(Tag::context(1), "negTokenResp")?;
            parse_neg_token_resp(&mut inner).map(|i| Some(MechToken::NegTokenResp(i)))
        }
        _ => Ok(None),
    }
}

/// RFC 2743 3.1: `[APPLICATION 0] IMPLICIT SEQUENCE { thisMech OID, innerContextToken }`.
fn parse_initial_context_token<'a>(r: &mut Reader<'a>) -> Result<MechToken<'a>, ProtoError> {
    let mut inner = r.constructed(Tag::application(0), "InitialContextToken")?;
    let mech = Mech::from_oid(inner.oid("thisMech")?);
    let rest = inner.remaining();
    match mech {
        // Only a NegotiationToken may follow: another GSS-API wrapper would let hostile
        // input nest without bound.
        Mech::Spnego => parse_negotiation_token(&mut Reader::new(LAYER, rest))?.ok_or_else(|| {
            ProtoError::invalid(
                LAYER,
                "innerContextToken",
                inner.offset(),
                "SPNEGO token is not a NegotiationToken",
            )
        }),
        m if m.is_kerberos() => match rest {
            [hi, lo, message @ ..] => Ok(MechToken::Kerberos(Krb5Token {
                mech: m,
                tok_id: u16::from_be_bytes([*hi, *lo]),
                message,
            })),
            _ => Err(ProtoError::truncated(LAYER, "TOK_ID", inner.offset())),
        },
        m => Ok(MechToken::Other {
            mech: m,
            inner: rest,
        }),
    }
}

fn parse_neg_token_init<'a>(r: &mut Reader<'a>) -> Result<NegTokenInit<'a>, ProtoError> {
    let mut seq = r.sequence("NegTokenInit")?;
    let mech_types = seq
        .field(0, "mechTypes")?
        .sequence_of("mechTypes", MAX_MECH_TYPES, |m| {
            m.oid("MechType").map(Mech::from_oid)
        })?;
    // reqFlags [1] is obsolete and never used by Windows; skipped when present.
    let _ = seq.optional(1, "reqFlags")?;
    let mech_token = match seq.optional(2, "mechToken")? {
        Some(mut f) => Some(f.octet_string("mechToken")?),
        None => None,
    };
    // mechListMIC [3] (RFC 4178) or negHints [3] / mechListMIC [4] (MS-SPNG): not needed.
    seq.skip_rest();
    Ok(NegTokenInit {
        mech_types,
        mech_token,
    })
}

fn parse_neg_token_resp<'a>(r: &mut Reader<'a>) -> Result<NegTokenResp<'a>, ProtoError> {
    let mut seq = r.sequence("NegTokenResp")?;
    let neg_state = match seq.optional(0, "negState")? {
        Some(mut f) => Some(NegState(
            f.expect(Tag::ENUMERATED, "negState")?.as_i64("negState")?,
        )),
        None => None,
    };
    let supported_mech = match seq.optional(1, "supportedMech")? {
        Some(mut f) => Some(Mech::from_oid(f.oid("supportedMech")?)),
        None => None,
    };
    let response_token = match seq.optional(2, "responseToken")? {
        Some(mut f) => Some(f.octet_string("responseToken")?),
        None => None,
    };
    let has_mech_list_mic = seq.optional(3, "mechListMIC")?.is_some();
    Ok(NegTokenResp {
        neg_state,
        supported_mech,
        response_token,
        has_mech_list_mic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::hex;

    /// rdp-nla-kerberos-auth2.pcapng frame 18 (decrypted), the negoToken: tshark shows
    /// mechTypes MS KRB5, KRB5, NEGOEX, NTLMSSP and a KRB5 user-to-user mechToken
    /// (krb5_tok_id 0x0004, KERB_TGT_REQUEST).
    #[test]
    fn neg_token_init_from_windows() {
        let b = hex(
            "60819506062b0601050502a0818a308187a030302e06092a864882f71201020206092a864886f7\
             12010202060a2b06010401823702021e060a2b06010401823702020aa2530451604f060a2a8648\
             86f712010202030400303fa003020105a103020110a2333031a003020102a12a30281b07544552\
             4d5352561b1d49542d48454c502d544553542e61642e69742d68656c702e6e696e6a61",
        );
        let MechToken::NegTokenInit(init) = parse_nego_token(&b).unwrap() else {
            panic!("not a NegTokenInit");
        };
        assert_eq!(
            init.mech_types,
            vec![Mech::MsKerberos, Mech::Kerberos, Mech::Negoex, Mech::Ntlm]
        );
        let MechToken::Kerberos(k) = parse_nego_token(init.mech_token.unwrap()).unwrap() else {
            panic!("mechToken is not Kerberos");
        };
        assert_eq!((k.mech, k.tok_id), (Mech::KerberosU2u, 0x0400));
        assert_eq!(k.message.first(), Some(&0x30));
    }

    /// rdp-nla-kerberos-auth2.pcapng frame 25 (decrypted), the negoToken: negResult
    /// accept-completed (0) and a mechListMIC.
    #[test]
    fn neg_token_resp_accept_completed_from_windows() {
        let b = hex(
            "a1273025a0030a0100a31e041c040404ffffffffff000000000827ff02615b60ce0512d30619a8d704",
        );
        let MechToken::NegTokenResp(resp) = parse_nego_token(&b).unwrap() else {
            panic!("not a NegTokenResp");
        };
        assert_eq!(resp.neg_state, Some(NegState::ACCEPT_COMPLETED));
        assert_eq!(resp.neg_state.unwrap().name(), Some("accept-completed"));
        assert!(resp.has_mech_list_mic && resp.response_token.is_none());
    }

    #[test]
    fn synthetic_reject_and_raw_ntlm() {
        // negTokenResp { negState reject }
        let b = hex("a1073005a0030a0102");
        let MechToken::NegTokenResp(resp) = parse_nego_token(&b).unwrap() else {
            panic!("not a NegTokenResp");
        };
        assert_eq!(resp.neg_state, Some(NegState::REJECT));
        assert_eq!(
            parse_nego_token(b"NTLMSSP\0\x01\0\0\0").unwrap().mech(),
            Some(Mech::Ntlm)
        );
        assert!(parse_nego_token(&[0x04, 0x00]).is_err());
    }

    /// GSS-API SPNEGO wrappers nested inside each other are refused, not followed.
    #[test]
    fn synthetic_nested_wrappers_are_refused() {
        let mut b = hex("a1073005a0030a0102");
        for _ in 0..3 {
            let mut inner = hex("06062b0601050502");
            inner.extend_from_slice(&b);
            b = vec![0x60, inner.len() as u8];
            b.extend_from_slice(&inner);
        }
        assert!(parse_nego_token(&b).is_err());
    }
}
