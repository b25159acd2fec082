//! GCC user-data blocks (BCGR 2.2.1.3, 2.2.1.4; FACTS 2.3): what the client says about itself
//! in the MCS Connect Initial and what the server answers. Readable only under Standard RDP
//! Security (otherwise inside TLS). Every field past the mandatory ones is optional.

use nom::bytes::complete::take;
use nom::multi::count;
use nom::number::complete::{le_u16, le_u32, u8 as byte};

use super::wire::{field, run, trailing, Parsed, WireError};
use super::ProtoError;

const LAYER: &str = "gcc";
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

/// At most this many blocks are read from one GCC user-data field.
const MAX_BLOCKS: usize = 33;

/// One TS_UD_HEADER block (BCGR 2.2.1.3.1): its offset in the user data, type and body.
struct Block<'a> {
    offset: usize,
    kind: u16,
    body: &'a [u8],
}

fn block_header(i: &[u8]) -> Parsed<'_, (u16, &[u8])> {
    let start = i;
    let (i, kind) = field("TS_UD_HEADER type", le_u16)(i)?;
    let (i, len) = field("TS_UD_HEADER length", le_u16)(i)?;
    let Some(body_len) = usize::from(len).checked_sub(4) else {
        return Err(WireError::invalid(
            start,
            "TS_UD_HEADER length",
            format!("{len} is below 4"),
        ));
    };
    let (i, body) = field("TS_UD_HEADER body", take(body_len))(i)?;
    Ok((i, (kind, body)))
}

/// Iterates `type(2) length(2) body` blocks; stops at the first header that cannot be framed
/// (what follows cannot be split into blocks) and returns its error.
fn blocks(data: &[u8]) -> (Vec<Block<'_>>, Option<ProtoError>) {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < MAX_BLOCKS && !rest.is_empty() {
        let offset = data.len() - rest.len();
        match block_header(rest) {
            Ok((next, (kind, body))) => {
                out.push(Block {
                    offset: offset + 4,
                    kind,
                    body,
                });
                rest = next;
            }
            Err(e) => return (out, Some(WireError::into_proto(e, LAYER, data))),
        }
    }
    (out, None)
}

/// Reads one block body; errors are counted from the start of the user data.
fn read_block<'a, O>(
    b: &Block<'a>,
    parser: impl FnMut(&'a [u8]) -> Parsed<'a, O>,
) -> Result<O, ProtoError> {
    run(LAYER, b.body, parser).map_err(|e| e.shifted(b.offset))
}

/// A block's value, or None with its error kept in `malformed`.
fn keep<O>(value: Result<O, ProtoError>, malformed: &mut Vec<ProtoError>) -> Option<O> {
    match value {
        Ok(v) => Some(v),
        Err(e) => {
            malformed.push(e);
            None
        }
    }
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

/// TS_UD_CS_CORE (BCGR 2.2.1.3.2): fields up to clientName are mandatory, each later one is
/// present only when every earlier one is.
#[derive(Debug, Clone, PartialEq)]
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

/// A fixed-size UTF-16LE field, up to its first NUL.
fn utf16_name(units: &[u16]) -> String {
    let end = units.iter().position(|u| *u == 0).unwrap_or(units.len());
    String::from_utf16_lossy(units.get(..end).unwrap_or_default())
}

fn client_core(i: &[u8]) -> Parsed<'_, ClientCore> {
    let (i, version) = field("version", le_u32)(i)?;
    let (i, desktop_width) = field("desktopWidth", le_u16)(i)?;
    let (i, desktop_height) = field("desktopHeight", le_u16)(i)?;
    let (i, color_depth) = field("colorDepth", le_u16)(i)?;
    let (i, _sas_sequence) = field("SASSequence", le_u16)(i)?;
    let (i, keyboard_layout) = field("keyboardLayout", le_u32)(i)?;
    let (i, client_build) = field("clientBuild", le_u32)(i)?;
    let (i, client_name) = field("clientName", count(le_u16, 16))(i)?;
    let (i, keyboard_type) = trailing(le_u32)(i)?;
    let (i, keyboard_subtype) = trailing(le_u32)(i)?;
    let (i, keyboard_function_keys) = trailing(le_u32)(i)?;
    let (i, _ime_file_name) = trailing(take(64usize))(i)?;
    let (i, _post_beta2_color_depth) = trailing(le_u16)(i)?;
    let (i, _client_product_id) = trailing(le_u16)(i)?;
    let (i, _serial_number) = trailing(le_u32)(i)?;
    let (i, high_color_depth) = trailing(le_u16)(i)?;
    let (i, supported_color_depths) = trailing(le_u16)(i)?;
    let (i, early_capability_flags) = trailing(le_u16)(i)?;
    let (i, _client_dig_product_id) = trailing(take(64usize))(i)?;
    let (i, connection_type) = trailing(byte)(i)?;
    let (i, _pad1octet) = trailing(byte)(i)?;
    let (i, server_selected_protocol) = trailing(le_u32)(i)?;
    Ok((
        i,
        ClientCore {
            version,
            version_name: rdp_version_name(version),
            desktop_width,
            desktop_height,
            color_depth: color_depth_name(color_depth),
            keyboard_layout: format!("0x{keyboard_layout:08x}"),
            client_build,
            client_name: utf16_name(&client_name),
            keyboard_type,
            keyboard_subtype,
            keyboard_function_keys,
            high_color_depth,
            supported_color_depths,
            early_capability_flags,
            connection_type,
            server_selected_protocol,
        },
    ))
}

