//! MS-TSGU HTTP transport packets (MS-TSGU 2.2.10): what an RD Gateway client and server say
//! inside the HTTP (RDG_IN/OUT_DATA) or WebSocket channel: handshake, tunnel, tunnel auth,
//! channel (the target host and port), data (the tunnelled RDP connection, handed on as
//! bytes), service messages, reauth, keepalive and close. Status codes are HRESULTs
//! (MS-TSGU 2.2.6). All integers little-endian.

use super::byte_cursor::{utf16le_text, ByteCursor};
use super::{Framing, ProtoError};

const LAYER: &str = "tsgu";
pub const HEADER_LEN: usize = 8;
/// A DATA packet carries at most 64 KiB (cbDataLen is 16 bits); other packets are smaller.
/// A header claiming more is not a TSGU packet.
pub const MAX_PACKET_LEN: usize = 0x1_0000 + 64;
const MAX_TEXT: usize = 1024;
const MAX_RESOURCES: usize = 16;

/// packetType of HTTP_PACKET_HEADER (MS-TSGU 2.2.5.3.4); unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketType(pub u16);

impl PacketType {
    pub const HANDSHAKE_REQUEST: PacketType = PacketType(0x1);
    pub const HANDSHAKE_RESPONSE: PacketType = PacketType(0x2);
    pub const EXTENDED_AUTH_MSG: PacketType = PacketType(0x3);
    pub const TUNNEL_CREATE: PacketType = PacketType(0x4);
    pub const TUNNEL_RESPONSE: PacketType = PacketType(0x5);
    pub const TUNNEL_AUTH: PacketType = PacketType(0x6);
    pub const TUNNEL_AUTH_RESPONSE: PacketType = PacketType(0x7);
    pub const CHANNEL_CREATE: PacketType = PacketType(0x8);
    pub const CHANNEL_RESPONSE: PacketType = PacketType(0x9);
    pub const DATA: PacketType = PacketType(0xA);
    pub const SERVICE_MESSAGE: PacketType = PacketType(0xB);
    pub const REAUTH_MESSAGE: PacketType = PacketType(0xC);
    pub const KEEPALIVE: PacketType = PacketType(0xD);
    pub const CLOSE_CHANNEL: PacketType = PacketType(0x10);
    pub const CLOSE_CHANNEL_RESPONSE: PacketType = PacketType(0x11);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x1 => "PKT_TYPE_HANDSHAKE_REQUEST",
            0x2 => "PKT_TYPE_HANDSHAKE_RESPONSE",
            0x3 => "PKT_TYPE_EXTENDED_AUTH_MSG",
            0x4 => "PKT_TYPE_TUNNEL_CREATE",
            0x5 => "PKT_TYPE_TUNNEL_RESPONSE",
            0x6 => "PKT_TYPE_TUNNEL_AUTH",
            0x7 => "PKT_TYPE_TUNNEL_AUTH_RESPONSE",
            0x8 => "PKT_TYPE_CHANNEL_CREATE",
            0x9 => "PKT_TYPE_CHANNEL_RESPONSE",
            0xA => "PKT_TYPE_DATA",
            0xB => "PKT_TYPE_SERVICE_MESSAGE",
            0xC => "PKT_TYPE_REAUTH_MESSAGE",
            0xD => "PKT_TYPE_KEEPALIVE",
            0x10 => "PKT_TYPE_CLOSE_CHANNEL",
            0x11 => "PKT_TYPE_CLOSE_CHANNEL_RESPONSE",
            _ => return None,
        })
    }
}

/// A status or error code of a gateway response (MS-TSGU 2.2.6): an HRESULT, or for some
/// codes its low word (`HRESULT_CODE(...)`); unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TsguStatus(pub u32);

