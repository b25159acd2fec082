//! Licensing PDUs (MS-RDPBCGR 2.2.1.12, MS-RDPELE 2.2.2): the preamble every licensing message
//! starts with, the Licensing Error Message that ends the phase (STATUS_VALID_CLIENT is the
//! normal "no licensing needed" answer), and the headline fields of the other messages.

use crate::proto::byte_cursor::{utf16le_text, ByteCursor};
use crate::proto::ProtoError;

const LAYER: &str = "licensing";
/// Product names and scopes are short words; longer ones are cut.
const MAX_TEXT: usize = 128;

/// `bMsgType` of the licensing preamble (MS-RDPBCGR 2.2.1.12.1.1); unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenseMsgType(pub u8);

impl LicenseMsgType {
    pub const LICENSE_REQUEST: LicenseMsgType = LicenseMsgType(0x01);
    pub const PLATFORM_CHALLENGE: LicenseMsgType = LicenseMsgType(0x02);
    pub const NEW_LICENSE: LicenseMsgType = LicenseMsgType(0x03);
    pub const UPGRADE_LICENSE: LicenseMsgType = LicenseMsgType(0x04);
    pub const LICENSE_INFO: LicenseMsgType = LicenseMsgType(0x12);
    pub const NEW_LICENSE_REQUEST: LicenseMsgType = LicenseMsgType(0x13);
    pub const PLATFORM_CHALLENGE_RESPONSE: LicenseMsgType = LicenseMsgType(0x15);
    pub const ERROR_ALERT: LicenseMsgType = LicenseMsgType(0xFF);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x01 => "LICENSE_REQUEST",
            0x02 => "PLATFORM_CHALLENGE",
            0x03 => "NEW_LICENSE",
            0x04 => "UPGRADE_LICENSE",
            0x12 => "LICENSE_INFO",
            0x13 => "NEW_LICENSE_REQUEST",
            0x15 => "PLATFORM_CHALLENGE_RESPONSE",
            0xFF => "ERROR_ALERT",
            _ => return None,
        })
    }
}

/// `dwErrorCode` of the Licensing Error Message (MS-RDPBCGR 2.2.1.12.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenseErrorCode(pub u32);

impl LicenseErrorCode {
    pub const ERR_INVALID_SERVER_CERTIFICATE: LicenseErrorCode = LicenseErrorCode(0x1);
    pub const ERR_NO_LICENSE: LicenseErrorCode = LicenseErrorCode(0x2);
    pub const ERR_INVALID_MAC: LicenseErrorCode = LicenseErrorCode(0x3);
    pub const ERR_INVALID_SCOPE: LicenseErrorCode = LicenseErrorCode(0x4);
    pub const ERR_NO_LICENSE_SERVER: LicenseErrorCode = LicenseErrorCode(0x6);
    pub const STATUS_VALID_CLIENT: LicenseErrorCode = LicenseErrorCode(0x7);
    pub const ERR_INVALID_CLIENT: LicenseErrorCode = LicenseErrorCode(0x8);
    pub const ERR_INVALID_PRODUCTID: LicenseErrorCode = LicenseErrorCode(0xB);
    pub const ERR_INVALID_MESSAGE_LEN: LicenseErrorCode = LicenseErrorCode(0xC);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x1 => "ERR_INVALID_SERVER_CERTIFICATE",
            0x2 => "ERR_NO_LICENSE",
            0x3 => "ERR_INVALID_MAC",
            0x4 => "ERR_INVALID_SCOPE",
            0x6 => "ERR_NO_LICENSE_SERVER",
            0x7 => "STATUS_VALID_CLIENT",
            0x8 => "ERR_INVALID_CLIENT",
            0xB => "ERR_INVALID_PRODUCTID",
            0xC => "ERR_INVALID_MESSAGE_LEN",
            _ => return None,
        })
    }

    /// STATUS_VALID_CLIENT is the success answer, not an error.
    pub fn is_success(self) -> bool {
        self == Self::STATUS_VALID_CLIENT
    }
}

/// `dwStateTransition` of the Licensing Error Message (MS-RDPBCGR 2.2.1.12.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenseStateTransition(pub u32);

