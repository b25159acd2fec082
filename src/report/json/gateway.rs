//! The `--json` `gateway` object of an RD Gateway connection (docs/json.md).

use serde::Serialize;

use crate::report::gateway::{basis_name, role_name, transport_name};
use crate::session::Connection;

#[derive(Debug, Serialize)]
pub struct GatewayJson<'a> {
    /// `http`, `websocket`, `rpc-over-http` or `udp`.
    pub transport: &'static str,
    /// The RDG-Connection-Id (null without keys).
    pub connection_id: Option<&'a str>,
    /// `out-channel`, `in-channel`, `websocket`, `kdc-proxy` or `udp`.
    pub role: &'static str,
    pub server_name: Option<&'a str>,
    /// Connection id of the other channel, the tunnel beside a KDC proxy or a UDP flow.
    pub paired_with: Option<u64>,
    /// Why the connection was taken for a gateway's.
    pub basis: Vec<&'static str>,
}

pub fn gateway(c: &Connection) -> Option<GatewayJson<'_>> {
    let g = c.gateway.as_deref()?;
    Some(GatewayJson {
        transport: transport_name(g.transport),
        connection_id: g.connection_id.as_deref(),
        role: role_name(g.role),
        server_name: g.server_name.as_deref(),
        paired_with: g.paired_with,
        basis: g.basis.iter().map(|b| basis_name(*b)).collect(),
    })
}
