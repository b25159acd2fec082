//! CredSSP TSRequest (MS-CSSP 2.2.1), the DER message NLA exchanges inside TLS, and the
//! NTSTATUS / SECURITY_STATUS value its `errorCode` carries (MS-CSSP 2.2.1, version 3+).
//!
//! The tokens inside (`negoTokens`) are handed on as slices: SPNEGO or raw NTLMSSP
//! (see [`super::spnego::parse_nego_token`]). `authInfo` and `pubKeyAuth` are encrypted
//! with the negotiated key, so only their presence and size are kept.

use std::fmt;

use serde::Serialize;

use super::der::{Reader, Tag};
use super::ProtoError;

const LAYER: &str = "credssp";
/// Windows sends one NegoData entry per round; a few more are tolerated.
const MAX_NEGO_TOKENS: usize = 8;

/// An NTSTATUS (MS-ERREF 2.3) or HRESULT/SECURITY_STATUS (MS-ERREF 2.1) value: CredSSP's
/// `errorCode` carries either kind, and both live in one 32-bit space without overlap.
/// Unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct NtStatus(pub u32);

macro_rules! status_codes {
    ($($name:ident = $value:expr;)*) => {
        impl NtStatus {
            $(pub const $name: NtStatus = NtStatus($value);)*
            /// Every named value, for tables and tests.
            pub const ALL: &'static [(NtStatus, &'static str)] = &[$((NtStatus($value), stringify!($name)),)*];
        }
    };
}

