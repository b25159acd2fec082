//! Words of the findings read inside TLS (`diagnose::inside`): the named codes with their
//! meanings and fixes from `report::codes`.

use super::codes::{errinfo, licensing, ntstatus};
use super::inner_events::mech_name;
use crate::diagnose::inside::{InsideFacts, InsideNote};
use crate::flow::Side;
use crate::proto::credssp::NtStatus;
use crate::proto::rdp_pdu::{ErrInfo, LicenseErrorCode, LogonError};
use crate::session::AuthMech;

fn mech_words(m: Option<AuthMech>, kerberos_attempted: bool) -> String {
    match (m, kerberos_attempted) {
        (Some(AuthMech::Ntlm), true) => "after a Kerberos attempt fell back to NTLM".into(),
        (Some(AuthMech::Ntlm), false) => "with NTLM (no Kerberos attempt)".into(),
        (Some(m), _) => format!("with {}", mech_name(m)),
        (None, _) => "before any package was chosen".into(),
    }
}

fn ntstatus_text(code: NtStatus) -> String {
    match ntstatus::ntstatus_meaning(code) {
        Some((meaning, _)) => format!("{code}: {meaning}"),
        None => code.to_string(),
    }
}

fn ntstatus_fix(code: NtStatus) -> &'static str {
    ntstatus::ntstatus_meaning(code).map_or("", |(_, fix)| fix)
}

fn errinfo_text(code: ErrInfo) -> String {
    match errinfo::errinfo(code) {
        Some(m) => format!("{}: {} {}", code.label(), m.meaning, m.fix),
        None => code.label(),
    }
}

fn license_text(code: Option<LicenseErrorCode>) -> String {
    match code {
        Some(c) => {
            let name = c
                .name()
                .map_or_else(|| format!("0x{:08X}", c.0), str::to_string);
            match licensing::license_error(c) {
                Some(m) => format!("{name}: {} {}", m.meaning, m.fix),
                None => name,
            }
        }
        None => "no license".into(),
    }
}

fn logon_text(code: LogonError) -> String {
    let name = code
        .name()
        .map_or_else(|| format!("0x{:08X}", code.0), str::to_string);
    match errinfo::logon_error(code) {
        Some(m) => format!("{name}: {} {}", m.meaning, m.fix),
        None => name,
    }
}

/// (title, explanation) of a finding read inside TLS.
pub fn words(facts: &InsideFacts) -> (String, String) {
    match facts {
        InsideFacts::NlaRefused {
            mechanism,
            kerberos_attempted,
            error,
            close_notify_after_credentials,
            confirmed,
        } => {
            let how = mech_words(*mechanism, *kerberos_attempted);
            let checked = if *confirmed {
                " (decrypted: confirms the diagnosis made from record sizes)"
            } else {
                " (decrypted)"
            };
            match error {
                Some(code) => (
                    format!("NLA refused: {} {how}", ntstatus_text(*code)),
                    format!(
                        "The server's CredSSP TSRequest carried errorCode {code}{checked}. {}",
                        ntstatus_fix(*code)
                    ),
                ),
                None if *close_notify_after_credentials => (
                    format!("NLA refused: the server closed TLS (close_notify) after the credentials, {how}"),
                    format!(
                        "The client sent its credentials and the server answered with a TLS close_notify and no CredSSP errorCode{checked}. FreeRDP's shadow server (and other CredSSP version 2 peers) refuse a wrong password or an unknown user this way: check the user name, domain and password, and the server's SAM/user database."
                    ),
                ),
                None => (
                    format!("NLA failed {how}"),
                    format!("CredSSP did not complete{checked}."),
                ),
            }
        }
        InsideFacts::ServerDisconnect {
            errinfo,
            ultimatum,
            normal,
        } => {
            let reason = match (errinfo, ultimatum) {
                (Some(e), _) => errinfo_text(*e),
                (None, Some(u)) => format!(
                    "no Set Error Info, an MCS Disconnect Provider Ultimatum ({})",
                    u.name()
                ),
                (None, None) => "no reason given".into(),
            };
            let title = match (errinfo, normal) {
                (Some(e), true) => format!("Session ended normally: {}", e.label()),
                (Some(e), false) => format!("Server disconnected the session: {}", e.label()),
                (None, _) => "Server ended the session with an MCS Disconnect Provider Ultimatum".into(),
            };
            (
                title,
                format!("Read from the decrypted stream after the session started: {reason}."),
            )
        }
        InsideFacts::LicensingFailed { error } => (
            format!("Licensing failed: {}", error.and_then(|e| e.name()).unwrap_or("error alert")),
            format!("The server's licensing ERROR_ALERT: {}.", license_text(*error)),
        ),
        InsideFacts::LogonError { error } => (
            format!(
                "Logon error reported by the server: {}",
                error.name().unwrap_or("unknown")
            ),
            format!("Save Session Info LogonErrorInfo: {}.", logon_text(*error)),
        ),
        InsideFacts::RedirectTargetFailed { target } => (
            format!(
                "Redirected to {} which then failed",
                target.as_deref().unwrap_or("another server")
            ),
            "The Server Redirection PDU sent the client elsewhere and that connection failed.".into(),
        ),
        InsideFacts::DecryptionFailed { side } => (
            "TLS secrets do not match this connection".into(),
            format!(
                "A record from the {} did not authenticate under the keys found for this connection; the diagnosis is the one made without keys.",
                side.name()
            ),
        ),
    }
}

/// One decrypted evidence frame in words.
pub fn note_text(n: &InsideNote) -> String {
    match n {
        InsideNote::CredentialsSent(m) => {
            format!("client sends its credentials ({})", mech_name(*m))
        }
        InsideNote::CredsspError(code) => format!("server's TSRequest errorCode {code}"),
        InsideNote::CloseNotify(Side::Server) => "server's TLS close_notify (decrypted)".into(),
        InsideNote::CloseNotify(Side::Client) => "client's TLS close_notify (decrypted)".into(),
        InsideNote::SetErrorInfo(e) => format!("Set Error Info {}", e.label()),
        InsideNote::Ultimatum(r) => format!("MCS Disconnect Provider Ultimatum ({})", r.name()),
        InsideNote::SessionStarted => "the session's connection sequence (decrypted)".into(),
        InsideNote::LicenseError(e) => format!(
            "licensing ERROR_ALERT {}",
            e.and_then(|c| c.name()).unwrap_or("(no code)")
        ),
        InsideNote::LogonError(e) => format!("logon error {}", e.name().unwrap_or("(unnamed)")),
        InsideNote::Redirect(t) => format!(
            "Server Redirection to {}",
            t.as_deref().unwrap_or("(no target named)")
        ),
        InsideNote::RecordFailed => "first record that failed to authenticate".into(),
    }
}
