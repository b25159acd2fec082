//! The words of nla-failed (MS-CSSP 3.1.5): how the server refused, in the packets' order.

use super::notes::close_text;
use crate::diagnose::{Close, Facts, Finding, Note};
use crate::flow::Side;

/// The client's FIN and the server's later alert, when the alert came after the FIN.
struct FinThenAlert {
    fin_frame: u64,
    alert_frame: u64,
    after_ms: f64,
}

/// Finds the order the rule recorded: a `Closes` by the client with a FIN, then an
/// `AlertAfterClientFin`.
fn fin_then_alert(f: &Finding) -> Option<FinThenAlert> {
    let fin = f.evidence.iter().find(|e| {
        e.note
            == Note::Closes {
                side: Side::Client,
                close: Close::Fin,
            }
    })?;
    let alert = f
        .evidence
        .iter()
        .find(|e| matches!(e.note, Note::AlertAfterClientFin { .. }))?;
    Some(FinThenAlert {
        fin_frame: fin.frame,
        alert_frame: alert.frame,
        after_ms: alert.t_ms - fin.t_ms,
    })
}

pub(super) fn seconds(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

/// Title and explanation of an nla-failed finding.
pub(super) fn nla_failed_words(f: &Finding) -> (String, String) {
    let Facts::NlaFailed {
        hybrid_ex,
        closer,
        server_alert,
        close,
        messages,
        complete,
    } = &f.facts
    else {
        return (String::new(), String::new());
    };
    let stage = if *complete {
        "after the CredSSP exchange (the user was authenticated but not authorised to log on, or the server refused the session)".to_string()
    } else {
        format!("after CredSSP message {messages} of 5 (the credentials were refused)")
    };
    let how = match (server_alert, fin_then_alert(f)) {
        (true, Some(o)) => format!(
            "the client closed first (FIN, frame {}) while the server still owed its answer to \
             the credentials, and the server's TLS alert came after that (frame {}, {} later): \
             the server refused {stage}",
            o.fin_frame,
            o.alert_frame,
            seconds(o.after_ms)
        ),
        (true, None) => format!(
            "the server refused with a TLS alert, then the {} closed ({}) {stage}",
            closer.name(),
            close_text(*close)
        ),
        (false, _) => format!(
            "the {} closed ({}) {stage}",
            closer.name(),
            close_text(*close)
        ),
    };
    (
        format!(
            "NLA failed: the server {} {}",
            if *server_alert {
                "refused the credentials with an alert"
            } else {
                "closed the connection"
            },
            if *complete {
                "right after CredSSP"
            } else {
                "during CredSSP"
            }
        ),
        format!(
            "HYBRID{} (NLA) was selected and TLS completed; {how}.",
            if *hybrid_ex { "_EX" } else { "" },
        ),
    )
}
