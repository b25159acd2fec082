//! Human names for TLS numbers: versions, cipher suites (IANA), alerts.

pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1.0".into(),
        0x0302 => "TLSv1.1".into(),
        0x0303 => "TLSv1.2".into(),
        0x0304 => "TLSv1.3".into(),
        0xfeff => "DTLSv1.0".into(),
        0xfefd => "DTLSv1.2".into(),
        0xfefc => "DTLSv1.3".into(),
        0x7f00..=0x7fff => format!("TLSv1.3-draft{}", v & 0xff),
        _ => format!("0x{v:04x}"),
    }
}

/// The IANA name, or "0x...." for GREASE and unknown values.
pub fn cipher_suite_name(id: u16) -> String {
    cipher_suite_static_name(id)
        .map(str::to_string)
        .unwrap_or_else(|| format!("0x{id:04x}"))
}

/// The registry's IANA name of a cipher suite, if it has one. tls_parser's own lookup hashes
/// the id with SipHash (about 140 instructions); a ClientHello offers dozens of suites and
/// every `--json` line names them, so the registry is copied once into a table sorted by id.
pub fn cipher_suite_static_name(id: u16) -> Option<&'static str> {
    static BY_ID: std::sync::OnceLock<Vec<(u16, &'static str)>> = std::sync::OnceLock::new();
    let table = BY_ID.get_or_init(|| {
        let mut t: Vec<(u16, &'static str)> = tls_parser::CIPHERS
            .entries()
            .map(|(id, suite)| (*id, suite.name))
            .collect();
        t.sort_unstable_by_key(|(id, _)| *id);
        t
    });
    let at = table.binary_search_by_key(&id, |(id, _)| *id).ok()?;
    table.get(at).map(|(_, name)| *name)
}

pub fn alert_level_name(level: u8) -> String {
    match level {
        1 => "warning".into(),
        2 => "fatal".into(),
        other => format!("0x{other:02x}"),
    }
}

pub fn alert_description_name(d: u8) -> String {
    let name = match d {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        other => return format!("0x{other:02x}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_known_and_unknown_values() {
        assert_eq!(version_name(0x0303), "TLSv1.2");
        assert_eq!(version_name(0x0a0a), "0x0a0a");
        assert_eq!(cipher_suite_name(0x002f), "TLS_RSA_WITH_AES_128_CBC_SHA");
        assert_eq!(cipher_suite_name(0x1302), "TLS_AES_256_GCM_SHA384");
        assert_eq!(cipher_suite_name(0xfafa), "0xfafa");
        assert_eq!(alert_description_name(70), "protocol_version");
        assert_eq!(alert_description_name(199), "0xc7");
    }

    #[test]
    fn the_sorted_table_answers_as_the_registry_for_every_id() {
        for id in 0..=u16::MAX {
            let registry = tls_parser::TlsCipherSuite::from_id(id).map(|s| s.name);
            assert_eq!(cipher_suite_static_name(id), registry, "{id:#06x}");
            // The JSON writer copies these names without looking for bytes to escape.
            let plain = |c: char| c.is_ascii_alphanumeric() || c == '_';
            assert!(
                registry.is_none_or(|name| name.chars().all(plain)),
                "{registry:?}"
            );
        }
    }
}
