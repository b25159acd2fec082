//! MS-KKDCP (Kerberos Key Distribution Center Proxy Protocol) 2.2.2: the KDC-PROXY-MESSAGE
//! an RD Gateway's `POST /KdcProxy` carries in both directions, a DER SEQUENCE around one
//! Kerberos message as it would travel over TCP (RFC 4120 7.2.2: 4-byte length first).
//!
//! ```text
//! KDC-PROXY-MESSAGE ::= SEQUENCE {
//!     kerb-message   [0] OCTET STRING,
//!     target-domain  [1] KERB-REALM OPTIONAL,   -- GeneralString
//!     dclocator-hint [2] INTEGER OPTIONAL }
//! ```

use super::der::{Reader, Tag};
use super::kerberos::{self, KrbMessage};
use super::ProtoError;

const LAYER: &str = "kkdcp";
/// A proxied Kerberos message is a few KiB (a TGS-REQ with a PAC-bearing ticket under 16
/// KiB); a body claiming more is not taken for one.
pub const MAX_MESSAGE_LEN: usize = 256 * 1024;

/// One KDC-PROXY-MESSAGE (MS-KKDCP 2.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdcProxyMessage<'a> {
    /// The Kerberos message with its 4-byte TCP length prefix.
    pub kerb_message: &'a [u8],
    /// The realm the client asks the proxy to reach (requests only).
    pub target_domain: Option<&'a str>,
    /// DS_GET_DC flags for the proxy's DC locator (MS-KKDCP 2.2.2).
    pub dclocator_hint: Option<i64>,
}

impl KdcProxyMessage<'_> {
    /// The Kerberos message inside (RFC 4120 5.10), through the TCP framing.
    pub fn kerberos(&self) -> Result<KrbMessage, ProtoError> {
        kerberos::parse_tcp_record(self.kerb_message).map(|(m, _)| m)
    }
}

/// Does `b` start like a KDC-PROXY-MESSAGE (a SEQUENCE whose first field is `[0]`)?
/// Used to recognise a KDC proxy body without its HTTP head (HTTP/2 HEADERS are compressed).
pub fn looks_like_message(b: &[u8]) -> bool {
    let mut r = Reader::new(LAYER, b);
    r.sequence("KDC-PROXY-MESSAGE")
        .ok()
        .and_then(|inner| inner.peek_tag())
        == Some(Tag::context(0))
}

