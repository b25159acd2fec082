//! Record protection of one direction: opening a TLS 1.2 or 1.3 record with its keys
//! (RFC 5246 6.2.3, RFC 5288 3, RFC 7905 2, RFC 8446 5.2-5.3).
//!
//! Submodules: `aead` holds the AES-GCM and ChaCha20-Poly1305 engines, `cbc_hmac` the AES-CBC
//! engine with its HMAC; this file keeps the per-direction state, the record header and the
//! choice between them. The key schedule that derives these keys is in `super::schedule`.

mod aead;
mod cbc_hmac;

use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;

use super::suite::{Protection, SuiteInfo};
use aead::{aead_engine, gcm_keystream, gcm_keystream_in_place, open_aead, record_nonce, Aead};
use cbc_hmac::{open_cbc, open_cbc_etm, MacState, Tag};

/// Why a record would not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The AEAD tag or the CBC MAC/padding does not verify: the keys do not match.
    #[error("record does not authenticate (keys do not match)")]
    BadRecordMac,
    /// Shorter than the nonce, IV, tag or MAC it must hold.
    #[error("record too short for its protection ({0} bytes)")]
    TooShort(usize),
    /// TLS 1.3 inner plaintext of only padding (RFC 8446 5.4).
    #[error("TLS 1.3 record without a content type")]
    NoContentType,
}

/// AES-GCM records of a direction whose keys authenticated this many records are opened
/// with the CTR keystream alone (the GCM keystream, NIST SP 800-38D 7.2): the same plaintext
/// without GHASH, which costs as much again. AES-CBC records are then decrypted and their
/// padding checked, without the HMAC over their content (as costly as the decryption with
/// SHA-1). Wrong keys are caught on the first records; a capture is not an adversary of its
/// own analysis. A new key (TLS 1.3 KeyUpdate) starts over.
const TRUST_AFTER: u32 = 16;

/// An expanded AES key schedule (FIPS 197 5.2), made once per key: expanding it for every
/// record cost about 4 % of a keyed run. The keystream and CBC modes take a copy of it.
#[derive(Clone)]
enum AesKey {
    Aes128(Box<aes::Aes128>),
    Aes256(Box<aes::Aes256>),
}

impl AesKey {
    fn new(key: &[u8]) -> Option<AesKey> {
        use aes::cipher::KeyInit as _;
        match key.len() {
            16 => aes::Aes128::new_from_slice(key)
                .ok()
                .map(|k| AesKey::Aes128(Box::new(k))),
            32 => aes::Aes256::new_from_slice(key)
                .ok()
                .map(|k| AesKey::Aes256(Box::new(k))),
            _ => None,
        }
    }
}

/// Where the plaintext of an opened record lies in the buffer it was opened in, and its
/// content type (TLS 1.3: the inner one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub content_type: u8,
    pub plaintext: std::ops::Range<usize>,
}

enum Engine {
    Aead {
        aead: Aead,
        /// AES-GCM: the key schedule again, for the keystream once the keys are trusted.
        ctr: Option<AesKey>,
        /// Records of this direction that authenticated.
        verified: u32,
        /// TLS 1.2 GCM: the 4-byte salt; otherwise the 12-byte IV XORed with the sequence.
        iv: [u8; 12],
        /// TLS 1.2 GCM carries the other 8 nonce bytes in the record.
        explicit_nonce: bool,
    },
    Cbc {
        key: AesKey,
        /// The HMAC keyed once (its padded key blocks hashed); each record starts from a copy.
        mac: Box<MacState>,
        /// TLS 1.0: the IV of the next record, the last ciphertext block of this one.
        chained_iv: Option<[u8; 16]>,
        /// RFC 7366: the MAC follows the ciphertext and covers it.
        encrypt_then_mac: bool,
        /// Records of this direction whose MAC verified.
        verified: u32,
    },
}

/// The keys of one direction and its record sequence number.
pub struct DirectionCipher {
    engine: Engine,
    tls13: bool,
    pub seq: u64,
}

/// Keys of one direction, as derived.
pub struct DirectionKeys<'a> {
    pub key: &'a [u8],
    pub iv: &'a [u8],
    pub mac_key: &'a [u8],
}

