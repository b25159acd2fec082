//! Record protection of one direction: opening a TLS 1.2 or 1.3 record with its keys
//! (RFC 5246 6.2.3, RFC 5288 3, RFC 7905 2, RFC 8446 5.2-5.3).

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit, Nonce};
use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};

use super::suite::{MacHash, Protection, SuiteInfo};

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

enum Aead {
    Aes128(Box<Aes128Gcm>),
    Aes256(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
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
                let mut nonce = *iv;
                let start = if *explicit_nonce { 8 } else { 0 };
                if *explicit_nonce {
                    let explicit = buf.get(..8).ok_or(OpenError::TooShort(buf.len()))?;
                    nonce
                        .get_mut(4..)
                        .ok_or(OpenError::TooShort(0))?
                        .copy_from_slice(explicit);
                } else {
                    nonce
                        .iter_mut()
                        .skip(4)
                        .zip(seq.to_be_bytes())
                        .for_each(|(n, s)| *n ^= s);
                }
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

fn aead_engine(aead: Aead, ctr: Option<AesKey>, iv: &[u8], explicit_nonce: bool) -> Option<Engine> {
    let mut full = [0u8; 12];
    if explicit_nonce {
        full.get_mut(..4)?.copy_from_slice(iv.get(..4)?);
    } else {
        full.copy_from_slice(iv.get(..12)?);
    }
    Some(Engine::Aead {
        aead,
        ctr,
        verified: 0,
        iv: full,
        explicit_nonce,
    })
}

/// Opens an AEAD record in place, tag checked.
fn open_aead(aead: &Aead, nonce: &[u8; 12], aad: &[u8], body: &mut [u8], tag: &[u8]) -> bool {
    let nonce = Nonce::from_slice(nonce);
    if tag.len() != 16 {
        return false;
    }
    let tag = aes_gcm::Tag::from_slice(tag);
    match aead {
        Aead::Aes128(c) => c.decrypt_in_place_detached(nonce, aad, body, tag).is_ok(),
        Aead::Aes256(c) => c.decrypt_in_place_detached(nonce, aad, body, tag).is_ok(),
        Aead::ChaCha(c) => c.decrypt_in_place_detached(nonce, aad, body, tag).is_ok(),
    }
}

/// The nonce of a record (RFC 5288 3: salt and explicit part; RFC 8446 5.3 and RFC 7905
/// 2: the IV XOR the sequence number). None: no explicit part.
fn record_nonce(iv: &[u8; 12], explicit: bool, fragment: &[u8], seq: u64) -> Option<[u8; 12]> {
    let mut nonce = *iv;
    if explicit {
        nonce.get_mut(4..)?.copy_from_slice(fragment.get(..8)?);
    } else {
        nonce
            .iter_mut()
            .skip(4)
            .zip(seq.to_be_bytes())
            .for_each(|(n, s)| *n ^= s);
    }
    Some(nonce)
}

/// GCM's keystream: AES-CTR from counter 2 (J0 = nonce || 1 is the tag's, NIST SP 800-38D
/// 7.2), over the key schedule by reference (copying it per record cost a memcpy of its
/// round keys each time).
fn gcm_ctr<'a, C>(aes: &'a C, nonce: &[u8; 12]) -> impl ctr::cipher::StreamCipher + 'a
where
    C: aes::cipher::BlockEncrypt
        + aes::cipher::BlockCipher
        + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
{
    use ctr::cipher::{InnerIvInit, StreamCipherCoreWrapper};
    let mut counter = [0u8; 16];
    if let Some(front) = counter.get_mut(..12) {
        front.copy_from_slice(nonce);
    }
    if let Some(last) = counter.get_mut(15) {
        *last = 2;
    }
    let core = ctr::CtrCore::<&C, ctr::flavors::Ctr32BE>::inner_iv_init(aes, (&counter).into());
    StreamCipherCoreWrapper::from_core(core)
}

/// GCM's plaintext without its tag check, decrypted in place.
fn gcm_keystream_in_place(k: &AesKey, nonce: &[u8; 12], body: &mut [u8]) {
    use ctr::cipher::StreamCipher;
    match k {
        AesKey::Aes128(aes) => gcm_ctr(&**aes, nonce).apply_keystream(body),
        AesKey::Aes256(aes) => gcm_ctr(&**aes, nonce).apply_keystream(body),
    }
}

/// GCM's plaintext without its tag check, from the ciphertext `sealed` into `out` (same
/// length).
fn gcm_keystream(k: &AesKey, nonce: &[u8; 12], sealed: &[u8], out: &mut [u8]) {
    use ctr::cipher::StreamCipher;
    // Lengths are equal by construction; a mismatch leaves `out` as it was.
    let _ = match k {
        AesKey::Aes128(aes) => gcm_ctr(&**aes, nonce).apply_keystream_b2b(sealed, out),
        AesKey::Aes256(aes) => gcm_ctr(&**aes, nonce).apply_keystream_b2b(sealed, out),
    };
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

/// RFC 7366 3: MAC(seq, type, version, length, IV + ciphertext) follows the ciphertext; it
/// is checked before anything is decrypted, and the plaintext ends with the CBC padding only.
fn open_cbc_etm(
    key: &AesKey,
    mac: Tag<'_>,
    chained_iv: &mut Option<[u8; 16]>,
    (seq, content_type, version): (u64, u8, u16),
    buf: &mut Vec<u8>,
) -> Result<(), OpenError> {
    let body_len = buf
        .len()
        .checked_sub(mac.len)
        .ok_or(OpenError::TooShort(buf.len()))?;
    let (body, tag) = buf.split_at(body_len);
    if let Some(mac) = mac.check {
        let mut m = mac.clone();
        m.update(&seq.to_be_bytes());
        m.update(&[content_type]);
        m.update(&version.to_be_bytes());
        m.update(&u16::try_from(body.len()).unwrap_or(u16::MAX).to_be_bytes());
        m.update(body);
        if !m.verify(tag) {
            return Err(OpenError::BadRecordMac);
        }
    }
    buf.truncate(body_len);
    let iv: [u8; 16] = match chained_iv {
        Some(iv) => *iv,
        None => {
            let iv = buf
                .get(..16)
                .and_then(|b| b.try_into().ok())
                .ok_or(OpenError::TooShort(buf.len()))?;
            buf.drain(..16);
            iv
        }
    };
    if buf.is_empty() || !buf.len().is_multiple_of(16) {
        return Err(OpenError::TooShort(buf.len()));
    }
    let next_iv: Option<[u8; 16]> = buf.get(buf.len() - 16..).and_then(|b| b.try_into().ok());
    if !cbc_decrypt(key, &iv, buf) {
        return Err(OpenError::BadRecordMac);
    }
    if chained_iv.is_some() {
        *chained_iv = next_iv;
    }
    let pad = usize::from(buf.last().copied().unwrap_or(0));
    let content_end = buf
        .len()
        .checked_sub(pad + 1)
        .ok_or(OpenError::BadRecordMac)?;
    buf.truncate(content_end);
    Ok(())
}

/// AES-CBC decryption in place, without padding removal (TLS pads itself).
fn cbc_decrypt(key: &AesKey, iv: &[u8; 16], buf: &mut [u8]) -> bool {
    use cbc::cipher::InnerIvInit;
    let iv = iv.into();
    match key {
        AesKey::Aes128(aes) => cbc::Decryptor::<&aes::Aes128>::inner_iv_init(&**aes, iv)
            .decrypt_padded_mut::<NoPadding>(buf)
            .is_ok(),
        AesKey::Aes256(aes) => cbc::Decryptor::<&aes::Aes256>::inner_iv_init(&**aes, iv)
            .decrypt_padded_mut::<NoPadding>(buf)
            .is_ok(),
    }
}

fn open_cbc(
    key: &AesKey,
    mac: Tag<'_>,
    chained_iv: &mut Option<[u8; 16]>,
    (seq, content_type, version): (u64, u8, u16),
    buf: &mut Vec<u8>,
) -> Result<(), OpenError> {
    // TLS 1.1+ (RFC 4346 6.2.3.2): the record starts with its IV; TLS 1.0 chains them.
    let iv: [u8; 16] = match chained_iv {
        Some(iv) => *iv,
        None => {
            let iv = buf
                .get(..16)
                .and_then(|b| b.try_into().ok())
                .ok_or(OpenError::TooShort(buf.len()))?;
            buf.drain(..16);
            iv
        }
    };
    if buf.is_empty() || !buf.len().is_multiple_of(16) || buf.len() < mac.len + 1 {
        return Err(OpenError::TooShort(buf.len()));
    }
    let next_iv: Option<[u8; 16]> = buf.get(buf.len() - 16..).and_then(|b| b.try_into().ok());
    if !cbc_decrypt(key, &iv, buf) {
        return Err(OpenError::BadRecordMac);
    }
    if chained_iv.is_some() {
        *chained_iv = next_iv;
    }
    // RFC 5246 6.2.3.2: padding_length bytes of value padding_length, then that byte.
    let pad = usize::from(buf.last().copied().unwrap_or(0));
    let content_end = buf
        .len()
        .checked_sub(pad + 1 + mac.len)
        .ok_or(OpenError::BadRecordMac)?;
    let padding_ok = buf
        .get(buf.len() - pad - 1..)
        .is_some_and(|p| p.iter().all(|&b| usize::from(b) == pad));
    if !padding_ok {
        return Err(OpenError::BadRecordMac);
    }
    if let Some(mac) = mac.check {
        let (content, tag) = buf.split_at(content_end);
        let tag = tag.get(..mac.len()).unwrap_or_default();
        let mut m = mac.clone();
        m.update(&seq.to_be_bytes());
        m.update(&[content_type]);
        m.update(&version.to_be_bytes());
        m.update(&(content.len() as u16).to_be_bytes());
        m.update(content);
        if !m.verify(tag) {
            return Err(OpenError::BadRecordMac);
        }
    }
    buf.truncate(content_end);
    Ok(())
}

/// A CBC record's MAC: its length, and the keyed HMAC to check it with until the keys are
/// trusted (`TRUST_AFTER`).
#[derive(Clone, Copy)]
struct Tag<'a> {
    len: usize,
    check: Option<&'a MacState>,
}

/// A keyed HMAC (RFC 2104) of the suite's hash.
#[derive(Clone)]
enum MacState {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha384(Hmac<sha2::Sha384>),
}

impl MacState {
    fn new(mac: MacHash, key: &[u8]) -> Option<MacState> {
        let made = match mac {
            MacHash::Sha1 => <Hmac<sha1::Sha1> as Mac>::new_from_slice(key).map(MacState::Sha1),
            MacHash::Sha256 => {
                <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).map(MacState::Sha256)
            }
            MacHash::Sha384 => {
                <Hmac<sha2::Sha384> as Mac>::new_from_slice(key).map(MacState::Sha384)
            }
        };
        made.ok()
    }

    /// The tag's length in bytes.
    fn len(&self) -> usize {
        match self {
            MacState::Sha1(_) => 20,
            MacState::Sha256(_) => 32,
            MacState::Sha384(_) => 48,
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            MacState::Sha1(m) => m.update(data),
            MacState::Sha256(m) => m.update(data),
            MacState::Sha384(m) => m.update(data),
        }
    }

    fn verify(self, tag: &[u8]) -> bool {
        match self {
            MacState::Sha1(m) => m.verify_slice(tag).is_ok(),
            MacState::Sha256(m) => m.verify_slice(tag).is_ok(),
            MacState::Sha384(m) => m.verify_slice(tag).is_ok(),
        }
    }
}