impl LicenseStateTransition {
    pub const ST_TOTAL_ABORT: LicenseStateTransition = LicenseStateTransition(0x1);
    pub const ST_NO_TRANSITION: LicenseStateTransition = LicenseStateTransition(0x2);
    pub const ST_RESET_PHASE_TO_START: LicenseStateTransition = LicenseStateTransition(0x3);
    pub const ST_RESEND_LAST_MESSAGE: LicenseStateTransition = LicenseStateTransition(0x4);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x1 => "ST_TOTAL_ABORT",
            0x2 => "ST_NO_TRANSITION",
            0x3 => "ST_RESET_PHASE_TO_START",
            0x4 => "ST_RESEND_LAST_MESSAGE",
            _ => return None,
        })
    }
}

/// The licensing preamble (MS-RDPBCGR 2.2.1.12.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicensePreamble {
    pub msg_type: LicenseMsgType,
    /// Low four bits: PREAMBLE_VERSION_2_0 (2, RDP 4.0) or PREAMBLE_VERSION_3_0 (3).
    pub version: u8,
    /// EXTENDED_ERROR_MSG_SUPPORTED (0x80).
    pub extended_error_supported: bool,
    /// wMsgSize: the whole message, preamble included.
    pub msg_size: u16,
}

/// Licensing Error Message (MS-RDPBCGR 2.2.1.12.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenseError {
    pub error_code: LicenseErrorCode,
    pub state_transition: LicenseStateTransition,
    /// wBlobType of bbErrorInfo (BB_ERROR_BLOB 0x0004 in practice).
    pub error_info_blob_type: u16,
    pub error_info_len: u16,
}