/// Codes MS-TSGU 2.2.6 names, as full values.
const STATUS_NAMES: &[(u32, &str)] = &[
    (0x0000_0000, "S_OK"),
    (0x0000_0005, "ERROR_ACCESS_DENIED"),
    (0x0000_04CA, "ERROR_GRACEFUL_DISCONNECT"),
    (0x0000_04D4, "E_PROXY_CONNECTIONABORTED"),
    (0x0000_59E6, "E_PROXY_MAXCONNECTIONSREACHED"),
    (0x0000_59E8, "E_PROXY_NOTSUPPORTED"),
    (0x0000_59F6, "E_PROXY_SESSIONTIMEOUT"),
    (0x0000_59FA, "E_PROXY_REAUTH_AUTHN_FAILED"),
    (0x0000_59FB, "E_PROXY_REAUTH_CAP_FAILED"),
    (0x0000_59FC, "E_PROXY_REAUTH_RAP_FAILED"),
    (0x0000_59FD, "E_PROXY_SDR_NOT_SUPPORTED_BY_TS"),
    (0x0000_5A00, "E_PROXY_REAUTH_NAP_FAILED"),
    (0x8007_59D8, "E_PROXY_INTERNALERROR"),
    (0x8007_59DA, "E_PROXY_RAP_ACCESSDENIED"),
    (0x8007_59DB, "E_PROXY_NAP_ACCESSDENIED"),
    (0x8007_59DD, "E_PROXY_TS_CONNECTFAILED"),
    (0x8007_59DF, "E_PROXY_ALREADYDISCONNECTED"),
    (0x8007_59E9, "E_PROXY_CAPABILITYMISMATCH"),
    (0x8007_59ED, "E_PROXY_QUARANTINE_ACCESSDENIED"),
    (0x8007_59EE, "E_PROXY_NOCERTAVAILABLE"),
    (0x8007_59F7, "E_PROXY_COOKIE_BADPACKET"),
    (0x8007_59F8, "E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED"),
    (0x8007_59F9, "E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD"),
];

impl TsguStatus {
    pub const S_OK: TsguStatus = TsguStatus(0);
    pub const ERROR_ACCESS_DENIED: TsguStatus = TsguStatus(0x0000_0005);
    pub const ERROR_GRACEFUL_DISCONNECT: TsguStatus = TsguStatus(0x0000_04CA);
    pub const E_PROXY_CONNECTIONABORTED: TsguStatus = TsguStatus(0x0000_04D4);
    pub const E_PROXY_MAXCONNECTIONSREACHED: TsguStatus = TsguStatus(0x59E6);
    pub const E_PROXY_NOTSUPPORTED: TsguStatus = TsguStatus(0x59E8);
    pub const E_PROXY_SESSIONTIMEOUT: TsguStatus = TsguStatus(0x59F6);
    pub const E_PROXY_REAUTH_AUTHN_FAILED: TsguStatus = TsguStatus(0x59FA);
    pub const E_PROXY_REAUTH_CAP_FAILED: TsguStatus = TsguStatus(0x59FB);
    pub const E_PROXY_REAUTH_RAP_FAILED: TsguStatus = TsguStatus(0x59FC);
    pub const E_PROXY_SDR_NOT_SUPPORTED_BY_TS: TsguStatus = TsguStatus(0x59FD);
    pub const E_PROXY_REAUTH_NAP_FAILED: TsguStatus = TsguStatus(0x5A00);
    pub const E_PROXY_INTERNALERROR: TsguStatus = TsguStatus(0x8007_59D8);
    pub const E_PROXY_RAP_ACCESSDENIED: TsguStatus = TsguStatus(0x8007_59DA);
    pub const E_PROXY_NAP_ACCESSDENIED: TsguStatus = TsguStatus(0x8007_59DB);
    pub const E_PROXY_TS_CONNECTFAILED: TsguStatus = TsguStatus(0x8007_59DD);
    pub const E_PROXY_ALREADYDISCONNECTED: TsguStatus = TsguStatus(0x8007_59DF);
    pub const E_PROXY_CAPABILITYMISMATCH: TsguStatus = TsguStatus(0x8007_59E9);
    pub const E_PROXY_QUARANTINE_ACCESSDENIED: TsguStatus = TsguStatus(0x8007_59ED);
    pub const E_PROXY_NOCERTAVAILABLE: TsguStatus = TsguStatus(0x8007_59EE);
    pub const E_PROXY_COOKIE_BADPACKET: TsguStatus = TsguStatus(0x8007_59F7);
    pub const E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED: TsguStatus = TsguStatus(0x8007_59F8);
    pub const E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD: TsguStatus = TsguStatus(0x8007_59F9);

    /// Authentication or authorization refusals: the user (CAP), the device health
    /// (NAP/quarantine) or the authentication method, not the target.
    pub fn is_policy_denial(self) -> bool {
        matches!(
            self.canonical(),
            TsguStatus::E_PROXY_NAP_ACCESSDENIED
                | TsguStatus::E_PROXY_RAP_ACCESSDENIED
                | TsguStatus::E_PROXY_QUARANTINE_ACCESSDENIED
                | TsguStatus::E_PROXY_REAUTH_CAP_FAILED
                | TsguStatus::E_PROXY_REAUTH_RAP_FAILED
                | TsguStatus::E_PROXY_REAUTH_NAP_FAILED
                | TsguStatus::ERROR_ACCESS_DENIED
        )
    }