impl DirectionCipher {
    pub fn new(suite: &SuiteInfo, keys: &DirectionKeys, tls10: bool) -> Option<DirectionCipher> {
        let engine = match suite.protection {
            Protection::AesCbc { key_len, mac } => {
                let key = AesKey::new(keys.key.get(..key_len)?)?;
                let mac = Box::new(MacState::new(mac, keys.mac_key.get(..mac.len())?)?);
                let chained_iv = if tls10 {
                    Some(keys.iv.get(..16)?.try_into().ok()?)
                } else {
                    None
                };
                Engine::Cbc {
                    key,
                    mac,
                    chained_iv,
                    encrypt_then_mac: false,
                    verified: 0,
                }
            }
            Protection::AesGcm { key_len } => {
                let aead = match key_len {
                    16 => Aead::Aes128(Box::new(Aes128Gcm::new_from_slice(keys.key).ok()?)),
                    _ => Aead::Aes256(Box::new(Aes256Gcm::new_from_slice(keys.key).ok()?)),
                };
                let ctr = AesKey::new(keys.key.get(..key_len)?)?;
                aead_engine(aead, Some(ctr), keys.iv, !suite.tls13)?
            }
            Protection::ChaCha20Poly1305 => {
                let aead = Aead::ChaCha(Box::new(ChaCha20Poly1305::new_from_slice(keys.key).ok()?));
                aead_engine(aead, None, keys.iv, false)?
            }
        };
        Some(DirectionCipher {
            engine,
            tls13: suite.tls13,
            seq: 0,
        })
    }

    /// RFC 7366 encrypt-then-MAC for a CBC suite (no effect on AEAD suites).
    pub fn with_encrypt_then_mac(mut self, on: bool) -> Self {
        if let Engine::Cbc {
            encrypt_then_mac, ..
        } = &mut self.engine
        {
            *encrypt_then_mac = on;
        }
        self
    }

    /// TLS 1.3 keys of a traffic secret (RFC 8446 7.3).
    pub fn from_traffic_secret(suite: &SuiteInfo, secret: &[u8]) -> Option<DirectionCipher> {
        let mut key = [0u8; 32];
        let key = key.get_mut(..suite.key_len())?;
        let mut iv = [0u8; 12];
        let hash = suite.hash;
        if !super::schedule::hkdf_expand_labels(
            hash,
            secret,
            &mut [(b"key".as_slice(), key), (b"iv".as_slice(), &mut iv)],
        ) {
            return None;
        }
        let keys = DirectionKeys {
            key,
            iv: &iv,
            mac_key: &[],
        };
        Self::new(suite, &keys, false)
    }

    /// Opens one record: its `fragment` is decrypted into `buf`, the plaintext is
    /// `buf[plaintext]` of the result (`buf` may be longer: it is scratch space kept between
    /// records). The sequence number advances only when the record opens.
    /// A gap in this direction's stream: records may be lost, so the sequence number may be
    /// behind the sender's. The next records are authenticated again, as the first ones
    /// were: a wrong sequence (TLS 1.3 nonce, every AAD) then fails the decryption instead
    /// of the keystream yielding garbage that the inner parsers would read as PDUs.
    pub fn distrust(&mut self) {
        match &mut self.engine {
            Engine::Aead { verified, .. } | Engine::Cbc { verified, .. } => *verified = 0,
        }
    }