/// Server License Request (MS-RDPELE 2.2.2.1): who the license is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseRequest {
    pub product_version: u32,
    pub company_name: String,
    pub product_id: String,
    pub scope_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenseBody {
    Error(LicenseError),
    Request(LicenseRequest),
    /// Platform Challenge, New/Upgrade License and the client's messages: encrypted blobs
    /// whose contents matter only to the license server; their size is kept.
    Opaque {
        len: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicensingPdu {
    pub preamble: LicensePreamble,
    pub body: LicenseBody,
}

impl LicensingPdu {
    /// The phase's outcome when this message ends it: Some(true) for STATUS_VALID_CLIENT,
    /// Some(false) for another error code, None for the messages in between.
    pub fn outcome(&self) -> Option<bool> {
        match &self.body {
            LicenseBody::Error(e) => Some(e.error_code.is_success()),
            _ => None,
        }
    }
}

fn preamble(c: &mut ByteCursor) -> Result<LicensePreamble, ProtoError> {
    let msg_type = LicenseMsgType(c.u8("bMsgType")?);
    let flags = c.u8("flags")?;
    let msg_size = c.le_u16("wMsgSize")?;
    Ok(LicensePreamble {
        msg_type,
        version: flags & 0x0F,
        extended_error_supported: flags & 0x80 != 0,
        msg_size,
    })
}

fn error_message(c: &mut ByteCursor) -> Result<LicenseError, ProtoError> {
    let error_code = LicenseErrorCode(c.le_u32("dwErrorCode")?);
    let state_transition = LicenseStateTransition(c.le_u32("dwStateTransition")?);
    let error_info_blob_type = c.le_u16("bbErrorInfo.wBlobType")?;
    let error_info_len = c.le_u16("bbErrorInfo.wBlobLen")?;
    Ok(LicenseError {
        error_code,
        state_transition,
        error_info_blob_type,
        error_info_len,
    })
}

/// A length-prefixed (u32) UTF-16 string of the Product Information structure.
fn product_string(c: &mut ByteCursor, field: &'static str) -> Result<String, ProtoError> {
    let len = c.le_u32(field)? as usize;
    if len > c.remaining() {
        return Err(c.invalid(field, 4, format!("{len} bytes but {} left", c.remaining())));
    }
    Ok(utf16le_text(c.take(len, field)?, MAX_TEXT))
}

/// A licensing binary blob (MS-RDPBCGR 2.2.1.12.1.2): wBlobType, wBlobLen, data, skipped.
fn skip_blob(c: &mut ByteCursor, field: &'static str) -> Result<(), ProtoError> {
    let _blob_type = c.le_u16(field)?;
    let len = usize::from(c.le_u16(field)?);
    c.skip(len, field)
}

fn license_request(c: &mut ByteCursor) -> Result<LicenseRequest, ProtoError> {
    c.skip(32, "ServerRandom")?;
    let product_version = c.le_u32("ProductInfo.dwVersion")?;
    let company_name = product_string(c, "ProductInfo.cbCompanyName")?;
    let product_id = product_string(c, "ProductInfo.cbProductId")?;
    skip_blob(c, "KeyExchangeList")?;
    skip_blob(c, "ServerCertificate")?;
    let scope_count = c.le_u32("ScopeList.ScopeCount")?;
    Ok(LicenseRequest {
        product_version,
        company_name,
        product_id,
        scope_count,
    })
}

/// Decodes a licensing message: what follows the security header of a PDU flagged
/// SEC_LICENSE_PKT (MS-RDPBCGR 2.2.1.12).
pub fn parse_licensing(b: &[u8]) -> Result<LicensingPdu, ProtoError> {
    let mut c = ByteCursor::new(LAYER, b);
    let preamble = preamble(&mut c)?;
    if usize::from(preamble.msg_size) < 4 {
        return Err(c.invalid("wMsgSize", 2, format!("{} is below 4", preamble.msg_size)));
    }
    let body = match preamble.msg_type {
        LicenseMsgType::ERROR_ALERT => LicenseBody::Error(error_message(&mut c)?),
        LicenseMsgType::LICENSE_REQUEST => LicenseBody::Request(license_request(&mut c)?),
        _ => LicenseBody::Opaque { len: c.remaining() },
    };
    Ok(LicensingPdu { preamble, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::hex;

    #[test]
    fn decodes_the_valid_client_alert_of_a_windows_server() {
        // rdp-nla-kerberos-auth2.pcapng frame 50, after the `80 00 00 00` security header;
        // tshark: bMsgType Error Alert (0xff), bVersion 3, wMsgSize 16, errorCode Valid
        // Client (7), stateTransition No Transition (2), wBlobType Error (4), wBlobLen 0.
        let pdu = parse_licensing(&hex("ff031000070000000200000004000000")).unwrap();
        assert_eq!(pdu.preamble.msg_type.name(), Some("ERROR_ALERT"));
        assert_eq!(pdu.preamble.version, 3);
        assert_eq!(pdu.preamble.msg_size, 16);
        let LicenseBody::Error(e) = pdu.body else {
            panic!("not an error message")
        };
        assert_eq!(e.error_code.name(), Some("STATUS_VALID_CLIENT"));
        assert_eq!(e.state_transition.name(), Some("ST_NO_TRANSITION"));
        assert_eq!((e.error_info_blob_type, e.error_info_len), (4, 0));
        assert_eq!(pdu.outcome(), Some(true));
    }

    #[test]
    fn synthetic_no_license_server_is_a_failure() {
        let pdu = parse_licensing(&hex("ff031000060000000100000004000000")).unwrap();
        assert_eq!(pdu.outcome(), Some(false));
        let LicenseBody::Error(e) = pdu.body else {
            panic!()
        };
        assert_eq!(e.error_code.name(), Some("ERR_NO_LICENSE_SERVER"));
        assert_eq!(e.state_transition, LicenseStateTransition::ST_TOTAL_ABORT);
    }

    #[test]
    fn synthetic_license_request_names_the_product() {
        let mut b = hex("01031000");
        b.extend([0u8; 32]);
        b.extend(1u32.to_le_bytes());
        let company: Vec<u8> = "MS\0".encode_utf16().flat_map(u16::to_le_bytes).collect();
        b.extend((company.len() as u32).to_le_bytes());
        b.extend(&company);
        let product: Vec<u8> = "A02\0".encode_utf16().flat_map(u16::to_le_bytes).collect();
        b.extend((product.len() as u32).to_le_bytes());
        b.extend(&product);
        b.extend(hex("0d00 0400 01000000 0300 0000 01000000"));
        let pdu = parse_licensing(&b).unwrap();
        let LicenseBody::Request(r) = pdu.body else {
            panic!()
        };
        assert_eq!(
            (r.company_name.as_str(), r.product_id.as_str()),
            ("MS", "A02")
        );
        assert_eq!(r.scope_count, 1);
    }

    #[test]
    fn truncated_error_names_the_field() {
        let err = parse_licensing(&hex("ff03100007000000")).unwrap_err();
        assert_eq!(err, ProtoError::truncated(LAYER, "dwStateTransition", 8));
    }
}