    /// Authentication itself was refused (a cookie, a method, re-authentication).
    pub fn is_auth_refusal(self) -> bool {
        matches!(
            self.canonical(),
            TsguStatus::E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED
                | TsguStatus::E_PROXY_COOKIE_BADPACKET
                | TsguStatus::E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD
                | TsguStatus::E_PROXY_REAUTH_AUTHN_FAILED
        )
    }

    fn exact(v: u32) -> Option<&'static str> {
        STATUS_NAMES.iter().find(|(c, _)| *c == v).map(|(_, n)| *n)
    }

    /// The code's name; a low word of a named 0x8007xxxx HRESULT reads `HRESULT_CODE(NAME)`.
    pub fn name(self) -> Option<String> {
        if let Some(n) = Self::exact(self.0) {
            return Some(n.to_string());
        }
        if self.0 <= 0xFFFF {
            return Self::exact(0x8007_0000 | self.0).map(|n| format!("HRESULT_CODE({n})"));
        }
        None
    }

    /// The full HRESULT a low-word code stands for (`0x59DD` → E_PROXY_TS_CONNECTFAILED).
    pub fn canonical(self) -> TsguStatus {
        if self.0 <= 0xFFFF && Self::exact(self.0).is_none() {
            let full = 0x8007_0000 | self.0;
            if Self::exact(full).is_some() {
                return TsguStatus(full);
            }
        }
        self
    }

    pub fn is_success(self) -> bool {
        self.0 == 0
    }
}

/// HTTP_PACKET_HEADER (MS-TSGU 2.2.10.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketHeader {
    pub packet_type: PacketType,
    pub packet_length: u32,
}

/// One HTTP transport packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsguPacket<'a> {
    HandshakeRequest {
        ver_major: u8,
        ver_minor: u8,
        client_version: u16,
        /// HTTP_EXTENDED_AUTH_NONE 0, _SC 0x1 (smart card), _PAA 0x2, _SSPI_NTLM 0x4.
        extended_auth: u16,
    },
    HandshakeResponse {
        error_code: TsguStatus,
        ver_major: u8,
        ver_minor: u8,
        server_version: u16,
        extended_auth: u16,
    },
    /// An SSPI (NTLM) token of the extended authentication, for the NTLM reader.
    ExtendedAuth {
        blob: &'a [u8],
    },
    TunnelCreate {
        caps_flags: u32,
        /// HTTP_TUNNEL_PACKET_FIELD_PAA_COOKIE 0x1, HTTP_TUNNEL_PACKET_FIELD_REAUTH 0x2.
        fields_present: u16,
    },
    TunnelResponse {
        server_version: u16,
        status_code: TsguStatus,
        fields_present: u16,
        tunnel_id: Option<u32>,
        caps_flags: Option<u32>,
    },
    TunnelAuth {
        fields_present: u16,
        client_name: String,
    },
    TunnelAuthResponse {
        error_code: TsguStatus,
        fields_present: u16,
        redir_flags: Option<u32>,
        idle_timeout_minutes: Option<u32>,
    },
    ChannelCreate {
        /// The target hosts (the RDP server behind the gateway), then the alternatives.
        resources: Vec<String>,
        alt_resources: Vec<String>,
        port: u16,
        /// 3 = RDP.
        protocol: u16,
    },
    ChannelResponse {
        error_code: TsguStatus,
        fields_present: u16,
        channel_id: Option<u32>,
        /// The gateway's UDP transport port (3391) when it offers one.
        udp_port: Option<u16>,
        authn_cookie_len: Option<usize>,
    },
    /// The tunnelled bytes: a whole RDP connection to the session host.
    Data {
        data: &'a [u8],
    },
    ServiceMessage {
        message: String,
    },
    ReauthMessage {
        reauth_tunnel_context: u64,
    },
    Keepalive,
    CloseChannel {
        status_code: TsguStatus,
    },
    CloseChannelResponse {
        status_code: TsguStatus,
    },
    Unknown {
        packet_type: PacketType,
    },
}

impl TsguPacket<'_> {
    /// The status a gateway response carries, if it is one.
    pub fn status(&self) -> Option<TsguStatus> {
        match self {
            TsguPacket::HandshakeResponse { error_code, .. }
            | TsguPacket::TunnelAuthResponse { error_code, .. }
            | TsguPacket::ChannelResponse { error_code, .. } => Some(*error_code),
            TsguPacket::TunnelResponse { status_code, .. }
            | TsguPacket::CloseChannel { status_code }
            | TsguPacket::CloseChannelResponse { status_code } => Some(*status_code),
            _ => None,
        }
    }
}

