//! The cipher suites rdpscope decrypts: what their record protection and key schedule are.

/// A TLS protocol version as on the wire (RFC 8446 4.2.1, RFC 5246 A.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolVersion(pub u16);

impl ProtocolVersion {
    pub const TLS10: ProtocolVersion = ProtocolVersion(0x0301);
    pub const TLS11: ProtocolVersion = ProtocolVersion(0x0302);
    pub const TLS12: ProtocolVersion = ProtocolVersion(0x0303);
    pub const TLS13: ProtocolVersion = ProtocolVersion(0x0304);
}

/// A cipher suite number (IANA TLS Cipher Suites registry); unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CipherSuiteId(pub u16);

/// The hash of a suite's PRF (TLS 1.2, RFC 5246 5) or HKDF (TLS 1.3, RFC 8446 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrfHash {
    Sha256,
    Sha384,
    /// TLS 1.0/1.1: P_MD5 xor P_SHA-1 (RFC 4346 5).
    Md5Sha1,
}

impl PrfHash {
    pub fn len(self) -> usize {
        match self {
            PrfHash::Sha256 => 32,
            PrfHash::Sha384 => 48,
            PrfHash::Md5Sha1 => 36,
        }
    }
}

/// The MAC of a CBC suite (RFC 5246 6.2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacHash {
    Sha1,
    Sha256,
    Sha384,
}

impl MacHash {
    pub fn len(self) -> usize {
        match self {
            MacHash::Sha1 => 20,
            MacHash::Sha256 => 32,
            MacHash::Sha384 => 48,
        }
    }
}

/// How records are protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// AES-GCM (RFC 5288 for TLS 1.2; RFC 8446 5.3 for TLS 1.3); key length in bytes.
    AesGcm { key_len: usize },
    /// ChaCha20-Poly1305 (RFC 7905; RFC 8446).
    ChaCha20Poly1305,
    /// AES-CBC with HMAC, MAC-then-encrypt (RFC 5246 6.2.3.2).
    AesCbc { key_len: usize, mac: MacHash },
}

/// What a suite needs for decryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuiteInfo {
    pub id: CipherSuiteId,
    pub protection: Protection,
    /// Hash of the TLS 1.2 PRF or the TLS 1.3 key schedule.
    pub hash: PrfHash,
    pub tls13: bool,
}

impl SuiteInfo {
    /// Length of the fixed IV a TLS 1.2 key block gives each side (RFC 5246 6.3).
    pub fn fixed_iv_len(&self) -> usize {
        match self.protection {
            Protection::AesGcm { .. } => 4,
            Protection::ChaCha20Poly1305 => 12,
            Protection::AesCbc { .. } => 16,
        }
    }

    pub fn key_len(&self) -> usize {
        match self.protection {
            Protection::AesGcm { key_len } | Protection::AesCbc { key_len, .. } => key_len,
            Protection::ChaCha20Poly1305 => 32,
        }
    }

    pub fn mac_len(&self) -> usize {
        match self.protection {
            Protection::AesCbc { mac, .. } => mac.len(),
            _ => 0,
        }
    }
}

/// The suite's decryption needs, when rdpscope can decrypt it. TLS 1.0/1.1 use the MD5/SHA-1
/// PRF whatever the suite says.
pub fn suite_info(id: CipherSuiteId, version: ProtocolVersion) -> Option<SuiteInfo> {
    use MacHash::*;
    use Protection::*;
    let gcm128 = AesGcm { key_len: 16 };
    let gcm256 = AesGcm { key_len: 32 };
    let cbc = |key_len, mac| AesCbc { key_len, mac };
    let (protection, hash, tls13) = match id.0 {
        // TLS 1.3 (RFC 8446 B.4)
        0x1301 => (gcm128, PrfHash::Sha256, true),
        0x1302 => (gcm256, PrfHash::Sha384, true),
        0x1303 => (ChaCha20Poly1305, PrfHash::Sha256, true),
        // AES-GCM: RSA (RFC 5288), ECDHE_RSA / ECDHE_ECDSA (RFC 5289), DHE_RSA
        0x009c | 0x009e | 0xc02b | 0xc02f => (gcm128, PrfHash::Sha256, false),
        0x009d | 0x009f | 0xc02c | 0xc030 => (gcm256, PrfHash::Sha384, false),
        // ChaCha20-Poly1305 (RFC 7905)
        0xcca8..=0xccaa => (ChaCha20Poly1305, PrfHash::Sha256, false),
        // AES-CBC with SHA-1 (RFC 5246, RFC 4492)
        0x002f | 0x0033 | 0xc009 | 0xc013 => (cbc(16, Sha1), PrfHash::Sha256, false),
        0x0035 | 0x0039 | 0xc00a | 0xc014 => (cbc(32, Sha1), PrfHash::Sha256, false),
        // AES-CBC with SHA-256 / SHA-384 (RFC 5246, RFC 5289)
        0x003c | 0x0067 | 0xc023 | 0xc027 => (cbc(16, Sha256), PrfHash::Sha256, false),
        0x003d | 0x006b => (cbc(32, Sha256), PrfHash::Sha256, false),
        0xc024 | 0xc028 => (cbc(32, Sha384), PrfHash::Sha384, false),
        _ => return None,
    };
    if tls13 != (version == ProtocolVersion::TLS13) {
        return None;
    }
    let hash = if version == ProtocolVersion::TLS10 || version == ProtocolVersion::TLS11 {
        PrfHash::Md5Sha1
    } else {
        hash
    };
    Some(SuiteInfo {
        id,
        protection,
        hash,
        tls13,
    })
}
