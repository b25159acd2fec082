//! Kerberos numbers with names: error codes (RFC 4120 7.5.9, RFC 4556 3.1.3, RFC 6113 5.4.3),
//! pre-authentication data types (RFC 4120 7.5.2, RFC 4556, RFC 6113, MS-KILE 2.2, MS-SFU 2.2)
//! and encryption types (RFC 3961 8, RFC 4757, RFC 8009). Unknown values are kept.

use std::fmt;

use serde::Serialize;

macro_rules! named_i32 {
    ($(#[$doc:meta])* $ty:ident { $($name:ident = $value:expr, $text:expr;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $ty(pub i32);

        impl $ty {
            $(pub const $name: $ty = $ty($value);)*
            /// Every named value with its identifier.
            pub const ALL: &'static [($ty, &'static str)] = &[$(($ty($value), $text),)*];

            /// The identifier of a known value, None for others.
            pub fn name(self) -> Option<&'static str> {
                Self::ALL.iter().find(|(v, _)| *v == self).map(|(_, n)| *n)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{n} ({})", self.0),
                    None => write!(f, "{}", self.0),
                }
            }
        }
    };
}

named_i32! {
    /// KRB-ERROR `error-code` (RFC 4120 7.5.9; PKINIT RFC 4556 3.1.3; FAST RFC 6113 5.4.3).
    KrbErrorCode {
        KDC_ERR_NONE = 0, "KDC_ERR_NONE";
        KDC_ERR_NAME_EXP = 1, "KDC_ERR_NAME_EXP";
        KDC_ERR_SERVICE_EXP = 2, "KDC_ERR_SERVICE_EXP";
        KDC_ERR_BAD_PVNO = 3, "KDC_ERR_BAD_PVNO";
        KDC_ERR_C_OLD_MAST_KVNO = 4, "KDC_ERR_C_OLD_MAST_KVNO";
        KDC_ERR_S_OLD_MAST_KVNO = 5, "KDC_ERR_S_OLD_MAST_KVNO";
        KDC_ERR_C_PRINCIPAL_UNKNOWN = 6, "KDC_ERR_C_PRINCIPAL_UNKNOWN";
        KDC_ERR_S_PRINCIPAL_UNKNOWN = 7, "KDC_ERR_S_PRINCIPAL_UNKNOWN";
        KDC_ERR_PRINCIPAL_NOT_UNIQUE = 8, "KDC_ERR_PRINCIPAL_NOT_UNIQUE";
        KDC_ERR_NULL_KEY = 9, "KDC_ERR_NULL_KEY";
        KDC_ERR_CANNOT_POSTDATE = 10, "KDC_ERR_CANNOT_POSTDATE";
        KDC_ERR_NEVER_VALID = 11, "KDC_ERR_NEVER_VALID";
        KDC_ERR_POLICY = 12, "KDC_ERR_POLICY";
        KDC_ERR_BADOPTION = 13, "KDC_ERR_BADOPTION";
        KDC_ERR_ETYPE_NOSUPP = 14, "KDC_ERR_ETYPE_NOSUPP";
        KDC_ERR_SUMTYPE_NOSUPP = 15, "KDC_ERR_SUMTYPE_NOSUPP";
        KDC_ERR_PADATA_TYPE_NOSUPP = 16, "KDC_ERR_PADATA_TYPE_NOSUPP";
        KDC_ERR_TRTYPE_NOSUPP = 17, "KDC_ERR_TRTYPE_NOSUPP";
        KDC_ERR_CLIENT_REVOKED = 18, "KDC_ERR_CLIENT_REVOKED";
        KDC_ERR_SERVICE_REVOKED = 19, "KDC_ERR_SERVICE_REVOKED";
        KDC_ERR_TGT_REVOKED = 20, "KDC_ERR_TGT_REVOKED";
        KDC_ERR_CLIENT_NOTYET = 21, "KDC_ERR_CLIENT_NOTYET";
        KDC_ERR_SERVICE_NOTYET = 22, "KDC_ERR_SERVICE_NOTYET";
        KDC_ERR_KEY_EXPIRED = 23, "KDC_ERR_KEY_EXPIRED";
        KDC_ERR_PREAUTH_FAILED = 24, "KDC_ERR_PREAUTH_FAILED";
        KDC_ERR_PREAUTH_REQUIRED = 25, "KDC_ERR_PREAUTH_REQUIRED";
        KDC_ERR_SERVER_NOMATCH = 26, "KDC_ERR_SERVER_NOMATCH";
        KDC_ERR_MUST_USE_USER2USER = 27, "KDC_ERR_MUST_USE_USER2USER";
        KDC_ERR_PATH_NOT_ACCEPTED = 28, "KDC_ERR_PATH_NOT_ACCEPTED";
        KDC_ERR_SVC_UNAVAILABLE = 29, "KDC_ERR_SVC_UNAVAILABLE";
        KRB_AP_ERR_BAD_INTEGRITY = 31, "KRB_AP_ERR_BAD_INTEGRITY";
        KRB_AP_ERR_TKT_EXPIRED = 32, "KRB_AP_ERR_TKT_EXPIRED";
        KRB_AP_ERR_TKT_NYV = 33, "KRB_AP_ERR_TKT_NYV";
        KRB_AP_ERR_REPEAT = 34, "KRB_AP_ERR_REPEAT";
        KRB_AP_ERR_NOT_US = 35, "KRB_AP_ERR_NOT_US";
        KRB_AP_ERR_BADMATCH = 36, "KRB_AP_ERR_BADMATCH";
        KRB_AP_ERR_SKEW = 37, "KRB_AP_ERR_SKEW";
        KRB_AP_ERR_BADADDR = 38, "KRB_AP_ERR_BADADDR";
        KRB_AP_ERR_BADVERSION = 39, "KRB_AP_ERR_BADVERSION";
        KRB_AP_ERR_MSG_TYPE = 40, "KRB_AP_ERR_MSG_TYPE";
        KRB_AP_ERR_MODIFIED = 41, "KRB_AP_ERR_MODIFIED";
        KRB_AP_ERR_BADORDER = 42, "KRB_AP_ERR_BADORDER";
        KRB_AP_ERR_BADKEYVER = 44, "KRB_AP_ERR_BADKEYVER";
        KRB_AP_ERR_NOKEY = 45, "KRB_AP_ERR_NOKEY";
        KRB_AP_ERR_MUT_FAIL = 46, "KRB_AP_ERR_MUT_FAIL";
        KRB_AP_ERR_BADDIRECTION = 47, "KRB_AP_ERR_BADDIRECTION";
        KRB_AP_ERR_METHOD = 48, "KRB_AP_ERR_METHOD";
        KRB_AP_ERR_BADSEQ = 49, "KRB_AP_ERR_BADSEQ";
        KRB_AP_ERR_INAPP_CKSUM = 50, "KRB_AP_ERR_INAPP_CKSUM";
        KRB_AP_PATH_NOT_ACCEPTED = 51, "KRB_AP_PATH_NOT_ACCEPTED";
        KRB_ERR_RESPONSE_TOO_BIG = 52, "KRB_ERR_RESPONSE_TOO_BIG";
        KRB_ERR_GENERIC = 60, "KRB_ERR_GENERIC";
        KRB_ERR_FIELD_TOOLONG = 61, "KRB_ERR_FIELD_TOOLONG";
        KDC_ERROR_CLIENT_NOT_TRUSTED = 62, "KDC_ERROR_CLIENT_NOT_TRUSTED";
        KDC_ERROR_KDC_NOT_TRUSTED = 63, "KDC_ERROR_KDC_NOT_TRUSTED";
        KDC_ERROR_INVALID_SIG = 64, "KDC_ERROR_INVALID_SIG";
        KDC_ERR_KEY_TOO_WEAK = 65, "KDC_ERR_KEY_TOO_WEAK";
        KDC_ERR_CERTIFICATE_MISMATCH = 66, "KDC_ERR_CERTIFICATE_MISMATCH";
        KRB_AP_ERR_NO_TGT = 67, "KRB_AP_ERR_NO_TGT";
        KDC_ERR_WRONG_REALM = 68, "KDC_ERR_WRONG_REALM";
        KRB_AP_ERR_USER_TO_USER_REQUIRED = 69, "KRB_AP_ERR_USER_TO_USER_REQUIRED";
        KDC_ERR_CANT_VERIFY_CERTIFICATE = 70, "KDC_ERR_CANT_VERIFY_CERTIFICATE";
        KDC_ERR_INVALID_CERTIFICATE = 71, "KDC_ERR_INVALID_CERTIFICATE";
        KDC_ERR_REVOKED_CERTIFICATE = 72, "KDC_ERR_REVOKED_CERTIFICATE";
        KDC_ERR_REVOCATION_STATUS_UNKNOWN = 73, "KDC_ERR_REVOCATION_STATUS_UNKNOWN";
        KDC_ERR_REVOCATION_STATUS_UNAVAILABLE = 74, "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE";
        KDC_ERR_CLIENT_NAME_MISMATCH = 75, "KDC_ERR_CLIENT_NAME_MISMATCH";
        KDC_ERR_KDC_NAME_MISMATCH = 76, "KDC_ERR_KDC_NAME_MISMATCH";
        KDC_ERR_INCONSISTENT_KEY_PURPOSE = 77, "KDC_ERR_INCONSISTENT_KEY_PURPOSE";
        KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED = 78, "KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED";
        KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED = 79, "KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED";
        KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED = 80, "KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED";
        KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED = 81, "KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED";
        KDC_ERR_PREAUTH_EXPIRED = 90, "KDC_ERR_PREAUTH_EXPIRED";
        KDC_ERR_MORE_PREAUTH_DATA_REQUIRED = 91, "KDC_ERR_MORE_PREAUTH_DATA_REQUIRED";
        KDC_ERR_PREAUTH_BAD_AUTHENTICATION_SET = 92, "KDC_ERR_PREAUTH_BAD_AUTHENTICATION_SET";
        KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS = 93, "KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS";
    }
}

