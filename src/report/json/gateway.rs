//! The `--json` `gateway` object of an RD Gateway connection (docs/json.md): what the
//! packets showed from outside the TLS (transport, role, pairing, basis) and, when the TLS
//! was decrypted, what the HTTP / KDC proxy / MS-TSGU inside said
//! (`report::json_gateway`).

use serde::Serialize;

use crate::report::gateway::{basis_name, role_name, transport_name};
use crate::report::json_gateway::{
    facts_json, GatewayAuthJson, GatewayChannelJson, KdcProxyJson, TunnelJson,
};
use crate::session::gateway::GatewayFacts;
use crate::session::Connection;

#[derive(Debug, Serialize)]
pub struct GatewayJson {
    /// `http`, `websocket`, `rpc-over-http` or `udp`.
    pub transport: &'static str,
    /// The RDG-Connection-Id (null without keys).
    pub connection_id: Option<String>,
    /// `out-channel`, `in-channel`, `websocket`, `kdc-proxy` or `udp`.
    pub role: &'static str,
    pub server_name: Option<String>,
    /// Connection id of the other channel, the tunnel beside a KDC proxy or a UDP flow.
    pub paired_with: Option<u64>,
    /// Why the connection was taken for a gateway's.
    pub basis: Vec<&'static str>,
    /// Read inside the decrypted TLS (omitted without keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<GatewayAuthJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kdc_proxy: Option<KdcProxyJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<TunnelJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<GatewayChannelJson>,
}

pub fn gateway(c: &Connection) -> Option<GatewayJson> {
    let inside = c.gateway_inside.as_deref().map(|g| &g.facts);
    let proved;
    let g = match (c.gateway.as_deref(), inside) {
        (Some(g), _) => g,
        (None, Some(i)) => {
            proved = GatewayFacts::with_inside(None, i, None);
            &proved
        }
        (None, None) => return None,
    };
    let read = inside.map(facts_json);
    let mut json = GatewayJson {
        transport: transport_name(g.transport),
        connection_id: g.connection_id.clone(),
        role: role_name(g.role),
        server_name: g.server_name.clone(),
        paired_with: g.paired_with,
        basis: g.basis.iter().map(|b| basis_name(*b)).collect(),
        correlation_id: None,
        auth: None,
        kdc_proxy: None,
        tunnel: None,
        channel: None,
    };
    if let Some(r) = read {
        json.connection_id = json.connection_id.or(r.connection_id);
        json.correlation_id = r.correlation_id;
        json.auth = Some(r.auth);
        json.kdc_proxy = r.kdc_proxy;
        json.tunnel = Some(r.tunnel);
        json.channel = Some(r.channel);
    }
    Some(json)
}
