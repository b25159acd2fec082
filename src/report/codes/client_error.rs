//! Words for the client's error codes (the mstsc dialog's "Error code" and "Extended error
//! code"): what each reason means, and the one-line label of a pair.

use crate::diagnose::client_error::{ClientError, DisconnectReason};
use crate::proto::rdp_pdu::ErrInfo;

/// A short phrase for a disconnect reason ("socket closed"), None for an unnamed value.
pub fn phrase(reason: DisconnectReason) -> Option<&'static str> {
    Some(match reason.0 {
        0x1 => "disconnected by the local user (no error)",
        0x2 => "disconnected by the remote user",
        0x3 => "disconnected by the server",
        0x104 | 0x508 | 0x604 => "the server's name could not be resolved",
        0x108 => "the connection timed out",
        0x204 => "the client could not connect (TCP connect failed)",
        0x208 => "host not found",
        0x304 => "sending failed (the connection broke)",
        0x404 => "receiving failed (the connection broke)",
        0x406 | 0x606 | 0x706 => "the server's Standard RDP Security data was bad",
        0x408 => "internal error of the client",
        0x506 => "invalid encryption",
        0x608 => "timer error",
        0x704 => "a timeout occurred",
        0x804 => "invalid IP address",
        0x807 => "the logon (NLA, CredSSP) failed",
        0x808 => "licensing failed",
        0x904 => "socket closed: the connection was closed under the client",
        0x906 | 0xA06 => "internal security error",
        0x908 => "licensing timed out",
        0xA07 => "no such user",
        0xB06 => "encryption error",
        0xB07 => "the account is disabled",
        0xC06 => "decryption error",
        0xC07 => "the account is restricted",
        0xC08 => "decompression error",
        0xD07 => "the account is locked out",
        0xE07 => "the account has expired",
        0xF07 => "the password has expired",
        0x1207 => "the password must be changed",
        0x1607 => "the credential delegation policy forbids it",
        0x1707 => "the policy allows only NTLM",
        0x1807 => "no authenticating authority (domain controller) was reachable",
        0x1B07 => "the smart card certificate has expired",
        0x1C07 => "wrong smart card PIN",
        0x2107 => "the server requires freshly typed credentials",
        0x2207 => "the smart card is blocked",
        _ => return None,
    })
}

/// An extended code as words: the ERRINFO name read as a phrase ("server denied connection").
pub fn extended_phrase(code: ErrInfo) -> String {
    match code.name() {
        Some(name) => name
            .trim_start_matches("ERRINFO_")
            .replace('_', " ")
            .to_ascii_lowercase(),
        None => format!("extended code 0x{:X}", code.0),
    }
}

/// "0x904 / 0x7: socket closed: ..., server denied connection".
pub fn label(e: &ClientError) -> String {
    let what = phrase(e.reason).unwrap_or("an unnamed client error");
    match e.extended {
        Some(x) => format!(
            "0x{:X} / 0x{:X}: {what}; {}",
            e.reason.0,
            x.0,
            extended_phrase(x)
        ),
        None => format!("0x{:X}: {what}", e.reason.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_reason_has_a_phrase() {
        for r in DisconnectReason::all() {
            assert!(phrase(r).is_some(), "0x{:X}", r.0);
        }
    }

    #[test]
    fn the_pair_of_facts_reads_as_socket_closed_server_denied() {
        let e = ClientError {
            reason: DisconnectReason(0x904),
            extended: Some(ErrInfo(0x7)),
            inferred: false,
        };
        assert_eq!(
            label(&e),
            "0x904 / 0x7: socket closed: the connection was closed under the client; server denied connection"
        );
    }
}