named_i32! {
    /// PA-DATA `padata-type` (RFC 4120 7.5.2 and the registries of RFC 4556, RFC 6113,
    /// MS-KILE 2.2, MS-SFU 2.2).
    PaType {
        PA_TGS_REQ = 1, "PA-TGS-REQ";
        PA_ENC_TIMESTAMP = 2, "PA-ENC-TIMESTAMP";
        PA_PW_SALT = 3, "PA-PW-SALT";
        PA_ENC_UNIX_TIME = 5, "PA-ENC-UNIX-TIME";
        PA_SANDIA_SECUREID = 6, "PA-SANDIA-SECUREID";
        PA_SESAME = 7, "PA-SESAME";
        PA_OSF_DCE = 8, "PA-OSF-DCE";
        PA_CYBERSAFE_SECUREID = 9, "PA-CYBERSAFE-SECUREID";
        PA_AFS3_SALT = 10, "PA-AFS3-SALT";
        PA_ETYPE_INFO = 11, "PA-ETYPE-INFO";
        PA_SAM_CHALLENGE = 12, "PA-SAM-CHALLENGE";
        PA_SAM_RESPONSE = 13, "PA-SAM-RESPONSE";
        PA_PK_AS_REQ_OLD = 14, "PA-PK-AS-REQ-OLD";
        PA_PK_AS_REP_OLD = 15, "PA-PK-AS-REP-OLD";
        PA_PK_AS_REQ = 16, "PA-PK-AS-REQ";
        PA_PK_AS_REP = 17, "PA-PK-AS-REP";
        PA_ETYPE_INFO2 = 19, "PA-ETYPE-INFO2";
        PA_SVR_REFERRAL_INFO = 20, "PA-SVR-REFERRAL-INFO";
        PA_SAM_REDIRECT = 21, "PA-SAM-REDIRECT";
        PA_GET_FROM_TYPED_DATA = 22, "PA-GET-FROM-TYPED-DATA";
        PA_SAM_ETYPE_INFO = 23, "PA-SAM-ETYPE-INFO";
        PA_ALT_PRINC = 24, "PA-ALT-PRINC";
        PA_SAM_CHALLENGE2 = 30, "PA-SAM-CHALLENGE2";
        PA_SAM_RESPONSE2 = 31, "PA-SAM-RESPONSE2";
        PA_EXTRA_TGT = 41, "PA-EXTRA-TGT";
        TD_PKINIT_CMS_CERTIFICATES = 101, "TD-PKINIT-CMS-CERTIFICATES";
        TD_KRB_PRINCIPAL = 102, "TD-KRB-PRINCIPAL";
        TD_KRB_REALM = 103, "TD-KRB-REALM";
        TD_TRUSTED_CERTIFIERS = 104, "TD-TRUSTED-CERTIFIERS";
        TD_CERTIFICATE_INDEX = 105, "TD-CERTIFICATE-INDEX";
        TD_APP_DEFINED_ERROR = 106, "TD-APP-DEFINED-ERROR";
        TD_REQ_NONCE = 107, "TD-REQ-NONCE";
        TD_REQ_SEQ = 108, "TD-REQ-SEQ";
        TD_DH_PARAMETERS = 109, "TD-DH-PARAMETERS";
        PA_PAC_REQUEST = 128, "PA-PAC-REQUEST";
        PA_FOR_USER = 129, "PA-FOR-USER";
        PA_FOR_X509_USER = 130, "PA-FOR-X509-USER";
        PA_FOR_CHECK_DUPS = 131, "PA-FOR-CHECK-DUPS";
        PA_AS_CHECKSUM = 132, "PA-AS-CHECKSUM";
        PA_FX_COOKIE = 133, "PA-FX-COOKIE";
        PA_AUTHENTICATION_SET = 134, "PA-AUTHENTICATION-SET";
        PA_AUTH_SET_SELECTED = 135, "PA-AUTH-SET-SELECTED";
        PA_FX_FAST = 136, "PA-FX-FAST";
        PA_FX_ERROR = 137, "PA-FX-ERROR";
        PA_ENCRYPTED_CHALLENGE = 138, "PA-ENCRYPTED-CHALLENGE";
        PA_OTP_CHALLENGE = 141, "PA-OTP-CHALLENGE";
        PA_OTP_REQUEST = 142, "PA-OTP-REQUEST";
        PA_OTP_PIN_CHANGE = 144, "PA-OTP-PIN-CHANGE";
        PA_EPAK_AS_REQ = 145, "PA-EPAK-AS-REQ";
        PA_EPAK_AS_REP = 146, "PA-EPAK-AS-REP";
        PA_PKINIT_KX = 147, "PA-PKINIT-KX";
        PA_PKU2U_NAME = 148, "PA-PKU2U-NAME";
        PA_REQ_ENC_PA_REP = 149, "PA-REQ-ENC-PA-REP";
        PA_AS_FRESHNESS = 150, "PA-AS-FRESHNESS";
        PA_SPAKE = 151, "PA-SPAKE";
        PA_SUPPORTED_ENCTYPES = 165, "PA-SUPPORTED-ENCTYPES";
        PA_EXTENDED_ERROR = 166, "PA-EXTENDED-ERROR";
        PA_PAC_OPTIONS = 167, "PA-PAC-OPTIONS";
    }
}