/// TS_UD_CS_SEC (BCGR 2.2.1.3.3).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSecurity {
    pub encryption_methods: u32,
    pub ext_encryption_methods: u32,
}

fn client_security(i: &[u8]) -> Parsed<'_, ClientSecurity> {
    let (i, encryption_methods) = field("encryptionMethods", le_u32)(i)?;
    let (i, ext_encryption_methods) = field("extEncryptionMethods", le_u32)(i)?;
    Ok((
        i,
        ClientSecurity {
            encryption_methods,
            ext_encryption_methods,
        },
    ))
}

/// CHANNEL_DEF (BCGR 2.2.1.3.4.1).
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub name: String,
    pub options: u32,
}

fn channel_def(i: &[u8]) -> Parsed<'_, Channel> {
    let (i, name) = field("CHANNEL_DEF name", take(8usize))(i)?;
    let (i, options) = field("CHANNEL_DEF options", le_u32)(i)?;
    let end = name.iter().position(|c| *c == 0).unwrap_or(name.len());
    let name = String::from_utf8_lossy(name.get(..end).unwrap_or_default()).into_owned();
    Ok((i, Channel { name, options }))
}

/// TS_UD_CS_NET (BCGR 2.2.1.3.4): channelCount then that many CHANNEL_DEFs (capped).
fn client_network(i: &[u8]) -> Parsed<'_, Vec<Channel>> {
    let (i, channel_count) = field("channelCount", le_u32)(i)?;
    let n = usize::try_from(channel_count)
        .unwrap_or(usize::MAX)
        .min(MAX_CHANNELS);
    count(channel_def, n)(i)
}

/// TS_UD_CS_CLUSTER (BCGR 2.2.1.3.5).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientCluster {
    pub flags: u32,
    pub redirected_session_id: u32,
}

fn client_cluster(i: &[u8]) -> Parsed<'_, ClientCluster> {
    let (i, flags) = field("Flags", le_u32)(i)?;
    let (i, redirected_session_id) = field("RedirectedSessionID", le_u32)(i)?;
    Ok((
        i,
        ClientCluster {
            flags,
            redirected_session_id,
        },
    ))
}

/// TS_UD_CS_MONITOR (BCGR 2.2.1.3.6): flags then monitorCount.
fn client_monitor_count(i: &[u8]) -> Parsed<'_, u32> {
    let (i, _flags) = field("flags", le_u32)(i)?;
    field("monitorCount", le_u32)(i)
}

