//! NTLMSSP messages (MS-NLMP 2.2.1): NEGOTIATE, CHALLENGE and AUTHENTICATE, as NLA carries
//! them in CredSSP `negoTokens` (raw, or inside SPNEGO).
//!
//! Only names, flags and versions come out. The challenge responses, session key and MIC
//! are password-derived material: their sizes are kept (they tell NTLMv1 from NTLMv2 and an
//! anonymous logon), never their bytes.

use nom::bytes::complete::{tag, take};
use nom::number::complete::{le_u16, le_u32, le_u8};
use nom::IResult;
use serde::Serialize;

use super::ProtoError;

const LAYER: &str = "ntlm";
const SIGNATURE: &[u8] = b"NTLMSSP\0";
/// User names are at most 256 characters (UNLEN), domains and hosts shorter: a name longer
/// than 1 KiB of UTF-16 is not a real one.
const MAX_NAME_BYTES: usize = 1024;
/// AV_PAIRs in a target info list: Windows sends about ten.
const MAX_AV_PAIRS: usize = 32;
/// NTLMv1 responses are exactly 24 bytes (MS-NLMP 2.2.2.3); NTLMv2 ones are longer.
const NTLMV1_RESPONSE_LEN: usize = 24;
/// NTProofStr before the NTLMv2 client challenge (MS-NLMP 2.2.2.8).
const NT_PROOF_LEN: usize = 16;

/// NegotiateFlags (MS-NLMP 2.2.2.5), unknown bits kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct NegotiateFlags(pub u32);

impl NegotiateFlags {
    pub const UNICODE: u32 = 0x0000_0001;
    pub const OEM: u32 = 0x0000_0002;
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    pub const SIGN: u32 = 0x0000_0010;
    pub const SEAL: u32 = 0x0000_0020;
    pub const DATAGRAM: u32 = 0x0000_0040;
    pub const LM_KEY: u32 = 0x0000_0080;
    pub const NTLM: u32 = 0x0000_0200;
    pub const ANONYMOUS: u32 = 0x0000_0800;
    pub const OEM_DOMAIN_SUPPLIED: u32 = 0x0000_1000;
    pub const OEM_WORKSTATION_SUPPLIED: u32 = 0x0000_2000;
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    pub const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
    pub const TARGET_TYPE_SERVER: u32 = 0x0002_0000;
    pub const EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
    pub const IDENTIFY: u32 = 0x0010_0000;
    pub const REQUEST_NON_NT_SESSION_KEY: u32 = 0x0040_0000;
    pub const TARGET_INFO: u32 = 0x0080_0000;
    pub const VERSION: u32 = 0x0200_0000;
    pub const NEGOTIATE_128: u32 = 0x2000_0000;
    pub const KEY_EXCH: u32 = 0x4000_0000;
    pub const NEGOTIATE_56: u32 = 0x8000_0000;

    const NAMES: [(u32, &'static str); 22] = [
        (Self::UNICODE, "NTLMSSP_NEGOTIATE_UNICODE"),
        (Self::OEM, "NTLM_NEGOTIATE_OEM"),
        (Self::REQUEST_TARGET, "NTLMSSP_REQUEST_TARGET"),
        (Self::SIGN, "NTLMSSP_NEGOTIATE_SIGN"),
        (Self::SEAL, "NTLMSSP_NEGOTIATE_SEAL"),
        (Self::DATAGRAM, "NTLMSSP_NEGOTIATE_DATAGRAM"),
        (Self::LM_KEY, "NTLMSSP_NEGOTIATE_LM_KEY"),
        (Self::NTLM, "NTLMSSP_NEGOTIATE_NTLM"),
        (Self::ANONYMOUS, "NTLMSSP_NEGOTIATE_ANONYMOUS"),
        (
            Self::OEM_DOMAIN_SUPPLIED,
            "NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED",
        ),
        (
            Self::OEM_WORKSTATION_SUPPLIED,
            "NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED",
        ),
        (Self::ALWAYS_SIGN, "NTLMSSP_NEGOTIATE_ALWAYS_SIGN"),
        (Self::TARGET_TYPE_DOMAIN, "NTLMSSP_TARGET_TYPE_DOMAIN"),
        (Self::TARGET_TYPE_SERVER, "NTLMSSP_TARGET_TYPE_SERVER"),
        (
            Self::EXTENDED_SESSIONSECURITY,
            "NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY",
        ),
        (Self::IDENTIFY, "NTLMSSP_NEGOTIATE_IDENTIFY"),
        (
            Self::REQUEST_NON_NT_SESSION_KEY,
            "NTLMSSP_REQUEST_NON_NT_SESSION_KEY",
        ),
        (Self::TARGET_INFO, "NTLMSSP_NEGOTIATE_TARGET_INFO"),
        (Self::VERSION, "NTLMSSP_NEGOTIATE_VERSION"),
        (Self::NEGOTIATE_128, "NTLMSSP_NEGOTIATE_128"),
        (Self::KEY_EXCH, "NTLMSSP_NEGOTIATE_KEY_EXCH"),
        (Self::NEGOTIATE_56, "NTLMSSP_NEGOTIATE_56"),
    ];

    pub fn contains(self, bit: u32) -> bool {
        self.0 & bit == bit
    }

    /// The names of the set bits, unknown bits as one hex value.
    pub fn names(self) -> Vec<String> {
        super::flag_names(self.0, &Self::NAMES)
    }
}

/// The VERSION structure (MS-NLMP 2.2.2.10): the Windows release of the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WindowsVersion {
    pub major: u8,
    pub minor: u8,
    pub build: u16,
    /// NTLMRevisionCurrent: 15 for NTLMSSP_REVISION_W2K3.
    pub ntlm_revision: u8,
}

