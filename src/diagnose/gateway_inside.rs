//! Findings read inside a decrypted RD Gateway stream (issue 16): the gateway's own answers
//! name the failure. HTTP 401/403 to a gateway request (RFC 9110 15.5.2, 15.5.4;
//! MS-TSGU 3.3.5.1) → gateway-auth-failed; E_PROXY_NAP/RAP_ACCESSDENIED in a tunnel or
//! channel response (MS-TSGU 2.2.6) → gateway-policy-denied; a refused channel
//! (E_PROXY_TS_CONNECTFAILED, MS-TSGU 2.2.10.5) → gateway-target-unreachable; a failed
//! `/KdcProxy` exchange (MS-KKDCP 3.2.5) → kdc-proxy-failed.

use super::{Ctx, Facts, Finding, FindingCode, Note};
use crate::flow::PacketInfo;
use crate::proto::http::AuthScheme;
use crate::proto::kerberos::KrbErrorCode;
use crate::proto::tsgu::TsguStatus;
use crate::session::gateway::inside_facts::{GatewayInsideFacts, ProxiedKerberos};
use crate::session::gateway::is_routine_krb_error;
use crate::session::{AuthMech, Stamped};

/// Which tunnel response carried a status (MS-TSGU 2.2.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsguStage {
    Handshake,
    Tunnel,
    TunnelAuth,
    Channel,
    CloseChannel,
}

/// The values of the gateway findings read inside TLS.
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayFinding {
    AuthFailed {
        /// The HTTP status (401, 403), or None for a tunnel-level refusal.
        status: Option<u16>,
        reason: Option<String>,
        scheme: Option<AuthScheme>,
        offered: Vec<AuthScheme>,
        credentials_sent: bool,
        mechanism: Option<AuthMech>,
        /// A tunnel-level refusal (cookie, authentication method).
        tsgu: Option<(TsguStage, TsguStatus)>,
    },
    PolicyDenied {
        stage: TsguStage,
        status: TsguStatus,
        target: Option<String>,
        port: Option<u16>,
    },
    TargetUnreachable {
        stage: TsguStage,
        status: TsguStatus,
        target: Option<String>,
        port: Option<u16>,
    },
    KdcProxyFailed {
        http_status: Option<u16>,
        reason: Option<String>,
        /// The Kerberos error the proxy carried back last (not a routine one).
        krb_error: Option<KrbErrorCode>,
        requests: u32,
        responses: u32,
        http2_error: Option<u32>,
        target_domain: Option<String>,
    },
}

/// What a decrypted gateway evidence frame shows.
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayNote {
    Credentials(Option<AuthScheme>),
    HttpStatus(u16),
    Tsgu(TsguStage, TsguStatus),
    ChannelRequested { port: Option<u16> },
    KdcRequest,
    KdcReply(ProxiedKerberos),
}

pub(super) fn gateway_inside_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(gw) = ctx.conn.gateway_inside.as_deref() else {
        return;
    };
    let f = &gw.facts;
    auth(ctx, f, out);
    tunnel_statuses(ctx, f, out);
    kdc_proxy(ctx, f, out);
}

fn ev(ctx: &Ctx, at: &PacketInfo, note: GatewayNote) -> super::Evidence {
    ctx.ev(at, Note::GatewayInside(note))
}

fn finding(code: FindingCode, facts: GatewayFinding, evidence: Vec<super::Evidence>) -> Finding {
    Finding::new(code, Facts::GatewayInside(Box::new(facts)), evidence)
}