/// The client's GCC Conference Create Request user data (BCGR 2.2.1.3). A block that is
/// absent is None; a block that is present but cannot be read is None too, with its error in
/// `malformed`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientData {
    pub core: Option<ClientCore>,
    pub security: Option<ClientSecurity>,
    pub channels: Option<Vec<Channel>>,
    pub cluster: Option<ClientCluster>,
    pub monitors: Option<u32>,
    pub message_channel_flags: Option<u32>,
    pub multitransport_flags: Option<u32>,
    pub unknown_blocks: Vec<u16>,
    /// Blocks present but truncated or invalid (offsets from the start of the user data).
    pub malformed: Vec<ProtoError>,
}

pub fn parse_client_data(data: &[u8]) -> ClientData {
    let mut cd = ClientData::default();
    let (blocks, unframed) = blocks(data);
    cd.malformed.extend(unframed);
    for b in blocks {
        let bad = &mut cd.malformed;
        match b.kind {
            CS_CORE => cd.core = keep(read_block(&b, client_core), bad),
            CS_SECURITY => cd.security = keep(read_block(&b, client_security), bad),
            CS_NET => cd.channels = keep(read_block(&b, client_network), bad),
            CS_CLUSTER => cd.cluster = keep(read_block(&b, client_cluster), bad),
            CS_MONITOR => cd.monitors = keep(read_block(&b, client_monitor_count), bad),
            // Monitor attributes say nothing about why a connection fails.
            CS_MONITOR_EX => {}
            CS_MCS_MSGCHANNEL => {
                cd.message_channel_flags = keep(read_block(&b, field("flags", le_u32)), bad)
            }
            CS_MULTITRANSPORT => {
                cd.multitransport_flags = keep(read_block(&b, field("flags", le_u32)), bad)
            }
            other => cd.unknown_blocks.push(other),
        }
    }
    cd
}

/// TS_UD_SC_CORE (BCGR 2.2.1.4.2).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerCore {
    pub version: u32,
    pub version_name: String,
    pub client_requested_protocols: Option<u32>,
    pub early_capability_flags: Option<u32>,
}

fn server_core(i: &[u8]) -> Parsed<'_, ServerCore> {
    let (i, version) = field("version", le_u32)(i)?;
    let (i, client_requested_protocols) = trailing(le_u32)(i)?;
    let (i, early_capability_flags) = trailing(le_u32)(i)?;
    Ok((
        i,
        ServerCore {
            version,
            version_name: rdp_version_name(version),
            client_requested_protocols,
            early_capability_flags,
        },
    ))
}

/// The kind of server certificate (BCGR 2.2.1.4.3.1 dwVersion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateKind {
    /// CERT_CHAIN_VERSION_1: a proprietary RSA key blob signed by Microsoft's well-known key.
    Proprietary,
    /// CERT_CHAIN_VERSION_2: an X.509 chain.
    X509,
    /// Any other version, kept in `ServerCertificate::version`.
    Unknown,
}

impl CertificateKind {
    /// The JSON name: "proprietary", "x509" or "unknown".
    pub fn name(self) -> &'static str {
        match self {
            CertificateKind::Proprietary => "proprietary",
            CertificateKind::X509 => "x509",
            CertificateKind::Unknown => "unknown",
        }
    }
}

/// SERVER_CERTIFICATE (BCGR 2.2.1.4.3.1); the top bit of dwVersion marks a temporary
/// certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerCertificate {
    pub kind: CertificateKind,
    pub version: u32,
    pub temporary: bool,
    /// NumCertBlobs of an X.509 chain (absent when the certificate is cut before it).
    pub chain_len: Option<u32>,
    /// The certificates of an X.509 chain that are there whole (each capped in size).
    pub certs_der: Vec<Vec<u8>>,
}

/// TS_UD_SC_SEC1 (BCGR 2.2.1.4.3).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSecurity {
    pub encryption_method: String,
    pub encryption_level: String,
    pub server_random_len: Option<u32>,
    pub server_cert_len: Option<u32>,
    pub certificate: Option<ServerCertificate>,
}

