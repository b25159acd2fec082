//! Client Info PDU (MS-RDPBCGR 2.2.1.11.1.1, TS_INFO_PACKET) and the Early User Authorization
//! Result PDU (MS-RDPBCGR 2.2.10.2). The password is skipped unread: only whether one was
//! sent is kept.

use crate::proto::byte_cursor::{ascii_text, utf16le_text, ByteCursor};
use crate::proto::{flag_names, ProtoError};

const LAYER: &str = "client-info";
/// Domain, user, shell and directory are at most 512 bytes each (MS-RDPBCGR 2.2.1.11.1.1).
const MAX_TEXT: usize = 256;

/// TS_INFO_PACKET `flags` (MS-RDPBCGR 2.2.1.11.1.1); unknown bits kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoFlags(pub u32);

impl InfoFlags {
    pub const MOUSE: u32 = 0x0000_0001;
    pub const DISABLECTRLALTDEL: u32 = 0x0000_0002;
    pub const AUTOLOGON: u32 = 0x0000_0008;
    pub const UNICODE: u32 = 0x0000_0010;
    pub const MAXIMIZESHELL: u32 = 0x0000_0020;
    pub const LOGONNOTIFY: u32 = 0x0000_0040;
    pub const COMPRESSION: u32 = 0x0000_0080;
    pub const ENABLEWINDOWSKEY: u32 = 0x0000_0100;
    pub const REMOTECONSOLEAUDIO: u32 = 0x0000_2000;
    pub const FORCE_ENCRYPTED_CS_PDU: u32 = 0x0000_4000;
    pub const RAIL: u32 = 0x0000_8000;
    pub const LOGONERRORS: u32 = 0x0001_0000;
    pub const MOUSE_HAS_WHEEL: u32 = 0x0002_0000;
    pub const PASSWORD_IS_SC_PIN: u32 = 0x0004_0000;
    pub const NOAUDIOPLAYBACK: u32 = 0x0008_0000;
    pub const USING_SAVED_CREDS: u32 = 0x0010_0000;
    pub const AUDIOCAPTURE: u32 = 0x0020_0000;
    pub const VIDEO_DISABLE: u32 = 0x0040_0000;
    pub const HIDEF_RAIL_SUPPORTED: u32 = 0x0200_0000;
    /// CompressionTypeMask: the bulk compressor the client offers, not a flag.
    pub const COMPRESSION_TYPE_MASK: u32 = 0x0000_1E00;

    const NAMES: [(u32, &'static str); 19] = [
        (Self::MOUSE, "INFO_MOUSE"),
        (Self::DISABLECTRLALTDEL, "INFO_DISABLECTRLALTDEL"),
        (Self::AUTOLOGON, "INFO_AUTOLOGON"),
        (Self::UNICODE, "INFO_UNICODE"),
        (Self::MAXIMIZESHELL, "INFO_MAXIMIZESHELL"),
        (Self::LOGONNOTIFY, "INFO_LOGONNOTIFY"),
        (Self::COMPRESSION, "INFO_COMPRESSION"),
        (Self::ENABLEWINDOWSKEY, "INFO_ENABLEWINDOWSKEY"),
        (Self::REMOTECONSOLEAUDIO, "INFO_REMOTECONSOLEAUDIO"),
        (Self::FORCE_ENCRYPTED_CS_PDU, "INFO_FORCE_ENCRYPTED_CS_PDU"),
        (Self::RAIL, "INFO_RAIL"),
        (Self::LOGONERRORS, "INFO_LOGONERRORS"),
        (Self::MOUSE_HAS_WHEEL, "INFO_MOUSE_HAS_WHEEL"),
        (Self::PASSWORD_IS_SC_PIN, "INFO_PASSWORD_IS_SC_PIN"),
        (Self::NOAUDIOPLAYBACK, "INFO_NOAUDIOPLAYBACK"),
        (Self::USING_SAVED_CREDS, "INFO_USING_SAVED_CREDS"),
        (Self::AUDIOCAPTURE, "INFO_AUDIOCAPTURE"),
        (Self::VIDEO_DISABLE, "INFO_VIDEO_DISABLE"),
        (Self::HIDEF_RAIL_SUPPORTED, "INFO_HIDEF_RAIL_SUPPORTED"),
    ];

    pub fn contains(self, bit: u32) -> bool {
        self.0 & bit == bit
    }

    /// Names of the set flags (the compression type bits are left out).
    pub fn names(self) -> Vec<String> {
        flag_names(self.0 & !Self::COMPRESSION_TYPE_MASK, &Self::NAMES)
    }
}

/// What a Client Info PDU says about the logon it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub code_page: u32,
    pub flags: InfoFlags,
    pub domain: String,
    pub user_name: String,
    /// cbPassword > 0: a password (or smart-card PIN) was sent. Never its value.
    pub password_present: bool,
    pub alternate_shell: String,
    pub working_dir: String,
    /// TS_EXTENDED_INFO_PACKET clientAddress, when the extended part is there.
    pub client_address: Option<String>,
}

impl ClientInfo {
    pub fn auto_logon(&self) -> bool {
        self.flags.contains(InfoFlags::AUTOLOGON)
    }
}

