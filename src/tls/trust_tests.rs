//! Records past `TRUST_AFTER` (16 authenticated records of a direction) open as the first
//! ones do: AES-GCM XORed from the fragment into a scratch buffer that only grows, AES-CBC
//! decrypted and its padding checked without the HMAC.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use cbc::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};

use super::cipher::{DirectionCipher, DirectionKeys, OpenError};
use super::suite::{suite_info, CipherSuiteId, ProtocolVersion};

/// More than the 16 after which a direction's keys are trusted.
const RECORDS: u64 = 24;
const APPLICATION_DATA: u8 = 23;
const TLS12: u16 = 0x0303;

/// Record `i`'s content: lengths that grow and shrink, so the scratch buffer holds bytes of
/// a longer record behind a shorter one.
fn content(i: u64) -> Vec<u8> {
    format!("record {i} of a session;")
        .repeat(i as usize % 5 + 1)
        .into_bytes()
}

#[test]
fn gcm_records_past_the_trust_open_to_their_plaintext() {
    // TLS_RSA_WITH_AES_128_GCM_SHA256: a 4-byte salt, the other 8 nonce bytes in the record.
    let suite = suite_info(CipherSuiteId(0x009C), ProtocolVersion::TLS12).unwrap();
    let (key, salt) = ([7u8; 16], [1u8, 2, 3, 4]);
    let keys = DirectionKeys {
        key: &key,
        iv: &salt,
        mac_key: &[],
    };
    let mut cipher = DirectionCipher::new(&suite, &keys, false).unwrap();
    let seal = Aes128Gcm::new_from_slice(&key).unwrap();
    let mut scratch = Vec::new();
    for seq in 0..RECORDS {
        let plain = content(seq);
        let explicit = (seq * 3 + 11).to_be_bytes();
        let nonce = [salt.as_slice(), &explicit].concat();
        let len = u16::try_from(plain.len()).unwrap();
        let aad = [
            seq.to_be_bytes().as_slice(),
            &[APPLICATION_DATA],
            &TLS12.to_be_bytes(),
            &len.to_be_bytes(),
        ]
        .concat();
        let mut body = plain.clone();
        let tag = seal
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), &aad, &mut body)
            .unwrap();
        let fragment = [explicit.as_slice(), &body, &tag].concat();
        let opened = cipher
            .open(APPLICATION_DATA, TLS12, &fragment, &mut scratch)
            .unwrap();
        assert_eq!(opened.content_type, APPLICATION_DATA);
        assert_eq!(&scratch[opened.plaintext], plain.as_slice(), "record {seq}");
    }
}

/// TLS_RSA_WITH_AES_128_CBC_SHA keys.
const CBC_KEY: [u8; 16] = [9; 16];
const MAC_KEY: [u8; 20] = [5; 20];

fn cbc_cipher() -> DirectionCipher {
    let suite = suite_info(CipherSuiteId(0x002F), ProtocolVersion::TLS12).unwrap();
    let keys = DirectionKeys {
        key: &CBC_KEY,
        iv: &[0; 16],
        mac_key: &MAC_KEY,
    };
    DirectionCipher::new(&suite, &keys, false).unwrap()
}

/// A MAC-then-encrypt record (RFC 5246 6.2.3.2) with its explicit IV; `spoil` changes one
/// byte of the MAC (`Mac`) or of the padding (`Padding`) before encryption.
#[derive(Clone, Copy, PartialEq)]
enum Spoil {
    Nothing,
    Mac,
    Padding,
}

fn cbc_record(seq: u64, text: &[u8], spoil: Spoil) -> Vec<u8> {
    let mut m = <Hmac<sha1::Sha1> as Mac>::new_from_slice(&MAC_KEY).unwrap();
    m.update(&seq.to_be_bytes());
    m.update(&[APPLICATION_DATA]);
    m.update(&TLS12.to_be_bytes());
    m.update(&u16::try_from(text.len()).unwrap().to_be_bytes());
    m.update(text);
    let mut tag = m.finalize().into_bytes().to_vec();
    if spoil == Spoil::Mac {
        tag[0] ^= 1;
    }
    let mut p = [text, &tag].concat();
    let pad = 15 - p.len() % 16;
    p.extend(std::iter::repeat_n(pad as u8, pad + 1));
    if spoil == Spoil::Padding {
        let at = p.len() - 2;
        p[at] ^= 0x55;
    }
    let iv = [seq as u8; 16];
    let n = p.len();
    cbc::Encryptor::<aes::Aes128>::new_from_slices(&CBC_KEY, &iv)
        .unwrap()
        .encrypt_padded_mut::<NoPadding>(&mut p, n)
        .unwrap();
    [iv.as_slice(), &p].concat()
}

#[test]
fn cbc_records_past_the_trust_open_without_their_mac_but_not_without_their_padding() {
    let mut cipher = cbc_cipher();
    let mut scratch = Vec::new();
    for seq in 0..RECORDS {
        let text = content(seq);
        let fragment = cbc_record(seq, &text, Spoil::Nothing);
        let opened = cipher
            .open(APPLICATION_DATA, TLS12, &fragment, &mut scratch)
            .unwrap();
        assert_eq!(&scratch[opened.plaintext], text.as_slice(), "record {seq}");
    }
    // Trusted: the MAC is no longer computed, the padding still is.
    let text = b"xx".as_slice();
    let spoilt = cbc_record(RECORDS, text, Spoil::Mac);
    let opened = cipher.open(APPLICATION_DATA, TLS12, &spoilt, &mut scratch);
    assert_eq!(&scratch[opened.unwrap().plaintext], text);
    let spoilt = cbc_record(RECORDS + 1, text, Spoil::Padding);
    let opened = cipher.open(APPLICATION_DATA, TLS12, &spoilt, &mut scratch);
    assert_eq!(opened.unwrap_err(), OpenError::BadRecordMac);
    // Before the trust a wrong MAC fails the record.
    let mut fresh = cbc_cipher();
    let spoilt = cbc_record(0, text, Spoil::Mac);
    let opened = fresh.open(APPLICATION_DATA, TLS12, &spoilt, &mut scratch);
    assert_eq!(opened.unwrap_err(), OpenError::BadRecordMac);
}

#[test]
fn after_a_gap_a_trusted_direction_authenticates_again_and_a_lost_record_fails_it() {
    let mut cipher = cbc_cipher();
    let mut scratch = Vec::new();
    for seq in 0..RECORDS {
        let fragment = cbc_record(seq, &content(seq), Spoil::Nothing);
        cipher
            .open(APPLICATION_DATA, TLS12, &fragment, &mut scratch)
            .unwrap();
    }
    // Two records lost in a gap: the next one was MACed with sequence RECORDS + 2, the
    // cipher expects RECORDS. Trusted, it would open (no MAC computed); after the gap its
    // MAC is checked again and the sequence mismatch fails it.
    let after_loss = cbc_record(RECORDS + 2, b"after the gap", Spoil::Nothing);
    let mut trusting = cbc_cipher();
    for seq in 0..RECORDS {
        let fragment = cbc_record(seq, &content(seq), Spoil::Nothing);
        trusting
            .open(APPLICATION_DATA, TLS12, &fragment, &mut scratch)
            .unwrap();
    }
    assert!(trusting
        .open(APPLICATION_DATA, TLS12, &after_loss, &mut scratch)
        .is_ok());
    cipher.distrust();
    let opened = cipher.open(APPLICATION_DATA, TLS12, &after_loss, &mut scratch);
    assert_eq!(opened.unwrap_err(), OpenError::BadRecordMac);
}