status_codes! {
    // MS-ERREF 2.3.1 NTSTATUS values returned by logons (LsaLogonUser, MS-APDS 3.1.5).
    STATUS_SUCCESS = 0x0000_0000;
    STATUS_MORE_PROCESSING_REQUIRED = 0xC000_0016;
    STATUS_ACCESS_DENIED = 0xC000_0022;
    STATUS_NO_LOGON_SERVERS = 0xC000_005E;
    STATUS_NO_SUCH_LOGON_SESSION = 0xC000_005F;
    STATUS_NO_SUCH_USER = 0xC000_0064;
    STATUS_WRONG_PASSWORD = 0xC000_006A;
    STATUS_PASSWORD_RESTRICTION = 0xC000_006C;
    STATUS_LOGON_FAILURE = 0xC000_006D;
    STATUS_ACCOUNT_RESTRICTION = 0xC000_006E;
    STATUS_INVALID_LOGON_HOURS = 0xC000_006F;
    STATUS_INVALID_WORKSTATION = 0xC000_0070;
    STATUS_PASSWORD_EXPIRED = 0xC000_0071;
    STATUS_ACCOUNT_DISABLED = 0xC000_0072;
    STATUS_INSUFFICIENT_RESOURCES = 0xC000_009A;
    STATUS_NOT_SUPPORTED = 0xC000_00BB;
    STATUS_NO_SUCH_DOMAIN = 0xC000_00DF;
    STATUS_TIME_DIFFERENCE_AT_DC = 0xC000_0133;
    STATUS_LOGON_TYPE_NOT_GRANTED = 0xC000_015B;
    STATUS_NO_TRUST_SAM_ACCOUNT = 0xC000_018B;
    STATUS_TRUSTED_DOMAIN_FAILURE = 0xC000_018C;
    STATUS_TRUSTED_RELATIONSHIP_FAILURE = 0xC000_018D;
    STATUS_NETLOGON_NOT_STARTED = 0xC000_0192;
    STATUS_ACCOUNT_EXPIRED = 0xC000_0193;
    STATUS_PASSWORD_MUST_CHANGE = 0xC000_0224;
    STATUS_ACCOUNT_LOCKED_OUT = 0xC000_0234;
    STATUS_UNFINISHED_CONTEXT_DELETED = 0xC000_02EE;
    STATUS_SMARTCARD_WRONG_PIN = 0xC000_0380;
    STATUS_SMARTCARD_CARD_BLOCKED = 0xC000_0381;
    STATUS_DOWNGRADE_DETECTED = 0xC000_0388;
    STATUS_AUTHENTICATION_FIREWALL_FAILED = 0xC000_0413;
    // MS-ERREF 2.1.1 HRESULT values of FACILITY_SECURITY (SSPI SECURITY_STATUS).
    SEC_I_CONTINUE_NEEDED = 0x0009_0312;
    SEC_E_INSUFFICIENT_MEMORY = 0x8009_0300;
    SEC_E_INVALID_HANDLE = 0x8009_0301;
    SEC_E_UNSUPPORTED_FUNCTION = 0x8009_0302;
    SEC_E_TARGET_UNKNOWN = 0x8009_0303;
    SEC_E_INTERNAL_ERROR = 0x8009_0304;
    SEC_E_SECPKG_NOT_FOUND = 0x8009_0305;
    SEC_E_INVALID_TOKEN = 0x8009_0308;
    SEC_E_QOP_NOT_SUPPORTED = 0x8009_030A;
    SEC_E_NO_IMPERSONATION = 0x8009_030B;
    SEC_E_LOGON_DENIED = 0x8009_030C;
    SEC_E_UNKNOWN_CREDENTIALS = 0x8009_030D;
    SEC_E_NO_CREDENTIALS = 0x8009_030E;
    SEC_E_MESSAGE_ALTERED = 0x8009_030F;
    SEC_E_OUT_OF_SEQUENCE = 0x8009_0310;
    SEC_E_NO_AUTHENTICATING_AUTHORITY = 0x8009_0311;
    SEC_E_CONTEXT_EXPIRED = 0x8009_0317;
    SEC_E_INCOMPLETE_MESSAGE = 0x8009_0318;
    SEC_E_WRONG_PRINCIPAL = 0x8009_0322;
    SEC_E_TIME_SKEW = 0x8009_0324;
    SEC_E_UNTRUSTED_ROOT = 0x8009_0325;
    SEC_E_ILLEGAL_MESSAGE = 0x8009_0326;
    SEC_E_CERT_UNKNOWN = 0x8009_0327;
    SEC_E_CERT_EXPIRED = 0x8009_0328;
    SEC_E_ALGORITHM_MISMATCH = 0x8009_0331;
    SEC_E_STRONG_CRYPTO_NOT_SUPPORTED = 0x8009_033A;
    SEC_E_KDC_UNKNOWN_ETYPE = 0x8009_0342;
    SEC_E_UNSUPPORTED_PREAUTH = 0x8009_0343;
    SEC_E_BAD_BINDINGS = 0x8009_0346;
    SEC_E_NO_KERB_KEY = 0x8009_0348;
    SEC_E_DOWNGRADE_DETECTED = 0x8009_0350;
    SEC_E_SMARTCARD_CERT_REVOKED = 0x8009_0351;
    SEC_E_ISSUING_CA_UNTRUSTED = 0x8009_0352;
    SEC_E_SMARTCARD_CERT_EXPIRED = 0x8009_0355;
    SEC_E_DELEGATION_POLICY = 0x8009_035E;
    SEC_E_POLICY_NLTM_ONLY = 0x8009_035F;
    SEC_E_MUTUAL_AUTH_FAILED = 0x8009_0363;
}

impl NtStatus {
    /// The identifier of a known value (`STATUS_LOGON_FAILURE`), None for others.
    pub fn name(self) -> Option<&'static str> {
        Self::ALL
            .iter()
            .find(|(code, _)| *code == self)
            .map(|(_, name)| *name)
    }

    /// Severity bits 30-31 both set: an error (MS-ERREF 2.1 and 2.3).
    pub fn is_error(self) -> bool {
        self.0 >> 30 == 0b11 || self.0 >> 31 == 1
    }
}

impl fmt::Display for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} (0x{:08X})", self.0),
            None => write!(f, "0x{:08X}", self.0),
        }
    }
}