/// One of the five strings: `cb` bytes without the terminator, then the terminator (two
/// bytes for Unicode, one for ANSI).
fn text_field(
    c: &mut ByteCursor,
    cb: u16,
    unicode: bool,
    field: &'static str,
) -> Result<String, ProtoError> {
    let nul = if unicode { 2 } else { 1 };
    let bytes = c.take(usize::from(cb) + nul, field)?;
    Ok(if unicode {
        utf16le_text(bytes, MAX_TEXT)
    } else {
        ascii_text(bytes, MAX_TEXT)
    })
}

/// The client address of TS_EXTENDED_INFO_PACKET, if present and readable.
fn client_address(c: &mut ByteCursor, unicode: bool) -> Option<String> {
    let _family = c.le_u16("clientAddressFamily").ok()?;
    let cb = usize::from(c.le_u16("cbClientAddress").ok()?);
    let bytes = c.take(cb, "clientAddress").ok()?;
    Some(if unicode {
        utf16le_text(bytes, 64)
    } else {
        ascii_text(bytes, 64)
    })
}

/// Decodes TS_INFO_PACKET: what follows the security header of a PDU flagged SEC_INFO_PKT.
pub fn parse_client_info(b: &[u8]) -> Result<ClientInfo, ProtoError> {
    let mut c = ByteCursor::new(LAYER, b);
    let code_page = c.le_u32("CodePage")?;
    let flags = InfoFlags(c.le_u32("flags")?);
    let unicode = flags.contains(InfoFlags::UNICODE);
    let cb_domain = c.le_u16("cbDomain")?;
    let cb_user = c.le_u16("cbUserName")?;
    let cb_password = c.le_u16("cbPassword")?;
    let cb_shell = c.le_u16("cbAlternateShell")?;
    let cb_dir = c.le_u16("cbWorkingDir")?;
    let domain = text_field(&mut c, cb_domain, unicode, "Domain")?;
    let user_name = text_field(&mut c, cb_user, unicode, "UserName")?;
    let nul = if unicode { 2 } else { 1 };
    c.skip(usize::from(cb_password) + nul, "Password")?;
    let alternate_shell = text_field(&mut c, cb_shell, unicode, "AlternateShell")?;
    let working_dir = text_field(&mut c, cb_dir, unicode, "WorkingDir")?;
    let client_address = client_address(&mut c, unicode);
    Ok(ClientInfo {
        code_page,
        flags,
        domain,
        user_name,
        password_present: cb_password > 0,
        alternate_shell,
        working_dir,
        client_address,
    })
}

/// `authorizationResult` of the Early User Authorization Result PDU (MS-RDPBCGR 2.2.10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizationResult(pub u32);

impl AuthorizationResult {
    pub const AUTHZ_SUCCESS: AuthorizationResult = AuthorizationResult(0x0000_0000);
    pub const AUTHZ_ACCESS_DENIED: AuthorizationResult = AuthorizationResult(0x0000_0005);

    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("AUTHZ_SUCCESS"),
            5 => Some("AUTHZ_ACCESS_DENIED"),
            _ => None,
        }
    }

    pub fn is_success(self) -> bool {
        self == Self::AUTHZ_SUCCESS
    }
}

/// The 4-byte Early User Authorization Result PDU a HYBRID_EX server sends right after
/// CredSSP, alone in the TLS stream (no TPKT).
pub fn parse_early_user_authorization(b: &[u8]) -> Result<AuthorizationResult, ProtoError> {
    let mut c = ByteCursor::new("early-user-authorization", b);
    let result = AuthorizationResult(c.le_u32("authorizationResult")?);
    if !c.is_empty() {
        return Err(c.invalid(
            "authorizationResult",
            4,
            format!("{} bytes follow the 4-byte PDU", c.remaining()),
        ));
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_user_authorization_results() {
        assert!(parse_early_user_authorization(&[0, 0, 0, 0])
            .unwrap()
            .is_success());
        let denied = parse_early_user_authorization(&[5, 0, 0, 0]).unwrap();
        assert_eq!(denied.name(), Some("AUTHZ_ACCESS_DENIED"));
        assert!(parse_early_user_authorization(&[5, 0, 0]).is_err());
        assert!(parse_early_user_authorization(&[3, 0, 0, 0x13, 0]).is_err());
    }

    #[test]
    fn synthetic_ansi_client_info_with_password_keeps_only_its_presence() {
        // flags INFO_AUTOLOGON only (ANSI), domain "D", user "bob", password "pw".
        let mut b = vec![0x09, 0x04, 0, 0, 0x08, 0, 0, 0];
        for cb in [1u16, 3, 2, 0, 0] {
            b.extend(cb.to_le_bytes());
        }
        b.extend(b"D\0bob\0pw\0\0\0");
        let info = parse_client_info(&b).unwrap();
        assert!(info.auto_logon() && info.password_present);
        assert_eq!(
            (info.domain.as_str(), info.user_name.as_str()),
            ("D", "bob")
        );
        assert!(!format!("{info:?}").contains("pw"));
        assert_eq!(info.client_address, None);
    }
}
