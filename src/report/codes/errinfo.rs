//! Meanings and fixes of the Set Error Info codes (MS-RDPBCGR 2.2.5.1.1) and of the Save
//! Session Info logon notices (MS-RDPBCGR 2.2.10.1.1.4.1.1).

use super::meaning::{m, Meaning};
use crate::proto::rdp_pdu::{ErrInfo, ErrInfoClass, LogonError};

/// The meaning and fix of a Set Error Info code; None for ERRINFO_NONE and unknown codes
/// outside the protocol-error range.
pub fn errinfo(code: ErrInfo) -> Option<Meaning> {
    Some(match code.0 {
        0x0000_0000 => return None,
        0x1 => m("An administrative tool on the server (e.g. Task Manager or a script) disconnected the session.", "Nothing is broken; reconnect, or ask the administrator why the session was disconnected."),
        0x2 => m("An administrative tool on the server logged the session off.", "Nothing is broken; reconnect and ask the administrator why the session was logged off."),
        0x3 => m("The session was idle longer than the server's idle session limit.", "Reconnect; raise the idle limit (Group Policy: Session Time Limits) if it is too short."),
        0x4 => m("The session's active time limit was reached.", "Reconnect; raise the active session limit (Group Policy: Session Time Limits) if it is too short."),
        0x5 => m("Another connection took over this user's session.", "Nothing is broken: the same account connected from elsewhere; use separate accounts or allow several sessions per user."),
        0x6 => m("The server ran out of memory.", "Free memory or add capacity on the session host, then reconnect."),
        0x7 => m("The server refused the connection.", "Check that Remote Desktop is enabled, the user is in Remote Desktop Users and the connection limit is not reached."),
        0x9 => m("The user has no right to log on through Remote Desktop.", "Grant 'Allow log on through Remote Desktop Services' and membership of Remote Desktop Users on the server."),
        0xA => m("The server requires freshly typed credentials and will not accept saved ones.", "Type the password at the prompt, or relax 'Always prompt for password upon connection' on the server."),
        0xB => m("The user disconnected the session from inside it (or a tool acting for that user did).", "Nothing is broken; reconnect to resume the session."),
        0xC => m("The user logged off.", "Nothing is broken."),
        0xF => m("The server's display driver was not ready in time, so the session was closed.", "Reconnect; if it repeats, update or reinstall the session host's display drivers and check its event log."),
        0x10 => m("The Desktop Window Manager of the session crashed on the server.", "Reconnect; if it repeats, check the session host's Application event log and display drivers."),
        0x11 => m("The server's display driver failed to start.", "Update or reinstall the session host's display drivers; check its System event log."),
        0x12 => m("The server's display driver started but the remoting stack cannot use it.", "Update the session host's display drivers or remove third-party display software."),
        0x17 => m("Winlogon crashed in the session on the server.", "Check the session host's Application event log (winlogon crashes, credential providers) and reconnect."),
        0x18 => m("A core session process (CSRSS) crashed on the server.", "Check the session host's event log for the crash and reboot it if sessions keep failing."),
        0x19 => m("The server is shutting down.", "Wait until it is back up, then reconnect."),
        0x1A => m("The server is restarting.", "Wait for the restart to finish, then reconnect."),
        0x100 => m("The licensing protocol hit an internal error on the server.", "Check the Remote Desktop Licensing configuration and the session host's event log."),
        0x101 => m("The session host found no Remote Desktop license server.", "Configure a reachable license server (RD Licensing Diagnoser) or set the licensing mode and server by policy."),
        0x102 => m("The license server has no Remote Desktop CAL to give this client.", "Install or free Remote Desktop CALs (per user or per device) on the license server."),
        0x103 => m("The server received an invalid licensing message from the client.", "Update the client; delete its cached license (HKLM\\Software\\Microsoft\\MSLicensing) and retry."),
        0x104 => m("The client's stored license belongs to another machine's hardware id.", "Delete the client's cached license (HKLM\\Software\\Microsoft\\MSLicensing) and reconnect."),
        0x105 => m("The client's stored license is invalid.", "Delete the client's cached license (HKLM\\Software\\Microsoft\\MSLicensing) and reconnect."),
        0x106 => m("The licensing protocol could not be completed (network trouble during licensing).", "Retry; check the path between the session host and its license server."),
        0x107 => m("The client ended the licensing protocol early.", "Retry; update the client if it keeps happening."),
        0x108 => m("A licensing message from the client was not encrypted correctly.", "Update the client and delete its cached license."),
        0x109 => m("The client's license could not be upgraded or renewed.", "Check the license server has CALs for this Windows version and is reachable from the session host."),
        0x10A => m("The server is not licensed to accept remote connections.", "Install the Remote Desktop Session Host role with licensing, or use administrative (console) mode."),
        0x400 => m("The connection broker found no session host for this user.", "Check the collection's session hosts are online and the user is allowed in the collection."),
        0x402 => m("The connection broker is still preparing the target session host.", "Retry in a moment; check the session host's state if it keeps happening."),
        0x404 => m("The connection broker is redirecting the client to its session host.", "Nothing is broken unless the redirected connection then fails; check that one."),
        0x405 => m("The broker is waking the virtual machine that hosts the session.", "Retry after the VM has started."),
        0x406 => m("The broker is booting the virtual machine that hosts the session.", "Retry after the VM has booted."),
        0x407 => m("The session's virtual machine has no DNS name yet.", "Check the VM's network and DNS registration, then retry."),
        0x408 => m("No virtual machine in the pool is free.", "Add capacity to the pool or wait for a VM to be released."),
        0x409 => m("The connection broker cancelled the connection (often right after sending a redirection).", "If no redirected connection follows, check the broker's event log and the collection's configuration."),
        0x410 => m("The connection settings the broker received are invalid.", "Check the RDP file or published resource (load-balance info, collection name) the client used."),
        0x411 => m("The session's virtual machine took too long to boot.", "Check the virtualization host and retry."),
        0x412 => m("The session monitoring service on the virtual machine failed.", "Check the VM's Remote Desktop services and event log."),
        0x1191..=0x1195 => m("Encryption between client and server failed (keys could not be updated, or a packet did not decrypt).", "Retry; check for a middlebox altering the stream and update client and server."),
        _ if code.class() == ErrInfoClass::Protocol => m("The server rejected a malformed or unexpected PDU from the client and closed the connection.", "Update the client (or server); disable optional features such as RemoteApp, multi-monitor or graphics modes the server does not support."),
        _ => return None,
    })
}