/// Which response an AUTHENTICATE carries (MS-NLMP 3.3.1, 3.3.2, 3.2.5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NtlmResponseKind {
    /// Empty user and empty NT response: an anonymous (null session) logon.
    Anonymous,
    /// A 24-byte NT response: NTLMv1 (weak; refused by "NTLMv2 only" policies).
    V1,
    /// A longer NT response: NTLMv2.
    V2,
}

/// AV_PAIRs of a target info list (MS-NLMP 2.2.2.1), the names only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TargetInfo {
    pub netbios_computer: Option<String>,
    pub netbios_domain: Option<String>,
    pub dns_computer: Option<String>,
    pub dns_domain: Option<String>,
    pub dns_tree: Option<String>,
    /// MsvAvFlags: 0x2 says the AUTHENTICATE carries a MIC.
    pub flags: Option<u32>,
    /// MsvAvTimestamp, a FILETIME (100 ns since 1601).
    pub timestamp: Option<u64>,
    /// MsvAvTargetName: the SPN the client asked for (`TERMSRV/host`).
    pub target_name: Option<String>,
}

/// NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Negotiate {
    pub flags: NegotiateFlags,
    pub domain: Option<String>,
    pub workstation: Option<String>,
    pub version: Option<WindowsVersion>,
}

/// CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Challenge {
    pub flags: NegotiateFlags,
    pub target_name: String,
    pub target_info: TargetInfo,
    pub version: Option<WindowsVersion>,
}

/// AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3), without its password-derived fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authenticate {
    pub flags: NegotiateFlags,
    pub domain: String,
    pub user: String,
    pub workstation: String,
    pub response: NtlmResponseKind,
    pub lm_response_len: u16,
    pub nt_response_len: u16,
    /// The AV_PAIRs of the NTLMv2 client challenge (its target name, flags, timestamp).
    pub client_info: Option<TargetInfo>,
    pub version: Option<WindowsVersion>,
}

