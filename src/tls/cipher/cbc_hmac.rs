//! AES-CBC record protection with its HMAC (RFC 5246 6.2.3.2, RFC 2104), MAC-then-encrypt
//! and encrypt-then-MAC (RFC 7366). Apart from the AEAD engines because the MAC, the padding
//! and the TLS 1.0 IV chaining are CBC's alone.

use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut};
use hmac::{Hmac, Mac};

use super::super::suite::MacHash;
use super::{AesKey, OpenError};

/// RFC 7366 3: MAC(seq, type, version, length, IV + ciphertext) follows the ciphertext; it
/// is checked before anything is decrypted, and the plaintext ends with the CBC padding only.
pub(super) fn open_cbc_etm(
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
        if !mac_matches(mac, (seq, content_type, version), body, tag) {
            return Err(OpenError::BadRecordMac);
        }
    }
    buf.truncate(body_len);
    decrypt_blocks(key, chained_iv, buf, 1)?;
    let pad = usize::from(buf.last().copied().unwrap_or(0));
    let content_end = buf
        .len()
        .checked_sub(pad + 1)
        .ok_or(OpenError::BadRecordMac)?;
    buf.truncate(content_end);
    Ok(())
}

/// TLS 1.1+ (RFC 4346 6.2.3.2): the record starts with its IV; TLS 1.0 chains them (the
/// last ciphertext block is the next record's IV). Takes the IV, then decrypts the rest in
/// place; a rest of fewer than `at_least` bytes (at least one) or not whole blocks is too
/// short.
fn decrypt_blocks(
    key: &AesKey,
    chained_iv: &mut Option<[u8; 16]>,
    buf: &mut Vec<u8>,
    at_least: usize,
) -> Result<(), OpenError> {
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
    if buf.len() < at_least.max(1) || !buf.len().is_multiple_of(16) {
        return Err(OpenError::TooShort(buf.len()));
    }
    let next_iv: Option<[u8; 16]> = buf.get(buf.len() - 16..).and_then(|b| b.try_into().ok());
    if !cbc_decrypt(key, &iv, buf) {
        return Err(OpenError::BadRecordMac);
    }
    if chained_iv.is_some() {
        *chained_iv = next_iv;
    }
    Ok(())
}

/// RFC 5246 6.2.3.1: HMAC(seq, type, version, length, covered) checked against the tag.
fn mac_matches(
    mac: &MacState,
    (seq, content_type, version): (u64, u8, u16),
    covered: &[u8],
    tag: &[u8],
) -> bool {
    let mut m = mac.clone();
    m.update(&seq.to_be_bytes());
    m.update(&[content_type]);
    m.update(&version.to_be_bytes());
    // A TLS record's length field is 16 bits: what it covers is never longer.
    m.update(
        &u16::try_from(covered.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    m.update(covered);
    m.verify(tag)
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

pub(super) fn open_cbc(
    key: &AesKey,
    mac: Tag<'_>,
    chained_iv: &mut Option<[u8; 16]>,
    (seq, content_type, version): (u64, u8, u16),
    buf: &mut Vec<u8>,
) -> Result<(), OpenError> {
    decrypt_blocks(key, chained_iv, buf, mac.len + 1)?;
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
        if !mac_matches(mac, (seq, content_type, version), content, tag) {
            return Err(OpenError::BadRecordMac);
        }
    }
    buf.truncate(content_end);
    Ok(())
}

/// A CBC record's MAC: its length, and the keyed HMAC to check it with until the keys are
/// trusted (`TRUST_AFTER`).
#[derive(Clone, Copy)]
pub(super) struct Tag<'a> {
    pub(super) len: usize,
    pub(super) check: Option<&'a MacState>,
}

/// A keyed HMAC (RFC 2104) of the suite's hash.
#[derive(Clone)]
pub(super) enum MacState {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha384(Hmac<sha2::Sha384>),
}

impl MacState {
    pub(super) fn new(mac: MacHash, key: &[u8]) -> Option<MacState> {
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
    pub(super) fn len(&self) -> usize {
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
