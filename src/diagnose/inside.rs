//! Findings from the decrypted stream (issue 15): the server's own words replace what the
//! keyless rules inferred from record sizes and closes. A keyless `nla-failed` is confirmed
//! and named (CredSSP errorCode, MS-CSSP 2.2.1) or corrected; a keyless `server-abort` after
//! the session started becomes the disconnect reason the server gave (Set Error Info,
//! MS-RDPBCGR 2.2.5.1.1; MCS Disconnect Provider Ultimatum, T.125 11.15).

use super::{Close, Ctx, Facts, Finding, FindingCode, Note, Severity};
use crate::flow::Side;
use crate::proto::credssp::NtStatus;
use crate::proto::mcs::DisconnectReason;
use crate::proto::rdp_pdu::{ErrInfo, LicenseErrorCode, LogonError};
use crate::session::AuthMech;

/// TLS alert description close_notify (RFC 8446 6.1).
const CLOSE_NOTIFY: u8 = 0;

/// The values of the findings read inside TLS.
#[derive(Debug, Clone, PartialEq)]
pub enum InsideFacts {
    /// nla-failed / ntlm-fallback-refused, from the decrypted CredSSP exchange.
    NlaRefused {
        mechanism: Option<AuthMech>,
        kerberos_attempted: bool,
        /// The server's TSRequest errorCode.
        error: Option<NtStatus>,
        /// No errorCode: the server answered the credentials with a TLS close_notify
        /// (FreeRDP 2's shadow server does this for a wrong password or unknown user).
        close_notify_after_credentials: bool,
        /// A keyless nla-failed said the same thing from sizes and closes.
        confirmed: bool,
    },
    /// server-disconnect-reason: Set Error Info and/or the ultimatum, after the session began.
    ServerDisconnect {
        errinfo: Option<ErrInfo>,
        ultimatum: Option<DisconnectReason>,
        /// A normal end (logoff, disconnect by user or admin, idle timeout, take-over).
        normal: bool,
    },
    LicensingFailed {
        error: Option<LicenseErrorCode>,
    },
    LogonError {
        error: LogonError,
    },
    RedirectTargetFailed {
        target: Option<String>,
    },
    /// decryption-failed: a record did not authenticate under the keys given.
    DecryptionFailed {
        side: Side,
    },
}

/// What a decrypted evidence frame shows.
#[derive(Debug, Clone, PartialEq)]
pub enum InsideNote {
    CredentialsSent(AuthMech),
    CredsspError(NtStatus),
    CloseNotify(Side),
    SetErrorInfo(ErrInfo),
    Ultimatum(DisconnectReason),
    SessionStarted,
    LicenseError(Option<LicenseErrorCode>),
    LogonError(LogonError),
    Redirect(Option<String>),
    RecordFailed,
}

/// Codes a decrypted CredSSP refusal of NTLM returns (MS-CSSP, MS-NLMP 3.2.5; Protected
/// Users and "Restrict NTLM" policies).
fn refuses_ntlm(code: NtStatus) -> bool {
    matches!(
        code,
        NtStatus::SEC_E_UNSUPPORTED_FUNCTION
            | NtStatus::STATUS_ACCOUNT_RESTRICTION
            | NtStatus::STATUS_NOT_SUPPORTED
            | NtStatus::SEC_E_POLICY_NLTM_ONLY
    ) || code.name() == Some("STATUS_NTLM_BLOCKED")
}

pub(super) fn inside_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let inner = ctx.conn.inner();
    decryption_failed(ctx, out);
    if !inner.any() {
        return;
    }
    nla(ctx, out);
    disconnect(ctx, out);
    licensing(ctx, out);
    logon_error(ctx, out);
}

fn ev(ctx: &Ctx, at: &crate::flow::PacketInfo, note: InsideNote) -> super::Evidence {
    ctx.ev(at, Note::Inside(note))
}

fn nla(ctx: &Ctx, out: &mut Vec<Finding>) {
    let cs = &ctx.conn.inner().credssp;
    let server_notify = ctx
        .conn
        .inner()
        .alert
        .get(Side::Server)
        .as_ref()
        .filter(|a| a.value.1 == CLOSE_NOTIFY);
    let shadow_shape = cs.error.is_none()
        && cs.auth_info.is_none()
        && cs.credentials_sent.is_some()
        && ctx.conn.inner().rdp.slow_path_pdus.iter().all(|n| *n == 0)
        && server_notify.is_some();
    if cs.error.is_none() && !shadow_shape {
        return;
    }
    let keyless = out.iter().position(|f| {
        matches!(
            f.code,
            FindingCode::NlaFailed | FindingCode::ServerAbort | FindingCode::ClientAbort
        )
    });
    let confirmed =
        keyless.is_some_and(|i| out.get(i).is_some_and(|f| f.code == FindingCode::NlaFailed));
    let mut evidence = Vec::new();
    if let (Some(at), Some(m)) = (cs.credentials_sent, cs.mechanism) {
        evidence.push(ev(ctx, &at, InsideNote::CredentialsSent(m)));
    }
    if let Some(e) = &cs.error {
        evidence.push(ev(ctx, &e.at, InsideNote::CredsspError(e.value)));
    } else if let Some(a) = server_notify {
        evidence.push(ev(ctx, &a.at, InsideNote::CloseNotify(Side::Server)));
    }
    let error = cs.error.as_ref().map(|e| e.value);
    let code = match error {
        Some(e) if cs.mechanism == Some(AuthMech::Ntlm) && refuses_ntlm(e) => {
            FindingCode::NtlmFallbackRefused
        }
        _ => FindingCode::NlaFailed,
    };
    let finding = Finding::new(
        code,
        Facts::Inside(InsideFacts::NlaRefused {
            mechanism: cs.mechanism,
            kerberos_attempted: cs.kerberos_attempted,
            error,
            close_notify_after_credentials: shadow_shape,
            confirmed,
        }),
        evidence,
    );
    match keyless {
        Some(i) => {
            if let Some(slot) = out.get_mut(i) {
                *slot = finding;
            }
        }
        None => out.push(finding),
    }
}