/// The meaning and fix of a logon notice in Save Session Info; None for values that are
/// session ids or unknown.
pub fn logon_error(code: LogonError) -> Option<Meaning> {
    Some(match code {
        LogonError::FAILED_BAD_PASSWORD => m("The logon inside the session failed: the user name or password is wrong.", "Type the right user name and password (check the domain and Caps Lock)."),
        LogonError::FAILED_UPDATE_PASSWORD => m("The logon inside the session failed because the password has expired.", "Change the password (at the prompt, or through another machine) and log on again."),
        LogonError::FAILED_OTHER => m("The logon inside the session failed for another reason, and the client shows the logon screen.", "Check the server's Security event log (event 4625) for the reason."),
        LogonError::WARNING => m("The server showed the user a logon warning or message.", "Read the message shown in the session; nothing may be broken."),
        LogonError::MSG_SESSION_BUSY_OPTIONS => m("The user's session is busy on the server (it is still being set up or torn down).", "Wait a moment and reconnect."),
        LogonError::MSG_DISCONNECT_REFUSED => m("Winlogon refused to disconnect the user's other session.", "End the other session (or let the user choose) and reconnect."),
        LogonError::MSG_NO_PERMISSION => m("The user has no permission to take over the existing session.", "Log on with the account that owns the session, or have an administrator end it."),
        LogonError::MSG_BUMP_OPTIONS => m("Another user is logged on and Winlogon offers to disconnect them.", "Choose at the prompt, or use a server that allows several sessions."),
        LogonError::MSG_RECONNECT_OPTIONS => m("Winlogon offers to reconnect to an existing session.", "Choose at the prompt; nothing is broken."),
        LogonError::MSG_SESSION_TERMINATE => m("Winlogon ended the session after the logon notice.", "See the accompanying LOGON_FAILED code for why."),
        LogonError::MSG_SESSION_CONTINUE => m("Winlogon continues the logon.", "Nothing is broken."),
        LogonError::ACCESS_DENIED => m("The user was denied access to the session.", "Check the user's Remote Desktop rights and group membership on the server."),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_code_but_none_has_words() {
        for code in ErrInfo::all().filter(|c| *c != ErrInfo::NONE) {
            let words = errinfo(code).unwrap_or_else(|| panic!("{}", code.label()));
            assert!(words.meaning.ends_with('.') && words.fix.ends_with('.'));
        }
        assert_eq!(errinfo(ErrInfo::NONE), None);
        assert!(errinfo(ErrInfo(0x7))
            .unwrap()
            .fix
            .contains("Remote Desktop Users"));
    }

    #[test]
    fn every_named_logon_notice_has_words() {
        for v in (0..=3).chain(0xFFFF_FFF8..=0xFFFF_FFFF) {
            let code = LogonError(v);
            assert!(
                code.name().is_some() && logon_error(code).is_some(),
                "{v:#x}"
            );
        }
        assert_eq!(logon_error(LogonError(7)), None);
    }
}