/// One TSRequest (MS-CSSP 2.2.1): the fields as sent, encrypted parts only as sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsRequest<'a> {
    /// `version` (2 to 6 in the wild).
    pub version: u32,
    /// `negoTokens`: each NegoData entry's `negoToken` (SPNEGO or raw NTLMSSP).
    pub nego_tokens: Vec<&'a [u8]>,
    /// Size of `authInfo` (the encrypted TSCredentials: the delegated credentials).
    pub auth_info_len: Option<usize>,
    /// Size of `pubKeyAuth` (the encrypted server public key or its hash).
    pub pub_key_auth_len: Option<usize>,
    /// `errorCode` (version 3+): the server's reason for refusing the logon.
    pub error_code: Option<NtStatus>,
    /// `clientNonce` (version 5+), 32 bytes.
    pub client_nonce: Option<&'a [u8]>,
}

impl TsRequest<'_> {
    pub fn has_auth_info(&self) -> bool {
        self.auth_info_len.is_some()
    }

    pub fn has_pub_key_auth(&self) -> bool {
        self.pub_key_auth_len.is_some()
    }
}

/// True when the bytes start like a TSRequest: a DER SEQUENCE whose first field is `[0]`.
pub fn looks_like_ts_request(b: &[u8]) -> bool {
    let mut r = Reader::new(LAYER, b);
    match r.read("TSRequest") {
        Ok(tlv) if tlv.tag == Tag::SEQUENCE => {
            r.enter(&tlv, "TSRequest").ok().and_then(|i| i.peek_tag()) == Some(Tag::context(0))
        }
        _ => false,
    }
}

/// How many bytes the TSRequest at the front of decrypted TLS data occupies, from its DER
/// header alone: a TSRequest may span several TLS records. Longer than 1 MiB is refused.
pub fn find_ts_request_size(b: &[u8]) -> super::Framing {
    use super::Framing;
    const MAX_TS_REQUEST: usize = 1 << 20;
    let (first, len_byte) = match b {
        [] => return Framing::NeedMore(2),
        [_] => return Framing::NeedMore(1),
        [f, l, ..] => (*f, *l),
    };
    if first != 0x30 {
        return Framing::Invalid;
    }
    let (header, len) = if len_byte < 0x80 {
        (2, usize::from(len_byte))
    } else {
        let n = usize::from(len_byte & 0x7f);
        if n == 0 || n > 3 {
            return Framing::Invalid;
        }
        let Some(bytes) = b.get(2..2 + n) else {
            return Framing::NeedMore(2 + n - b.len());
        };
        (
            2 + n,
            bytes.iter().fold(0usize, |a, x| (a << 8) | usize::from(*x)),
        )
    };
    let total = header + len;
    if total > MAX_TS_REQUEST {
        Framing::Invalid
    } else if b.len() >= total {
        Framing::Complete(total)
    } else {
        Framing::NeedMore(total - b.len())
    }
}

