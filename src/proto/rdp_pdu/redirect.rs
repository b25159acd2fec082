//! Server Redirection PDU (MS-RDPBCGR 2.2.13.1, RDP_SERVER_REDIRECTION_PACKET): where a
//! connection broker sends the client next. Passwords and cookies are skipped: only whether
//! one was sent is kept.

use crate::proto::byte_cursor::{utf16le_text, ByteCursor};
use crate::proto::{flag_names, ProtoError};

const LAYER: &str = "server-redirection";
const MAX_TEXT: usize = 256;
/// Load-balance info is a routing token (`Cookie: msts=...` or a broker string): cut here.
const MAX_LOAD_BALANCE_INFO: usize = 1024;
/// TargetNetAddresses lists the target's addresses: a handful in practice.
const MAX_ADDRESSES: usize = 16;

/// RedirFlags (MS-RDPBCGR 2.2.13.1); unknown bits kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedirFlags(pub u32);

impl RedirFlags {
    pub const TARGET_NET_ADDRESS: u32 = 0x0000_0001;
    pub const LOAD_BALANCE_INFO: u32 = 0x0000_0002;
    pub const USERNAME: u32 = 0x0000_0004;
    pub const DOMAIN: u32 = 0x0000_0008;
    pub const PASSWORD: u32 = 0x0000_0010;
    pub const DONTSTOREUSERNAME: u32 = 0x0000_0020;
    pub const SMARTCARD_LOGON: u32 = 0x0000_0040;
    pub const NOREDIRECT: u32 = 0x0000_0080;
    pub const TARGET_FQDN: u32 = 0x0000_0100;
    pub const TARGET_NETBIOS_NAME: u32 = 0x0000_0200;
    pub const TARGET_NET_ADDRESSES: u32 = 0x0000_0800;
    pub const CLIENT_TSV_URL: u32 = 0x0000_1000;
    pub const SERVER_TSV_CAPABLE: u32 = 0x0000_2000;
    pub const PASSWORD_IS_PK_ENCRYPTED: u32 = 0x0000_4000;
    pub const REDIRECTION_GUID: u32 = 0x0000_8000;
    pub const TARGET_CERTIFICATE: u32 = 0x0001_0000;