fn auth(ctx: &Ctx, f: &GatewayInsideFacts, out: &mut Vec<Finding>) {
    let a = &f.auth;
    // A refusal after credentials (or a 403), not followed by acceptance; or the last word
    // on the connection a 401/403 the client never got past.
    let refusal = a
        .refusal
        .as_ref()
        .filter(|r| a.accepted.is_none_or(|ok| ok.ts_ns < r.at.ts_ns))
        .or(a
            .status
            .as_ref()
            .filter(|s| matches!(s.value, 401 | 403) && a.accepted.is_none()));
    let tsgu = [
        (TsguStage::Handshake, &f.tunnel.handshake),
        (TsguStage::TunnelAuth, &f.tunnel.auth),
    ]
    .into_iter()
    .find_map(|(stage, s)| {
        s.as_ref()
            .filter(|s| s.value.is_auth_refusal())
            .map(|s| (stage, s))
    });
    if refusal.is_none() && tsgu.is_none() {
        return;
    }
    let mut evidence = Vec::new();
    if let Some(at) = &a.credentials_sent {
        evidence.push(ev(ctx, at, GatewayNote::Credentials(a.scheme)));
    }
    if let Some(r) = refusal {
        evidence.push(ev(ctx, &r.at, GatewayNote::HttpStatus(r.value)));
    }
    if let Some((stage, s)) = tsgu {
        evidence.push(ev(ctx, &s.at, GatewayNote::Tsgu(stage, s.value)));
    }
    let reason = match refusal {
        Some(r) if a.refusal.as_ref() == Some(r) => a.refusal_reason.clone(),
        Some(_) => a.reason.clone(),
        None => None,
    };
    let facts = GatewayFinding::AuthFailed {
        status: refusal.map(|r| r.value),
        reason,
        scheme: a.scheme,
        offered: a.offered.clone(),
        credentials_sent: a.credentials_sent.is_some(),
        mechanism: a.mechanism,
        tsgu: tsgu.map(|(stage, s)| (stage, s.value)),
    };
    out.push(finding(FindingCode::GatewayAuthFailed, facts, evidence));
}

/// The first tunnel or channel status that denies by policy or refuses the channel.
fn tunnel_statuses(ctx: &Ctx, f: &GatewayInsideFacts, out: &mut Vec<Finding>) {
    let stages: [(TsguStage, &Option<Stamped<TsguStatus>>); 5] = [
        (TsguStage::Handshake, &f.tunnel.handshake),
        (TsguStage::Tunnel, &f.tunnel.create),
        (TsguStage::TunnelAuth, &f.tunnel.auth),
        (TsguStage::Channel, &f.channel.status),
        (TsguStage::CloseChannel, &f.channel.close),
    ];
    let c = &f.channel;
    let requested = c
        .requested
        .as_ref()
        .map(|at| ev(ctx, at, GatewayNote::ChannelRequested { port: c.port }));
    let policy = stages.iter().find_map(|(st, s)| {
        s.as_ref()
            .filter(|s| s.value.is_policy_denial())
            .map(|s| (*st, s))
    });
    if let Some((stage, s)) = policy {
        let mut evidence: Vec<_> = requested.clone().into_iter().collect();
        evidence.push(ev(ctx, &s.at, GatewayNote::Tsgu(stage, s.value)));
        let facts = GatewayFinding::PolicyDenied {
            stage,
            status: s.value,
            target: c.target.clone(),
            port: c.port,
        };
        out.push(finding(FindingCode::GatewayPolicyDenied, facts, evidence));
        return;
    }
    let channel_refused = [
        (TsguStage::Channel, &c.status),
        (TsguStage::CloseChannel, &c.close),
    ]
    .into_iter()
    .find_map(|(st, s)| {
        s.as_ref()
            .filter(|s| {
                let v = s.value.canonical();
                v == TsguStatus::E_PROXY_TS_CONNECTFAILED
                    || (st == TsguStage::Channel && !v.is_success() && !v.is_auth_refusal())
            })
            .map(|s| (st, s))
    });
    if let Some((stage, s)) = channel_refused {
        let mut evidence: Vec<_> = requested.into_iter().collect();
        evidence.push(ev(ctx, &s.at, GatewayNote::Tsgu(stage, s.value)));
        let facts = GatewayFinding::TargetUnreachable {
            stage,
            status: s.value,
            target: c.target.clone(),
            port: c.port,
        };
        out.push(finding(
            FindingCode::GatewayTargetUnreachable,
            facts,
            evidence,
        ));
    }
}

