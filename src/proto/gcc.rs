//! GCC user-data blocks (BCGR 2.2.1.3, 2.2.1.4; FACTS 2.3): what the client says about itself
//! in the MCS Connect Initial and what the server answers. Readable only under Standard RDP
//! Security (otherwise inside TLS). Every field past the mandatory ones is optional.

use serde::Serialize;

const CS_CORE: u16 = 0xc001;
const CS_SECURITY: u16 = 0xc002;
const CS_NET: u16 = 0xc003;
const CS_CLUSTER: u16 = 0xc004;
const CS_MONITOR: u16 = 0xc005;
const CS_MCS_MSGCHANNEL: u16 = 0xc006;
const CS_MONITOR_EX: u16 = 0xc008;
const CS_MULTITRANSPORT: u16 = 0xc00a;
const SC_CORE: u16 = 0x0c01;
const SC_SECURITY: u16 = 0x0c02;
const SC_NET: u16 = 0x0c03;
const SC_MCS_MSGCHANNEL: u16 = 0x0c04;
const SC_MULTITRANSPORT: u16 = 0x0c08;

/// Channel lists are capped (the spec allows 31 static channels).
const MAX_CHANNELS: usize = 64;
/// X.509 chains are capped in count and in bytes per certificate.
const MAX_CERTS: usize = 8;
const MAX_CERT_BYTES: usize = 16 * 1024;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Iterates `type(2) length(2) body` blocks; stops at the first inconsistent header.
fn blocks(mut data: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while let (Some(t), Some(len)) = (u16_at(data, 0), u16_at(data, 2)) {
        let len = usize::from(len);
        if len < 4 {
            break;
        }
        let Some(body) = data.get(4..len) else { break };
        out.push((t, body));
        data = data.get(len..).unwrap_or_default();
        if out.len() > 32 {
            break;
        }
    }
    out
}

pub fn rdp_version_name(v: u32) -> String {
    match v {
        0x0008_0001 => "RDP 4.0".into(),
        0x0008_0004 => "RDP 5.0+".into(),
        0x0008_0005..=0x0008_0011 => format!("RDP 10.{}", v - 0x0008_0005),
        _ => format!("0x{v:08x}"),
    }
}

pub fn color_depth_name(v: u16) -> String {
    match v {
        0xca00 => "4bpp".into(),
        0xca01 => "8bpp".into(),
        0xca02 => "15bpp".into(),
        0xca03 => "16bpp".into(),
        0xca04 => "24bpp".into(),
        _ => format!("0x{v:04x}"),
    }
}

pub fn encryption_method_name(v: u32) -> String {
    match v {
        0 => "none".into(),
        0x01 => "40bit".into(),
        0x02 => "128bit".into(),
        0x08 => "56bit".into(),
        0x10 => "fips".into(),
        _ => format!("0x{v:08x}"),
    }
}

