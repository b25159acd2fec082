//! The error a Windows client (mstsc) would show for a failed connection: its disconnect
//! reason ("Error code: 0x904") and extended code ("Extended error code: 0x7"). The reason is
//! the client's own value (IMsTscAxEvents::OnDisconnected discReason); the extended code is a
//! Set Error Info value (MS-RDPBCGR 2.2.5.1.1, ExtendedDisconnectReasonCode). From packets it
//! is inferred from the finding, unless a decrypted Set Error Info PDU gives the extended code.

use super::{Diagnosed, FindingCode, Verdict};
use crate::proto::rdp_pdu::ErrInfo;

/// The client's disconnect reason (the dialog's "Error code", event 1026's "Reason=").
/// Unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DisconnectReason(pub u32);

/// The reasons mstscax names (the public IMsTscAxEvents disconnect reason enumeration and the
/// SSL_ERR_* family), in order of value.
const NAMES: &[(u32, &str)] = &[
    (0x1, "LocalNotError"),
    (0x2, "RemoteByUser"),
    (0x3, "ByServer"),
    (0x104, "DNSLookupFailed"),
    (0x108, "ConnectionTimedOut"),
    (0x204, "SocketConnectFailed"),
    (0x208, "HostNotFound"),
    (0x304, "WinsockSendFailed"),
    (0x404, "SocketRecvFailed"),
    (0x406, "InvalidSecurityData"),
    (0x408, "InternalError"),
    (0x506, "InvalidEncryption"),
    (0x508, "DNSLookupFailed2"),
    (0x604, "GetHostByNameFailed"),
    (0x606, "InvalidServerSecurityInfo"),
    (0x608, "TimerError"),
    (0x704, "TimeoutOccurred"),
    (0x706, "ServerCertificateUnpackErr"),
    (0x804, "InvalidIP"),
    (0x807, "SslErrLogonFailure"),
    (0x808, "LicensingFailed"),
    (0x904, "AtClientWinsockFDCLOSE"),
    (0x906, "InternalSecurityError"),
    (0x908, "LicensingTimeout"),
    (0xA06, "InternalSecurityError2"),
    (0xA07, "SslErrNoSuchUser"),
    (0xB06, "EncryptionError"),
    (0xB07, "SslErrAccountDisabled"),
    (0xC06, "DecryptionError"),
    (0xC07, "SslErrAccountRestriction"),
    (0xC08, "ClientDecompressionError"),
    (0xD07, "SslErrAccountLockedOut"),
    (0xE07, "SslErrAccountExpired"),
    (0xF07, "SslErrPasswordExpired"),
    (0x1207, "SslErrPasswordMustChange"),
    (0x1607, "SslErrDelegationPolicy"),
    (0x1707, "SslErrPolicyNtlmOnly"),
    (0x1807, "SslErrNoAuthenticatingAuthority"),
    (0x1B07, "SslErrCertExpired"),
    (0x1C07, "SslErrSmartcardWrongPin"),
    (0x2107, "SslErrFreshCredRequiredByServer"),
    (0x2207, "SslErrSmartcardCardBlocked"),
];

impl DisconnectReason {
    pub const SOCKET_CONNECT_FAILED: DisconnectReason = DisconnectReason(0x204);
    pub const SSL_ERR_LOGON_FAILURE: DisconnectReason = DisconnectReason(0x807);
    pub const AT_CLIENT_WINSOCK_FDCLOSE: DisconnectReason = DisconnectReason(0x904);

    /// The enumeration's name, None for a value it does not name.
    pub fn name(self) -> Option<&'static str> {
        NAMES
            .binary_search_by_key(&self.0, |(v, _)| *v)
            .ok()
            .and_then(|i| NAMES.get(i))
            .map(|(_, name)| *name)
    }

    /// Every named reason, in order of value.
    pub fn all() -> impl Iterator<Item = DisconnectReason> {
        NAMES.iter().map(|(v, _)| DisconnectReason(*v))
    }
}

/// A client error pair: reason and, when known, the extended code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientError {
    pub reason: DisconnectReason,
    pub extended: Option<ErrInfo>,
    /// True when read off the finding; false when a decrypted Set Error Info PDU gave it.
    pub inferred: bool,
}

impl ClientError {
    /// Whether a connection showing `self` is consistent with what a user saw: the same
    /// reason, and the same extended code when both are known.
    pub fn consistent_with(&self, seen: &ClientError) -> bool {
        self.reason == seen.reason
            && match (self.extended, seen.extended) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// The reason a client shows when a connection fails with `code` (FACTS-style network
/// evidence: SYN unanswered or refused ⇒ connect() failed; the server closing the TCP
/// connection under the client ⇒ "socket closed"; CredSSP refused ⇒ SSL_ERR_LOGON_FAILURE).
/// None where the client's reaction is not established.
pub fn reason_for(code: FindingCode) -> Option<DisconnectReason> {
    use FindingCode as F;
    match code {
        F::PortFiltered | F::ConnectionRefused => Some(DisconnectReason::SOCKET_CONNECT_FAILED),
        F::ServerResetAfterClientHello
        | F::TlsVersionMismatch
        | F::TlsCipherMismatch
        | F::ServerAbort => Some(DisconnectReason::AT_CLIENT_WINSOCK_FDCLOSE),
        F::NlaFailed | F::NtlmFallbackRefused => Some(DisconnectReason::SSL_ERR_LOGON_FAILURE),
        _ => None,
    }
}

/// The finding codes whose failures show `reason`.
pub fn causes_of(reason: DisconnectReason) -> Vec<FindingCode> {
    FindingCode::ALL
        .iter()
        .copied()
        .filter(|c| reason_for(*c) == Some(reason))
        .collect()
}

/// The client error a failed connection would show: from its most severe finding that
/// implies one (None for connections that did not fail).
pub fn expected(d: &Diagnosed) -> Option<ClientError> {
    if d.verdict != Verdict::Failed {
        return None;
    }
    let mut findings: Vec<_> = d.findings.iter().collect();
    // Most severe first, keeping the order found among equals.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let reason = findings.iter().find_map(|f| reason_for(f.code))?;
    // The server's own Set Error Info, read inside TLS, is the extended code the client
    // shows: the pair is then confirmed, not inferred.
    let extended = d.connection.inner().rdp.errinfo.as_ref().map(|e| e.value);
    Some(ClientError {
        reason,
        extended,
        inferred: extended.is_none(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_for_the_binary_search() {
        assert!(NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(
            DisconnectReason(0x904).name(),
            Some("AtClientWinsockFDCLOSE")
        );
        assert_eq!(DisconnectReason(0x905).name(), None);
    }

    #[test]
    fn synthetic_consistency_ignores_an_unknown_extended_code() {
        let seen = ClientError {
            reason: DisconnectReason(0x904),
            extended: Some(ErrInfo(0x7)),
            inferred: false,
        };
        let inferred = ClientError {
            reason: DisconnectReason(0x904),
            extended: None,
            inferred: true,
        };
        assert!(inferred.consistent_with(&seen));
        let other = ClientError {
            extended: Some(ErrInfo(0x9)),
            ..seen
        };
        assert!(!other.consistent_with(&seen));
        assert!(!ClientError {
            reason: DisconnectReason(0x204),
            ..inferred
        }
        .consistent_with(&seen));
    }
}
