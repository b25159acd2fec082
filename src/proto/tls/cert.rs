//! X.509 certificates (through x509-parser): the facts a Windows admin needs to judge the
//! RDP server's certificate. Only TLS 1.2 and below show it; TLS 1.3 encrypts it.

use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

#[derive(Debug, Clone, PartialEq)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    pub common_name: Option<String>,
    pub not_before: String,
    pub not_after: String,
    pub not_before_unix: i64,
    pub not_after_unix: i64,
    pub self_signed: bool,
    pub key: String,
    pub key_bits: Option<u32>,
    pub sans: Vec<String>,
    /// Set when x509-parser rejected the certificate; the other fields are then empty.
    pub parse_error: Option<String>,
}

fn rfc3339(unix: i64) -> String {
    crate::timefmt::rfc3339_seconds(unix)
}

pub fn parse_certificate(der: &[u8]) -> CertificateInfo {
    match X509Certificate::from_der(der) {
        Ok((_, cert)) => from_x509(&cert),
        Err(e) => CertificateInfo {
            subject: String::new(),
            issuer: String::new(),
            common_name: None,
            not_before: String::new(),
            not_after: String::new(),
            not_before_unix: i64::MIN,
            not_after_unix: i64::MAX,
            self_signed: false,
            key: String::new(),
            key_bits: None,
            sans: Vec::new(),
            parse_error: Some(e.to_string()),
        },
    }
}

fn from_x509(cert: &X509Certificate) -> CertificateInfo {
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    let validity = cert.validity();
    let nb = validity.not_before.timestamp();
    let na = validity.not_after.timestamp();
    let (key, key_bits) = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let bits = u32::try_from(rsa.key_size()).unwrap_or(u32::MAX);
            (format!("RSA {bits}"), Some(bits))
        }
        Ok(PublicKey::EC(ec)) => {
            let bits = u32::try_from(ec.key_size()).unwrap_or(u32::MAX);
            (format!("EC {bits}"), Some(bits))
        }
        Ok(PublicKey::DSA(_)) => ("DSA".to_string(), None),
        Ok(_) | Err(_) => (cert.public_key().algorithm.algorithm.to_id_string(), None),
    };
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => sans.push(d.to_string()),
                // RFC 5280 4.2.1.6: four octets for IPv4, sixteen for IPv6; other lengths
                // are not addresses and are left out.
                GeneralName::IPAddress(ip) => {
                    if let Ok(b) = <[u8; 4]>::try_from(*ip) {
                        sans.push(std::net::Ipv4Addr::from(b).to_string());
                    } else if let Ok(b) = <[u8; 16]>::try_from(*ip) {
                        sans.push(std::net::Ipv6Addr::from(b).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    CertificateInfo {
        self_signed: cert.subject() == cert.issuer(),
        subject,
        issuer,
        common_name,
        not_before: rfc3339(nb),
        not_after: rfc3339(na),
        not_before_unix: nb,
        not_after_unix: na,
        key,
        key_bits,
        sans,
        parse_error: None,
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == host,
    }
}

impl CertificateInfo {
    pub fn expired_at(&self, unix: i64) -> bool {
        self.parse_error.is_none() && unix > self.not_after_unix
    }

    pub fn not_yet_valid_at(&self, unix: i64) -> bool {
        self.parse_error.is_none() && unix < self.not_before_unix
    }

    /// The name the client asked for (SNI) is in the SANs, or in the CN when there are none.
    pub fn matches_host(&self, host: &str) -> bool {
        if !self.sans.is_empty() {
            return self.sans.iter().any(|s| host_matches(s, host));
        }
        self.common_name
            .as_deref()
            .is_some_and(|cn| host_matches(cn, host))
    }

    pub fn weak_key(&self) -> bool {
        self.key.starts_with("RSA") && self.key_bits.is_some_and(|b| b < 2048)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(host_matches("*.corp.example", "rds1.corp.example"));
        assert!(!host_matches("*.corp.example", "a.b.corp.example"));
        assert!(host_matches("RDS1.corp.example", "rds1.CORP.example"));
    }

    #[test]
    fn garbage_is_reported_not_fatal() {
        let c = parse_certificate(&[0x30, 0x03, 0x02, 0x01]);
        assert!(c.parse_error.is_some());
        assert!(!c.expired_at(0));
    }
}