/// How long the packet at the front of `buf` is, from its 8-byte header.
pub fn find_size(buf: &[u8]) -> Framing {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Framing::NeedMore(HEADER_LEN - buf.len());
    };
    let len = header
        .get(4..8)
        .map(|b| {
            b.iter()
                .rev()
                .fold(0usize, |a, x| (a << 8) | usize::from(*x))
        })
        .unwrap_or(0);
    let packet_type = u16::from_le_bytes([
        header.first().copied().unwrap_or(0),
        header.get(1).copied().unwrap_or(0),
    ]);
    if !(HEADER_LEN..=MAX_PACKET_LEN).contains(&len) || !(1..=0x11).contains(&packet_type) {
        Framing::Invalid
    } else if buf.len() >= len {
        Framing::Complete(len)
    } else {
        Framing::NeedMore(len - buf.len())
    }
}

/// HTTP_UNICODE_STRING (MS-TSGU 2.2.10.22): cbLen(2) then UTF-16LE.
fn unicode_string(c: &mut ByteCursor, field: &'static str) -> Result<String, ProtoError> {
    let len = usize::from(c.le_u16(field)?);
    Ok(utf16le_text(c.take(len, field)?, MAX_TEXT))
}

fn optional_u32(
    c: &mut ByteCursor,
    present: bool,
    field: &'static str,
) -> Result<Option<u32>, ProtoError> {
    if present {
        c.le_u32(field).map(Some)
    } else {
        Ok(None)
    }
}

fn channel_create<'a>(c: &mut ByteCursor<'a>) -> Result<TsguPacket<'a>, ProtoError> {
    let num_resources = usize::from(c.u8("numResources")?);
    let num_alt = usize::from(c.u8("numAltResource")?);
    let port = c.le_u16("port")?;
    let protocol = c.le_u16("protocol")?;
    let mut resources = Vec::new();
    for _ in 0..num_resources.min(MAX_RESOURCES) {
        resources.push(unicode_string(c, "resourceName")?);
    }
    let mut alt_resources = Vec::new();
    if num_resources <= MAX_RESOURCES {
        for _ in 0..num_alt.min(MAX_RESOURCES) {
            alt_resources.push(unicode_string(c, "altResourceName")?);
        }
    }
    Ok(TsguPacket::ChannelCreate {
        resources,
        alt_resources,
        port,
        protocol,
    })
}

fn channel_response<'a>(c: &mut ByteCursor<'a>) -> Result<TsguPacket<'a>, ProtoError> {
    let error_code = TsguStatus(c.le_u32("errorCode")?);
    let fields_present = c.le_u16("fieldsPresent")?;
    c.skip(2, "reserved")?;
    // HTTP_CHANNEL_RESPONSE_FIELD_CHANNELID 0x1, _AUTHNCOOKIE 0x2, _UDPPORT 0x4, in the
    // order channelId, udpPort, authnCookie (MS-TSGU 2.2.10.5).
    let channel_id = optional_u32(c, fields_present & 0x1 != 0, "channelId")?;
    let udp_port = if fields_present & 0x4 != 0 {
        Some(c.le_u16("udpPort")?)
    } else {
        None
    };
    let authn_cookie_len = if fields_present & 0x2 != 0 {
        let len = usize::from(c.le_u16("authnCookie.cbLen")?);
        c.skip(len, "authnCookie")?;
        Some(len)
    } else {
        None
    };
    Ok(TsguPacket::ChannelResponse {
        error_code,
        fields_present,
        channel_id,
        udp_port,
        authn_cookie_len,
    })
}

