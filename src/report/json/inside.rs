//! The `--json` keys read inside TLS: `decryption`, `credssp`, `disconnect`, `licensing`,
//! `redirect` (docs/json.md).

use serde::Serialize;

use crate::report::inner_events::mech_name;
use crate::session::{Connection, DecryptionOutcome, KeyOrigin};

#[derive(Debug, Serialize)]
pub struct DecryptionJson {
    pub state: &'static str,
    pub records: u64,
    pub source: Option<&'static str>,
}

/// A named code: `{"code": "0xC000006E", "name": "STATUS_ACCOUNT_RESTRICTION"}`.
#[derive(Debug, Serialize)]
pub struct CodeJson {
    pub code: String,
    pub name: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct NtlmJson<'a> {
    pub user: &'a str,
    pub domain: &'a str,
    pub workstation: &'a str,
    /// The client's Windows version from the AUTHENTICATE ("10.0.19041").
    pub version: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CredsspJson<'a> {
    pub version: Option<u32>,
    pub mechanism: Option<&'static str>,
    pub ntlm: Option<NtlmJson<'a>>,
    pub error: Option<CodeJson>,
}

#[derive(Debug, Serialize)]
pub struct DisconnectJson {
    pub errinfo: Option<CodeJson>,
    pub logon_error: Option<CodeJson>,
    pub ultimatum: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LicensingJson {
    /// "valid" or "failed".
    pub result: &'static str,
    pub error: Option<CodeJson>,
}

#[derive(Debug, Serialize)]
pub struct RedirectJson<'a> {
    pub target: Option<&'a str>,
    pub no_redirect: bool,
    pub load_balance_info: bool,
}

fn code(v: u32, name: Option<&'static str>) -> CodeJson {
    CodeJson {
        code: format!("0x{v:08X}"),
        name,
    }
}

/// For a TLS connection: whether its records were read.
pub fn decryption(c: &Connection) -> Option<DecryptionJson> {
    c.tls.server_hello.as_ref()?;
    let d = &c.inner().decryption;
    Some(DecryptionJson {
        state: match d.outcome {
            DecryptionOutcome::NoKeys => "no-keys",
            DecryptionOutcome::Decrypted => "decrypted",
            DecryptionOutcome::Failed | DecryptionOutcome::Unsupported => "failed",
        },
        records: d.records,
        source: d.source.map(|s| match s {
            KeyOrigin::Pcapng => "pcapng",
            KeyOrigin::Keylog => "keylog",
        }),
    })
}

pub fn credssp(c: &Connection) -> Option<CredsspJson<'_>> {
    let cs = &c.inner().credssp;
    if cs.messages == 0 {
        return None;
    }
    Some(CredsspJson {
        version: cs.version,
        mechanism: cs.mechanism.map(mech_name),
        ntlm: cs.ntlm.as_ref().map(|n| NtlmJson {
            user: &n.user,
            domain: &n.domain,
            workstation: &n.workstation,
            version: n
                .version
                .map(|v| format!("{}.{}.{}", v.major, v.minor, v.build)),
        }),
        error: cs.error.as_ref().map(|e| code(e.value.0, e.value.name())),
    })
}

pub fn disconnect(c: &Connection) -> Option<DisconnectJson> {
    if !c.inner().any() {
        return None;
    }
    let r = &c.inner().rdp;
    let ultimatum = c.mcs.ultimatum.as_ref().map(|u| u.value.name());
    if r.errinfo.is_none() && r.logon_error.is_none() && ultimatum.is_none() {
        return None;
    }
    Some(DisconnectJson {
        errinfo: r.errinfo.as_ref().map(|e| code(e.value.0, e.value.name())),
        logon_error: r
            .logon_error
            .as_ref()
            .map(|e| code(e.value.0, e.value.name())),
        ultimatum,
    })
}

pub fn licensing(c: &Connection) -> Option<LicensingJson> {
    let l = c.inner().rdp.licensing.as_ref()?;
    Some(LicensingJson {
        result: if l.value.valid { "valid" } else { "failed" },
        error: l
            .value
            .error
            .filter(|_| !l.value.valid)
            .map(|e| code(e.0, e.name())),
    })
}

pub fn redirect(c: &Connection) -> Option<RedirectJson<'_>> {
    let r = c.inner().rdp.redirect.as_ref()?;
    Some(RedirectJson {
        target: r.value.target.as_deref(),
        no_redirect: r.value.no_redirect,
        load_balance_info: r.value.load_balance_info,
    })
}
