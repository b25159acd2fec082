//! Findings from the Kerberos and DNS exchanges tied to a connection (`correlate`): the KDC's
//! KRB-ERROR codes (RFC 4120 7.5.9), a KDC that never answered, a name that did not resolve
//! or resolved elsewhere. KDC_ERR_PREAUTH_REQUIRED is the normal first round of a Windows
//! logon (RFC 4120 3.1.1) and never a finding.

use std::net::IpAddr;

use super::{Diagnosed, Evidence, Facts, Finding, FindingCode, Severity, Verdict};
use crate::correlate::AuthContext;
use crate::flow::{Endpoint, PacketInfo};
use crate::proto::dns::Rcode;
use crate::proto::kerberos::KrbErrorCode;
use crate::session::kerberos::{KrbReplyKind, KrbRequestKind};

/// A request unanswered this long is taken as lost.
const UNANSWERED_NS: i64 = 1_000_000_000;

/// The values of a side finding.
#[derive(Debug, Clone, PartialEq)]
pub enum SideFacts {
    KdcError {
        code: KrbErrorCode,
        request: Option<KrbRequestKind>,
        cname: Option<String>,
        sname: Option<String>,
        realm: String,
        kdc: Endpoint,
        offset_ms: f64,
    },
    KdcUnreachable {
        kdc: Endpoint,
        requests: u32,
        syns: u32,
        refused: bool,
    },
    DnsFailed {
        name: String,
        rcode: Option<Rcode>,
        queries: u32,
    },
    DnsMismatch {
        name: String,
        answered: Vec<IpAddr>,
        used: IpAddr,
    },
}

/// What one side packet shows.
#[derive(Debug, Clone, PartialEq)]
pub enum SideNote {
    KrbRequest {
        kind: KrbRequestKind,
        sname: Option<String>,
    },
    KrbError(KrbErrorCode),
    KrbUnanswered,
    KdcSyns(u32),
    DnsQuery(String),
    DnsAnswer {
        rcode: Rcode,
        addresses: Vec<IpAddr>,
    },
    DnsUnanswered(String),
    /// The side finding that explains this one.
    CausedBy(FindingCode),
}

fn code_of(e: KrbErrorCode) -> Option<FindingCode> {
    Some(match e {
        KrbErrorCode::KDC_ERR_PREAUTH_FAILED => FindingCode::KdcPreauthFailed,
        KrbErrorCode::KDC_ERR_C_PRINCIPAL_UNKNOWN => FindingCode::KdcAccountUnknown,
        KrbErrorCode::KDC_ERR_CLIENT_REVOKED => FindingCode::KdcAccountRevoked,
        KrbErrorCode::KDC_ERR_KEY_EXPIRED => FindingCode::KdcPasswordExpired,
        KrbErrorCode::KDC_ERR_S_PRINCIPAL_UNKNOWN => FindingCode::KdcSpnUnknown,
        KrbErrorCode::KRB_AP_ERR_SKEW => FindingCode::KerberosClockSkew,
        _ => return None,
    })
}

fn ev(ctx: &AuthContext, at: &PacketInfo, note: SideNote) -> Evidence {
    Evidence {
        frame: at.frame,
        t_ms: (at.ts_ns - ctx.start_ns) as f64 / 1e6,
        note: super::Note::Side(note),
    }
}

fn side_finding(code: FindingCode, facts: SideFacts, evidence: Vec<Evidence>) -> Finding {
    Finding::new(code, Facts::Side(Box::new(facts)), evidence)
}