    pub fn open(
        &mut self,
        content_type: u8,
        version: u16,
        fragment: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<Opened, OpenError> {
        if let Some(opened) = self.open_trusted_gcm(content_type, fragment, buf) {
            let opened = opened?;
            self.seq += 1;
            return Ok(opened);
        }
        buf.clear();
        buf.extend_from_slice(fragment);
        self.open_in_place(content_type, version, buf)
    }

    /// A trusted AES-GCM record (`TRUST_AFTER`): the keystream XORed from the fragment
    /// straight into `buf`, which only grows (no copy of the ciphertext first). None: the
    /// record takes the authenticated path.
    fn open_trusted_gcm(
        &self,
        content_type: u8,
        fragment: &[u8],
        buf: &mut Vec<u8>,
    ) -> Option<Result<Opened, OpenError>> {
        let Engine::Aead {
            ctr: Some(k),
            verified,
            iv,
            explicit_nonce,
            ..
        } = &self.engine
        else {
            return None;
        };
        if *verified < TRUST_AFTER {
            return None;
        }
        let start = if *explicit_nonce { 8 } else { 0 };
        // Too short for its nonce and tag: the authenticated path reports it.
        let body_end = fragment.len().checked_sub(16).filter(|&e| e >= start)?;
        let nonce = record_nonce(iv, *explicit_nonce, fragment, self.seq)?;
        if buf.len() < body_end {
            buf.resize(body_end, 0);
        }
        let out = buf.get_mut(start..body_end)?;
        gcm_keystream(k, &nonce, fragment.get(start..body_end)?, out);
        Some(if self.tls13 {
            strip_tls13_padding(out).map(|(inner, len)| Opened {
                content_type: inner,
                plaintext: start..start + len,
            })
        } else {
            Ok(Opened {
                content_type,
                plaintext: start..body_end,
            })
        })
    }

    /// Opens one record whose fragment `buf` holds, in place.
    fn open_in_place(
        &mut self,
        content_type: u8,
        version: u16,
        buf: &mut Vec<u8>,
    ) -> Result<Opened, OpenError> {
        let seq = self.seq;
        let opened = match &mut self.engine {
            Engine::Aead {
                aead,
                ctr,
                verified,
                iv,
                explicit_nonce,
            } => {
                let start = if *explicit_nonce { 8 } else { 0 };
                let nonce = record_nonce(iv, *explicit_nonce, buf, seq)
                    .ok_or(OpenError::TooShort(buf.len()))?;
                let too_short = OpenError::TooShort(buf.len().saturating_sub(start));
                let body_end = buf
                    .len()
                    .checked_sub(16)
                    .filter(|&end| end >= start)
                    .ok_or(too_short)?;
                let aad = if self.tls13 {
                    // RFC 8446 5.2: the record header, length of the ciphertext.
                    header(content_type, version, body_end + 16, None)
                } else {
                    header(content_type, version, body_end - start, Some(seq))
                };
                let aad = if self.tls13 {
                    aad.get(..5)
                } else {
                    aad.get(..13)
                };
                let aad = aad.unwrap_or_default();
                let trusted = *verified >= TRUST_AFTER;
                let (sealed, tag) = buf.split_at_mut(body_end);
                let body = sealed.get_mut(start..).ok_or(too_short)?;
                let ok = match ctr.as_ref().filter(|_| trusted) {
                    Some(k) => {
                        gcm_keystream_in_place(k, &nonce, body);
                        true
                    }
                    None => open_aead(aead, &nonce, aad, body, tag),
                };
                if !ok {
                    return Err(OpenError::BadRecordMac);
                }
                if !trusted {
                    *verified = verified.saturating_add(1);
                }
                if self.tls13 {
                    let (inner, len) = strip_tls13_padding(body)?;
                    Opened {
                        content_type: inner,
                        plaintext: start..start + len,
                    }
                } else {
                    Opened {
                        content_type,
                        plaintext: start..body_end,
                    }
                }
            }
            Engine::Cbc {
                key,
                mac,
                chained_iv,
                encrypt_then_mac,
                verified,
            } => {
                let record = (seq, content_type, version);
                let trusted = *verified >= TRUST_AFTER;
                let mac = Tag {
                    len: mac.len(),
                    check: (!trusted).then_some(&**mac),
                };
                if *encrypt_then_mac {
                    open_cbc_etm(key, mac, chained_iv, record, buf)?;
                } else {
                    open_cbc(key, mac, chained_iv, record, buf)?;
                }
                if !trusted {
                    *verified = verified.saturating_add(1);
                }
                Opened {
                    content_type,
                    plaintext: 0..buf.len(),
                }
            }
        };
        self.seq += 1;
        Ok(opened)
    }
}

/// The additional data: seq_num (TLS 1.2 only), type, version, length.
fn header(content_type: u8, version: u16, len: usize, seq: Option<u64>) -> [u8; 13] {
    let mut out = [0u8; 13];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        if let Some(dst) = out.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        at += bytes.len();
    };
    if let Some(seq) = seq {
        put(&seq.to_be_bytes());
    }
    put(&[content_type]);
    put(&version.to_be_bytes());
    put(&(len as u16).to_be_bytes());
    out
}

/// RFC 8446 5.4: zeros pad the inner plaintext after its content type byte. Returns that
/// type and the length of the content before it.
fn strip_tls13_padding(buf: &[u8]) -> Result<(u8, usize), OpenError> {
    let end = buf
        .iter()
        .rposition(|&b| b != 0)
        .ok_or(OpenError::NoContentType)?;
    let inner = buf.get(end).copied().ok_or(OpenError::NoContentType)?;
    Ok((inner, end))
}
