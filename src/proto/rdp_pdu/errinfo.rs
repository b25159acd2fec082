//! The Set Error Info PDU's `errorInfo` (MS-RDPBCGR 2.2.5.1.1): the reason the server gives
//! for ending the connection, which mstsc shows as the "extended error code".

/// `errorInfo` of the Set Error Info PDU (MS-RDPBCGR 2.2.5.1.1); unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrInfo(pub u32);

/// Every ERRINFO_* code MS-RDPBCGR 2.2.5.1.1 names, in order of value.
const NAMES: &[(u32, &str)] = &[
    (0x0000_0000, "ERRINFO_NONE"),
    (0x0000_0001, "ERRINFO_RPC_INITIATED_DISCONNECT"),
    (0x0000_0002, "ERRINFO_RPC_INITIATED_LOGOFF"),
    (0x0000_0003, "ERRINFO_IDLE_TIMEOUT"),
    (0x0000_0004, "ERRINFO_LOGON_TIMEOUT"),
    (0x0000_0005, "ERRINFO_DISCONNECTED_BY_OTHERCONNECTION"),
    (0x0000_0006, "ERRINFO_OUT_OF_MEMORY"),
    (0x0000_0007, "ERRINFO_SERVER_DENIED_CONNECTION"),
    (0x0000_0009, "ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES"),
    (0x0000_000A, "ERRINFO_SERVER_FRESH_CREDENTIALS_REQUIRED"),
    (0x0000_000B, "ERRINFO_RPC_INITIATED_DISCONNECT_BYUSER"),
    (0x0000_000C, "ERRINFO_LOGOFF_BY_USER"),
    (0x0000_000F, "ERRINFO_CLOSE_STACK_ON_DRIVER_NOT_READY"),
    (0x0000_0010, "ERRINFO_SERVER_DWM_CRASH"),
    (0x0000_0011, "ERRINFO_CLOSE_STACK_ON_DRIVER_FAILURE"),
    (0x0000_0012, "ERRINFO_CLOSE_STACK_ON_DRIVER_IFACE_FAILURE"),
    (0x0000_0017, "ERRINFO_SERVER_WINLOGON_CRASH"),
    (0x0000_0018, "ERRINFO_SERVER_CSRSS_CRASH"),
    (0x0000_0019, "ERRINFO_SERVER_SHUTDOWN"),
    (0x0000_001A, "ERRINFO_SERVER_REBOOT"),
    (0x0000_0100, "ERRINFO_LICENSE_INTERNAL"),
    (0x0000_0101, "ERRINFO_LICENSE_NO_LICENSE_SERVER"),
    (0x0000_0102, "ERRINFO_LICENSE_NO_LICENSE"),
    (0x0000_0103, "ERRINFO_LICENSE_BAD_CLIENT_MSG"),
    (0x0000_0104, "ERRINFO_LICENSE_HWID_DOESNT_MATCH_LICENSE"),
    (0x0000_0105, "ERRINFO_LICENSE_BAD_CLIENT_LICENSE"),
    (0x0000_0106, "ERRINFO_LICENSE_CANT_FINISH_PROTOCOL"),
    (0x0000_0107, "ERRINFO_LICENSE_CLIENT_ENDED_PROTOCOL"),
    (0x0000_0108, "ERRINFO_LICENSE_BAD_CLIENT_ENCRYPTION"),
    (0x0000_0109, "ERRINFO_LICENSE_CANT_UPGRADE_LICENSE"),
    (0x0000_010A, "ERRINFO_LICENSE_NO_REMOTE_CONNECTIONS"),
    (0x0000_0400, "ERRINFO_CB_DESTINATION_NOT_FOUND"),
    (0x0000_0402, "ERRINFO_CB_LOADING_DESTINATION"),
    (0x0000_0404, "ERRINFO_CB_REDIRECTING_TO_DESTINATION"),
    (0x0000_0405, "ERRINFO_CB_SESSION_ONLINE_VM_WAKE"),
    (0x0000_0406, "ERRINFO_CB_SESSION_ONLINE_VM_BOOT"),
    (0x0000_0407, "ERRINFO_CB_SESSION_ONLINE_VM_NO_DNS"),
    (0x0000_0408, "ERRINFO_CB_DESTINATION_POOL_NOT_FREE"),
    (0x0000_0409, "ERRINFO_CB_CONNECTION_CANCELLED"),
    (0x0000_0410, "ERRINFO_CB_CONNECTION_ERROR_INVALID_SETTINGS"),
    (0x0000_0411, "ERRINFO_CB_SESSION_ONLINE_VM_BOOT_TIMEOUT"),
    (0x0000_0412, "ERRINFO_CB_SESSION_ONLINE_VM_SESSMON_FAILED"),
    (0x0000_10C9, "ERRINFO_UNKNOWNPDUTYPE2"),
    (0x0000_10CA, "ERRINFO_UNKNOWNPDUTYPE"),
    (0x0000_10CB, "ERRINFO_DATAPDUSEQUENCE"),
    (0x0000_10CD, "ERRINFO_CONTROLPDUSEQUENCE"),
    (0x0000_10CE, "ERRINFO_INVALIDCONTROLPDUACTION"),
    (0x0000_10CF, "ERRINFO_INVALIDINPUTPDUTYPE"),
    (0x0000_10D0, "ERRINFO_INVALIDINPUTPDUMOUSE"),
    (0x0000_10D1, "ERRINFO_INVALIDREFRESHRECTPDU"),
    (0x0000_10D2, "ERRINFO_CREATEUSERDATAFAILED"),
    (0x0000_10D3, "ERRINFO_CONNECTFAILED"),
    (0x0000_10D4, "ERRINFO_CONFIRMACTIVEWRONGSHAREID"),
    (0x0000_10D5, "ERRINFO_CONFIRMACTIVEWRONGORIGINATOR"),
    (0x0000_10DA, "ERRINFO_PERSISTENTKEYPDUBADLENGTH"),
    (0x0000_10DB, "ERRINFO_PERSISTENTKEYPDUILLEGALFIRST"),
    (0x0000_10DC, "ERRINFO_PERSISTENTKEYPDUTOOMANYTOTALKEYS"),
    (0x0000_10DD, "ERRINFO_PERSISTENTKEYPDUTOOMANYCACHEKEYS"),
    (0x0000_10DE, "ERRINFO_INPUTPDUBADLENGTH"),
    (0x0000_10DF, "ERRINFO_BITMAPCACHEERRORPDUBADLENGTH"),
    (0x0000_10E0, "ERRINFO_SECURITYDATATOOSHORT"),
    (0x0000_10E1, "ERRINFO_VCHANNELDATATOOSHORT"),
    (0x0000_10E2, "ERRINFO_SHAREDATATOOSHORT"),
    (0x0000_10E3, "ERRINFO_BADSUPRESSOUTPUTPDU"),
    (0x0000_10E5, "ERRINFO_CONFIRMACTIVEPDUTOOSHORT"),
    (0x0000_10E7, "ERRINFO_CAPABILITYSETTOOSMALL"),
    (0x0000_10E8, "ERRINFO_CAPABILITYSETTOOLARGE"),
    (0x0000_10E9, "ERRINFO_NOCURSORCACHE"),
    (0x0000_10EA, "ERRINFO_BADCAPABILITIES"),
    (0x0000_10EC, "ERRINFO_VIRTUALCHANNELDECOMPRESSIONERR"),
    (0x0000_10ED, "ERRINFO_INVALIDVCCOMPRESSIONTYPE"),
    (0x0000_10EF, "ERRINFO_INVALIDCHANNELID"),
    (0x0000_10F0, "ERRINFO_VCHANNELSTOOMANY"),
    (0x0000_10F3, "ERRINFO_REMOTEAPPSNOTENABLED"),
    (0x0000_10F4, "ERRINFO_CACHECAPNOTSET"),
    (0x0000_10F5, "ERRINFO_BITMAPCACHEERRORPDUBADLENGTH2"),
    (0x0000_10F6, "ERRINFO_OFFSCRCACHEERRORPDUBADLENGTH"),
    (0x0000_10F7, "ERRINFO_DNGCACHEERRORPDUBADLENGTH"),
    (0x0000_10F8, "ERRINFO_GDIPLUSPDUBADLENGTH"),
    (0x0000_1111, "ERRINFO_SECURITYDATATOOSHORT2"),
    (0x0000_1112, "ERRINFO_SECURITYDATATOOSHORT3"),
    (0x0000_1113, "ERRINFO_SECURITYDATATOOSHORT4"),
    (0x0000_1114, "ERRINFO_SECURITYDATATOOSHORT5"),
    (0x0000_1115, "ERRINFO_SECURITYDATATOOSHORT6"),
    (0x0000_1116, "ERRINFO_SECURITYDATATOOSHORT7"),
    (0x0000_1117, "ERRINFO_SECURITYDATATOOSHORT8"),
    (0x0000_1118, "ERRINFO_SECURITYDATATOOSHORT9"),
    (0x0000_1119, "ERRINFO_SECURITYDATATOOSHORT10"),
    (0x0000_111A, "ERRINFO_SECURITYDATATOOSHORT11"),
    (0x0000_111B, "ERRINFO_SECURITYDATATOOSHORT12"),
    (0x0000_111C, "ERRINFO_SECURITYDATATOOSHORT13"),
    (0x0000_111D, "ERRINFO_SECURITYDATATOOSHORT14"),
    (0x0000_111E, "ERRINFO_SECURITYDATATOOSHORT15"),
    (0x0000_111F, "ERRINFO_SECURITYDATATOOSHORT16"),
    (0x0000_1120, "ERRINFO_SECURITYDATATOOSHORT17"),
    (0x0000_1121, "ERRINFO_SECURITYDATATOOSHORT18"),
    (0x0000_1122, "ERRINFO_SECURITYDATATOOSHORT19"),
    (0x0000_1123, "ERRINFO_SECURITYDATATOOSHORT20"),
    (0x0000_1124, "ERRINFO_SECURITYDATATOOSHORT21"),
    (0x0000_1125, "ERRINFO_SECURITYDATATOOSHORT22"),
    (0x0000_1126, "ERRINFO_SECURITYDATATOOSHORT23"),
    (0x0000_1129, "ERRINFO_BADMONITORDATA"),
    (0x0000_112A, "ERRINFO_VCDECOMPRESSEDREASSEMBLEFAILED"),
    (0x0000_112B, "ERRINFO_VCDATATOOLONG"),
    (0x0000_112C, "ERRINFO_BAD_FRAME_ACK_DATA"),
    (0x0000_112D, "ERRINFO_GRAPHICSMODENOTSUPPORTED"),
    (0x0000_112E, "ERRINFO_GRAPHICSSUBSYSTEMRESETFAILED"),
    (0x0000_112F, "ERRINFO_GRAPHICSSUBSYSTEMFAILED"),
    (0x0000_1130, "ERRINFO_TIMEZONEKEYNAMELENGTHTOOSHORT"),
    (0x0000_1131, "ERRINFO_TIMEZONEKEYNAMELENGTHTOOLONG"),
    (0x0000_1132, "ERRINFO_DYNAMICDSTDISABLEDFIELDMISSING"),
    (0x0000_1133, "ERRINFO_VCDECODINGERROR"),
    (0x0000_1134, "ERRINFO_VIRTUALDESKTOPTOOLARGE"),
    (0x0000_1135, "ERRINFO_MONITORGEOMETRYVALIDATIONFAILED"),
    (0x0000_1136, "ERRINFO_INVALIDMONITORCOUNT"),
    (0x0000_1191, "ERRINFO_UPDATESESSIONKEYFAILED"),
    (0x0000_1192, "ERRINFO_DECRYPTFAILED"),
    (0x0000_1193, "ERRINFO_ENCRYPTFAILED"),
    (0x0000_1194, "ERRINFO_ENCPKGMISMATCH"),
    (0x0000_1195, "ERRINFO_DECRYPTFAILED2"),
];