named_i32! {
    /// Encryption types (RFC 3961 8, RFC 3962, RFC 4757, RFC 8009).
    Etype {
        DES_CBC_CRC = 1, "des-cbc-crc";
        DES_CBC_MD4 = 2, "des-cbc-md4";
        DES_CBC_MD5 = 3, "des-cbc-md5";
        DES3_CBC_SHA1 = 16, "des3-cbc-sha1";
        AES128_CTS_HMAC_SHA1_96 = 17, "aes128-cts-hmac-sha1-96";
        AES256_CTS_HMAC_SHA1_96 = 18, "aes256-cts-hmac-sha1-96";
        AES128_CTS_HMAC_SHA256_128 = 19, "aes128-cts-hmac-sha256-128";
        AES256_CTS_HMAC_SHA384_192 = 20, "aes256-cts-hmac-sha384-192";
        RC4_HMAC = 23, "rc4-hmac";
        RC4_HMAC_EXP = 24, "rc4-hmac-exp";
        RC4_HMAC_OLD_EXP = -135, "rc4-hmac-old-exp";
    }
}

impl Etype {
    /// DES and RC4: disabled by default on current Windows domain controllers.
    pub fn is_weak(self) -> bool {
        matches!(self.0, 1..=3 | 23 | 24 | -135)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_unknown_values_kept() {
        for table in [
            KrbErrorCode::ALL
                .iter()
                .map(|(v, _)| v.0)
                .collect::<Vec<_>>(),
            PaType::ALL.iter().map(|(v, _)| v.0).collect(),
            Etype::ALL.iter().map(|(v, _)| v.0).collect(),
        ] {
            let mut seen = std::collections::HashSet::new();
            assert!(
                table.iter().all(|v| seen.insert(*v)),
                "duplicate in {table:?}"
            );
        }
        assert_eq!(KrbErrorCode(25).name(), Some("KDC_ERR_PREAUTH_REQUIRED"));
        assert_eq!(KrbErrorCode(37).to_string(), "KRB_AP_ERR_SKEW (37)");
        assert_eq!(KrbErrorCode(1234).to_string(), "1234");
        assert_eq!(PaType::PA_PK_AS_REQ.name(), Some("PA-PK-AS-REQ"));
    }
}