/// Parses one TSRequest; bytes after it (the next record's) are ignored.
pub fn parse_ts_request(b: &[u8]) -> Result<TsRequest<'_>, ProtoError> {
    let mut outer = Reader::new(LAYER, b);
    let mut r = outer.sequence("TSRequest")?;
    let mut version_field = r.field(0, "version")?;
    let version = version_field.integer("version")?;
    let version = u32::try_from(version)
        .map_err(|_| ProtoError::invalid(LAYER, "version", 0, format!("{version}")))?;
    let mut req = TsRequest {
        version,
        nego_tokens: Vec::new(),
        auth_info_len: None,
        pub_key_auth_len: None,
        error_code: None,
        client_nonce: None,
    };
    if let Some(mut f) = r.optional(1, "negoTokens")? {
        req.nego_tokens = f.sequence_of("negoTokens", MAX_NEGO_TOKENS, |item| {
            let mut entry = item.sequence("NegoData")?;
            let token = entry.field(0, "negoToken")?.octet_string("negoToken")?;
            Ok(token)
        })?;
    }
    if let Some(mut f) = r.optional(2, "authInfo")? {
        req.auth_info_len = Some(f.octet_string("authInfo")?.len());
    }
    if let Some(mut f) = r.optional(3, "pubKeyAuth")? {
        req.pub_key_auth_len = Some(f.octet_string("pubKeyAuth")?.len());
    }
    if let Some(mut f) = r.optional(4, "errorCode")? {
        let at = f.offset();
        let code = f.integer("errorCode")?;
        // Encoded as a signed INTEGER: 0x80090302 arrives as a negative 4-byte value.
        let code = i32::try_from(code)
            .map(|c| c as u32)
            .or_else(|_| u32::try_from(code))
            .map_err(|_| ProtoError::invalid(LAYER, "errorCode", at, "wider than 32 bits"))?;
        req.error_code = Some(NtStatus(code));
    }
    if let Some(mut f) = r.optional(5, "clientNonce")? {
        req.client_nonce = Some(f.octet_string("clientNonce")?);
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::hex;

    /// rdp-nla-ntlm-rejected1.pcapng frame 15 (decrypted): the server's refusal;
    /// tshark: version 6, errorCode 0x80090302.
    #[test]
    fn error_code_tsrequest_from_windows() {
        let b = hex("300da003020106a406020480090302");
        assert!(looks_like_ts_request(&b));
        assert_eq!(
            find_ts_request_size(&b),
            crate::proto::Framing::Complete(15)
        );
        assert_eq!(
            find_ts_request_size(&b[..9]),
            crate::proto::Framing::NeedMore(6)
        );
        assert_eq!(
            find_ts_request_size(&[0x30, 0x82, 0x01]),
            crate::proto::Framing::NeedMore(1)
        );
        assert_eq!(
            find_ts_request_size(&[0x16, 0x03]),
            crate::proto::Framing::Invalid
        );
        let r = parse_ts_request(&b).unwrap();
        assert_eq!(r.version, 6);
        assert_eq!(r.error_code, Some(NtStatus::SEC_E_UNSUPPORTED_FUNCTION));
        assert_eq!(
            r.error_code.unwrap().name(),
            Some("SEC_E_UNSUPPORTED_FUNCTION")
        );
        assert!(r.nego_tokens.is_empty() && !r.has_auth_info() && !r.has_pub_key_auth());
    }

    /// rdp-nla-ntlm-rejected1.pcapng frame 12 (decrypted): NTLM NEGOTIATE in negoTokens.
    #[test]
    fn negotiate_tsrequest_from_windows() {
        let b = hex(
            "3037a003020106a130302e302ca02a04284e544c4d5353500001000000b78208e2000000000000\
             00000000000000000000000a005d580000000f",
        );
        let r = parse_ts_request(&b).unwrap();
        assert_eq!(r.version, 6);
        assert_eq!(r.nego_tokens.len(), 1);
        assert!(r.nego_tokens[0].starts_with(b"NTLMSSP\0"));
        assert_eq!(r.error_code, None);
    }

    #[test]
    fn synthetic_names_and_unknown_values() {
        assert_eq!(
            NtStatus(0xC000_006E).name(),
            Some("STATUS_ACCOUNT_RESTRICTION")
        );
        assert_eq!(
            NtStatus(0xC000_006D).to_string(),
            "STATUS_LOGON_FAILURE (0xC000006D)"
        );
        assert_eq!(NtStatus(0xC0DE_0001).name(), None);
        assert_eq!(NtStatus(0xC0DE_0001).to_string(), "0xC0DE0001");
        let mut seen = std::collections::HashSet::new();
        assert!(
            NtStatus::ALL.iter().all(|(c, _)| seen.insert(c.0)),
            "duplicate value"
        );
    }

    #[test]
    fn synthetic_truncated_and_wrong_tags() {
        let b = hex("300da003020106a406020480090302");
        for n in 0..b.len() {
            assert!(parse_ts_request(&b[..n]).is_err(), "prefix {n}");
        }
        // errorCode as a positive 5-byte INTEGER is accepted too.
        let b = hex("300ea003020106a40702050080090302");
        assert_eq!(
            parse_ts_request(&b).unwrap().error_code,
            Some(NtStatus(0x8009_0302))
        );
    }
}
