//! NTSTATUS and SECURITY_STATUS values a CredSSP `errorCode` (MS-CSSP 2.2.1) or a Windows
//! KDC's KERB-EXT-ERROR (MS-KILE 2.2.2) carries: what each means for an RDP logon, and the
//! fix, one sentence each.

use crate::proto::credssp::NtStatus;

/// (meaning, fix) for a known value, None for values without words.
pub fn ntstatus_meaning(code: NtStatus) -> Option<(&'static str, &'static str)> {
    let words = match code {
        NtStatus::STATUS_LOGON_FAILURE => (
            "the user name or password is wrong (or the account is unknown to the server)",
            "Retype the password and check the user name and domain (DOMAIN\\user or user@domain).",
        ),
        NtStatus::STATUS_WRONG_PASSWORD => (
            "the password is wrong",
            "Retype the password; if it was changed recently, sign in with the new one.",
        ),
        NtStatus::STATUS_NO_SUCH_USER => (
            "the server's domain does not know this user name",
            "Check the user name and the domain it belongs to.",
        ),
        NtStatus::STATUS_ACCOUNT_RESTRICTION => (
            "the account may not log on this way: a blank password, Protected Users (no NTLM), or a policy restricting NTLM",
            "Use Kerberos (connect by the host's DNS name with a domain controller reachable) or lift the restriction for this account.",
        ),
        NtStatus::STATUS_INVALID_LOGON_HOURS => (
            "the account is not allowed to log on at this time of day",
            "Change the account's logon hours in Active Directory or try within them.",
        ),
        NtStatus::STATUS_INVALID_WORKSTATION => (
            "the account may log on only from other computers (its 'Log On To' list)",
            "Add this client's computer name to the account's allowed workstations.",
        ),
        NtStatus::STATUS_PASSWORD_EXPIRED => (
            "the account's password has expired",
            "Change the password (NLA cannot prompt for it: change it elsewhere, or allow the change at logon).",
        ),
        NtStatus::STATUS_PASSWORD_MUST_CHANGE => (
            "the password must be changed before the first logon",
            "Set a new password for the account, then connect again.",
        ),
        NtStatus::STATUS_ACCOUNT_DISABLED => (
            "the account is disabled",
            "Enable the account in Active Directory or on the server.",
        ),
        NtStatus::STATUS_ACCOUNT_LOCKED_OUT => (
            "the account is locked out after too many wrong passwords",
            "Unlock the account (or wait for the lockout to expire) and find what keeps sending the old password.",
        ),
        NtStatus::STATUS_ACCOUNT_EXPIRED => (
            "the account has expired",
            "Extend the account's expiry date in Active Directory.",
        ),
        NtStatus::STATUS_LOGON_TYPE_NOT_GRANTED => (
            "the user lacks the right to log on through Remote Desktop Services",
            "Add the user to Remote Desktop Users, or grant 'Allow log on through Remote Desktop Services' and remove any 'Deny' entry.",
        ),
        NtStatus::STATUS_TIME_DIFFERENCE_AT_DC => (
            "the clocks of the server and its domain controller differ too much",
            "Fix time synchronisation (w32time) on the server and the domain controller.",
        ),
        NtStatus::STATUS_NO_LOGON_SERVERS => (
            "the server found no domain controller to check the credentials",
            "Restore the server's network path and DNS to a domain controller.",
        ),
        NtStatus::STATUS_TRUSTED_RELATIONSHIP_FAILURE | NtStatus::STATUS_TRUSTED_DOMAIN_FAILURE => (
            "the server's trust with its domain is broken",
            "Repair the computer account's secure channel (Test-ComputerSecureChannel -Repair) or rejoin the domain.",
        ),
        NtStatus::STATUS_NO_TRUST_SAM_ACCOUNT => (
            "the server's computer account is missing in the domain",
            "Rejoin the server to the domain.",
        ),
        NtStatus::STATUS_NETLOGON_NOT_STARTED => (
            "the Netlogon service is not running on the server",
            "Start the Netlogon service on the server.",
        ),
        NtStatus::STATUS_NO_SUCH_DOMAIN => (
            "the domain given with the user name does not exist for the server",
            "Check the domain part of the user name.",
        ),
        NtStatus::STATUS_DOWNGRADE_DETECTED => (
            "the authentication was downgraded (a mechanism was stripped) and refused",
            "Look for a device tampering with the connection, and make sure Kerberos can reach a domain controller.",
        ),
        NtStatus::STATUS_AUTHENTICATION_FIREWALL_FAILED => (
            "an authentication policy (silo, selective trust) forbids this account on this server",
            "Allow the account on this server in the authentication policy or trust settings.",
        ),
        NtStatus::STATUS_ACCESS_DENIED => (
            "the server denied access to this account",
            "Check the user's membership in Remote Desktop Users and the server's RDP permissions.",
        ),
        NtStatus::STATUS_SMARTCARD_WRONG_PIN => (
            "the smart card PIN is wrong",
            "Retype the PIN.",
        ),
        NtStatus::STATUS_SMARTCARD_CARD_BLOCKED => (
            "the smart card is blocked after too many wrong PINs",
            "Have the card unblocked by its administrator.",
        ),
        NtStatus::SEC_E_UNSUPPORTED_FUNCTION => (
            "the server refused the authentication the client attempted (e.g. NTLM where only Kerberos is allowed, or a CredSSP feature it does not accept)",
            "Use Kerberos (the host's DNS name, a reachable domain controller) or allow NTLM for this server; check both sides' CredSSP updates.",
        ),
        NtStatus::SEC_E_LOGON_DENIED => (
            "the logon was denied: wrong credentials or an account restriction",
            "Check the user name and password, and the account's state in the domain.",
        ),
        NtStatus::SEC_E_INVALID_TOKEN => (
            "the server could not read the client's authentication token",
            "Update both sides (CredSSP/NLA patches) and look for a device altering the TLS stream.",
        ),
        NtStatus::SEC_E_NO_CREDENTIALS => (
            "no credentials were available for the authentication",
            "Enter credentials explicitly, or check that saved or smart card credentials are usable.",
        ),
        NtStatus::SEC_E_UNKNOWN_CREDENTIALS => (
            "the credentials given are not recognised by the security package",
            "Re-enter the credentials in DOMAIN\\user form.",
        ),
        NtStatus::SEC_E_WRONG_PRINCIPAL => (
            "the Kerberos ticket was made for another server (the SPN belongs to a different account)",
            "Fix the duplicate or misplaced TERMSRV/HOST SPN (setspn -X) and DNS records pointing at the wrong host.",
        ),
        NtStatus::SEC_E_TARGET_UNKNOWN => (
            "the target server's name is not known to the domain",
            "Connect by the server's fully qualified name and check its SPNs.",
        ),
        NtStatus::SEC_E_TIME_SKEW => (
            "the client's and server's clocks differ too much for Kerberos",
            "Synchronise the clocks (w32time) of client, server and domain controller.",
        ),
        NtStatus::SEC_E_NO_AUTHENTICATING_AUTHORITY => (
            "no domain controller could be contacted to authenticate",
            "Restore the network path and DNS to a domain controller (or use a KDC proxy).",
        ),
        NtStatus::SEC_E_ALGORITHM_MISMATCH => (
            "the two sides share no acceptable algorithm (cipher suite or encryption type)",
            "Enable a common TLS cipher suite or Kerberos encryption type on both sides.",
        ),
        NtStatus::SEC_E_MESSAGE_ALTERED => (
            "an authentication message was altered in transit",
            "Look for a device rewriting the connection.",
        ),
        NtStatus::SEC_E_CONTEXT_EXPIRED => (
            "the authentication context expired before it completed",
            "Retry; check clocks and anything delaying the connection.",
        ),
        NtStatus::SEC_E_INTERNAL_ERROR => (
            "the server's security package failed internally",
            "Check the server's System and Security event logs for the underlying error.",
        ),
        NtStatus::SEC_E_KDC_UNKNOWN_ETYPE => (
            "the domain controller does not support the requested Kerberos encryption type",
            "Enable AES for the accounts involved (msDS-SupportedEncryptionTypes) and in the Kerberos policy.",
        ),
        NtStatus::SEC_E_DOWNGRADE_DETECTED => (
            "the authentication was downgraded and refused",
            "Look for a device stripping Kerberos, and make sure the client reaches a domain controller.",
        ),
        NtStatus::SEC_E_DELEGATION_POLICY => (
            "the client's credential delegation policy does not allow sending credentials to this server",
            "Add TERMSRV/<server> to 'Allow delegating default/fresh credentials' on the client.",
        ),
        NtStatus::SEC_E_POLICY_NLTM_ONLY => (
            "credential delegation is not allowed when only NTLM authenticated the server",
            "Use Kerberos, or allow 'delegating fresh credentials with NTLM-only server authentication' on the client.",
        ),
        NtStatus::SEC_E_UNTRUSTED_ROOT | NtStatus::SEC_E_ISSUING_CA_UNTRUSTED => (
            "a certificate in the chain is issued by an authority that is not trusted",
            "Install the issuing CA in the trusted store (or NTAuth for smart card logons).",
        ),
        NtStatus::SEC_E_CERT_EXPIRED | NtStatus::SEC_E_SMARTCARD_CERT_EXPIRED => (
            "a certificate used for the logon has expired",
            "Renew the certificate.",
        ),
        NtStatus::SEC_E_SMARTCARD_CERT_REVOKED => (
            "the smart card certificate has been revoked",
            "Issue a new smart card certificate.",
        ),
        NtStatus::SEC_E_MUTUAL_AUTH_FAILED => (
            "the server could not prove its identity (mutual authentication failed)",
            "Check the server's SPN and that the client connects to the intended host.",
        ),
        _ => return None,
    };
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_rdp_logons_return_have_words() {
        for code in [
            NtStatus::STATUS_LOGON_FAILURE,
            NtStatus::STATUS_ACCOUNT_RESTRICTION,
            NtStatus::STATUS_PASSWORD_EXPIRED,
            NtStatus::STATUS_PASSWORD_MUST_CHANGE,
            NtStatus::STATUS_ACCOUNT_DISABLED,
            NtStatus::STATUS_ACCOUNT_LOCKED_OUT,
            NtStatus::STATUS_ACCOUNT_EXPIRED,
            NtStatus::STATUS_INVALID_LOGON_HOURS,
            NtStatus::STATUS_INVALID_WORKSTATION,
            NtStatus::STATUS_LOGON_TYPE_NOT_GRANTED,
            NtStatus::STATUS_NO_SUCH_USER,
            NtStatus::STATUS_WRONG_PASSWORD,
            NtStatus::STATUS_TIME_DIFFERENCE_AT_DC,
            NtStatus::STATUS_NO_LOGON_SERVERS,
            NtStatus::STATUS_DOWNGRADE_DETECTED,
            NtStatus::STATUS_AUTHENTICATION_FIREWALL_FAILED,
            NtStatus::STATUS_ACCESS_DENIED,
            NtStatus::SEC_E_UNSUPPORTED_FUNCTION,
            NtStatus::SEC_E_LOGON_DENIED,
            NtStatus::SEC_E_INVALID_TOKEN,
            NtStatus::SEC_E_NO_CREDENTIALS,
            NtStatus::SEC_E_WRONG_PRINCIPAL,
            NtStatus::SEC_E_TIME_SKEW,
            NtStatus::SEC_E_NO_AUTHENTICATING_AUTHORITY,
            NtStatus::SEC_E_ALGORITHM_MISMATCH,
        ] {
            let (meaning, fix) = ntstatus_meaning(code).unwrap_or_else(|| panic!("{code}"));
            assert!(!meaning.is_empty() && fix.ends_with('.'), "{code}");
        }
        assert_eq!(ntstatus_meaning(NtStatus(0x1234_5678)), None);
        assert_eq!(ntstatus_meaning(NtStatus::STATUS_SUCCESS), None);
    }
}
