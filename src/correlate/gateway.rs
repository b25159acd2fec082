//! Which candidate TLS/DTLS flows are an RD Gateway's, and how they belong together
//! (MS-TSGU 1.3: the HTTP transport's OUT and IN channels, or one WebSocket connection;
//! the UDP transport on 3391 beside them; MS-KKDCP: the KDC proxy on the same server).
//! Without keys nothing inside the TLS is readable, so the join is made from addresses,
//! times and the rhythm of records, and its basis is recorded with the result.
//!
//! Memory: a bounded window of finished candidates' shapes and of ids reserved for partners
//! still open; the open candidates are looked at in the flow table when a rule needs them
//! and the table holds some between the same two hosts (it counts them per host pair).

use std::collections::VecDeque;

use crate::flow::{is_candidate_id, FlowTable, Side, TransportKind};
use crate::session::gateway::recognise::{
    dtls_on_gateway_port, failed_early, interactive, named_gateway, one_way, request_response,
};
use crate::session::gateway::{
    FlowShape, GatewayBasis, GatewayFacts, GatewayRole, GatewayTransport,
};
use crate::session::Connection;

/// How far apart the two channels' ClientHellos may be (clients open them back to back).
const CHANNEL_PAIR_NS: i64 = 2_000_000_000;
/// Slack around a connection's lifetime for a flow beside it (clock and capture edges).
const BESIDE_SLACK_NS: i64 = 5_000_000_000;
/// Finished candidates remembered.
const RECENT: usize = 1024;
/// Ids reserved for open partners, remembered until they finish.
const RESERVED: usize = 1024;
/// Open flows scanned for the partner of a flow that shows no gateway evidence of its own
/// only while the table holds at most this many (a capture full of HTTPS stays linear).
const SCAN_ACTIVE_UP_TO: usize = 4096;

/// A finished candidate and what was decided for it.
#[derive(Debug, Clone)]
struct Judged {
    shape: FlowShape,
    /// The connection id it was given, if it is a gateway's.
    id: Option<u64>,
    role: Option<GatewayRole>,
}

/// Another flow looked at while judging one.
#[derive(Debug, Clone)]
struct Other {
    shape: FlowShape,
    id: Option<u64>,
    role: Option<GatewayRole>,
    open: bool,
}

/// A candidate recognised as a gateway connection, with its connection id.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognised {
    pub id: u64,
    pub facts: GatewayFacts,
}

#[derive(Debug, Default)]
pub struct GatewayCorrelator {
    recent: VecDeque<Judged>,
    reserved: VecDeque<(u64, u64)>,
}

impl GatewayCorrelator {
    /// Judges a finished candidate flow: a gateway connection (with its id, allocated from
    /// `table` unless already reserved), or None (an ordinary TLS flow, dropped).
    pub fn judge(
        &mut self,
        shape: FlowShape,
        table: &mut FlowTable<Connection>,
    ) -> Option<Recognised> {
        let others = self.others(&shape, table);
        let found = recognise(&shape, &others);
        let result = found.map(|(facts, partner)| {
            let id = self
                .take_reserved(shape.candidate)
                .unwrap_or_else(|| table.allocate_id());
            let paired_with = partner.and_then(|p| self.partner_id(p, table));
            Recognised {
                id,
                facts: GatewayFacts {
                    paired_with,
                    ..facts
                },
            }
        });
        self.recent.push_back(Judged {
            shape,
            id: result.as_ref().map(|r| r.id),
            role: result.as_ref().map(|r| r.facts.role),
        });
        if self.recent.len() > RECENT {
            self.recent.pop_front();
        }
        result
    }

    fn take_reserved(&mut self, candidate: u64) -> Option<u64> {
        let at = self.reserved.iter().position(|(c, _)| *c == candidate)?;
        self.reserved.remove(at).map(|(_, id)| id)
    }

    /// The connection id of a partner: given already, or reserved now for an open partner
    /// that the same rule will recognise when it finishes.
    fn partner_id(&mut self, partner: Partner, table: &mut FlowTable<Connection>) -> Option<u64> {
        match partner {
            Partner::Known(id) => Some(id),
            Partner::Open(candidate) => {
                if let Some((_, id)) = self.reserved.iter().find(|(c, _)| *c == candidate) {
                    return Some(*id);
                }
                let id = table.allocate_id();
                self.reserved.push_back((candidate, id));
                if self.reserved.len() > RESERVED {
                    self.reserved.pop_front();
                }
                Some(id)
            }
            Partner::Unnumbered => None,
        }
    }

