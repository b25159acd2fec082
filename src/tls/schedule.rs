//! Key derivation: the TLS 1.2 key block from the master secret (RFC 5246 5 and 6.3;
//! RFC 4346 5 for TLS 1.0/1.1), and TLS 1.3's HKDF-Expand-Label (RFC 8446 7.1, 7.2, 7.3).

use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384};

use super::suite::PrfHash;

/// P_hash (RFC 5246 5): HMAC(secret, A(i) + seed) for A(i) = HMAC(secret, A(i-1)), A(0) = seed.
fn p_hash<M: Mac + hmac::digest::KeyInit + Clone>(secret: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let Ok(base) = <M as Mac>::new_from_slice(secret) else {
        return;
    };
    let mut a = {
        let mut m = base.clone();
        seed.iter().for_each(|s| m.update(s));
        m.finalize().into_bytes()
    };
    let mut pos = 0;
    while pos < out.len() {
        let mut m = base.clone();
        m.update(&a);
        seed.iter().for_each(|s| m.update(s));
        let block = m.finalize().into_bytes();
        let n = (out.len() - pos).min(block.len());
        if let (Some(dst), Some(src)) = (out.get_mut(pos..pos + n), block.get(..n)) {
            dst.copy_from_slice(src);
        }
        pos += n;
        if pos < out.len() {
            // A(i+1) only for a block still wanted: after the last one it would be wasted.
            let mut m = base.clone();
            m.update(&a);
            a = m.finalize().into_bytes();
        }
    }
}

/// The TLS PRF: PRF(secret, label, seed) filling `out`.
pub fn prf(hash: PrfHash, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(seed.len() + 1);
    parts.push(label);
    parts.extend_from_slice(seed);
    match hash {
        PrfHash::Sha256 => p_hash::<Hmac<Sha256>>(secret, &parts, out),
        PrfHash::Sha384 => p_hash::<Hmac<Sha384>>(secret, &parts, out),
        PrfHash::Md5Sha1 => {
            // RFC 4346 5: S1 and S2 are the two halves of the secret (sharing the middle
            // byte when its length is odd).
            let half = secret.len().div_ceil(2);
            let s1 = secret.get(..half).unwrap_or_default();
            let s2 = secret.get(secret.len() - half..).unwrap_or_default();
            p_hash::<Hmac<Md5>>(s1, &parts, out);
            let mut sha = vec![0u8; out.len()];
            p_hash::<Hmac<Sha1>>(s2, &parts, &mut sha);
            out.iter_mut().zip(sha).for_each(|(o, s)| *o ^= s);
        }
    }
}

/// The TLS 1.2 key block (RFC 5246 6.3): PRF(master, "key expansion", server + client random).
pub fn key_block(
    hash: PrfHash,
    master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    len: usize,
) -> Vec<u8> {
    let mut out = vec![0u8; len];
    prf(
        hash,
        master,
        b"key expansion",
        &[server_random, client_random],
        &mut out,
    );
    out
}

/// HKDF-Expand-Label(secret, label, "", len) (RFC 8446 7.1), with the suite's hash.
pub fn hkdf_expand_label(hash: PrfHash, secret: &[u8], label: &[u8], out: &mut [u8]) -> bool {
    hkdf_expand_labels(hash, secret, &mut [(label, out)])
}

/// HKDF-Expand-Label for several labels of one secret (RFC 8446 7.3: a traffic secret's
/// key and IV): the keyed PRK state is made once and expanded for each `(label, out)`.
pub fn hkdf_expand_labels(hash: PrfHash, secret: &[u8], outs: &mut [(&[u8], &mut [u8])]) -> bool {
    // HkdfLabel (RFC 8446 7.1): length, then the "tls13 "-prefixed label, then an empty
    // context; passed in pieces, so nothing is allocated.
    macro_rules! expand_all {
        ($h:ty) => {
            hkdf::Hkdf::<$h>::from_prk(secret).is_ok_and(|h| {
                outs.iter_mut().all(|(label, out)| {
                    let (Ok(len), Ok(label_len)) =
                        (u16::try_from(out.len()), u8::try_from(6 + label.len()))
                    else {
                        return false;
                    };
                    let info: [&[u8]; 5] =
                        [&len.to_be_bytes(), &[label_len], b"tls13 ", label, &[0]];
                    h.expand_multi_info(&info, out).is_ok()
                })
            })
        };
    }
    match hash {
        PrfHash::Sha256 => expand_all!(Sha256),
        PrfHash::Sha384 => expand_all!(Sha384),
        PrfHash::Md5Sha1 => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 8448 3 (Simple 1-RTT Handshake): the server's handshake traffic secret gives
    /// this write key and IV.
    #[test]
    fn hkdf_expand_label_matches_rfc8448() {
        let secret = hex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
        let mut key = [0u8; 16];
        let mut iv = [0u8; 12];
        assert!(hkdf_expand_label(
            PrfHash::Sha256,
            &secret,
            b"key",
            &mut key
        ));
        assert!(hkdf_expand_label(PrfHash::Sha256, &secret, b"iv", &mut iv));
        assert_eq!(key.to_vec(), hex("3fce516009c21727d0f2e4e86ee403bc"));
        assert_eq!(iv.to_vec(), hex("5d313eb2671276ee13000b30"));
    }

    /// The TLS 1.2 PRF with SHA-256 test vector published with RFC 5246's errata
    /// discussion (IETF TLS WG, "TLS 1.2 PRF test vectors").
    #[test]
    fn prf_sha256_matches_the_published_vector() {
        let secret = hex("9bbe436ba940f017b17652849a71db35");
        let seed = hex("a0ba9f936cda311827a6f796ffd5198c");
        let mut out = [0u8; 100];
        prf(PrfHash::Sha256, &secret, b"test label", &[&seed], &mut out);
        assert_eq!(
            out.get(..16).unwrap().to_vec(),
            hex("e3f229ba727be17b8d122620557cd453")
        );
    }
}
