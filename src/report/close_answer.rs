//! The words of a server alert that answered the client's close (issue 18 case 11), added to
//! the client-side finding (client-abort, client-rejected-certificate) the rule put it on.

use crate::diagnose::{Close, Finding, Note};
use crate::flow::Side;
use crate::proto::tls;

/// "The server's TLS alert (frame 16, 1 ms after the client's FIN in frame 15) ...", when
/// the finding's evidence holds the client's FIN and the server's alert after it.
pub(super) fn alert_after_close_sentence(f: &Finding) -> Option<String> {
    let alert = f
        .evidence
        .iter()
        .find(|e| matches!(e.note, Note::AlertAfterClientFin { .. }))?;
    let Note::AlertAfterClientFin {
        encrypted,
        description,
    } = alert.note
    else {
        return None;
    };
    let fin = f.evidence.iter().find(|e| {
        matches!(
            e.note,
            Note::ClientClosesWithoutData(Close::Fin)
                | Note::Closes {
                    side: Side::Client,
                    close: Close::Fin
                }
        )
    });
    let what = if encrypted {
        "The server's encrypted TLS alert".to_string()
    } else {
        format!(
            "The server's TLS alert {}",
            tls::alert_description_name(description)
        )
    };
    let when = match fin {
        Some(fin) => format!(
            "frame {}, {} after the client's FIN in frame {}",
            alert.frame,
            super::nla_words::seconds(alert.t_ms - fin.t_ms),
            fin.frame
        ),
        None => format!("frame {}, after the client's FIN", alert.frame),
    };
    Some(format!(
        " {what} ({when}) answers that close: the client owed the next message when it \
         closed, so the alert is the server's reply to the half-closed connection, not a \
         refusal."
    ))
}
