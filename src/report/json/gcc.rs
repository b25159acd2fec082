//! GCC user data (`mcs.client`, `mcs.server`): the shapes docs/json.md lists, built from the
//! parser's types so a parser field can be renamed without changing the JSON.

use serde::Serialize;

use crate::proto::gcc::{
    Channel, ClientCluster, ClientCore, ClientData, ClientSecurity, ServerCertificate, ServerCore,
    ServerData, ServerSecurity,
};

#[derive(Debug, Serialize)]
pub struct ClientDataJson<'a> {
    pub core: Option<ClientCoreJson<'a>>,
    pub security: Option<ClientSecurityJson>,
    pub channels: Option<Vec<ChannelJson<'a>>>,
    pub cluster: Option<ClientClusterJson>,
    pub monitors: Option<u32>,
    pub message_channel_flags: Option<u32>,
    pub multitransport_flags: Option<u32>,
    pub unknown_blocks: &'a [u16],
}

#[derive(Debug, Serialize)]
pub struct ClientCoreJson<'a> {
    pub version: u32,
    pub version_name: &'a str,
    pub desktop_width: u16,
    pub desktop_height: u16,
    pub color_depth: &'a str,
    pub keyboard_layout: &'a str,
    pub client_build: u32,
    pub client_name: &'a str,
    pub keyboard_type: Option<u32>,
    pub keyboard_subtype: Option<u32>,
    pub keyboard_function_keys: Option<u32>,
    pub high_color_depth: Option<u16>,
    pub supported_color_depths: Option<u16>,
    pub early_capability_flags: Option<u16>,
    pub connection_type: Option<u8>,
    pub server_selected_protocol: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct ClientSecurityJson {
    pub encryption_methods: u32,
    pub ext_encryption_methods: u32,
}

#[derive(Debug, Serialize)]
pub struct ChannelJson<'a> {
    pub name: &'a str,
    pub options: u32,
}

#[derive(Debug, Serialize)]
pub struct ClientClusterJson {
    pub flags: u32,
    pub redirected_session_id: u32,
}

impl<'a> ClientDataJson<'a> {
    pub(super) fn new(c: &'a ClientData) -> Self {
        ClientDataJson {
            core: c.core.as_ref().map(ClientCoreJson::new),
            security: c.security.as_ref().map(
                |&ClientSecurity {
                     encryption_methods,
                     ext_encryption_methods,
                 }| ClientSecurityJson {
                    encryption_methods,
                    ext_encryption_methods,
                },
            ),
            channels: c.channels.as_ref().map(|list| {
                list.iter()
                    .map(|Channel { name, options }| ChannelJson {
                        name,
                        options: *options,
                    })
                    .collect()
            }),
            cluster: c.cluster.as_ref().map(
                |&ClientCluster {
                     flags,
                     redirected_session_id,
                 }| ClientClusterJson {
                    flags,
                    redirected_session_id,
                },
            ),
            monitors: c.monitors,
            message_channel_flags: c.message_channel_flags,
            multitransport_flags: c.multitransport_flags,
            unknown_blocks: &c.unknown_blocks,
        }
    }
}

impl<'a> ClientCoreJson<'a> {
    fn new(c: &'a ClientCore) -> Self {
        ClientCoreJson {
            version: c.version,
            version_name: &c.version_name,
            desktop_width: c.desktop_width,
            desktop_height: c.desktop_height,
            color_depth: &c.color_depth,
            keyboard_layout: &c.keyboard_layout,
            client_build: c.client_build,
            client_name: &c.client_name,
            keyboard_type: c.keyboard_type,
            keyboard_subtype: c.keyboard_subtype,
            keyboard_function_keys: c.keyboard_function_keys,
            high_color_depth: c.high_color_depth,
            supported_color_depths: c.supported_color_depths,
            early_capability_flags: c.early_capability_flags,
            connection_type: c.connection_type,
            server_selected_protocol: c.server_selected_protocol,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ServerDataJson<'a> {
    pub core: Option<ServerCoreJson<'a>>,
    pub security: Option<ServerSecurityJson<'a>>,
    pub io_channel: Option<u16>,
    pub channel_ids: Option<&'a [u16]>,
    pub message_channel: Option<u16>,
    pub multitransport_flags: Option<u32>,
    pub unknown_blocks: &'a [u16],
}

#[derive(Debug, Serialize)]
pub struct ServerCoreJson<'a> {
    pub version: u32,
    pub version_name: &'a str,
    pub client_requested_protocols: Option<u32>,
    pub early_capability_flags: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct ServerSecurityJson<'a> {
    pub encryption_method: &'a str,
    pub encryption_level: &'a str,
    pub server_random_len: Option<u32>,
    pub server_cert_len: Option<u32>,
    pub certificate: Option<ServerCertificateJson>,
}

#[derive(Debug, Serialize)]
pub struct ServerCertificateJson {
    /// "proprietary", "x509" or "unknown".
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub version: u32,
    pub temporary: bool,
    pub chain_len: Option<u32>,
}

impl<'a> ServerDataJson<'a> {
    pub(super) fn new(s: &'a ServerData) -> Self {
        ServerDataJson {
            core: s.core.as_ref().map(|c: &'a ServerCore| ServerCoreJson {
                version: c.version,
                version_name: &c.version_name,
                client_requested_protocols: c.client_requested_protocols,
                early_capability_flags: c.early_capability_flags,
            }),
            security: s
                .security
                .as_ref()
                .map(|sec: &'a ServerSecurity| ServerSecurityJson {
                    encryption_method: &sec.encryption_method,
                    encryption_level: &sec.encryption_level,
                    server_random_len: sec.server_random_len,
                    server_cert_len: sec.server_cert_len,
                    certificate: sec.certificate.as_ref().map(|cert: &ServerCertificate| {
                        ServerCertificateJson {
                            kind: cert.kind.name(),
                            version: cert.version,
                            temporary: cert.temporary,
                            chain_len: cert.chain_len,
                        }
                    }),
                }),
            io_channel: s.io_channel,
            channel_ids: s.channel_ids.as_deref(),
            message_channel: s.message_channel,
            multitransport_flags: s.multitransport_flags,
            unknown_blocks: &s.unknown_blocks,
        }
    }
}