    const NAMES: [(u32, &'static str); 16] = [
        (Self::TARGET_NET_ADDRESS, "LB_TARGET_NET_ADDRESS"),
        (Self::LOAD_BALANCE_INFO, "LB_LOAD_BALANCE_INFO"),
        (Self::USERNAME, "LB_USERNAME"),
        (Self::DOMAIN, "LB_DOMAIN"),
        (Self::PASSWORD, "LB_PASSWORD"),
        (Self::DONTSTOREUSERNAME, "LB_DONTSTOREUSERNAME"),
        (Self::SMARTCARD_LOGON, "LB_SMARTCARD_LOGON"),
        (Self::NOREDIRECT, "LB_NOREDIRECT"),
        (Self::TARGET_FQDN, "LB_TARGET_FQDN"),
        (Self::TARGET_NETBIOS_NAME, "LB_TARGET_NETBIOS_NAME"),
        (Self::TARGET_NET_ADDRESSES, "LB_TARGET_NET_ADDRESSES"),
        (Self::CLIENT_TSV_URL, "LB_CLIENT_TSV_URL"),
        (Self::SERVER_TSV_CAPABLE, "LB_SERVER_TSV_CAPABLE"),
        (
            Self::PASSWORD_IS_PK_ENCRYPTED,
            "LB_PASSWORD_IS_PK_ENCRYPTED",
        ),
        (Self::REDIRECTION_GUID, "LB_REDIRECTION_GUID"),
        (Self::TARGET_CERTIFICATE, "LB_TARGET_CERTIFICATE"),
    ];

    pub fn contains(self, bit: u32) -> bool {
        self.0 & bit == bit
    }

    pub fn names(self) -> Vec<String> {
        flag_names(self.0, &Self::NAMES)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRedirection {
    pub session_id: u32,
    pub flags: RedirFlags,
    pub target_net_address: Option<String>,
    /// The routing token, cut at 1 KiB.
    pub load_balance_info: Option<Vec<u8>>,
    pub user_name: Option<String>,
    pub domain: Option<String>,
    /// A (usually encrypted) password blob was sent. Never its value.
    pub password_present: bool,
    pub target_fqdn: Option<String>,
    pub target_netbios_name: Option<String>,
    pub target_net_addresses: Vec<String>,
    pub target_certificate_present: bool,
}

impl ServerRedirection {
    /// LB_NOREDIRECT: the client stays on this connection (the redirection is informational).
    pub fn no_redirect(&self) -> bool {
        self.flags.contains(RedirFlags::NOREDIRECT)
    }

    /// The name or address the client will connect to next, best first.
    pub fn target(&self) -> Option<&str> {
        self.target_fqdn
            .as_deref()
            .or(self.target_net_address.as_deref())
            .or(self.target_net_addresses.first().map(String::as_str))
            .or(self.target_netbios_name.as_deref())
    }
}

/// A length-prefixed (u32) field, refused when it claims more than what is left.
fn field<'a>(c: &mut ByteCursor<'a>, name: &'static str) -> Result<&'a [u8], ProtoError> {
    let len = c.le_u32(name)? as usize;
    if len > c.remaining() {
        return Err(c.invalid(name, 4, format!("{len} bytes but {} left", c.remaining())));
    }
    c.take(len, name)
}

fn text(c: &mut ByteCursor, name: &'static str) -> Result<String, ProtoError> {
    Ok(utf16le_text(field(c, name)?, MAX_TEXT))
}

fn net_addresses(bytes: &[u8]) -> Result<Vec<String>, ProtoError> {
    let mut c = ByteCursor::new(LAYER, bytes);
    let count = c.le_u32("addressCount")? as usize;
    let mut out = Vec::new();
    for _ in 0..count.min(MAX_ADDRESSES) {
        out.push(text(&mut c, "TARGET_NET_ADDRESS length")?);
    }
    Ok(out)
}

/// Decodes RDP_SERVER_REDIRECTION_PACKET from its Flags field (0x0400) on.
pub fn parse_server_redirection(b: &[u8]) -> Result<ServerRedirection, ProtoError> {
    let mut c = ByteCursor::new(LAYER, b);
    let marker = c.le_u16("Flags")?;
    if marker != 0x0400 {
        return Err(c.invalid(
            "Flags",
            2,
            format!("0x{marker:04x} is not SEC_REDIRECTION_PKT"),
        ));
    }
    let _length = c.le_u16("Length")?;
    let session_id = c.le_u32("SessionID")?;
    let flags = RedirFlags(c.le_u32("RedirFlags")?);
    let has = |bit| flags.contains(bit);
    let mut r = ServerRedirection {
        session_id,
        flags,
        target_net_address: None,
        load_balance_info: None,
        user_name: None,
        domain: None,
        password_present: false,
        target_fqdn: None,
        target_netbios_name: None,
        target_net_addresses: Vec::new(),
        target_certificate_present: false,
    };
    // The optional fields follow in this order (MS-RDPBCGR 2.2.13.1).
    if has(RedirFlags::TARGET_NET_ADDRESS) {
        r.target_net_address = Some(text(&mut c, "TargetNetAddressLength")?);
    }
    if has(RedirFlags::LOAD_BALANCE_INFO) {
        let info = field(&mut c, "LoadBalanceInfoLength")?;
        r.load_balance_info = Some(info.get(..MAX_LOAD_BALANCE_INFO).unwrap_or(info).to_vec());
    }
    if has(RedirFlags::USERNAME) {
        r.user_name = Some(text(&mut c, "UserNameLength")?);
    }
    if has(RedirFlags::DOMAIN) {
        r.domain = Some(text(&mut c, "DomainLength")?);
    }
    if has(RedirFlags::PASSWORD) {
        r.password_present = !field(&mut c, "PasswordLength")?.is_empty();
    }
    if has(RedirFlags::TARGET_FQDN) {
        r.target_fqdn = Some(text(&mut c, "TargetFQDNLength")?);
    }
    if has(RedirFlags::TARGET_NETBIOS_NAME) {
        r.target_netbios_name = Some(text(&mut c, "TargetNetBiosNameLength")?);
    }
    if has(RedirFlags::CLIENT_TSV_URL) {
        field(&mut c, "TsvUrlLength")?;
    }
    if has(RedirFlags::REDIRECTION_GUID) {
        field(&mut c, "RedirectionGuidLength")?;
    }
    if has(RedirFlags::TARGET_CERTIFICATE) {
        r.target_certificate_present = !field(&mut c, "TargetCertificateLength")?.is_empty();
    }
    if has(RedirFlags::TARGET_NET_ADDRESSES) {
        r.target_net_addresses = net_addresses(field(&mut c, "TargetNetAddressesLength")?)?;
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16z(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect()
    }

    fn with_len(v: &[u8]) -> Vec<u8> {
        let mut out = (v.len() as u32).to_le_bytes().to_vec();
        out.extend(v);
        out
    }

    #[test]
    fn synthetic_broker_redirection_names_the_target_and_hides_the_password() {
        let flags = RedirFlags::TARGET_NET_ADDRESS
            | RedirFlags::LOAD_BALANCE_INFO
            | RedirFlags::USERNAME
            | RedirFlags::PASSWORD
            | RedirFlags::TARGET_FQDN;
        let mut b = vec![0x00, 0x04, 0, 0];
        b.extend(7u32.to_le_bytes());
        b.extend(flags.to_le_bytes());
        b.extend(with_len(&utf16z("10.0.0.5")));
        b.extend(with_len(b"Cookie: msts=3640205228.15629.0000\r\n"));
        b.extend(with_len(&utf16z("alice")));
        b.extend(with_len(b"secret-blob"));
        b.extend(with_len(&utf16z("host5.corp.example")));
        let r = parse_server_redirection(&b).unwrap();
        assert_eq!(r.session_id, 7);
        assert_eq!(r.target(), Some("host5.corp.example"));
        assert_eq!(r.target_net_address.as_deref(), Some("10.0.0.5"));
        assert_eq!(r.user_name.as_deref(), Some("alice"));
        assert!(r.password_present);
        assert!(!format!("{r:?}").contains("secret"));
        assert!(r.flags.names().contains(&"LB_PASSWORD".to_string()));
    }

    #[test]
    fn refuses_a_field_longer_than_the_packet() {
        let mut b = vec![0x00, 0x04, 0, 0, 0, 0, 0, 0];
        b.extend(RedirFlags::TARGET_FQDN.to_le_bytes());
        b.extend(0xffff_ff00u32.to_le_bytes());
        assert!(parse_server_redirection(&b).is_err());
        assert!(parse_server_redirection(&[0x01, 0x00]).is_err());
    }
}