fn body<'a>(packet_type: PacketType, c: &mut ByteCursor<'a>) -> Result<TsguPacket<'a>, ProtoError> {
    Ok(match packet_type {
        PacketType::HANDSHAKE_REQUEST => TsguPacket::HandshakeRequest {
            ver_major: c.u8("verMajor")?,
            ver_minor: c.u8("verMinor")?,
            client_version: c.le_u16("clientVersion")?,
            extended_auth: c.le_u16("extendedAuth")?,
        },
        PacketType::HANDSHAKE_RESPONSE => TsguPacket::HandshakeResponse {
            error_code: TsguStatus(c.le_u32("errorCode")?),
            ver_major: c.u8("verMajor")?,
            ver_minor: c.u8("verMinor")?,
            server_version: c.le_u16("serverVersion")?,
            extended_auth: c.le_u16("extendedAuth")?,
        },
        PacketType::EXTENDED_AUTH_MSG => {
            let len = usize::from(c.le_u16("cbExtendedAuthLength")?);
            TsguPacket::ExtendedAuth {
                blob: c.take(len, "extendedAuthBlob")?,
            }
        }
        PacketType::TUNNEL_CREATE => {
            let caps_flags = c.le_u32("capsFlags")?;
            let fields_present = c.le_u16("fieldsPresent")?;
            TsguPacket::TunnelCreate {
                caps_flags,
                fields_present,
            }
        }
        PacketType::TUNNEL_RESPONSE => {
            let server_version = c.le_u16("serverVersion")?;
            let status_code = TsguStatus(c.le_u32("statusCode")?);
            let fields_present = c.le_u16("fieldsPresent")?;
            c.skip(2, "reserved")?;
            // HTTP_TUNNEL_RESPONSE_FIELD_TUNNEL_ID 0x1, _CAPS 0x2 (MS-TSGU 2.2.10.20).
            let tunnel_id = optional_u32(c, fields_present & 0x1 != 0, "tunnelId")?;
            let caps_flags = optional_u32(c, fields_present & 0x2 != 0, "capsFlags")?;
            TsguPacket::TunnelResponse {
                server_version,
                status_code,
                fields_present,
                tunnel_id,
                caps_flags,
            }
        }
        PacketType::TUNNEL_AUTH => {
            let fields_present = c.le_u16("fieldsPresent")?;
            let client_name = unicode_string(c, "cbClientName")?;
            TsguPacket::TunnelAuth {
                fields_present,
                client_name,
            }
        }
        PacketType::TUNNEL_AUTH_RESPONSE => {
            let error_code = TsguStatus(c.le_u32("errorCode")?);
            let fields_present = c.le_u16("fieldsPresent")?;
            c.skip(2, "reserved")?;
            // HTTP_TUNNEL_AUTH_RESPONSE_FIELD_REDIR_FLAGS 0x1, _IDLE_TIMEOUT 0x2.
            let redir_flags = optional_u32(c, fields_present & 0x1 != 0, "redirFlags")?;
            let idle_timeout_minutes = optional_u32(c, fields_present & 0x2 != 0, "idleTimeout")?;
            TsguPacket::TunnelAuthResponse {
                error_code,
                fields_present,
                redir_flags,
                idle_timeout_minutes,
            }
        }
        PacketType::CHANNEL_CREATE => channel_create(c)?,
        PacketType::CHANNEL_RESPONSE => channel_response(c)?,
        PacketType::DATA => {
            let len = usize::from(c.le_u16("cbDataLen")?);
            TsguPacket::Data {
                data: c.take(len, "data")?,
            }
        }
        PacketType::SERVICE_MESSAGE => TsguPacket::ServiceMessage {
            message: unicode_string(c, "cbMessageLength")?,
        },
        PacketType::REAUTH_MESSAGE => TsguPacket::ReauthMessage {
            reauth_tunnel_context: u64::from(c.le_u32("reauthTunnelContext")?)
                | (u64::from(c.le_u32("reauthTunnelContext")?) << 32),
        },
        PacketType::KEEPALIVE => TsguPacket::Keepalive,
        PacketType::CLOSE_CHANNEL => TsguPacket::CloseChannel {
            status_code: TsguStatus(c.le_u32("statusCode")?),
        },
        PacketType::CLOSE_CHANNEL_RESPONSE => TsguPacket::CloseChannelResponse {
            status_code: TsguStatus(c.le_u32("statusCode")?),
        },
        packet_type => TsguPacket::Unknown { packet_type },
    })
}

/// Decodes one whole packet (as framed by `find_size`); returns its header and body.
pub fn parse_packet(b: &[u8]) -> Result<(PacketHeader, TsguPacket<'_>), ProtoError> {
    let mut c = ByteCursor::new(LAYER, b);
    let packet_type = PacketType(c.le_u16("packetType")?);
    c.skip(2, "reserved")?;
    let packet_length = c.le_u32("packetLength")?;
    let len = packet_length as usize;
    if len < HEADER_LEN || len > b.len() {
        return Err(c.invalid(
            "packetLength",
            4,
            format!("{len} outside 8..={} (the bytes given)", b.len()),
        ));
    }
    let mut inner = ByteCursor::new(LAYER, b.get(HEADER_LEN..len).unwrap_or_default());
    let header = PacketHeader {
        packet_type,
        packet_length,
    };
    Ok((header, body(packet_type, &mut inner)?))
}

#[cfg(test)]
#[path = "tsgu_tests.rs"]
mod tests;