/// Decodes one KDC-PROXY-MESSAGE from the front of `b` (an HTTP body).
pub fn parse_message(b: &[u8]) -> Result<KdcProxyMessage<'_>, ProtoError> {
    if b.len() > MAX_MESSAGE_LEN {
        return Err(ProtoError::invalid(
            LAYER,
            "KDC-PROXY-MESSAGE",
            0,
            format!("{} bytes, over {MAX_MESSAGE_LEN}", b.len()),
        ));
    }
    let mut outer = Reader::new(LAYER, b);
    let mut seq = outer.sequence("KDC-PROXY-MESSAGE")?;
    let kerb_message = seq.field(0, "kerb-message")?.octet_string("kerb-message")?;
    let target_domain = match seq.optional(1, "target-domain")? {
        Some(mut r) => Some(r.general_string("target-domain")?),
        None => None,
    };
    let dclocator_hint = match seq.optional(2, "dclocator-hint")? {
        Some(mut r) => Some(r.integer("dclocator-hint")?),
        None => None,
    };
    seq.skip_rest();
    Ok(KdcProxyMessage {
        kerb_message,
        target_domain,
        dclocator_hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::kerberos::KrbErrorCode;
    use crate::proto::test_util::hex;
    use proptest::prelude::*;

    /// rdp-rdg-same-creds-kerberos-password-success1.pcapng, TLS stream 1 (HTTP/2 to
    /// `/KdcProxy`), decrypted by tshark: the DATA frame of frame 28, the gateway's answer
    /// to the first AS-REQ: a KRB-ERROR KDC_ERR_PREAUTH_REQUIRED (25) for realm
    /// ad.it-help.ninja, as tshark's kerberos dissector shows it.
    const PREAUTH_REQUIRED: &str = "3081d0a081cd0481ca000000c67e81c33081c0a003020105a10302011ea411180f32303234303531303139353134305aa505020302a7e1a603020119a9121b1061642e69742d68656c702e6e696e6a61aa253023a003020102a11c301a1b066b72627467741b1061642e69742d68656c702e6e696e6a61ac5a045830563033a103020113a22c042a30283026a003020112a11f1b1d41442e49542d48454c502e4e494e4a4150726f746563746564557365723009a103020102a20204003009a103020110a20204003009a10302010fa2020400";

    /// A whole request from frame 23, rebuilt around an 8-byte Kerberos stub: kerb-message
    /// then target-domain `ad.it-help.ninja`, as the client sent them.
    fn request_with(kerb: &[u8]) -> Vec<u8> {
        let realm = b"ad.it-help.ninja";
        let mut octets = vec![0x04, kerb.len() as u8];
        octets.extend_from_slice(kerb);
        let mut f0 = vec![0xa0, octets.len() as u8];
        f0.extend(octets);
        let mut f1 = vec![0xa1, (realm.len() + 2) as u8, 0x1b, realm.len() as u8];
        f1.extend_from_slice(realm);
        let mut seq = vec![0x30, (f0.len() + f1.len()) as u8];
        seq.extend(f0);
        seq.extend(f1);
        seq
    }

    #[test]
    fn reads_the_real_answer() {
        let b = hex(PREAUTH_REQUIRED);
        assert!(looks_like_message(&b));
        let m = parse_message(&b).unwrap();
        assert_eq!(m.kerb_message.len(), 0xca);
        assert_eq!(&m.kerb_message[..4], &[0, 0, 0, 0xc6]);
        assert_eq!((m.target_domain, m.dclocator_hint), (None, None));
        let KrbMessage::Error(e) = m.kerberos().unwrap() else {
            panic!("not a KRB-ERROR")
        };
        assert_eq!(e.error_code, KrbErrorCode(25));
        assert_eq!(e.error_code.name(), Some("KDC_ERR_PREAUTH_REQUIRED"));
        assert_eq!(e.realm, "ad.it-help.ninja");
        // Cut anywhere, the message is refused, never misread.
        for n in [0, 3, 10, 100, b.len() - 1] {
            assert!(parse_message(&b[..n]).is_err(), "{n}");
        }
    }

    #[test]
    fn synthetic_request_with_target_domain_and_hint() {
        let mut b = request_with(&[0, 0, 0, 4, 1, 2, 3, 4]);
        let m = parse_message(&b).unwrap();
        assert_eq!(m.target_domain, Some("ad.it-help.ninja"));
        assert_eq!(m.dclocator_hint, None);
        assert_eq!(m.kerb_message, &[0, 0, 0, 4, 1, 2, 3, 4]);
        assert!(m.kerberos().is_err());
        // Append dclocator-hint [2] INTEGER 0x40000000 (DS_RETURN_DNS_NAME).
        b.extend([0xa2, 0x06, 0x02, 0x04, 0x40, 0, 0, 0]);
        b[1] += 8;
        let m = parse_message(&b).unwrap();
        assert_eq!(m.dclocator_hint, Some(0x4000_0000));
        assert!(!looks_like_message(b"HTTP/1.1 200"));
        assert!(parse_message(&hex("3003a10100")).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), flip in 0usize..64) {
            let _ = looks_like_message(&data);
            if let Ok(m) = parse_message(&data) {
                let _ = m.kerberos();
            }
            let mut b = hex(PREAUTH_REQUIRED);
            if let Some(x) = b.get_mut(flip) {
                *x ^= 0x5a;
            }
            let _ = parse_message(&b).map(|m| m.kerberos());
        }
    }
}