/// The server's GCC Conference Create Response user data (BCGR 2.2.1.4). Absent blocks are
/// None; unreadable ones are None with their error in `malformed`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerData {
    pub core: Option<ServerCore>,
    pub security: Option<ServerSecurity>,
    pub io_channel: Option<u16>,
    pub channel_ids: Option<Vec<u16>>,
    pub message_channel: Option<u16>,
    pub multitransport_flags: Option<u32>,
    pub unknown_blocks: Vec<u16>,
    /// Blocks present but truncated or invalid (offsets from the start of the user data).
    pub malformed: Vec<ProtoError>,
}

/// X.509 CertBlobs (BCGR 2.2.1.4.3.1.1 X509 Certificate Chain): cbCert then the DER; a blob
/// cut off by the end of the certificate ends the list.
fn cert_blobs(mut i: &[u8], chain_len: u32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let n = usize::try_from(chain_len)
        .unwrap_or(usize::MAX)
        .min(MAX_CERTS);
    for _ in 0..n {
        let blob = |i| -> Parsed<'_, &[u8]> {
            let (i, len) = le_u32(i)?;
            take(usize::try_from(len).unwrap_or(usize::MAX))(i)
        };
        let Ok((rest, der)) = blob(i) else { break };
        if der.len() <= MAX_CERT_BYTES {
            out.push(der.to_vec());
        }
        i = rest;
    }
    out
}

fn server_certificate(cert: &[u8]) -> Parsed<'_, ServerCertificate> {
    let (i, raw_version) = field("dwVersion", le_u32)(cert)?;
    let version = raw_version & 0x7fff_ffff;
    let kind = match version {
        1 => CertificateKind::Proprietary,
        2 => CertificateKind::X509,
        _ => CertificateKind::Unknown,
    };
    let (i, chain_len) = if kind == CertificateKind::X509 {
        trailing(le_u32)(i)?
    } else {
        (i, None)
    };
    let certs_der = chain_len.map(|n| cert_blobs(i, n)).unwrap_or_default();
    Ok((
        i,
        ServerCertificate {
            kind,
            version,
            temporary: raw_version & 0x8000_0000 != 0,
            chain_len,
            certs_der,
        },
    ))
}

fn server_security(i: &[u8]) -> Parsed<'_, ServerSecurity> {
    let (i, method) = field("encryptionMethod", le_u32)(i)?;
    let (i, level) = field("encryptionLevel", le_u32)(i)?;
    // Both lengths (and what they measure) are absent when method and level are 0.
    let (i, server_random_len) = trailing(le_u32)(i)?;
    let (i, server_cert_len) = trailing(le_u32)(i)?;
    let certificate = match (server_random_len, server_cert_len) {
        (Some(r), Some(c)) => usize::try_from(r)
            .ok()
            .and_then(|r| i.get(r..))
            .and_then(|rest| {
                let c = usize::try_from(c).unwrap_or(usize::MAX).min(rest.len());
                rest.get(..c)
            })
            .and_then(|cert| server_certificate(cert).ok())
            .map(|(_, cert)| cert),
        _ => None,
    };
    Ok((
        i,
        ServerSecurity {
            encryption_method: encryption_method_name(method),
            encryption_level: encryption_level_name(level),
            server_random_len,
            server_cert_len,
            certificate,
        },
    ))
}

/// TS_UD_SC_NET (BCGR 2.2.1.4.4): MCSChannelId, channelCount, the channel ids (capped).
fn server_network(i: &[u8]) -> Parsed<'_, (u16, Vec<u16>)> {
    let (i, io_channel) = field("MCSChannelId", le_u16)(i)?;
    let (i, channel_count) = field("channelCount", le_u16)(i)?;
    let n = usize::from(channel_count).min(MAX_CHANNELS);
    let (i, ids) = field("channelIdArray", count(le_u16, n))(i)?;
    Ok((i, (io_channel, ids)))
}

