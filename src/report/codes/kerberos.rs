//! KRB-ERROR codes (RFC 4120 7.5.9, RFC 4556 3.1.3, RFC 6113 5.4.3): what each means for an
//! RDP logon (the client getting a TGT, then a ticket for `TERMSRV/<host>`), and the fix,
//! one sentence each.

use crate::proto::kerberos::KrbErrorCode as K;

/// (meaning, fix) for every named code, None for values outside the registries.
pub fn kerberos_error_meaning(code: K) -> Option<(&'static str, &'static str)> {
    let words = match code {
        K::KDC_ERR_NONE => ("no error", "Nothing to fix."),
        K::KDC_ERR_NAME_EXP => ("the client's account entry in the KDC has expired", "Extend the account's expiry date."),
        K::KDC_ERR_SERVICE_EXP => ("the service's account entry in the KDC has expired", "Extend the expiry of the server's computer or service account."),
        K::KDC_ERR_BAD_PVNO => ("the client sent a Kerberos version the KDC does not support", "Use a Kerberos V5 client."),
        K::KDC_ERR_C_OLD_MAST_KVNO => ("the client's key is encrypted in an old KDC master key", "Reset the user's password."),
        K::KDC_ERR_S_OLD_MAST_KVNO => ("the server's key is encrypted in an old KDC master key", "Reset the server account's password (or rejoin the domain)."),
        K::KDC_ERR_C_PRINCIPAL_UNKNOWN => ("the KDC does not know this user name", "Check the user name and its domain (user@domain or DOMAIN\\user)."),
        K::KDC_ERR_S_PRINCIPAL_UNKNOWN => ("no account holds the requested service name (SPN), so Kerberos cannot be used and Windows falls back to NTLM", "Connect by the host's fully qualified DNS name, or register TERMSRV/<host> on the server's computer account (setspn -S)."),
        K::KDC_ERR_PRINCIPAL_NOT_UNIQUE => ("more than one account holds the same name or SPN", "Remove the duplicate SPN (setspn -X finds it)."),
        K::KDC_ERR_NULL_KEY => ("the account has no key (no password set)", "Set a password for the account."),
        K::KDC_ERR_CANNOT_POSTDATE => ("the ticket cannot be postdated", "Request the ticket without the postdate option."),
        K::KDC_ERR_NEVER_VALID => ("the requested start time is later than the end time", "Fix the client's clock and ticket options."),
        K::KDC_ERR_POLICY => ("a KDC policy refused the request (e.g. logon hours, workstation restriction, smart card required, authentication policy)", "Check the account's restrictions and authentication policies in Active Directory."),
        K::KDC_ERR_BADOPTION => ("the KDC cannot honour a requested option (often delegation the account is not trusted for)", "Check the server account's delegation settings and the requested ticket options."),
        K::KDC_ERR_ETYPE_NOSUPP => ("the KDC and the account share no encryption type (e.g. an account with only RC4 or DES keys where AES is required)", "Reset the account's password to create AES keys and align msDS-SupportedEncryptionTypes with the policy."),
        K::KDC_ERR_SUMTYPE_NOSUPP => ("the KDC does not support the checksum type", "Use a checksum type the domain supports (update the client)."),
        K::KDC_ERR_PADATA_TYPE_NOSUPP => ("the KDC does not support the pre-authentication used (e.g. smart card PKINIT without a KDC certificate)", "Enroll the domain controllers for a Kerberos authentication certificate, or use a password logon."),
        K::KDC_ERR_TRTYPE_NOSUPP => ("the KDC does not support the transited-realm encoding", "Check the cross-realm trust configuration."),
        K::KDC_ERR_CLIENT_REVOKED => ("the user's account is disabled, locked out or expired", "Unlock, enable or extend the account in Active Directory."),
        K::KDC_ERR_SERVICE_REVOKED => ("the service's account is disabled or revoked", "Enable the server's computer or service account."),
        K::KDC_ERR_TGT_REVOKED => ("the client's TGT has been revoked", "Sign out and in again (klist purge) to get a new TGT."),
        K::KDC_ERR_CLIENT_NOTYET => ("the user's account is not valid yet", "Wait for the account's start date or change it."),
        K::KDC_ERR_SERVICE_NOTYET => ("the service's account is not valid yet", "Check the server account's validity dates."),
        K::KDC_ERR_KEY_EXPIRED => ("the user's password has expired", "Change the password, then connect again."),
        K::KDC_ERR_PREAUTH_FAILED => ("pre-authentication failed: the password (or smart card key) is wrong", "Retype the password; find and update anything still using an old one."),
        K::KDC_ERR_PREAUTH_REQUIRED => ("the KDC asks for pre-authentication: the normal first answer in a Windows logon", "Nothing to fix: the client retries with pre-authentication."),
        K::KDC_ERR_SERVER_NOMATCH => ("the requested server and the ticket do not match", "Check the SPN requested and the account that holds it."),
        K::KDC_ERR_MUST_USE_USER2USER => ("the service can only be reached with user-to-user authentication", "Let the client use user-to-user Kerberos (current Windows does)."),
        K::KDC_ERR_PATH_NOT_ACCEPTED => ("the KDC refused the cross-realm path", "Check the trusts between the realms."),
        K::KDC_ERR_SVC_UNAVAILABLE => ("the KDC is unavailable or too busy", "Check the domain controller's KDC service and load, or use another one."),
        K::KRB_AP_ERR_BAD_INTEGRITY => ("a ticket or authenticator failed its integrity check (wrong key, usually a stale password)", "Reset the server's computer account password or purge stale tickets (klist purge)."),
        K::KRB_AP_ERR_TKT_EXPIRED => ("the ticket has expired", "Purge tickets (klist purge) and connect again."),
        K::KRB_AP_ERR_TKT_NYV => ("the ticket is not valid yet (clocks differ)", "Synchronise the clocks of client, server and domain controller."),
        K::KRB_AP_ERR_REPEAT => ("the server saw this authenticator before (a replay)", "Retry; look for a device replaying traffic."),
        K::KRB_AP_ERR_NOT_US => ("the ticket was made for another server", "Fix the SPN or DNS record that sends the client to the wrong host."),
        K::KRB_AP_ERR_BADMATCH => ("the ticket and the authenticator do not match", "Purge tickets (klist purge) and connect again."),
        K::KRB_AP_ERR_SKEW => ("the clocks differ by more than the allowed skew (5 minutes by default)", "Synchronise the clocks (w32time) of client, server and domain controller."),
        K::KRB_AP_ERR_BADADDR => ("the ticket's addresses do not match the client's address (NAT or a changed address)", "Request tickets without addresses (the Windows default) or avoid address rewriting."),
        K::KRB_AP_ERR_BADVERSION => ("the protocol version numbers do not match", "Update the client or server Kerberos implementation."),
        K::KRB_AP_ERR_MSG_TYPE => ("the server received a message of the wrong type", "Check for a broken client or a middlebox altering the exchange."),
        K::KRB_AP_ERR_MODIFIED => ("the server could not decrypt the ticket: it was encrypted for another account's key (duplicate SPN, stale computer password, or the wrong host)", "Remove duplicate SPNs (setspn -X), check DNS, and reset the server's computer account if needed."),
        K::KRB_AP_ERR_BADORDER => ("messages arrived out of order", "Retry the connection."),
        K::KRB_AP_ERR_BADKEYVER => ("the ticket was encrypted with a key version the server no longer has", "Purge tickets (klist purge) after the server's password change and let replication finish."),
        K::KRB_AP_ERR_NOKEY => ("the server has no key for this ticket", "Check the server's keytab or computer account password."),
        K::KRB_AP_ERR_MUT_FAIL => ("mutual authentication failed: the server could not prove its identity", "Check the server's SPN and that the client reached the intended host."),
        K::KRB_AP_ERR_BADDIRECTION => ("a message was sent in the wrong direction", "Look for a reflected or replayed message."),
        K::KRB_AP_ERR_METHOD => ("the server wants another authentication method", "Use the method the server requires."),
        K::KRB_AP_ERR_BADSEQ => ("a message sequence number is wrong", "Retry the connection."),
        K::KRB_AP_ERR_INAPP_CKSUM => ("an inappropriate checksum type was used", "Update the client's Kerberos implementation."),
        K::KRB_AP_PATH_NOT_ACCEPTED => ("the server refused the ticket's cross-realm path", "Check the trusts between the realms."),
        K::KRB_ERR_RESPONSE_TOO_BIG => ("the answer does not fit in UDP: the client must retry over TCP", "Nothing to fix if a TCP retry follows; otherwise allow TCP port 88 to the domain controller."),
        K::KRB_ERR_GENERIC => ("an unspecified Kerberos error (often a PAC or policy problem on the KDC)", "Read the e-text and the domain controller's System log."),
        K::KRB_ERR_FIELD_TOOLONG => ("a field was too long for the KDC (often a token bloated by group memberships)", "Reduce the user's group count or raise MaxTokenSize."),
        K::KDC_ERROR_CLIENT_NOT_TRUSTED => ("the KDC does not trust the smart card certificate", "Publish the issuing CA in NTAuth and check the certificate's validity."),
        K::KDC_ERROR_KDC_NOT_TRUSTED => ("the client does not trust the KDC's certificate", "Give the domain controller a valid Kerberos authentication certificate the client trusts."),
        K::KDC_ERROR_INVALID_SIG => ("the PKINIT signature is invalid", "Check the smart card and its certificate."),
        K::KDC_ERR_KEY_TOO_WEAK => ("the key or Diffie-Hellman parameters are too weak", "Use stronger keys on the smart card or client."),
        K::KDC_ERR_CERTIFICATE_MISMATCH => ("the certificate does not match the account", "Map the certificate to the right account (UPN or altSecurityIdentities)."),
        K::KRB_AP_ERR_NO_TGT => ("user-to-user authentication needs a TGT that is missing", "Sign in again to get a TGT."),
        K::KDC_ERR_WRONG_REALM => ("the request went to the wrong realm: a referral to another domain", "Nothing to fix if the client follows the referral; otherwise check the domain suffix and trusts."),
        K::KRB_AP_ERR_USER_TO_USER_REQUIRED => ("the service requires user-to-user authentication", "Let the client use user-to-user Kerberos."),
        K::KDC_ERR_CANT_VERIFY_CERTIFICATE => ("the KDC could not verify the smart card certificate chain", "Make the issuing CAs and their revocation lists reachable from the domain controller."),
        K::KDC_ERR_INVALID_CERTIFICATE => ("the smart card certificate is invalid (expired, wrong usage)", "Renew the smart card certificate."),
        K::KDC_ERR_REVOKED_CERTIFICATE => ("the smart card certificate has been revoked", "Issue a new smart card certificate."),
        K::KDC_ERR_REVOCATION_STATUS_UNKNOWN => ("the revocation status of the smart card certificate is unknown", "Make the CRL or OCSP responder reachable from the domain controller."),
        K::KDC_ERR_REVOCATION_STATUS_UNAVAILABLE => ("the revocation status of the smart card certificate cannot be checked now", "Make the CRL or OCSP responder reachable from the domain controller."),
        K::KDC_ERR_CLIENT_NAME_MISMATCH => ("the smart card certificate names another user", "Use the card of this user, or fix the certificate mapping."),
        K::KDC_ERR_KDC_NAME_MISMATCH => ("the KDC certificate names another KDC", "Give the domain controller a certificate with its own name."),
        K::KDC_ERR_INCONSISTENT_KEY_PURPOSE => ("the certificate lacks the smart card logon key purpose", "Issue a certificate with the Smart Card Logon EKU."),
        K::KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED => ("the certificate's signature digest is not accepted", "Reissue the certificate with SHA-256 or better."),
        K::KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED => ("the PKINIT request lacks the required checksum", "Update the client."),
        K::KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED => ("the digest in the PKINIT signed data is not accepted", "Update the client or the smart card middleware."),
        K::KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED => ("the KDC does not support public-key encryption mode", "Use Diffie-Hellman PKINIT (the Windows default)."),
        K::KDC_ERR_PREAUTH_EXPIRED => ("the pre-authentication data expired", "Retry; check the clocks."),
        K::KDC_ERR_MORE_PREAUTH_DATA_REQUIRED => ("the KDC needs another pre-authentication round", "Nothing to fix: the client continues the exchange."),
        K::KDC_ERR_PREAUTH_BAD_AUTHENTICATION_SET => ("the chosen pre-authentication set is not acceptable", "Update the client."),
        K::KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS => ("the KDC does not understand a critical FAST option", "Align the Kerberos armoring (FAST) settings of clients and domain controllers."),
        _ => return None,
    };
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_code_has_words() {
        for (code, name) in K::ALL {
            let (meaning, fix) = kerberos_error_meaning(*code).unwrap_or_else(|| panic!("{name}"));
            assert!(!meaning.is_empty() && fix.ends_with('.'), "{name}");
        }
        assert_eq!(kerberos_error_meaning(K(999)), None);
    }
}