fn kdc_proxy(ctx: &Ctx, f: &GatewayInsideFacts, out: &mut Vec<Finding>) {
    let k = &f.kdc_proxy;
    let http_failed = k.status.as_ref().filter(|s| !(200..300).contains(&s.value));
    let last = k.last_reply();
    let krb_failed = last
        .and_then(|m| m.value.error.map(|e| (m, e)))
        .filter(|(_, e)| !is_routine_krb_error(*e));
    let unanswered = k.requests > k.responses && http_failed.is_none();
    if http_failed.is_none() && krb_failed.is_none() && !unanswered && k.http2_error.is_none() {
        return;
    }
    let mut evidence = Vec::new();
    if let Some(req) = k
        .messages
        .iter()
        .rev()
        .find(|m| matches!(m.value.msg_type, 10 | 12))
    {
        evidence.push(ev(ctx, &req.at, GatewayNote::KdcRequest));
    }
    if let Some(s) = http_failed {
        evidence.push(ev(ctx, &s.at, GatewayNote::HttpStatus(s.value)));
    }
    if let Some((m, _)) = krb_failed {
        evidence.push(ev(ctx, &m.at, GatewayNote::KdcReply(m.value)));
    }
    let facts = GatewayFinding::KdcProxyFailed {
        http_status: http_failed.map(|s| s.value),
        reason: http_failed.and(k.reason.clone()),
        krb_error: krb_failed.map(|(_, e)| e),
        requests: k.requests,
        responses: k.responses,
        http2_error: k.http2_error.as_ref().map(|e| e.value),
        target_domain: k.target_domain.clone(),
    };
    out.push(finding(FindingCode::KdcProxyFailed, facts, evidence));
}

/// The RDP connection tunnelled through a diagnosed gateway connection, diagnosed as a
/// connection of its own with id `id` and `via_gateway` set to the gateway's id. Its
/// endpoints are the gateway connection's, the server port the one the channel asked for
/// (the target's address is the gateway's business; its name is in the channel facts);
/// it has no TCP facts of its own. None when nothing was tunnelled.
pub fn diagnose_tunnelled(
    parent: &mut super::Diagnosed,
    id: u64,
    config: &super::DiagnoseConfig,
) -> Option<super::Diagnosed> {
    let gw = parent.connection.gateway_inside.as_deref_mut()?;
    let port = gw.facts.channel.port;
    let data = gw.facts.data;
    let child = gw.take_child()?;
    let events = &child.timeline.events;
    let first = events.first().map(|e| e.at).unwrap_or(parent.meta.first);
    let last = events.last().map(|e| e.at).unwrap_or(parent.meta.last);
    let mut server = parent.meta.server;
    server.port = port.unwrap_or(3389);
    let meta = crate::flow::FlowMeta {
        id,
        transport: crate::flow::TransportKind::Tcp,
        client: parent.meta.client,
        server,
        first,
        last: child
            .last_payload
            .iter()
            .flatten()
            .max_by_key(|p| p.ts_ns)
            .copied()
            .map_or(last, |p| if p.ts_ns > last.ts_ns { p } else { last }),
        packets: data.iter().map(|d| d.packets).sum(),
        bytes: data.iter().map(|d| d.bytes).sum(),
        packets_by_side: crate::flow::Sides(data.0.map(|d| d.packets)),
    };
    let flow = crate::flow::FinishedFlow {
        meta,
        tcp: None,
        handler: Box::new(child),
        evicted: false,
    };
    let mut d = super::diagnose(flow, config, Default::default());
    d.via_gateway = Some(parent.meta.id);
    Some(d)
}
