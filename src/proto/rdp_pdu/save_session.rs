//! Save Session Info PDU data (MS-RDPBCGR 2.2.10.1.1): the server's logon notifications,
//! including the Logon Errors Info that says why a logon inside the session failed.
//! The auto-reconnect cookie's random bits are a credential: only their presence is kept.

use crate::proto::byte_cursor::{utf16le_text, ByteCursor};
use crate::proto::ProtoError;

const LAYER: &str = "save-session-info";
/// Domain and user names are at most 256 characters (MS-RDPBCGR 2.2.10.1.1.2).
const MAX_NAME: usize = 256;

/// `infoType` (MS-RDPBCGR 2.2.10.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoType(pub u32);

impl InfoType {
    pub const LOGON: InfoType = InfoType(0);
    pub const LOGON_LONG: InfoType = InfoType(1);
    pub const LOGON_PLAINNOTIFY: InfoType = InfoType(2);
    pub const LOGON_EXTENDED_INFO: InfoType = InfoType(3);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "INFOTYPE_LOGON",
            1 => "INFOTYPE_LOGON_LONG",
            2 => "INFOTYPE_LOGON_PLAINNOTIFY",
            3 => "INFOTYPE_LOGON_EXTENDED_INFO",
            _ => return None,
        })
    }
}

/// A value of TS_LOGON_ERRORS_INFO (MS-RDPBCGR 2.2.10.1.1.4.1.1). Both of its fields draw on
/// one set of names: the LOGON_FAILED_* / LOGON_WARNING outcomes (0-3) and the Winlogon
/// LOGON_MSG_* session-arbitration notices (0xFFFFFFF8-0xFFFFFFFE), also listed by
/// IMsTscAxEvents::OnLogonError; any other value (a session id) is kept as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogonError(pub u32);

impl LogonError {
    pub const FAILED_BAD_PASSWORD: LogonError = LogonError(0x0000_0000);
    pub const FAILED_UPDATE_PASSWORD: LogonError = LogonError(0x0000_0001);
    pub const FAILED_OTHER: LogonError = LogonError(0x0000_0002);
    pub const WARNING: LogonError = LogonError(0x0000_0003);
    pub const MSG_SESSION_BUSY_OPTIONS: LogonError = LogonError(0xFFFF_FFF8);
    pub const MSG_DISCONNECT_REFUSED: LogonError = LogonError(0xFFFF_FFF9);
    pub const MSG_NO_PERMISSION: LogonError = LogonError(0xFFFF_FFFA);
    pub const MSG_BUMP_OPTIONS: LogonError = LogonError(0xFFFF_FFFB);
    pub const MSG_RECONNECT_OPTIONS: LogonError = LogonError(0xFFFF_FFFC);
    pub const MSG_SESSION_TERMINATE: LogonError = LogonError(0xFFFF_FFFD);
    pub const MSG_SESSION_CONTINUE: LogonError = LogonError(0xFFFF_FFFE);
    pub const ACCESS_DENIED: LogonError = LogonError(0xFFFF_FFFF);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0000_0000 => "LOGON_FAILED_BAD_PASSWORD",
            0x0000_0001 => "LOGON_FAILED_UPDATE_PASSWORD",
            0x0000_0002 => "LOGON_FAILED_OTHER",
            0x0000_0003 => "LOGON_WARNING",
            0xFFFF_FFF8 => "LOGON_MSG_SESSION_BUSY_OPTIONS",
            0xFFFF_FFF9 => "LOGON_MSG_DISCONNECT_REFUSED",
            0xFFFF_FFFA => "LOGON_MSG_NO_PERMISSION",
            0xFFFF_FFFB => "LOGON_MSG_BUMP_OPTIONS",
            0xFFFF_FFFC => "LOGON_MSG_RECONNECT_OPTIONS",
            0xFFFF_FFFD => "LOGON_MSG_SESSION_TERMINATE",
            0xFFFF_FFFE => "LOGON_MSG_SESSION_CONTINUE",
            0xFFFF_FFFF => "ERROR_CODE_ACCESS_DENIED",
            _ => return None,
        })
    }

    /// LOGON_FAILED_BAD_PASSWORD, _UPDATE_PASSWORD, _OTHER or ERROR_CODE_ACCESS_DENIED.
    pub fn is_failure(self) -> bool {
        matches!(self.0, 0..=2 | 0xFFFF_FFFF)
    }
}