pub fn encryption_level_name(v: u32) -> String {
    match v {
        0 => "none".into(),
        1 => "low".into(),
        2 => "client_compatible".into(),
        3 => "high".into(),
        4 => "fips".into(),
        _ => format!("0x{v:08x}"),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientCore {
    pub version: u32,
    pub version_name: String,
    pub desktop_width: u16,
    pub desktop_height: u16,
    pub color_depth: String,
    pub keyboard_layout: String,
    pub client_build: u32,
    pub client_name: String,
    pub keyboard_type: Option<u32>,
    pub keyboard_subtype: Option<u32>,
    pub keyboard_function_keys: Option<u32>,
    pub high_color_depth: Option<u16>,
    pub supported_color_depths: Option<u16>,
    pub early_capability_flags: Option<u16>,
    pub connection_type: Option<u8>,
    pub server_selected_protocol: Option<u32>,
}

fn utf16_name(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes(c.try_into().unwrap_or([0, 0])))
        .take_while(|u| *u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

fn client_core(b: &[u8]) -> Option<ClientCore> {
    Some(ClientCore {
        version: u32_at(b, 0)?,
        version_name: rdp_version_name(u32_at(b, 0)?),
        desktop_width: u16_at(b, 4)?,
        desktop_height: u16_at(b, 6)?,
        color_depth: color_depth_name(u16_at(b, 8)?),
        keyboard_layout: format!("0x{:08x}", u32_at(b, 12)?),
        client_build: u32_at(b, 16)?,
        client_name: utf16_name(b.get(20..52)?),
        keyboard_type: u32_at(b, 52),
        keyboard_subtype: u32_at(b, 56),
        keyboard_function_keys: u32_at(b, 60),
        high_color_depth: u16_at(b, 136),
        supported_color_depths: u16_at(b, 138),
        early_capability_flags: u16_at(b, 140),
        connection_type: b.get(206).copied(),
        server_selected_protocol: u32_at(b, 208),
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientSecurity {
    pub encryption_methods: u32,
    pub ext_encryption_methods: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Channel {
    pub name: String,
    pub options: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientCluster {
    pub flags: u32,
    pub redirected_session_id: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClientData {
    pub core: Option<ClientCore>,
    pub security: Option<ClientSecurity>,
    pub channels: Option<Vec<Channel>>,
    pub cluster: Option<ClientCluster>,
    pub monitors: Option<u32>,
    pub message_channel_flags: Option<u32>,
    pub multitransport_flags: Option<u32>,
    pub unknown_blocks: Vec<u16>,
}

pub fn parse_client_data(data: &[u8]) -> ClientData {
    let mut cd = ClientData::default();
    for (t, b) in blocks(data) {
        match t {
            CS_CORE => cd.core = client_core(b),
            CS_SECURITY => {
                cd.security = Some(ClientSecurity {
                    encryption_methods: u32_at(b, 0).unwrap_or(0),
                    ext_encryption_methods: u32_at(b, 4).unwrap_or(0),
                })
            }
            CS_NET => {
                let count = u32_at(b, 0).unwrap_or(0) as usize;
                let channels = (0..count.min(MAX_CHANNELS))
                    .filter_map(|i| {
                        let at = 4 + i * 12;
                        let name = b.get(at..at + 8)?;
                        let end = name.iter().position(|c| *c == 0).unwrap_or(8);
                        Some(Channel {
                            name: String::from_utf8_lossy(name.get(..end)?).into_owned(),
                            options: u32_at(b, at + 8)?,
                        })
                    })
                    .collect();
                cd.channels = Some(channels);
            }
            CS_CLUSTER => {
                cd.cluster = Some(ClientCluster {
                    flags: u32_at(b, 0).unwrap_or(0),
                    redirected_session_id: u32_at(b, 4).unwrap_or(0),
                })
            }
            CS_MONITOR | CS_MONITOR_EX => {
                if t == CS_MONITOR {
                    cd.monitors = u32_at(b, 4);
                }
            }
            CS_MCS_MSGCHANNEL => cd.message_channel_flags = u32_at(b, 0),
            CS_MULTITRANSPORT => cd.multitransport_flags = u32_at(b, 0),
            other => cd.unknown_blocks.push(other),
        }
    }
    cd
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerCore {
    pub version: u32,
    pub version_name: String,
    pub client_requested_protocols: Option<u32>,
    pub early_capability_flags: Option<u32>,
}

/// CERT_CHAIN_VERSION_1 is a proprietary RSA key blob signed by Microsoft's well-known key,
/// CERT_CHAIN_VERSION_2 an X.509 chain; the top bit marks a temporary certificate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerCertificate {
    /// "proprietary", "x509" or "unknown".
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub version: u32,
    pub temporary: bool,
    /// Certificates in an X.509 chain.
    pub chain_len: Option<u32>,
    #[serde(skip)]
    pub certs_der: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerSecurity {
    pub encryption_method: String,
    pub encryption_level: String,
    pub server_random_len: Option<u32>,
    pub server_cert_len: Option<u32>,
    pub certificate: Option<ServerCertificate>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServerData {
    pub core: Option<ServerCore>,
    pub security: Option<ServerSecurity>,
    pub io_channel: Option<u16>,
    pub channel_ids: Option<Vec<u16>>,
    pub message_channel: Option<u16>,
    pub multitransport_flags: Option<u32>,
    pub unknown_blocks: Vec<u16>,
}

fn server_certificate(cert: &[u8]) -> Option<ServerCertificate> {
    let version = u32_at(cert, 0)?;
    let mut out = ServerCertificate {
        kind: "unknown",
        version: version & 0x7fff_ffff,
        temporary: version & 0x8000_0000 != 0,
        chain_len: None,
        certs_der: Vec::new(),
    };
    match out.version {
        1 => out.kind = "proprietary",
        2 => {
            out.kind = "x509";
            let chain_len = u32_at(cert, 4).unwrap_or(0);
            out.chain_len = Some(chain_len);
            let mut at = 8;
            for _ in 0..(chain_len as usize).min(MAX_CERTS) {
                let Some(len) = u32_at(cert, at) else { break };
                let len = len as usize;
                let Some(der) = cert.get(at + 4..at + 4 + len) else {
                    break;
                };
                if len <= MAX_CERT_BYTES {
                    out.certs_der.push(der.to_vec());
                }
                at += 4 + len;
            }
        }
        _ => {}
    }
    Some(out)
}

fn server_security(b: &[u8]) -> Option<ServerSecurity> {
    let random_len = u32_at(b, 8);
    let cert_len = u32_at(b, 12);
    let certificate = match (random_len, cert_len) {
        (Some(r), Some(c)) => b
            .get(16 + r as usize..)
            .and_then(|rest| rest.get(..(c as usize).min(rest.len())))
            .and_then(server_certificate),
        _ => None,
    };
    Some(ServerSecurity {
        encryption_method: encryption_method_name(u32_at(b, 0)?),
        encryption_level: encryption_level_name(u32_at(b, 4)?),
        server_random_len: random_len,
        server_cert_len: cert_len,
        certificate,
    })
}

pub fn parse_server_data(data: &[u8]) -> ServerData {
    let mut sd = ServerData::default();
    for (t, b) in blocks(data) {
        match t {
            SC_CORE => {
                sd.core = u32_at(b, 0).map(|version| ServerCore {
                    version,
                    version_name: rdp_version_name(version),
                    client_requested_protocols: u32_at(b, 4),
                    early_capability_flags: u32_at(b, 8),
                })
            }
            SC_SECURITY => sd.security = server_security(b),
            SC_NET => {
                sd.io_channel = u16_at(b, 0);
                let count = usize::from(u16_at(b, 2).unwrap_or(0));
                sd.channel_ids = Some(
                    (0..count.min(MAX_CHANNELS))
                        .filter_map(|i| u16_at(b, 4 + 2 * i))
                        .collect(),
                );
            }
            SC_MCS_MSGCHANNEL => sd.message_channel = u16_at(b, 0),
            SC_MULTITRANSPORT => sd.multitransport_flags = u32_at(b, 0),
            other => sd.unknown_blocks.push(other),
        }
    }
    sd
}
