//! RDP security negotiation (BCGR 2.2.1.1.1, 2.2.1.1.2, 2.2.1.2): the request in the X.224
//! Connection Request and the response or failure in the Connection Confirm. Every flag and
//! code is kept, known or not.

use nom::number::complete::{le_u16, le_u32, u8 as byte};
use nom::IResult;

use super::flag_names;

/// requestedProtocols / selectedProtocol bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Protocols(pub u32);

const PROTOCOL_NAMES: [(u32, &str); 5] = [
    (Protocols::SSL, "ssl"),
    (Protocols::HYBRID, "hybrid"),
    (Protocols::RDSTLS, "rdstls"),
    (Protocols::HYBRID_EX, "hybrid_ex"),
    (Protocols::RDSAAD, "rdsaad"),
];

impl Protocols {
    pub const RDP: u32 = 0;
    pub const SSL: u32 = 0x01;
    pub const HYBRID: u32 = 0x02;
    pub const RDSTLS: u32 = 0x04;
    pub const HYBRID_EX: u32 = 0x08;
    pub const RDSAAD: u32 = 0x10;

    /// Every bit by name ("rdp" when none is set), unknown bits as "0x...".
    pub fn names(self) -> Vec<String> {
        if self.0 == 0 {
            return vec!["rdp".to_string()];
        }
        flag_names(self.0, &PROTOCOL_NAMES)
    }

    /// A selectedProtocol is one value, not a set.
    pub fn selected_name(self) -> String {
        self.names().join("|")
    }

    pub fn contains(self, bits: u32) -> bool {
        self.0 & bits == bits
    }
}
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NegReqFlags(pub u8);

impl NegReqFlags {
    pub fn names(self) -> Vec<String> {
        flag_names(
            u32::from(self.0),
            &[
                (0x01, "RESTRICTED_ADMIN_MODE_REQUIRED"),
                (0x02, "REDIRECTED_AUTHENTICATION_MODE_REQUIRED"),
                (0x08, "CORRELATION_INFO_PRESENT"),
            ],
        )
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NegRspFlags(pub u8);

impl NegRspFlags {
    pub fn names(self) -> Vec<String> {
        flag_names(
            u32::from(self.0),
            &[
                (0x01, "EXTENDED_CLIENT_DATA_SUPPORTED"),
                (0x02, "DYNVC_GFX_PROTOCOL_SUPPORTED"),
                (0x04, "NEGRSP_FLAG_RESERVED"),
                (0x08, "RESTRICTED_ADMIN_MODE_SUPPORTED"),
                (0x10, "REDIRECTED_AUTHENTICATION_MODE_SUPPORTED"),
            ],
        )
    }
}

/// RDP_NEG_FAILURE failureCode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCode(pub u32);

impl FailureCode {
    pub fn name(self) -> String {
        match self.0 {
            1 => "SSL_REQUIRED_BY_SERVER".into(),
            2 => "SSL_NOT_ALLOWED_BY_SERVER".into(),
            3 => "SSL_CERT_NOT_ON_SERVER".into(),
            4 => "INCONSISTENT_FLAGS".into(),
            5 => "HYBRID_REQUIRED_BY_SERVER".into(),
            6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER".into(),
            other => format!("0x{other:08x}"),
        }
    }

    pub fn sentence(self) -> &'static str {
        match self.0 {
            1 => "the server requires TLS (Enhanced RDP Security) and the client offered only Standard RDP Security",
            2 => "the server only allows Standard RDP Security and the client offered only TLS/NLA",
            3 => "the server has no usable TLS certificate, so it cannot start TLS",
            4 => "the requested protocols conflict with the security already in force",
            5 => "the server requires Network Level Authentication (CredSSP) and the client did not offer it",
            6 => "the server requires TLS with client certificate authentication",
            _ => "the server refused the requested security protocols with a code this tool does not know",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegReq {
    pub flags: NegReqFlags,
    pub requested_protocols: Protocols,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegRsp {
    pub flags: NegRspFlags,
    pub selected_protocol: Protocols,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegFailure {
    pub flags: u8,
    pub failure_code: FailureCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationInfo {
    pub flags: u8,
    pub correlation_id: [u8; 16],
}

/// A GUID as Windows prints it (first three fields little-endian).
pub fn format_guid(b: &[u8; 16]) -> String {
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

impl CorrelationInfo {
    pub fn guid(&self) -> String {
        format_guid(&self.correlation_id)
    }
}

pub const TYPE_NEG_REQ: u8 = 0x01;
pub const TYPE_NEG_RSP: u8 = 0x02;
pub const TYPE_NEG_FAILURE: u8 = 0x03;
pub const TYPE_CORRELATION_INFO: u8 = 0x06;

/// type(1) flags(1) length(2): the header shared by every negotiation structure.
pub fn neg_header(i: &[u8]) -> IResult<&[u8], (u8, u8, u16)> {
    let (i, t) = byte(i)?;
    let (i, flags) = byte(i)?;
    let (i, len) = le_u16(i)?;
    Ok((i, (t, flags, len)))
}

/// The 4-byte value after a negotiation header (requested/selected protocol, failure code).
pub fn neg_value(i: &[u8]) -> IResult<&[u8], u32> {
    le_u32(i)
}

pub fn correlation_id(i: &[u8]) -> IResult<&[u8], [u8; 16]> {
    let (i, id) = nom::bytes::complete::take(16usize)(i)?;
    let mut out = [0u8; 16];
    out.copy_from_slice(id);
    Ok((i, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_unknown_bits() {
        assert_eq!(Protocols(0).names(), vec!["rdp"]);
        assert_eq!(Protocols(0x0b).names(), vec!["ssl", "hybrid", "hybrid_ex"]);
        assert_eq!(Protocols(0x101).names(), vec!["ssl", "0x00000100"]);
        assert_eq!(NegRspFlags(0x1f).names().len(), 5);
        assert_eq!(NegReqFlags(0x80).names(), vec!["0x00000080"]);
    }

    #[test]
    fn every_failure_code_has_a_name_and_a_sentence() {
        for code in 1..=6 {
            let f = FailureCode(code);
            assert!(!f.name().starts_with("0x"));
            assert!(f.sentence().len() > 20);
        }
        assert_eq!(FailureCode(9).name(), "0x00000009");
    }

    #[test]
    fn formats_guids_like_windows() {
        let id = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 8, 9, 10, 11, 12, 13, 14, 15,
        ];
        assert_eq!(format_guid(&id), "00112233-4455-6677-0809-0a0b0c0d0e0f");
    }
}
