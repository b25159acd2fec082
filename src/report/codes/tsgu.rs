//! Meanings and fixes of the RD Gateway status codes (MS-TSGU 2.2.6).

use super::meaning::{m, Meaning};
use crate::proto::tsgu::TsguStatus;

/// The meaning and fix of a gateway status (either HRESULT form); None for S_OK and
/// unknown codes.
pub fn tsgu_status(code: TsguStatus) -> Option<Meaning> {
    Some(match code.canonical().0 {
        0x0000_0000 => return None,
        0x0000_0005 => m("The gateway denied access.", "Check the user is allowed by the gateway's connection authorization policy (RD CAP) and resource policy (RD RAP)."),
        0x0000_04CA => m("The gateway closed the tunnel gracefully.", "Nothing is broken unless the session ended unexpectedly."),
        0x0000_04D4 => m("The connection through the gateway was aborted.", "Retry; check the gateway's event log (TerminalServices-Gateway) and the path to the session host."),
        0x0000_59E6 => m("The gateway has reached its maximum number of connections.", "Raise the connection limit on the gateway or add gateway capacity."),
        0x0000_59E8 => m("The gateway does not support what the client asked for.", "Update the client or the gateway."),
        0x0000_59F6 => m("The gateway's session timeout expired.", "Reconnect; raise the session timeout in the gateway's RD CAP if it is too short."),
        0x0000_59FA => m("Re-authentication to the gateway failed.", "Reconnect and sign in again; check the user's account state."),
        0x0000_59FB => m("On re-authentication the user no longer meets the gateway's connection policy (RD CAP).", "Check the user's group membership against the RD CAP."),
        0x0000_59FC => m("On re-authentication the target is no longer allowed by the gateway's resource policy (RD RAP).", "Check the RD RAP's computer groups include the target."),
        0x0000_59FD => m("The session host does not support the gateway's session-disconnect-on-reauth feature.", "Update the session host or disable the feature on the gateway."),
        0x0000_5A00 => m("On re-authentication the client failed the gateway's health (NAP) policy.", "Bring the client in line with the health policy or relax it."),
        0x8007_59D8 => m("The gateway hit an internal error.", "Check the gateway's TerminalServices-Gateway and NPS event logs and restart the service if needed."),
        0x8007_59DA => m("The gateway's resource authorization policy (RD RAP) does not allow this user to reach this computer.", "Add the target computer (by the exact name the client uses) to a computer group of an RD RAP that includes the user."),
        0x8007_59DB => m("The gateway's connection authorization policy (RD CAP) denied this user or device.", "Add the user to a group allowed by an RD CAP and check its device redirection and authentication-method requirements."),
        0x8007_59DD => m("The gateway could not connect to the target computer.", "Check from the gateway that the target name resolves and port 3389 is reachable and listening."),
        0x8007_59DF => m("The tunnel or channel was already disconnected.", "Reconnect."),
        0x8007_59E9 => m("The client and the gateway share no usable capability.", "Update the client or the gateway."),
        0x8007_59ED => m("The gateway's quarantine (NAP health) policy denied the client.", "Bring the client in line with the health policy or relax it."),
        0x8007_59EE => m("The gateway has no certificate to use.", "Install a valid SSL certificate in RD Gateway Manager (Properties, SSL Certificate)."),
        0x8007_59F7 => m("The pluggable-authentication cookie the client sent was malformed.", "Update the client or the authentication plug-in."),
        0x8007_59F8 => m("The pluggable-authentication cookie was refused.", "Sign in again through the web portal that issues the cookie."),
        0x8007_59F9 => m("The client used an authentication method the gateway does not accept.", "Use the method the gateway's RD CAP requires (password or smart card)."),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_codes_have_words_in_both_forms() {
        for v in [
            5,
            0x4CA,
            0x4D4,
            0x59E6,
            0x59E8,
            0x59F6,
            0x59FA,
            0x59FB,
            0x59FC,
            0x59FD,
            0x5A00,
            0x8007_59D8,
            0x8007_59DA,
            0x8007_59DB,
            0x8007_59DD,
            0x8007_59DF,
            0x8007_59E9,
            0x8007_59ED,
            0x8007_59EE,
            0x8007_59F7,
            0x8007_59F8,
            0x8007_59F9,
        ] {
            assert!(tsgu_status(TsguStatus(v)).is_some(), "{v:#x}");
            assert!(TsguStatus(v).name().is_some(), "{v:#x}");
        }
        assert_eq!(
            tsgu_status(TsguStatus(0x59DD)),
            tsgu_status(TsguStatus::E_PROXY_TS_CONNECTFAILED)
        );
        assert_eq!(tsgu_status(TsguStatus::S_OK), None);
    }
}
