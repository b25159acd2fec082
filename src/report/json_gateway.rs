//! The `--json` `gateway` object read inside a decrypted RD Gateway stream (issue 16):
//! `transport`, `connection_id`, `correlation_id`, `auth`, `kdc_proxy`, `tunnel`, `channel`
//! (docs/json.md, "RD Gateway, read inside TLS"). Omitted for connections that are not a
//! gateway's or were not decrypted.

use serde::Serialize;

use super::gateway_inside_events::scheme_name;
use crate::proto::tsgu::TsguStatus;
use crate::session::gateway::inside_facts::GatewayInsideFacts;

/// A gateway status: `{"code": "0x800759DA", "name": "E_PROXY_RAP_ACCESSDENIED"}`.
#[derive(Debug, Serialize, PartialEq)]
pub struct TsguStatusJson {
    pub code: String,
    pub name: Option<String>,
}

impl TsguStatusJson {
    fn new(s: TsguStatus) -> Self {
        TsguStatusJson {
            code: format!("0x{:08X}", s.0),
            name: s.name(),
        }
    }
}

#[derive(Debug, Serialize, PartialEq)]
pub struct GatewayAuthJson {
    /// `negotiate`, `ntlm`, `kerberos`, `basic`, `bearer`, `digest`, `other`.
    pub scheme: Option<String>,
    /// The last HTTP status of a gateway request (101 when the WebSocket upgrade passed).
    pub status: Option<u16>,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct KdcProxyJson {
    pub requests: u32,
    pub responses: u32,
    pub status: Option<u16>,
    /// The last KRB-ERROR carried back: `{"code": 25, "name": "KDC_ERR_PREAUTH_REQUIRED"}`.
    pub krb_error: Option<KrbErrorJson>,
    pub http2: bool,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct KrbErrorJson {
    pub code: i32,
    pub name: Option<&'static str>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct TunnelJson {
    pub status: Option<TsguStatusJson>,
    pub id: Option<u32>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct GatewayChannelJson {
    pub target: Option<String>,
    pub port: Option<u16>,
    pub status: Option<TsguStatusJson>,
    /// The gateway's UDP transport port when it offered one (3391).
    pub udp_port: Option<u16>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct GatewayInsideJson {
    /// `http`, `websocket`, `rpc-over-http`, `kdc-proxy`.
    pub transport: Option<&'static str>,
    pub connection_id: Option<String>,
    pub correlation_id: Option<String>,
    pub auth: GatewayAuthJson,
    /// Omitted when the connection carried no `/KdcProxy` exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kdc_proxy: Option<KdcProxyJson>,
    pub tunnel: TunnelJson,
    pub channel: GatewayChannelJson,
}

pub fn facts_json(f: &GatewayInsideFacts) -> GatewayInsideJson {
    let k = &f.kdc_proxy;
    let kdc_used = k.requests > 0 || k.responses > 0 || k.status.is_some() || k.http2;
    GatewayInsideJson {
        transport: f.transport.map(|t| t.key()),
        connection_id: f.connection_id.clone(),
        correlation_id: f.correlation_id.clone(),
        auth: GatewayAuthJson {
            scheme: f.auth.scheme.map(|s| scheme_name(s).to_ascii_lowercase()),
            status: f.auth.status.as_ref().map(|s| s.value),
            reason: f.auth.reason.clone(),
        },
        kdc_proxy: kdc_used.then(|| KdcProxyJson {
            requests: k.requests,
            responses: k.responses,
            status: k.status.as_ref().map(|s| s.value),
            krb_error: k.krb_error.as_ref().map(|e| KrbErrorJson {
                code: e.value.0,
                name: e.value.name(),
            }),
            http2: k.http2,
        }),
        tunnel: TunnelJson {
            status: f.tunnel.status().map(|s| TsguStatusJson::new(s.value)),
            id: f.tunnel.tunnel_id,
        },
        channel: GatewayChannelJson {
            target: f.channel.target.clone(),
            port: f.channel.port,
            status: f
                .channel
                .status
                .as_ref()
                .map(|s| TsguStatusJson::new(s.value)),
            udp_port: f.channel.udp_port,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{PacketInfo, Side};
    use crate::session::Stamped;

    #[test]
    fn synthetic_policy_denial_keys() {
        let at = PacketInfo {
            file: 0,
            frame: 9,
            ts_ns: 0,
        };
        let mut f = GatewayInsideFacts::default();
        f.channel.target = Some("host.example".into());
        f.channel.port = Some(3389);
        f.channel.status = Some(Stamped {
            at,
            side: Side::Server,
            value: TsguStatus::E_PROXY_RAP_ACCESSDENIED,
        });
        let v = serde_json::to_value(facts_json(&f)).unwrap();
        assert_eq!(v["channel"]["status"]["code"], "0x800759DA");
        assert_eq!(v["channel"]["status"]["name"], "E_PROXY_RAP_ACCESSDENIED");
        assert_eq!(v["channel"]["target"], "host.example");
        assert!(v.get("kdc_proxy").is_none());
        assert!(v["tunnel"]["status"].is_null());
    }
}