pub fn parse_server_data(data: &[u8]) -> ServerData {
    let mut sd = ServerData::default();
    let (blocks, unframed) = blocks(data);
    sd.malformed.extend(unframed);
    for b in blocks {
        let bad = &mut sd.malformed;
        match b.kind {
            SC_CORE => sd.core = keep(read_block(&b, server_core), bad),
            SC_SECURITY => sd.security = keep(read_block(&b, server_security), bad),
            SC_NET => {
                let net = keep(read_block(&b, server_network), bad);
                sd.io_channel = net.as_ref().map(|(io, _)| *io);
                sd.channel_ids = net.map(|(_, ids)| ids);
            }
            SC_MCS_MSGCHANNEL => {
                sd.message_channel = keep(read_block(&b, field("MCSChannelID", le_u16)), bad)
            }
            SC_MULTITRANSPORT => {
                sd.multitransport_flags = keep(read_block(&b, field("flags", le_u32)), bad)
            }
            other => sd.unknown_blocks.push(other),
        }
    }
    sd
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::hex;

    /// OISF_suricata-verify/RDP-003.pcap frame 7 (the Connect Initial of mcs.rs' tests): the
    /// GCC blocks from CS_CORE's header to the end of CS_SECURITY.
    const REAL_CORE_TO_SECURITY: &str = concat!(
        "01c0d4000400080080046003",
        "01ca03aa09040000280a000049005300440032002d004b004d0038003400310037003800000000000000000004000000",
        "000000000c00000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "00000000000000000000000000000000000000000000000001ca0100000000000f000700010035003500320037003400",
        "2d004f0045004d002d0030003000310031003900300033002d0030003000310030003700000000000000000000000000",
        "000000000000000004c00c00090000000000000002c00c000b00000000000000",
    );

    #[test]
    fn real_blocks_cut_inside_client_security_report_where() {
        let whole = hex(REAL_CORE_TO_SECURITY);
        let cd = parse_client_data(&whole);
        assert_eq!(
            cd.security.as_ref().map(|s| s.encryption_methods),
            Some(0x0b)
        );
        assert!(cd.malformed.is_empty(), "{:?}", cd.malformed);
        // A snaplen cut 6 bytes into CS_SECURITY's body: the block cannot be framed.
        let security_at = whole.len() - 12;
        let cd = parse_client_data(&whole[..security_at + 4 + 6]);
        assert_eq!(cd.security, None);
        assert_eq!(
            cd.core.map(|c| c.client_name).as_deref(),
            Some("ISD2-KM84178")
        );
        assert_eq!(
            cd.malformed,
            vec![ProtoError::truncated(
                LAYER,
                "TS_UD_HEADER body",
                security_at + 4
            )]
        );
    }

    /// A CS_SECURITY block cut after encryptionMethods (synthetic: Windows always sends 8).
    #[test]
    fn synthetic_truncated_client_security_is_an_error_not_no_encryption() {
        let data = [0x02, 0xc0, 0x08, 0x00, 0x0b, 0x00, 0x00, 0x00];
        let cd = parse_client_data(&data);
        assert_eq!(cd.security, None);
        assert_eq!(
            cd.malformed,
            vec![ProtoError::truncated(LAYER, "extEncryptionMethods", 8)]
        );
    }

    /// A CS_NET block announcing 2 channels but carrying 1 (synthetic).
    #[test]
    fn synthetic_short_channel_list_is_an_error() {
        let mut data = vec![0x03, 0xc0, 0x14, 0x00, 0x02, 0x00, 0x00, 0x00];
        data.extend_from_slice(b"rdpdr\0\0\0");
        data.extend_from_slice(&[0, 0, 0x80, 0x80]);
        let cd = parse_client_data(&data);
        assert_eq!(cd.channels, None);
        assert_eq!(
            cd.malformed,
            vec![ProtoError::truncated(LAYER, "CHANNEL_DEF name", 20)]
        );
    }

    /// SC_NET cut after MCSChannelId: neither the I/O channel nor a made-up empty list.
    #[test]
    fn synthetic_truncated_server_network_is_an_error() {
        let data = [0x03, 0x0c, 0x06, 0x00, 0xeb, 0x03];
        let sd = parse_server_data(&data);
        assert_eq!((sd.io_channel, sd.channel_ids), (None, None));
        assert_eq!(
            sd.malformed,
            vec![ProtoError::truncated(LAYER, "channelCount", 6)]
        );
    }
}