impl Authenticate {
    pub fn is_anonymous(&self) -> bool {
        self.response == NtlmResponseKind::Anonymous
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum NtlmMessage {
    Negotiate(Negotiate),
    Challenge(Challenge),
    Authenticate(Authenticate),
}

/// A payload field's (Len, MaxLen, BufferOffset) (MS-NLMP 2.2.1.1).
#[derive(Debug, Clone, Copy)]
struct Field {
    len: u16,
    offset: u32,
}

fn field(input: &[u8]) -> IResult<&[u8], Field> {
    let (input, len) = le_u16(input)?;
    let (input, _max_len) = le_u16(input)?;
    let (input, offset) = le_u32(input)?;
    Ok((input, Field { len, offset }))
}

fn version(input: &[u8]) -> IResult<&[u8], WindowsVersion> {
    let (input, major) = le_u8(input)?;
    let (input, minor) = le_u8(input)?;
    let (input, build) = le_u16(input)?;
    let (input, _reserved) = take(3usize)(input)?;
    let (input, ntlm_revision) = le_u8(input)?;
    Ok((
        input,
        WindowsVersion {
            major,
            minor,
            build,
            ntlm_revision,
        },
    ))
}

/// Runs one fixed-layout nom parser at `at` (the offset of the fields in the message).
fn fixed<'a, T>(
    input: &'a [u8],
    at: usize,
    name: &'static str,
    p: impl Fn(&'a [u8]) -> IResult<&'a [u8], T>,
) -> Result<(&'a [u8], T), ProtoError> {
    p(input).map_err(|_| ProtoError::truncated(LAYER, name, at))
}

/// The bytes a field points at inside the message.
fn payload<'a>(msg: &'a [u8], f: Field, name: &'static str) -> Result<&'a [u8], ProtoError> {
    let start = usize::try_from(f.offset).unwrap_or(usize::MAX);
    start
        .checked_add(usize::from(f.len))
        .and_then(|end| msg.get(start..end))
        .ok_or_else(|| {
            ProtoError::invalid(
                LAYER,
                name,
                start.min(msg.len()),
                format!(
                    "{} bytes at {} past the end ({})",
                    f.len,
                    f.offset,
                    msg.len()
                ),
            )
        })
}

/// A name field: UTF-16LE when NTLMSSP_NEGOTIATE_UNICODE is set, else OEM (read as Latin-1).
fn text(msg: &[u8], f: Field, unicode: bool, name: &'static str) -> Result<String, ProtoError> {
    let b = payload(msg, f, name)?;
    decode(b, unicode).ok_or_else(|| {
        ProtoError::invalid(
            LAYER,
            name,
            f.offset as usize,
            "longer than a name or odd UTF-16",
        )
    })
}

fn decode(b: &[u8], unicode: bool) -> Option<String> {
    if b.len() > MAX_NAME_BYTES {
        return None;
    }
    if !unicode {
        return Some(b.iter().map(|c| char::from(*c)).collect());
    }
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let units = b
        .chunks_exact(2)
        .map(|c| <[u8; 2]>::try_from(c).map_or(0, u16::from_le_bytes));
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or('\u{fffd}'))
            .collect(),
    )
}

/// AV_PAIR list (MS-NLMP 2.2.2.1), ended by MsvAvEOL or the end of the bytes.
fn target_info(mut b: &[u8], name: &'static str) -> Result<TargetInfo, ProtoError> {
    let mut info = TargetInfo::default();
    for _ in 0..MAX_AV_PAIRS {
        let Ok((rest, (id, len))) =
            nom::sequence::pair(le_u16::<_, nom::error::Error<&[u8]>>, le_u16)(b)
        else {
            break;
        };
        let Some(value) = rest.get(..usize::from(len)) else {
            return Err(ProtoError::invalid(
                LAYER,
                name,
                0,
                format!("AV_PAIR {id} of {len} bytes past the end"),
            ));
        };
        let s = || decode(value, true);
        match id {
            0 => break,
            1 => info.netbios_computer = s(),
            2 => info.netbios_domain = s(),
            3 => info.dns_computer = s(),
            4 => info.dns_domain = s(),
            5 => info.dns_tree = s(),
            6 => info.flags = value.try_into().ok().map(u32::from_le_bytes),
            7 => info.timestamp = value.try_into().ok().map(u64::from_le_bytes),
            9 => info.target_name = s(),
            _ => {}
        }
        b = rest.get(usize::from(len)..).unwrap_or_default();
    }
    Ok(info)
}

/// Parses one NTLMSSP message.
pub fn parse_message(msg: &[u8]) -> Result<NtlmMessage, ProtoError> {
    let (rest, _) = fixed(msg, 0, "Signature", tag(SIGNATURE))
        .map_err(|_| ProtoError::invalid(LAYER, "Signature", 0, "not NTLMSSP"))?;
    let (rest, message_type) = fixed(rest, 8, "MessageType", le_u32)?;
    match message_type {
        1 => parse_negotiate(msg, rest).map(NtlmMessage::Negotiate),
        2 => parse_challenge(msg, rest).map(NtlmMessage::Challenge),
        3 => parse_authenticate(msg, rest).map(NtlmMessage::Authenticate),
        other => Err(ProtoError::invalid(
            LAYER,
            "MessageType",
            8,
            format!("{other}"),
        )),
    }
}

fn optional_version(rest: &[u8], flags: NegotiateFlags) -> Option<WindowsVersion> {
    if flags.contains(NegotiateFlags::VERSION) {
        version(rest).ok().map(|(_, v)| v)
    } else {
        None
    }
}

