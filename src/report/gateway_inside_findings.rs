//! Words for the findings read inside a decrypted RD Gateway stream
//! (`diagnose::gateway_inside`): the HTTP status and reason, the MS-TSGU status with its
//! meaning and fix (`codes::tsgu`), the Kerberos error the KDC proxy carried back
//! (`codes::kerberos`).

use super::codes::kerberos::kerberos_error_meaning;
use super::codes::tsgu::tsgu_status;
use super::gateway_inside_events::{krb_msg_name, scheme_name, status_text};
use crate::diagnose::gateway_inside::{GatewayFinding, GatewayNote, TsguStage};
use crate::proto::http::AuthScheme;
use crate::proto::tsgu::TsguStatus;
use crate::session::AuthMech;

fn stage_name(s: TsguStage) -> &'static str {
    match s {
        TsguStage::Handshake => "handshake response",
        TsguStage::Tunnel => "tunnel response",
        TsguStage::TunnelAuth => "tunnel authorization response",
        TsguStage::Channel => "channel response",
        TsguStage::CloseChannel => "channel close",
    }
}

fn schemes(list: &[AuthScheme]) -> String {
    list.iter()
        .map(|s| scheme_name(*s))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mech_name(m: AuthMech) -> &'static str {
    match m {
        AuthMech::Kerberos => "Kerberos",
        AuthMech::Ntlm => "NTLM",
        AuthMech::Negoex => "NegoEx",
        AuthMech::Pku2u => "PKU2U",
        AuthMech::Other => "another package",
    }
}

/// "E_PROXY_...: meaning Fix." for a status.
fn status_words(s: TsguStatus) -> String {
    match tsgu_status(s) {
        Some(m) => format!("{}: {} {}", status_text(s), m.meaning, m.fix),
        None => status_text(s),
    }
}

fn target(target: &Option<String>, port: &Option<u16>) -> String {
    match (target, port) {
        (Some(t), Some(p)) => format!("{t}:{p}"),
        (Some(t), None) => t.clone(),
        (None, _) => "the target".into(),
    }
}

/// (headline, detail) of a gateway finding.
pub fn words(f: &GatewayFinding) -> (String, String) {
    match f {
        GatewayFinding::AuthFailed {
            status,
            reason,
            scheme,
            offered,
            credentials_sent,
            mechanism,
            tsgu,
        } => {
            let answer = match (status, reason, tsgu) {
                (Some(s), Some(r), _) => format!("HTTP {s} {r}"),
                (Some(s), None, _) => format!("HTTP {s}"),
                (None, _, Some((stage, s))) => {
                    format!("{} {}", stage_name(*stage), status_text(*s))
                }
                (None, _, None) => "a refusal".into(),
            };
            let mut detail = match (credentials_sent, scheme) {
                (true, Some(s)) => format!("The client sent {} credentials", scheme_name(*s)),
                (true, None) => "The client sent credentials".into(),
                (false, _) => "The client never sent credentials".into(),
            };
            if let Some(m) = mechanism {
                detail.push_str(&format!(" ({})", mech_name(*m)));
            }
            detail.push_str(&format!(" and the gateway answered {answer}."));
            if !offered.is_empty() {
                detail.push_str(&format!(" It offers: {}.", schemes(offered)));
            }
            if reason.as_deref() == Some("User Account Restricted") {
                detail.push_str(" 'User Account Restricted': the account may not sign in now or from here (logon hours, workstation list, disabled or expired account, Protected Users).");
            }
            if let Some((_, s)) = tsgu {
                detail.push_str(&format!(" {}", status_words(*s)));
            }
            (
                format!("RD Gateway refused authentication ({answer})"),
                detail,
            )
        }
        GatewayFinding::PolicyDenied {
            stage,
            status,
            target: t,
            port,
        } => (
            format!(
                "RD Gateway policy denied the connection ({})",
                status_text(*status)
            ),
            format!(
                "The gateway's {} for {} carried {}",
                stage_name(*stage),
                target(t, port),
                status_words(*status)
            ),
        ),
        GatewayFinding::TargetUnreachable {
            stage,
            status,
            target: t,
            port,
        } => (
            format!(
                "RD Gateway could not reach {} ({})",
                target(t, port),
                status_text(*status)
            ),
            format!(
                "The client asked the gateway for a channel to {}; the gateway's {} carried {}",
                target(t, port),
                stage_name(*stage),
                status_words(*status)
            ),
        ),
        GatewayFinding::KdcProxyFailed {
            http_status,
            reason,
            krb_error,
            requests,
            responses,
            http2_error,
            target_domain,
        } => {
            let realm = target_domain
                .as_deref()
                .map(|d| format!(" for {d}"))
                .unwrap_or_default();
            let mut detail =
                format!("The client sent {requests} Kerberos request(s){realm} through the gateway's KDC proxy; {responses} came back.");
            let headline = match (http_status, krb_error) {
                (Some(s), _) => {
                    let r = reason
                        .as_deref()
                        .map(|r| format!(" {r}"))
                        .unwrap_or_default();
                    detail.push_str(&format!(" The proxy answered HTTP {s}{r}"));
                    if *s == 503 {
                        detail.push_str(": it could not reach a domain controller");
                    }
                    detail.push('.');
                    format!("KDC proxy failed (HTTP {s})")
                }
                (None, Some(e)) => {
                    if let Some((meaning, fix)) = kerberos_error_meaning(*e) {
                        detail.push_str(&format!(" The KDC answered {e}: {meaning}. {fix}"));
                    } else {
                        detail.push_str(&format!(" The KDC answered {e}."));
                    }
                    format!("Kerberos through the KDC proxy failed ({e})")
                }
                (None, None) => "KDC proxy left requests unanswered".into(),
            };
            if let Some(code) = http2_error {
                let name = crate::proto::http2::ErrorCode(*code)
                    .name()
                    .unwrap_or("an unknown error");
                detail.push_str(&format!(" An HTTP/2 stream was reset with {name}."));
            }
            (headline, detail)
        }
    }
}

pub fn note_text(n: &GatewayNote) -> String {
    match n {
        GatewayNote::Credentials(Some(s)) => {
            format!(
                "client sends {} credentials to the gateway",
                scheme_name(*s)
            )
        }
        GatewayNote::Credentials(None) => "client sends credentials to the gateway".into(),
        GatewayNote::HttpStatus(s) => format!("gateway answers HTTP {s}"),
        GatewayNote::Tsgu(stage, s) => {
            format!("gateway {}: {}", stage_name(*stage), status_text(*s))
        }
        GatewayNote::ChannelRequested { port: Some(p) } => {
            format!("client asks for a channel to the target, port {p}")
        }
        GatewayNote::ChannelRequested { port: None } => {
            "client asks for a channel to the target".into()
        }
        GatewayNote::KdcRequest => "client sends a Kerberos request to the KDC proxy".into(),
        GatewayNote::KdcReply(k) => match k.error {
            Some(e) => format!("KDC proxy returns KRB-ERROR {e}"),
            None => format!("KDC proxy returns {}", krb_msg_name(k.msg_type)),
        },
    }
}
