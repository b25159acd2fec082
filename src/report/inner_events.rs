//! Decrypted-stream events in words (CredSSP round by round, the RDP connection sequence).

use crate::proto::credssp::NtStatus;
use crate::proto::tls;
use crate::session::{AuthMech, AuthToken, CredsspStep, InnerEvent};

fn hex_or(name: Option<&str>, v: u32) -> String {
    name.map(str::to_string)
        .unwrap_or_else(|| format!("0x{v:08X}"))
}

/// An NTSTATUS / SSPI code as "NAME (0x...)".
pub fn ntstatus_label(code: NtStatus) -> String {
    code.to_string()
}

/// The package's name as the JSON and the table show it.
pub fn mech_name(m: AuthMech) -> &'static str {
    match m {
        AuthMech::Kerberos => "kerberos",
        AuthMech::Ntlm => "ntlm",
        AuthMech::Negoex => "negoex",
        AuthMech::Pku2u => "pku2u",
        AuthMech::Other => "other",
    }
}

fn token_text(t: AuthToken) -> &'static str {
    match t {
        AuthToken::SpnegoInit => "SPNEGO NegTokenInit",
        AuthToken::SpnegoReject => "SPNEGO reject",
        AuthToken::NtlmNegotiate => "NTLM NEGOTIATE",
        AuthToken::NtlmChallenge => "NTLM CHALLENGE",
        AuthToken::NtlmAuthenticate => "NTLM AUTHENTICATE",
        AuthToken::KerberosApReq => "Kerberos AP-REQ",
        AuthToken::KerberosApRep => "Kerberos AP-REP",
        AuthToken::KerberosError => "Kerberos KRB-ERROR",
        AuthToken::Negoex => "NEGOEX",
        AuthToken::Other => "token",
    }
}

fn credssp_text(s: &CredsspStep) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(t) = s.token {
        parts.push(token_text(t).into());
    }
    if s.pub_key_auth {
        parts.push("pubKeyAuth".into());
    }
    if s.auth_info {
        parts.push("authInfo (credentials)".into());
    }
    if let Some(e) = s.error {
        parts.push(format!("errorCode {}", ntstatus_label(e)));
    }
    if parts.is_empty() {
        parts.push("empty".into());
    }
    format!("CredSSP v{}: {}", s.version, parts.join(", "))
}

/// One decrypted event in words.
pub fn inner_text(e: &InnerEvent) -> String {
    match e {
        InnerEvent::Credssp(s) => credssp_text(s),
        InnerEvent::EarlyUserAuthorization(r) => {
            format!("Early User Authorization Result: {}", hex_or(r.name(), r.0))
        }
        InnerEvent::ClientInfo {
            auto_logon,
            password_present,
        } => format!(
            "Client Info (auto-logon {}, password {})",
            if *auto_logon { "on" } else { "off" },
            if *password_present {
                "present"
            } else {
                "absent"
            }
        ),
        InnerEvent::Licensing { msg_type, error } => match error {
            Some(code) => format!(
                "Licensing {}: {}",
                hex_or(msg_type.name(), u32::from(msg_type.0)),
                hex_or(code.name(), code.0)
            ),
            None => format!(
                "Licensing {}",
                hex_or(msg_type.name(), u32::from(msg_type.0))
            ),
        },
        InnerEvent::DemandActive => "Demand Active (server capabilities)".into(),
        InnerEvent::ConfirmActive => "Confirm Active (client capabilities)".into(),
        InnerEvent::Finalised => "Font Map: connection sequence finished".into(),
        InnerEvent::DeactivateAll => "Deactivate All".into(),
        InnerEvent::SetErrorInfo(code) => format!("Set Error Info {}", code.label()),
        InnerEvent::SaveSessionInfo { error: None } => "Save Session Info (logon)".into(),
        InnerEvent::SaveSessionInfo { error: Some(e) } => {
            format!("Save Session Info: logon error {}", hex_or(e.name(), e.0))
        }
        InnerEvent::ServerRedirection { target } => match target {
            Some(t) => format!("Server Redirection to {t}"),
            None => "Server Redirection".into(),
        },
        InnerEvent::Alert { level, description } => format!(
            "TLS alert (decrypted): {} {}",
            if *level == 2 { "fatal" } else { "warning" },
            tls::alert_description_name(*description)
        ),
    }
}