/// TS_LOGON_ERRORS_INFO (MS-RDPBCGR 2.2.10.1.1.4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogonErrorsInfo {
    pub error_notification_type: LogonError,
    pub error_notification_data: LogonError,
}

impl LogonErrorsInfo {
    /// The LOGON_FAILED_* outcome this notice reports, whichever field carries it, unless
    /// the other field says the session goes on (LOGON_MSG_SESSION_CONTINUE).
    pub fn failure(&self) -> Option<LogonError> {
        let (t, d) = (self.error_notification_type, self.error_notification_data);
        if t == LogonError::MSG_SESSION_CONTINUE || d == LogonError::MSG_SESSION_CONTINUE {
            return None;
        }
        [t, d].into_iter().find(|v| v.is_failure())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogonInfo {
    /// Logon Info Version 2 `Version` (SAVE_SESSION_PDU_VERSION_ONE = 1); None for version 1.
    pub version: Option<u16>,
    pub session_id: u32,
    pub domain: String,
    pub user_name: String,
}

/// Logon Info Extended (MS-RDPBCGR 2.2.10.1.1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogonInfoExtended {
    /// FieldsPresent: LOGON_EX_AUTORECONNECTCOOKIE 0x1, LOGON_EX_LOGONERRORS 0x2.
    pub fields_present: u32,
    /// The ARC_SC_PRIVATE_PACKET's LogonId when an auto-reconnect cookie was sent.
    pub auto_reconnect_logon_id: Option<u32>,
    pub logon_errors: Option<LogonErrorsInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveSessionInfo {
    Logon(LogonInfo),
    PlainNotify,
    Extended(LogonInfoExtended),
    Other { info_type: InfoType },
}

const LOGON_EX_AUTORECONNECTCOOKIE: u32 = 0x1;
const LOGON_EX_LOGONERRORS: u32 = 0x2;

fn name_field(c: &mut ByteCursor, len: usize, field: &'static str) -> Result<String, ProtoError> {
    Ok(utf16le_text(c.take(len, field)?, MAX_NAME))
}

/// TS_LOGON_INFO (MS-RDPBCGR 2.2.10.1.1.1): fixed 52-byte domain and 512-byte user fields.
fn logon_v1(c: &mut ByteCursor) -> Result<LogonInfo, ProtoError> {
    let cb_domain = c.le_u32("cbDomain")? as usize;
    let domain = c.take(52, "Domain")?;
    let cb_user = c.le_u32("cbUserName")? as usize;
    let user = c.take(512, "UserName")?;
    let session_id = c.le_u32("SessionId")?;
    Ok(LogonInfo {
        version: None,
        session_id,
        domain: utf16le_text(
            domain.get(..cb_domain.min(52)).unwrap_or_default(),
            MAX_NAME,
        ),
        user_name: utf16le_text(user.get(..cb_user.min(512)).unwrap_or_default(), MAX_NAME),
    })
}

/// TS_LOGON_INFO_VERSION_2 (MS-RDPBCGR 2.2.10.1.1.2).
fn logon_v2(c: &mut ByteCursor) -> Result<LogonInfo, ProtoError> {
    let version = c.le_u16("Version")?;
    let _size = c.le_u32("Size")?;
    let session_id = c.le_u32("SessionId")?;
    let cb_domain = c.le_u32("cbDomain")? as usize;
    let cb_user = c.le_u32("cbUserName")? as usize;
    c.skip(558, "Pad")?;
    let domain = name_field(c, cb_domain.min(c.remaining()), "Domain")?;
    let user_name = name_field(c, cb_user.min(c.remaining()), "UserName")?;
    Ok(LogonInfo {
        version: Some(version),
        session_id,
        domain,
        user_name,
    })
}

/// One Logon Info Field (MS-RDPBCGR 2.2.10.1.1.4.1): cbFieldData then the data.
fn logon_field<'a>(c: &mut ByteCursor<'a>, field: &'static str) -> Result<&'a [u8], ProtoError> {
    let len = c.le_u32(field)? as usize;
    if len > c.remaining() {
        return Err(c.invalid(field, 4, format!("{len} bytes but {} left", c.remaining())));
    }
    c.take(len, field)
}

fn logon_extended(c: &mut ByteCursor) -> Result<LogonInfoExtended, ProtoError> {
    let _length = c.le_u16("Length")?;
    let fields_present = c.le_u32("FieldsPresent")?;
    let mut auto_reconnect_logon_id = None;
    let mut logon_errors = None;
    if fields_present & LOGON_EX_AUTORECONNECTCOOKIE != 0 {
        let cookie = logon_field(c, "AutoReconnect cbFieldData")?;
        // ARC_SC_PRIVATE_PACKET: cbLen(4) Version(4) LogonId(4) ArcRandomBits(16).
        let mut arc = ByteCursor::new(LAYER, cookie);
        arc.skip(8, "ARC_SC_PRIVATE_PACKET header")?;
        auto_reconnect_logon_id = Some(arc.le_u32("LogonId")?);
    }
    if fields_present & LOGON_EX_LOGONERRORS != 0 {
        let data = logon_field(c, "LogonErrors cbFieldData")?;
        let mut e = ByteCursor::new(LAYER, data);
        logon_errors = Some(LogonErrorsInfo {
            error_notification_type: LogonError(e.le_u32("ErrorNotificationType")?),
            error_notification_data: LogonError(e.le_u32("ErrorNotificationData")?),
        });
    }
    Ok(LogonInfoExtended {
        fields_present,
        auto_reconnect_logon_id,
        logon_errors,
    })
}

/// Decodes the Save Session Info PDU data that follows the Share Data Header.
pub fn parse_save_session_info(b: &[u8]) -> Result<SaveSessionInfo, ProtoError> {
    let mut c = ByteCursor::new(LAYER, b);
    let info_type = InfoType(c.le_u32("infoType")?);
    Ok(match info_type {
        InfoType::LOGON => SaveSessionInfo::Logon(logon_v1(&mut c)?),
        InfoType::LOGON_LONG => SaveSessionInfo::Logon(logon_v2(&mut c)?),
        InfoType::LOGON_PLAINNOTIFY => SaveSessionInfo::PlainNotify,
        InfoType::LOGON_EXTENDED_INFO => SaveSessionInfo::Extended(logon_extended(&mut c)?),
        _ => SaveSessionInfo::Other { info_type },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::hex;

    #[test]
    fn synthetic_logon_errors_bad_password() {
        // LOGON_EX_LOGONERRORS only: cbFieldData 8, type LOGON_MSG_SESSION_TERMINATE,
        // data LOGON_FAILED_BAD_PASSWORD.
        let b = hex("03000000 0e00 02000000 08000000 fdffffff 00000000");
        let SaveSessionInfo::Extended(x) = parse_save_session_info(&b).unwrap() else {
            panic!()
        };
        let errors = x.logon_errors.unwrap();
        assert_eq!(
            errors.error_notification_type.name(),
            Some("LOGON_MSG_SESSION_TERMINATE")
        );
        assert_eq!(errors.failure(), Some(LogonError::FAILED_BAD_PASSWORD));
        assert_eq!(x.auto_reconnect_logon_id, None);
    }

    #[test]
    fn synthetic_session_continue_is_not_a_failure() {
        let b = hex("03000000 0e00 02000000 08000000 feffffff 02000000");
        let SaveSessionInfo::Extended(x) = parse_save_session_info(&b).unwrap() else {
            panic!()
        };
        assert_eq!(x.logon_errors.unwrap().failure(), None);
    }

    #[test]
    fn a_field_longer_than_the_pdu_is_refused() {
        let b = hex("03000000 0e00 02000000 ffffff7f");
        assert!(matches!(
            parse_save_session_info(&b),
            Err(ProtoError::Invalid {
                field: "LogonErrors cbFieldData",
                ..
            })
        ));
    }
}