fn kerberos_findings(ctx: &AuthContext, out: &mut Vec<Finding>) {
    for t in &ctx.kerberos {
        let Some(reply) = &t.value.reply else {
            continue;
        };
        let KrbReplyKind::Error(e) = reply.kind else {
            continue;
        };
        let Some(code) = code_of(e) else { continue };
        if out.iter().any(|f| f.code == code) {
            continue;
        }
        let req = t.value.request.as_ref();
        let mut evidence: Vec<Evidence> = req
            .map(|q| {
                ev(
                    ctx,
                    &q.at,
                    SideNote::KrbRequest {
                        kind: q.kind,
                        sname: q.sname.clone(),
                    },
                )
            })
            .into_iter()
            .collect();
        evidence.push(ev(ctx, &reply.at, SideNote::KrbError(e)));
        let facts = SideFacts::KdcError {
            code: e,
            request: req.map(|q| q.kind),
            cname: req.and_then(|q| q.cname.clone()).or(reply.cname.clone()),
            sname: reply.sname.clone().or(req.and_then(|q| q.sname.clone())),
            realm: reply.realm.clone(),
            kdc: t.server,
            offset_ms: t.basis.offset_ms,
        };
        out.push(side_finding(code, facts, evidence));
    }
    // Unreachable: requests or SYNs to a KDC address that never answered anything.
    let answered = |ip: IpAddr| {
        ctx.kerberos
            .iter()
            .any(|t| t.server.ip == ip && t.value.reply.is_some())
    };
    let mut lost: Option<(Endpoint, u32, u32, bool, Vec<Evidence>)> = None;
    for t in &ctx.kerberos {
        let Some(q) = &t.value.request else { continue };
        if t.value.reply.is_none()
            && ctx.now_ns - q.at.ts_ns >= UNANSWERED_NS
            && !answered(t.server.ip)
        {
            let l = lost.get_or_insert((t.server, 0, 0, false, Vec::new()));
            l.1 += 1;
            if l.4.len() < 4 {
                l.4.push(ev(ctx, &q.at, SideNote::KrbUnanswered));
            }
        }
    }
    for t in &ctx.kdc_connects {
        let c = &t.value;
        let refused = c.answer.is_some_and(|a| a.1);
        let silent = c.answer.is_none() && ctx.now_ns - c.first_syn.ts_ns >= UNANSWERED_NS;
        if (refused || silent) && !answered(t.server.ip) {
            let l = lost.get_or_insert((t.server, 0, 0, false, Vec::new()));
            l.2 += c.syns;
            l.3 |= refused;
            if l.4.len() < 4 {
                l.4.push(ev(ctx, &c.first_syn, SideNote::KdcSyns(c.syns)));
            }
        }
    }
    if let Some((kdc, requests, syns, refused, evidence)) = lost {
        let facts = SideFacts::KdcUnreachable {
            kdc,
            requests,
            syns,
            refused,
        };
        out.push(side_finding(FindingCode::KdcUnreachable, facts, evidence));
    }
}

/// `a` is `b` with a search suffix, or `b` itself.
fn related(a: &str, b: &str) -> bool {
    a == b || a.strip_prefix(b).is_some_and(|r| r.starts_with('.'))
}