    /// Finished and open candidates between the same two hosts.
    fn others(&self, me: &FlowShape, table: &mut FlowTable<Connection>) -> Vec<Other> {
        let same_hosts = |s: &FlowShape| {
            s.candidate != me.candidate && s.client == me.client && s.server.ip == me.server.ip
        };
        let mut out: Vec<Other> = self
            .recent
            .iter()
            .filter(|j| same_hosts(&j.shape))
            .map(|j| Other {
                shape: j.shape.clone(),
                id: j.id,
                role: j.role,
                open: false,
            })
            .collect();
        let evidence_of_its_own = named_gateway(me)
            || interactive(me)
            || one_way(me).is_some()
            || dtls_on_gateway_port(me);
        let too_many_to_scan = !evidence_of_its_own && table.active_flows() > SCAN_ACTIVE_UP_TO;
        if too_many_to_scan || table.open_candidates_between(me.client, me.server.ip) == 0 {
            return out;
        }
        table.for_each_active(|meta, tcp, conn| {
            if !is_candidate_id(meta.id)
                || meta.client.ip != me.client
                || meta.server.ip != me.server.ip
            {
                return;
            }
            let shape = FlowShape::of(conn, meta, tcp);
            if same_hosts(&shape) {
                let id = self
                    .reserved
                    .iter()
                    .find(|(c, _)| *c == shape.candidate)
                    .map(|(_, id)| *id);
                out.push(Other {
                    shape,
                    id,
                    role: None,
                    open: true,
                });
            }
        });
        out.sort_by_key(|o| o.shape.candidate);
        out
    }
}

/// Whose id `paired_with` takes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Partner {
    Known(u64),
    /// An open candidate, by its provisional id: an id is reserved for it.
    Open(u64),
    /// A partner whose id is not known and will not be reserved (it may not be recognised).
    Unnumbered,
}

fn partner_of(o: &Other, reserve: bool) -> Partner {
    match (o.id, o.open && reserve) {
        (Some(id), _) => Partner::Known(id),
        (None, true) => Partner::Open(o.shape.candidate),
        (None, false) => Partner::Unnumbered,
    }
}

/// Started during `host`'s lifetime (with slack).
fn beside(flow: &FlowShape, host: &FlowShape) -> bool {
    flow.first_ns >= host.first_ns - BESIDE_SLACK_NS
        && flow.first_ns <= host.last_ns + BESIDE_SLACK_NS
}

/// Would `o` be (or was it) recognised as a tunnel connection on its own evidence?
fn tunnel_like(o: &Other) -> bool {
    match o.role {
        Some(role) => role != GatewayRole::KdcProxy,
        None => {
            o.shape.transport == TransportKind::Tcp
                && (named_gateway(&o.shape) && interactive(&o.shape) || o.id.is_some())
        }
    }
}

/// The rules, strongest first. Returns the facts (without `paired_with`) and the partner.
fn recognise(me: &FlowShape, others: &[Other]) -> Option<(GatewayFacts, Option<Partner>)> {
    let facts = |transport, role, basis: Vec<GatewayBasis>| GatewayFacts {
        transport,
        role,
        server_name: me.server_name(),
        connection_id: None,
        paired_with: None,
        basis,
    };
    if me.transport == TransportKind::Udp {
        if !dtls_on_gateway_port(me) {
            return None;
        }
        let tcp = others
            .iter()
            .filter(|o| o.shape.transport == TransportKind::Tcp && beside(me, &o.shape))
            .find(|o| tunnel_like(o) || interactive(&o.shape) || one_way(&o.shape).is_some());
        let f = facts(
            GatewayTransport::Udp,
            GatewayRole::Udp,
            vec![GatewayBasis::DtlsOnGatewayPort],
        );
        return Some((f, tcp.map(|o| partner_of(o, true))));
    }
    let tcp_others = || {
        others
            .iter()
            .filter(|o| o.shape.transport == TransportKind::Tcp && o.shape.server == me.server)
    };
    let mut basis = Vec::new();
    let mut partner = None;
    let udp = others
        .iter()
        .find(|o| dtls_on_gateway_port(&o.shape) && beside(&o.shape, me));
    if let Some(u) = udp {
        basis.push(GatewayBasis::UdpTransportBeside);
        partner = Some(partner_of(u, true));
    }
    let channel = one_way(me).and_then(|dir| {
        tcp_others().find(|o| {
            one_way(&o.shape) == Some(dir.other())
                && match (o.shape.hello_ns, me.hello_ns) {
                    (Some(a), Some(b)) => (a - b).abs() <= CHANNEL_PAIR_NS,
                    _ => false,
                }
        })
    });
    if let Some(c) = channel {
        basis.push(GatewayBasis::PairedChannels);
        partner = Some(partner_of(c, true));
    }
    if named_gateway(me) && interactive(me) {
        basis.push(GatewayBasis::NamedInteractive);
    }
    let kdc_host = (!interactive(me) && one_way(me).is_none() && request_response(me))
        .then(|| tcp_others().find(|o| tunnel_like(o) && beside(me, &o.shape)))
        .flatten();
    if let Some(host) = kdc_host {
        basis.push(GatewayBasis::KdcProxyBeside);
        partner = partner.or(Some(partner_of(host, false)));
    }
    if named_gateway(me) && failed_early(me) {
        basis.push(GatewayBasis::NamedFailure);
    }
    if basis.is_empty() {
        return None;
    }
    let (transport, role) = match one_way(me) {
        Some(Side::Server) if channel.is_some() => {
            (GatewayTransport::Http, GatewayRole::OutChannel)
        }
        Some(Side::Client) if channel.is_some() => (GatewayTransport::Http, GatewayRole::InChannel),
        _ if kdc_host.is_some() && basis.len() == 1 => {
            (GatewayTransport::Http, GatewayRole::KdcProxy)
        }
        _ => (GatewayTransport::WebSocket, GatewayRole::WebSocket),
    };
    Some((facts(transport, role, basis), partner))
}

#[cfg(test)]
mod tests;
