//! Words for the Kerberos and DNS findings beside a connection, and for attempts.

use crate::diagnose::run::AttemptStory as Attempt;
use crate::diagnose::side::{SideFacts, SideNote};
use crate::session::kerberos::KrbRequestKind;

fn kind_text(k: KrbRequestKind) -> &'static str {
    match k {
        KrbRequestKind::As => "AS-REQ",
        KrbRequestKind::Tgs => "TGS-REQ",
    }
}

fn addresses(a: &[std::net::IpAddr]) -> String {
    a.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The title and explanation of a side finding.
pub fn side_words(f: &SideFacts) -> (String, String) {
    match f {
        SideFacts::KdcError {
            code,
            request,
            cname,
            sname,
            realm,
            kdc,
            offset_ms,
        } => (
            format!("The KDC {kdc} answered {code}"),
            format!(
                "The client's {} for {} (service {}, realm {realm}) {:.1} s {} the connection was answered {code}.",
                request.map(kind_text).unwrap_or("request"),
                cname.as_deref().unwrap_or("an unnamed client"),
                sname.as_deref().unwrap_or("?"),
                offset_ms.abs() / 1000.0,
                if *offset_ms < 0.0 { "before" } else { "into" },
            ),
        ),
        SideFacts::KdcUnreachable {
            kdc,
            requests,
            syns,
            refused,
        } => (
            format!("The KDC {} did not answer", kdc.ip),
            format!(
                "{requests} Kerberos request(s) over UDP and {syns} TCP SYN(s) to port 88 got {}: Kerberos could not be used.",
                if *refused { "a refusal" } else { "no answer" }
            ),
        ),
        SideFacts::DnsFailed {
            name,
            rcode,
            queries,
        } => (
            format!("{name} did not resolve"),
            format!(
                "{queries} lookup(s) of {name} (and its search-suffix variants) got {}: the client had no address to connect to.",
                rcode
                    .map(|r| r.name().map(str::to_string).unwrap_or_else(|| format!("RCODE {}", r.0)))
                    .unwrap_or_else(|| "no answer".into())
            ),
        ),
        SideFacts::DnsMismatch {
            name,
            answered,
            used,
        } => (
            format!("{name} resolves to {}, the client connected to {used}", addresses(answered)),
            format!(
                "Before connecting, the client looked up {name} and got {}; it then connected to {used}, an address the name does not have.",
                addresses(answered)
            ),
        ),
    }
}

/// The note of a side evidence frame.
pub fn side_note(n: &SideNote) -> String {
    match n {
        SideNote::KrbRequest { kind, sname } => {
            format!(
                "{} for {}",
                kind_text(*kind),
                sname.as_deref().unwrap_or("?")
            )
        }
        SideNote::KrbError(code) => format!("KRB-ERROR {code}"),
        SideNote::KrbUnanswered => "Kerberos request, never answered".into(),
        SideNote::KdcSyns(n) => format!("TCP SYN to the KDC ({n} sent, unanswered)"),
        SideNote::DnsQuery(name) => format!("DNS query for {name}"),
        SideNote::DnsAnswer {
            rcode,
            addresses: a,
        } => format!(
            "DNS answer {}{}",
            rcode.name().unwrap_or("?"),
            if a.is_empty() {
                String::new()
            } else {
                format!(": {}", addresses(a))
            }
        ),
        SideNote::DnsUnanswered(name) => format!("DNS query for {name}, never answered"),
        SideNote::CausedBy(code) => format!("cause: {code} (beside the RDP flow)"),
    }
}

/// An attempt's story in one sentence: "failed twice, succeeded on the third try with
/// Standard RDP Security".
pub fn attempt_story(a: &Attempt) -> String {
    let ordinal = |n: usize| match n {
        1 => "first".to_string(),
        2 => "second".to_string(),
        3 => "third".to_string(),
        n => format!("{n}th"),
    };
    let failed = a.tries.iter().filter(|t| !t.succeeded).count();
    let times = |n: usize| match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    };
    let steps: Vec<String> = a
        .tries
        .iter()
        .map(|t| {
            format!(
                "#{} {}{}",
                t.connection,
                t.outcome.verdict.name(),
                t.outcome
                    .code
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    let end = if a.succeeded() {
        let last = a.tries.last();
        format!(
            "succeeded on the {} try{}",
            ordinal(a.tries.len()),
            if last.is_some_and(|t| t.standard_security) {
                " with Standard RDP Security"
            } else {
                ""
            }
        )
    } else {
        "never succeeded".into()
    };
    format!(
        "{} -> {}: failed {}, {end} [{}]",
        a.client,
        a.server,
        times(failed),
        steps.join(", ")
    )
}
