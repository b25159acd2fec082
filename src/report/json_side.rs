//! The `auth_context`, `attempt` and closing `attempts` keys of `--json` (docs/json.md).

use serde::Serialize;

use crate::correlate::{AuthContext, NameTie};
use crate::diagnose::run::AttemptStory as Attempt;
use crate::diagnose::{FindingCode, Verdict};
use crate::session::kerberos::{KrbReplyKind, KrbRequestKind};

#[derive(Debug, Serialize)]
pub struct AttemptRefJson {
    pub id: u64,
    pub position: u32,
}

#[derive(Debug, Serialize)]
pub struct TieJson {
    pub flow_server: String,
    pub offset_ms: f64,
    pub name_match: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct KerberosJson {
    pub tie: TieJson,
    pub request: Option<&'static str>,
    pub request_frame: Option<u64>,
    pub cname: Option<String>,
    pub sname: Option<String>,
    pub realm: Option<String>,
    pub preauth: bool,
    pub reply: Option<String>,
    pub reply_frame: Option<u64>,
    pub error_code: Option<i32>,
}

#[derive(Debug, Serialize)]
pub struct DnsJson {
    pub tie: TieJson,
    pub name: String,
    pub qtype: String,
    pub query_frame: u64,
    pub rcode: Option<String>,
    pub answer_frame: Option<u64>,
    pub addresses: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct KdcConnectJson {
    pub tie: TieJson,
    pub first_syn_frame: u64,
    pub syns: u32,
    pub answered: bool,
    pub refused: bool,
}

#[derive(Debug, Serialize)]
pub struct AuthContextJson {
    pub kerberos: Vec<KerberosJson>,
    pub kdc_connects: Vec<KdcConnectJson>,
    pub dns: Vec<DnsJson>,
}

fn name_tie(n: Option<NameTie>) -> Option<&'static str> {
    n.map(|n| match n {
        NameTie::ServicePrincipal => "service_principal",
        NameTie::CookieUser => "cookie_user",
        NameTie::ServerName => "server_name",
        NameTie::AnswerIsServer => "answer_is_server",
    })
}

fn tie<T>(t: &crate::correlate::Tied<T>) -> TieJson {
    TieJson {
        flow_server: super::json::text::endpoint_text(&t.server),
        offset_ms: t.basis.offset_ms,
        name_match: name_tie(t.basis.name),
    }
}

impl AuthContextJson {
    pub fn new(c: &AuthContext) -> Option<Self> {
        if c.is_empty() {
            return None;
        }
        Some(AuthContextJson {
            kerberos: c
                .kerberos
                .iter()
                .map(|t| {
                    let q = t.value.request.as_ref();
                    let r = t.value.reply.as_ref();
                    KerberosJson {
                        tie: tie(t),
                        request: q.map(|q| match q.kind {
                            KrbRequestKind::As => "AS-REQ",
                            KrbRequestKind::Tgs => "TGS-REQ",
                        }),
                        request_frame: q.map(|q| q.at.frame),
                        cname: q.and_then(|q| q.cname.clone()),
                        sname: q.and_then(|q| q.sname.clone()),
                        realm: q.map(|q| q.realm.clone()).or(r.map(|r| r.realm.clone())),
                        preauth: q.is_some_and(|q| q.preauth),
                        reply: r.map(|r| match r.kind {
                            KrbReplyKind::AsRep => "AS-REP".to_string(),
                            KrbReplyKind::TgsRep => "TGS-REP".to_string(),
                            KrbReplyKind::Error(e) => e
                                .name()
                                .map(str::to_string)
                                .unwrap_or_else(|| e.to_string()),
                        }),
                        reply_frame: r.map(|r| r.at.frame),
                        error_code: r.and_then(|r| match r.kind {
                            KrbReplyKind::Error(e) => Some(e.0),
                            _ => None,
                        }),
                    }
                })
                .collect(),
            kdc_connects: c
                .kdc_connects
                .iter()
                .map(|t| KdcConnectJson {
                    tie: tie(t),
                    first_syn_frame: t.value.first_syn.frame,
                    syns: t.value.syns,
                    answered: t.value.answer.is_some_and(|a| !a.1),
                    refused: t.value.answer.is_some_and(|a| a.1),
                })
                .collect(),
            dns: c
                .dns
                .iter()
                .map(|t| {
                    let r = t.value.reply.as_ref();
                    DnsJson {
                        tie: tie(t),
                        name: t.value.name.clone(),
                        qtype: t
                            .value
                            .qtype
                            .name()
                            .map(str::to_string)
                            .unwrap_or_else(|| t.value.qtype.0.to_string()),
                        query_frame: t.value.at.frame,
                        rcode: r.map(|r| {
                            r.rcode
                                .name()
                                .map(str::to_string)
                                .unwrap_or_else(|| r.rcode.0.to_string())
                        }),
                        answer_frame: r.map(|r| r.at.frame),
                        addresses: r
                            .map(|r| r.addresses.iter().map(super::json::text::ip_text).collect())
                            .unwrap_or_default(),
                    }
                })
                .collect(),
        })
    }
}

#[derive(Debug, Serialize)]
pub struct TryJson {
    pub connection: u64,
    pub verdict: Verdict,
    pub code: Option<FindingCode>,
    pub standard_security: bool,
}

#[derive(Debug, Serialize)]
pub struct AttemptJson {
    pub id: u64,
    pub client: String,
    pub server: String,
    pub succeeded: bool,
    pub story: String,
    pub tries: Vec<TryJson>,
}

impl AttemptJson {
    pub fn new(a: &Attempt) -> Self {
        AttemptJson {
            id: a.id,
            client: a.client.to_string(),
            server: a.server.to_string(),
            succeeded: a.succeeded(),
            story: super::side::attempt_story(a),
            tries: a
                .tries
                .iter()
                .map(|t| TryJson {
                    connection: t.connection,
                    verdict: t.outcome.verdict,
                    code: t.outcome.code,
                    standard_security: t.standard_security,
                })
                .collect(),
        }
    }
}