/// The groups MS-RDPBCGR 2.2.5.1.1 sorts the codes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrInfoClass {
    /// ERRINFO_NONE: no error (sent to clear an earlier one).
    None,
    /// 0x1-0x1A: the session was ended on purpose or by a server-side failure.
    Disconnect,
    /// 0x100-0x10A: the licensing protocol failed.
    Licensing,
    /// 0x400-0x412: the connection broker could not place the session.
    ConnectionBroker,
    /// 0x10C9 and above: the server rejected a malformed or unexpected PDU.
    Protocol,
}

impl ErrInfo {
    pub const NONE: ErrInfo = ErrInfo(0);
    pub const RPC_INITIATED_DISCONNECT: ErrInfo = ErrInfo(0x1);
    pub const RPC_INITIATED_LOGOFF: ErrInfo = ErrInfo(0x2);
    pub const IDLE_TIMEOUT: ErrInfo = ErrInfo(0x3);
    pub const LOGON_TIMEOUT: ErrInfo = ErrInfo(0x4);
    pub const DISCONNECTED_BY_OTHERCONNECTION: ErrInfo = ErrInfo(0x5);
    pub const SERVER_DENIED_CONNECTION: ErrInfo = ErrInfo(0x7);
    pub const SERVER_INSUFFICIENT_PRIVILEGES: ErrInfo = ErrInfo(0x9);
    pub const RPC_INITIATED_DISCONNECT_BYUSER: ErrInfo = ErrInfo(0xB);
    pub const LOGOFF_BY_USER: ErrInfo = ErrInfo(0xC);
    pub const LICENSE_NO_LICENSE_SERVER: ErrInfo = ErrInfo(0x101);
    pub const LICENSE_NO_LICENSE: ErrInfo = ErrInfo(0x102);
    pub const CB_CONNECTION_CANCELLED: ErrInfo = ErrInfo(0x409);

