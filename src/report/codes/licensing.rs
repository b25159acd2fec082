//! Meanings and fixes of the Licensing Error Message codes (MS-RDPBCGR 2.2.1.12.1.3).

use super::meaning::{m, Meaning};
use crate::proto::rdp_pdu::{LicenseErrorCode, LicenseStateTransition};

/// The meaning and fix of a licensing `dwErrorCode`; STATUS_VALID_CLIENT is the success.
pub fn license_error(code: LicenseErrorCode) -> Option<Meaning> {
    Some(match code.0 {
        0x1 => m("The client could not validate the server's licensing certificate.", "Update the client; on the server, regenerate the licensing certificate (delete the X509 Certificate values under TermService\\Parameters and restart)."),
        0x2 => m("The server has no license to issue to this client.", "Install or free Remote Desktop CALs on the license server and check the licensing mode."),
        0x3 => m("A licensing message failed its integrity check.", "Retry; delete the client's cached license (HKLM\\Software\\Microsoft\\MSLicensing) and update the client."),
        0x4 => m("The license scope the server offered does not match.", "Check the licensing configuration of the session host and license server."),
        0x6 => m("The session host could not reach a license server.", "Make a license server reachable from the session host (RD Licensing Diagnoser) or configure it by policy."),
        0x7 => m("Licensing succeeded: the client is valid (the normal answer when no licensing exchange is needed).", "Nothing to do."),
        0x8 => m("The server considers the client's license or request invalid.", "Delete the client's cached license (HKLM\\Software\\Microsoft\\MSLicensing) and reconnect."),
        0xB => m("The product id in the license is not valid for this server.", "Check the license server has CALs for this Windows Server version."),
        0xC => m("A licensing message had a wrong length.", "Update the client; check for a middlebox altering the stream."),
        _ => return None,
    })
}

/// What the client does next after a licensing error (`dwStateTransition`).
pub fn state_transition(state: LicenseStateTransition) -> Option<&'static str> {
    Some(match state.0 {
        0x1 => "The client must abort the connection.",
        0x2 => "The connection goes on without licensing changes.",
        0x3 => "The licensing exchange starts again from the beginning.",
        0x4 => "The client must resend its last licensing message.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_code_has_words() {
        for v in [1, 2, 3, 4, 6, 7, 8, 0xB, 0xC] {
            let code = LicenseErrorCode(v);
            assert!(
                code.name().is_some() && license_error(code).is_some(),
                "{v}"
            );
        }
        for v in 1..=4 {
            assert!(state_transition(LicenseStateTransition(v)).is_some());
        }
        assert!(license_error(LicenseErrorCode::STATUS_VALID_CLIENT)
            .unwrap()
            .meaning
            .starts_with("Licensing succeeded"));
    }
}