fn parse_negotiate(msg: &[u8], rest: &[u8]) -> Result<Negotiate, ProtoError> {
    let (rest, flags) = fixed(rest, 12, "NegotiateFlags", le_u32)?;
    let flags = NegotiateFlags(flags);
    let (rest, domain) = fixed(rest, 16, "DomainNameFields", field)?;
    let (rest, workstation) = fixed(rest, 24, "WorkstationFields", field)?;
    // NEGOTIATE names are OEM strings, present only with their *_SUPPLIED flags.
    let named = |f: Field, bit: u32, name| -> Result<Option<String>, ProtoError> {
        if flags.contains(bit) && f.len > 0 {
            text(msg, f, false, name).map(Some)
        } else {
            Ok(None)
        }
    };
    Ok(Negotiate {
        flags,
        domain: named(domain, NegotiateFlags::OEM_DOMAIN_SUPPLIED, "DomainName")?,
        workstation: named(
            workstation,
            NegotiateFlags::OEM_WORKSTATION_SUPPLIED,
            "Workstation",
        )?,
        version: optional_version(rest, flags),
    })
}

fn parse_challenge(msg: &[u8], rest: &[u8]) -> Result<Challenge, ProtoError> {
    let (rest, target_name) = fixed(rest, 12, "TargetNameFields", field)?;
    let (rest, flags) = fixed(rest, 20, "NegotiateFlags", le_u32)?;
    let flags = NegotiateFlags(flags);
    // ServerChallenge (8) and Reserved (8).
    let (rest, _) = fixed(rest, 24, "ServerChallenge", take(16usize))?;
    let (rest, info) = fixed(rest, 40, "TargetInfoFields", field)?;
    let unicode = flags.contains(NegotiateFlags::UNICODE);
    let target_info = if info.len > 0 {
        target_info(payload(msg, info, "TargetInfo")?, "TargetInfo")?
    } else {
        TargetInfo::default()
    };
    Ok(Challenge {
        flags,
        target_name: text(msg, target_name, unicode, "TargetName")?,
        target_info,
        version: optional_version(rest, flags),
    })
}