fn dns_findings(ctx: &AuthContext, server: Option<IpAddr>, out: &mut Vec<Finding>) {
    let lookups: Vec<_> = ctx
        .dns
        .iter()
        .filter(|t| t.value.is_address_query())
        .collect();
    let resolved = |name: &str| {
        lookups.iter().any(|t| {
            t.value
                .reply
                .as_ref()
                .is_some_and(|r| !r.addresses.is_empty())
                && (related(name, &t.value.name) || related(&t.value.name, name))
        })
    };
    let failed = |t: &&&crate::correlate::Tied<crate::session::dns::DnsLookup>| match &t.value.reply
    {
        Some(r) => matches!(r.rcode, Rcode::NXDOMAIN | Rcode::SERVFAIL | Rcode::REFUSED),
        None => ctx.now_ns - t.value.at.ts_ns >= UNANSWERED_NS,
    };
    // The shortest failing name is the one asked for; the longer ones are its suffix tries.
    if server.is_none() {
        if let Some(first) = lookups
            .iter()
            .filter(failed)
            .filter(|t| !resolved(&t.value.name))
            .min_by_key(|t| t.value.name.len())
        {
            let name = first.value.name.clone();
            let same: Vec<_> = lookups
                .iter()
                .filter(|t| related(&t.value.name, &name))
                .collect();
            let mut evidence = vec![ev(ctx, &first.value.at, SideNote::DnsQuery(name.clone()))];
            match &first.value.reply {
                Some(r) => evidence.push(ev(
                    ctx,
                    &r.at,
                    SideNote::DnsAnswer {
                        rcode: r.rcode,
                        addresses: Vec::new(),
                    },
                )),
                None => evidence.push(ev(
                    ctx,
                    &first.value.at,
                    SideNote::DnsUnanswered(name.clone()),
                )),
            }
            let facts = SideFacts::DnsFailed {
                name,
                rcode: first.value.reply.as_ref().map(|r| r.rcode),
                queries: same.len() as u32,
            };
            out.push(side_finding(
                FindingCode::DnsResolutionFailed,
                facts,
                evidence,
            ));
        }
    }
    let Some(used) = server else { return };
    if lookups.iter().any(|t| {
        t.value
            .reply
            .as_ref()
            .is_some_and(|r| r.addresses.contains(&used))
    }) {
        return;
    }
    // Names that are SRV targets (the KDC, the DC) or point at a side server are not the
    // RDP server's name.
    let srv_targets: Vec<&str> = ctx
        .dns
        .iter()
        .filter_map(|t| t.value.reply.as_ref())
        .flat_map(|r| r.srv_targets.iter().map(String::as_str))
        .collect();
    let side_servers: Vec<IpAddr> = ctx
        .kerberos
        .iter()
        .map(|t| t.server.ip)
        .chain(ctx.kdc_connects.iter().map(|t| t.server.ip))
        .chain(ctx.dns.iter().map(|t| t.server.ip))
        .collect();
    let candidate = lookups
        .iter()
        .filter(|t| t.basis.offset_ms <= 0.0)
        .filter(|t| !srv_targets.contains(&t.value.name.as_str()))
        .filter_map(|t| t.value.reply.as_ref().map(|r| (t, r)))
        .filter(|(_, r)| !r.addresses.is_empty())
        .rfind(|(_, r)| !r.addresses.iter().any(|a| side_servers.contains(a)));
    if let Some((t, r)) = candidate {
        let evidence = vec![
            ev(ctx, &t.value.at, SideNote::DnsQuery(t.value.name.clone())),
            ev(
                ctx,
                &r.at,
                SideNote::DnsAnswer {
                    rcode: r.rcode,
                    addresses: r.addresses.clone(),
                },
            ),
        ];
        let facts = SideFacts::DnsMismatch {
            name: t.value.name.clone(),
            answered: r.addresses.clone(),
            used,
        };
        out.push(side_finding(
            FindingCode::DnsAddressMismatch,
            facts,
            evidence,
        ));
    }
}

/// The findings of a context; `server` is the address the client connected to (None for
/// side flows that served no connection).
pub fn side_findings(ctx: &AuthContext, server: Option<IpAddr>) -> Vec<Finding> {
    let mut out = Vec::new();
    kerberos_findings(ctx, &mut out);
    dns_findings(ctx, server, &mut out);
    out
}

/// Ties `ctx` to a diagnosed connection: its findings join the connection's (as warnings
/// when the connection worked anyway), and an nla-failed or client-abort finding gains the
/// side finding that explains it as evidence.
pub fn attach(d: &mut Diagnosed, ctx: crate::correlate::AuthContext) {
    let mut found = side_findings(&ctx, Some(d.meta.server.ip));
    if d.verdict == Verdict::Ok {
        for f in &mut found {
            f.severity = f.severity.min(Severity::Warning);
        }
    }
    if let Some(cause) = found.iter().find(|f| f.severity == Severity::Error) {
        for f in d
            .findings
            .iter_mut()
            .filter(|f| matches!(f.code, FindingCode::NlaFailed | FindingCode::ClientAbort))
        {
            let mut e = cause.evidence.last().cloned();
            if let Some(e) = e.as_mut() {
                e.note = super::Note::Side(SideNote::CausedBy(cause.code));
            }
            f.evidence.extend(e);
        }
    }
    d.findings.extend(found);
    d.auth_context = ctx;
}
