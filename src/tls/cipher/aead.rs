//! AEAD record protection: AES-GCM (RFC 5288, NIST SP 800-38D) and ChaCha20-Poly1305
//! (RFC 7905), with their per-record nonces and the GCM keystream used once keys are trusted.
//! Apart from CBC because the two families share nothing but the AES key schedule.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce};
use chacha20poly1305::ChaCha20Poly1305;

use super::{AesKey, Engine};

pub(super) enum Aead {
    Aes128(Box<Aes128Gcm>),
    Aes256(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
}

pub(super) fn aead_engine(
    aead: Aead,
    ctr: Option<AesKey>,
    iv: &[u8],
    explicit_nonce: bool,
) -> Option<Engine> {
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
pub(super) fn open_aead(
    aead: &Aead,
    nonce: &[u8; 12],
    aad: &[u8],
    body: &mut [u8],
    tag: &[u8],
) -> bool {
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
pub(super) fn record_nonce(
    iv: &[u8; 12],
    explicit: bool,
    fragment: &[u8],
    seq: u64,
) -> Option<[u8; 12]> {
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
pub(super) fn gcm_keystream_in_place(k: &AesKey, nonce: &[u8; 12], body: &mut [u8]) {
    use ctr::cipher::StreamCipher;
    match k {
        AesKey::Aes128(aes) => gcm_ctr(&**aes, nonce).apply_keystream(body),
        AesKey::Aes256(aes) => gcm_ctr(&**aes, nonce).apply_keystream(body),
    }
}

/// GCM's plaintext without its tag check, from the ciphertext `sealed` into `out` (same
/// length).
pub(super) fn gcm_keystream(k: &AesKey, nonce: &[u8; 12], sealed: &[u8], out: &mut [u8]) {
    use ctr::cipher::StreamCipher;
    // Lengths are equal by construction; a mismatch leaves `out` as it was.
    let _ = match k {
        AesKey::Aes128(aes) => gcm_ctr(&**aes, nonce).apply_keystream_b2b(sealed, out),
        AesKey::Aes256(aes) => gcm_ctr(&**aes, nonce).apply_keystream_b2b(sealed, out),
    };
}