fn parse_authenticate(msg: &[u8], rest: &[u8]) -> Result<Authenticate, ProtoError> {
    let (rest, lm) = fixed(rest, 12, "LmChallengeResponseFields", field)?;
    let (rest, nt) = fixed(rest, 20, "NtChallengeResponseFields", field)?;
    let (rest, domain) = fixed(rest, 28, "DomainNameFields", field)?;
    let (rest, user) = fixed(rest, 36, "UserNameFields", field)?;
    let (rest, workstation) = fixed(rest, 44, "WorkstationFields", field)?;
    let (rest, _session_key) = fixed(rest, 52, "EncryptedRandomSessionKeyFields", field)?;
    let (rest, flags) = fixed(rest, 60, "NegotiateFlags", le_u32)?;
    let flags = NegotiateFlags(flags);
    let unicode = flags.contains(NegotiateFlags::UNICODE);
    let user = text(msg, user, unicode, "UserName")?;
    let nt_response = payload(msg, nt, "NtChallengeResponse")?;
    // Bounds of the LM response are checked even though its bytes are not used.
    payload(msg, lm, "LmChallengeResponse")?;
    let response = match nt_response.len() {
        0 if user.is_empty() => NtlmResponseKind::Anonymous,
        n if n <= NTLMV1_RESPONSE_LEN => NtlmResponseKind::V1,
        _ => NtlmResponseKind::V2,
    };
    // NTLMv2_CLIENT_CHALLENGE (MS-NLMP 2.2.2.7): 28 bytes of header, then AV_PAIRs.
    let client_info = match response {
        NtlmResponseKind::V2 => nt_response
            .get(NT_PROOF_LEN + 28..)
            .and_then(|pairs| target_info(pairs, "NTLMv2 AvPairs").ok()),
        _ => None,
    };
    Ok(Authenticate {
        flags,
        domain: text(msg, domain, unicode, "DomainName")?,
        user,
        workstation: text(msg, workstation, unicode, "Workstation")?,
        response,
        lm_response_len: lm.len,
        nt_response_len: nt.len,
        client_info,
        version: optional_version(rest, flags),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::hex;

    /// rdp-nla-ntlm-rejected1.pcapng frame 12 (decrypted negoToken). tshark: flags
    /// 0xe20882b7, no domain or workstation, Version 10.0 (Build 22621), revision 15.
    #[test]
    fn negotiate_from_windows() {
        let b =
            hex("4e544c4d5353500001000000b78208e2000000000000000000000000000000000a005d580000000f");
        let NtlmMessage::Negotiate(n) = parse_message(&b).unwrap() else {
            panic!("not NEGOTIATE");
        };
        assert_eq!(n.flags, NegotiateFlags(0xe208_82b7));
        assert!(n.flags.contains(NegotiateFlags::EXTENDED_SESSIONSECURITY));
        assert!(n
            .flags
            .names()
            .contains(&"NTLMSSP_NEGOTIATE_LM_KEY".to_string()));
        assert_eq!((n.domain, n.workstation), (None, None));
        let v = n.version.unwrap();
        assert_eq!(
            (v.major, v.minor, v.build, v.ntlm_revision),
            (10, 0, 22621, 15)
        );
    }

    /// Frame 13: CHALLENGE. tshark: target IT-HELP, flags 0xe2898235, target info with
    /// NetBIOS IT-HELP / IT-HELP-TEST, DNS ad.it-help.ninja, server build 20348.
    #[test]
    fn challenge_from_windows() {
        let b = hex(
            "4e544c4d53535000020000000e000e0038000000358289e24c7699a0e3800fdc0000000000000000\
             c400c400460000000a007c4f0000000f490054002d00480045004c00500002000e00490054002d00\
             480045004c00500001001800490054002d00480045004c0050002d00540045005300540004002000\
             610064002e00690074002d00680065006c0070002e006e0069006e006a00610003003a0049005400\
             2d00480045004c0050002d0054004500530054002e00610064002e00690074002d00680065006c00\
             70002e006e0069006e006a00610005002000610064002e00690074002d00680065006c0070002e00\
             6e0069006e006a00610007000800ace7c367f19fda0100000000",
        );
        let NtlmMessage::Challenge(c) = parse_message(&b).unwrap() else {
            panic!("not CHALLENGE");
        };
        assert_eq!(c.flags, NegotiateFlags(0xe289_8235));
        assert_eq!(c.target_name, "IT-HELP");
        let i = &c.target_info;
        assert_eq!(i.netbios_domain.as_deref(), Some("IT-HELP"));
        assert_eq!(i.netbios_computer.as_deref(), Some("IT-HELP-TEST"));
        assert_eq!(
            i.dns_computer.as_deref(),
            Some("IT-HELP-TEST.ad.it-help.ninja")
        );
        assert_eq!(i.dns_tree.as_deref(), Some("ad.it-help.ninja"));
        assert!(i.timestamp.is_some());
        assert_eq!(c.version.unwrap().build, 20348);
        for n in 0..b.len() {
            let _ = parse_message(&b[..n]);
        }
    }

    /// An anonymous AUTHENTICATE (MS-NLMP 3.2.5.1.2): empty user, empty NT response,
    /// one zero LM byte.
    #[test]
    fn synthetic_anonymous_authenticate() {
        let mut b = SIGNATURE.to_vec();
        b.extend_from_slice(&3u32.to_le_bytes());
        let at = 72u32;
        let f = |len: u16, off: u32| {
            [len.to_le_bytes(), len.to_le_bytes()]
                .concat()
                .into_iter()
                .chain(off.to_le_bytes())
                .collect::<Vec<u8>>()
        };
        b.extend(f(1, at)); // LM: one byte
        b.extend(f(0, at + 1)); // NT
        b.extend(f(0, at + 1)); // domain
        b.extend(f(0, at + 1)); // user
        b.extend(f(0, at + 1)); // workstation
        b.extend(f(0, at + 1)); // session key
        b.extend_from_slice(&(NegotiateFlags::ANONYMOUS | NegotiateFlags::UNICODE).to_le_bytes());
        b.resize(72, 0);
        b.push(0);
        let NtlmMessage::Authenticate(a) = parse_message(&b).unwrap() else {
            panic!("not AUTHENTICATE");
        };
        assert!(a.is_anonymous());
        assert_eq!(a.user, "");
        // A field that points past the end is refused, naming the field.
        let bad_at = 36;
        b[bad_at..bad_at + 2].copy_from_slice(&200u16.to_le_bytes());
        let err = parse_message(&b).unwrap_err().to_string();
        assert!(err.contains("UserName"), "{err}");
    }
}