    /// The ERRINFO_* name, or None for a value the spec does not name.
    pub fn name(self) -> Option<&'static str> {
        NAMES
            .binary_search_by_key(&self.0, |(v, _)| *v)
            .ok()
            .and_then(|i| NAMES.get(i))
            .map(|(_, n)| *n)
    }

    /// The name, or the value in hex for codes the spec does not name.
    pub fn label(self) -> String {
        self.name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("0x{:08X}", self.0))
    }

    pub fn class(self) -> ErrInfoClass {
        match self.0 {
            0 => ErrInfoClass::None,
            0x100..=0x1FF => ErrInfoClass::Licensing,
            0x400..=0x4FF => ErrInfoClass::ConnectionBroker,
            0x1000.. => ErrInfoClass::Protocol,
            _ => ErrInfoClass::Disconnect,
        }
    }

    /// A session that ended the way its user or administrator asked (logoff, disconnect by
    /// user or tool, another connection taking over, idle/logon timers, a planned restart):
    /// not a failure to alarm about.
    pub fn is_normal_end(self) -> bool {
        matches!(self.0, 0x0..=0x5 | 0xB | 0xC | 0x19 | 0x1A)
    }

    /// Every named code, for tables that must cover them all.
    pub fn all() -> impl Iterator<Item = ErrInfo> {
        NAMES.iter().map(|(v, _)| ErrInfo(*v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_for_the_binary_search() {
        assert!(NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(
            ErrInfo(0xB).name(),
            Some("ERRINFO_RPC_INITIATED_DISCONNECT_BYUSER")
        );
        assert_eq!(ErrInfo(0x1195).name(), Some("ERRINFO_DECRYPTFAILED2"));
        assert_eq!(ErrInfo(0x8).name(), None);
        assert_eq!(ErrInfo(0x8).label(), "0x00000008");
    }

    #[test]
    fn classes_follow_the_spec_ranges() {
        assert_eq!(ErrInfo(0x7).class(), ErrInfoClass::Disconnect);
        assert_eq!(ErrInfo(0x101).class(), ErrInfoClass::Licensing);
        assert_eq!(ErrInfo(0x409).class(), ErrInfoClass::ConnectionBroker);
        assert_eq!(ErrInfo(0x10C9).class(), ErrInfoClass::Protocol);
        assert!(ErrInfo::LOGOFF_BY_USER.is_normal_end());
        assert!(!ErrInfo::SERVER_DENIED_CONNECTION.is_normal_end());
    }
}