fn session_started(ctx: &Ctx) -> Option<crate::flow::PacketInfo> {
    let r = &ctx.conn.inner().rdp;
    r.finalised
        .or(r.demand_active)
        .or(r.client_info.as_ref().map(|c| c.at))
}

fn disconnect(ctx: &Ctx, out: &mut Vec<Finding>) {
    let r = &ctx.conn.inner().rdp;
    let Some(started) = session_started(ctx) else {
        return;
    };
    let ultimatum = ctx
        .conn
        .mcs
        .ultimatum
        .as_ref()
        .filter(|u| u.side == Side::Server && u.at.ts_ns >= started.ts_ns);
    let errinfo = r.errinfo.as_ref();
    let mut evidence = vec![ev(ctx, &started, InsideNote::SessionStarted)];
    if errinfo.is_none() && ultimatum.is_none() {
        // The server dropped a running session without a word: a server abort, confirmed.
        let server_closed = ctx.first_close().filter(|(s, _, _)| *s == Side::Server);
        if let Some((_, at, close)) = server_closed {
            if matches!(close, Close::Fin | Close::Rst) && r.finalised.is_some() {
                out.retain(|f| f.code != FindingCode::ServerAbort);
                evidence.push(ctx.ev(
                    &at,
                    Note::Closes {
                        side: Side::Server,
                        close,
                    },
                ));
                out.push(Finding::new(
                    FindingCode::ServerAbort,
                    Facts::Abort {
                        close,
                        phase: ctx.progress.last_phase().map(|p| p.name),
                        last: None,
                        ultimatum: None,
                    },
                    evidence,
                ));
            }
        }
        return;
    }
    if let Some(e) = errinfo {
        evidence.push(ev(ctx, &e.at, InsideNote::SetErrorInfo(e.value)));
    }
    if let Some(u) = ultimatum {
        evidence.push(ev(ctx, &u.at, InsideNote::Ultimatum(u.value)));
    }
    let normal = errinfo.is_some_and(|e| e.value.is_normal_end());
    out.retain(|f| f.code != FindingCode::ServerAbort);
    let mut finding = Finding::new(
        FindingCode::ServerDisconnectReason,
        Facts::Inside(InsideFacts::ServerDisconnect {
            errinfo: errinfo.map(|e| e.value),
            ultimatum: ultimatum.map(|u| u.value),
            normal,
        }),
        evidence,
    );
    if normal {
        finding.severity = Severity::Info;
    }
    out.push(finding);
}

fn licensing(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(l) = ctx
        .conn
        .inner()
        .rdp
        .licensing
        .as_ref()
        .filter(|l| !l.value.valid)
    else {
        return;
    };
    out.push(Finding::new(
        FindingCode::LicensingFailed,
        Facts::Inside(InsideFacts::LicensingFailed {
            error: l.value.error,
        }),
        vec![ev(ctx, &l.at, InsideNote::LicenseError(l.value.error))],
    ));
}

fn logon_error(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(e) = ctx.conn.inner().rdp.logon_error.as_ref() else {
        return;
    };
    out.push(Finding::new(
        FindingCode::LogonError,
        Facts::Inside(InsideFacts::LogonError { error: e.value }),
        vec![ev(ctx, &e.at, InsideNote::LogonError(e.value))],
    ));
}

/// Keys were found for the connection but a record did not authenticate under them (or the
/// suite cannot be decrypted): the keys belong to another connection, or the key log is
/// corrupt. The keyless findings stand; this one says why nothing inside was read.
fn decryption_failed(ctx: &Ctx, out: &mut Vec<Finding>) {
    let d = &ctx.conn.inner().decryption;
    if !matches!(
        d.outcome,
        crate::session::DecryptionOutcome::Failed | crate::session::DecryptionOutcome::Unsupported
    ) {
        return;
    }
    let (side, evidence) = match d.failed_at {
        Some((side, at)) => (side, vec![ev(ctx, &at, InsideNote::RecordFailed)]),
        None => (Side::Server, Vec::new()),
    };
    out.push(Finding::new(
        FindingCode::DecryptionFailed,
        Facts::Inside(InsideFacts::DecryptionFailed { side }),
        evidence,
    ));
}
