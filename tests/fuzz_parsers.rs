//! Stable fuzzing of every protocol parser entry point (see tests/fuzz/mod.rs for the knobs:
//! FUZZ_ITERS, FUZZ_SECS, FUZZ_SEED, FUZZ_CORPUS_OUT). Besides "no panic", the framing
//! functions must keep their contract: a `Complete(n)` PDU fits in the buffer and is not
//! empty, `NeedMore(n)` asks for at least one byte.

mod common;
mod fuzz;

use std::time::Duration;

use fuzz::*;
use rdpscope::proto::tls::TlsConversation;
use rdpscope::proto::x224::Tpdu;
use rdpscope::proto::{fastpath, gcc, mcs, rdpeudp, tls, tpkt, x224, Framing};

const DEFAULT_ITERS: u64 = 10_000;
const HANG: Duration = Duration::from_secs(10);

fn check_framing(buf: &[u8], f: Framing) {
    match f {
        Framing::Complete(n) => assert!(n > 0 && n <= buf.len(), "Complete({n}) of {buf:?}"),
        Framing::NeedMore(n) => assert!(n > 0, "NeedMore(0) for {buf:?}"),
        Framing::Invalid => {}
    }
}

fn tpkt_frames() -> Vec<Vec<u8>> {
    let v = all_pdus()
        .filter(|p| p.bytes.first() == Some(&0x03))
        .map(|p| p.bytes.clone())
        .collect();
    dedup(v, 400)
}

/// X.224 TPDUs: the payloads of the TPKT frames.
fn tpdus() -> Vec<Vec<u8>> {
    dedup(
        tpkt_frames()
            .iter()
            .filter_map(|f| tpkt::parse_tpkt(f).ok().map(|(_, p)| p.to_vec()))
            .collect(),
        400,
    )
}

/// MCS PDUs: the user data of X.224 Data TPDUs.
fn mcs_pdus() -> Vec<Vec<u8>> {
    dedup(
        tpdus()
            .iter()
            .filter_map(|t| match x224::parse_tpdu(t) {
                Ok(Tpdu::Data(d)) => Some(d.to_vec()),
                _ => None,
            })
            .collect(),
        400,
    )
}

/// GCC user data blocks: what follows the client's "Duca" / server's "McDn" keys, at the
/// offsets a PER length of one or two bytes leaves.
fn gcc_blocks(key: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for m in mcs_pdus() {
        if let Some(pos) = m.windows(4).position(|w| w == key) {
            for skip in 0..=2 {
                if let Some(rest) = m.get(pos + 4 + skip..) {
                    out.push(rest.to_vec());
                }
            }
            // The whole PDU too: the parser should survive being handed the wrong layer.
            out.push(m.clone());
        }
    }
    if out.is_empty() {
        out.push(key.to_vec());
    }
    dedup(out, 200)
}

fn tls_records() -> Vec<Vec<u8>> {
    dedup(
        all_pdus()
            .filter(|p| matches!(p.bytes.first(), Some(0x14..=0x18)))
            .map(|p| p.bytes.clone())
            .collect(),
        400,
    )
}

/// A TLS conversation as one input: chunks of [direction byte][u16 length][record].
fn encode_conversation(records: &[(bool, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (from_client, r) in records {
        out.push(u8::from(!from_client));
        let n = r.len().min(0xffff);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&r[..n]);
    }
    out
}

fn decode_conversation(mut input: &[u8]) -> Vec<(bool, &[u8])> {
    let mut out = Vec::new();
    while let [dir, hi, lo, rest @ ..] = input {
        let n = usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len());
        out.push((dir & 1 == 0, &rest[..n]));
        input = &rest[n..];
    }
    out
}

fn tls_conversations() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for conv in &corpus().conversations {
        let records: Vec<(bool, &[u8])> = conv
            .iter()
            .filter(|p| matches!(p.bytes.first(), Some(0x14..=0x18)))
            .take(24)
            .map(|p| (p.from_client, p.bytes.as_slice()))
            .collect();
        if !records.is_empty() {
            out.push(encode_conversation(&records));
        }
    }
    dedup(out, 200)
}

fn fastpath_frames() -> Vec<Vec<u8>> {
    let v = all_pdus()
        .filter(|p| !matches!(p.bytes.first(), Some(0x03 | 0x14..=0x18)))
        .map(|p| p.bytes.clone())
        .chain(tpkt_frames())
        .collect();
    dedup(v, 400)
}

#[test]
fn fuzz_tpkt_find_size() {
    fuzz(
        "tpkt_find_size",
        &tpkt_frames(),
        budget(DEFAULT_ITERS),
        HANG,
        |b| check_framing(b, tpkt::find_size(b)),
    );
}

#[test]
fn fuzz_tpkt_parse() {
    fuzz(
        "tpkt_parse",
        &tpkt_frames(),
        budget(DEFAULT_ITERS),
        HANG,
        |b| {
            if let Ok((_, payload)) = tpkt::parse_tpkt(b) {
                assert!(payload.len() <= b.len());
            }
        },
    );
}

#[test]
fn fuzz_x224_parse_tpdu() {
    fuzz(
        "x224_parse_tpdu",
        &tpdus(),
        budget(DEFAULT_ITERS),
        HANG,
        |b| {
            let _ = x224::parse_tpdu(b);
            let _ = x224::looks_like_connection_request(b);
        },
    );
}

#[test]
fn fuzz_mcs_parse_pdu() {
    fuzz(
        "mcs_parse_pdu",
        &mcs_pdus(),
        budget(DEFAULT_ITERS),
        HANG,
        |b| {
            let _ = mcs::parse_mcs_pdu(b);
            let _ = mcs::parse_security_header(b);
        },
    );
}

#[test]
fn fuzz_gcc_client_data() {
    fuzz(
        "gcc_client_data",
        &gcc_blocks(b"Duca"),
        budget(DEFAULT_ITERS),
        HANG,
        |b| {
            let _ = gcc::parse_client_data(b);
        },
    );
}

#[test]
fn fuzz_gcc_server_data() {
    fuzz(
        "gcc_server_data",
        &gcc_blocks(b"McDn"),
        budget(DEFAULT_ITERS),
        HANG,
        |b| {
            let _ = gcc::parse_server_data(b);
        },
    );
}

#[test]
fn fuzz_tls_find_record_size() {
    fuzz(
        "tls_find_record_size",
        &tls_records(),
        budget(DEFAULT_ITERS),
        HANG,
        |b| check_framing(b, tls::find_record_size(b)),
    );
}

#[test]
fn fuzz_tls_conversation() {
    let mut seeds = tls_conversations();
    // Single records too, each from both sides.
    for r in tls_records().iter().take(100) {
        seeds.push(encode_conversation(&[(true, r), (false, r)]));
    }
    fuzz(
        "tls_conversation",
        &seeds,
        budget(DEFAULT_ITERS),
        HANG,
        |b| {
            let mut conv = TlsConversation::new();
            for (from_client, record) in decode_conversation(b) {
                let _ = conv.feed_record(from_client, record);
            }
        },
    );
}

#[test]
fn fuzz_tls_parse_certificate() {
    let mut seeds = dedup(certificates(), 100);
    if seeds.is_empty() {
        seeds.push(vec![0x30, 0x82, 0x00, 0x00]);
    }
    fuzz(
        "tls_parse_certificate",
        &seeds,
        budget(DEFAULT_ITERS / 3),
        HANG,
        |b| {
            let info = tls::parse_certificate(b);
            let _ = info.matches_host("rdp.example.com");
            let _ = info.weak_key();
            let _ = info.expired_at(1_800_000_000);
        },
    );
}

#[test]
fn fuzz_fastpath() {
    fuzz(
        "fastpath",
        &fastpath_frames(),
        budget(DEFAULT_ITERS),
        HANG,
        |b| {
            check_framing(b, fastpath::find_size(b));
            let _ = fastpath::parse_header(b);
        },
    );
}

/// A client SYN as Windows sends it (MS-RDPEUDP 3.1.5.1.1): snSourceAck 0xFFFFFFFF, SYN with
/// CORRELATION_ID and SYNEX, MTUs of 1232, zero-padded to 1232 bytes; and its SYN+ACK.
fn handshake_datagrams() -> Vec<Vec<u8>> {
    let mut syn = Vec::new();
    syn.extend_from_slice(&u32::MAX.to_be_bytes());
    syn.extend_from_slice(&64u16.to_be_bytes());
    syn.extend_from_slice(&0x1801u16.to_be_bytes());
    syn.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    syn.extend_from_slice(&1232u16.to_be_bytes());
    syn.extend_from_slice(&1232u16.to_be_bytes());
    syn.extend_from_slice(&[0x11; 16]);
    syn.extend_from_slice(&[0; 32]);
    syn.extend_from_slice(&0x0001u16.to_be_bytes());
    syn.extend_from_slice(&0x0101u16.to_be_bytes());
    let mut synack = syn.clone();
    synack[..4].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    synack[6..8].copy_from_slice(&0x1005u16.to_be_bytes());
    for d in [&mut syn, &mut synack] {
        d.resize(1232, 0);
    }
    vec![syn, synack]
}

#[test]
fn fuzz_rdpeudp() {
    let mut seeds = dedup(corpus().datagrams.clone(), 400);
    seeds.extend(handshake_datagrams());
    assert!(
        seeds.iter().any(|s| rdpeudp::looks_like_syn(s)),
        "no RDP-UDP SYN among the seeds"
    );
    fuzz("rdpeudp", &seeds, budget(DEFAULT_ITERS), HANG, |b| {
        let _ = rdpeudp::parse_v1(b);
        let _ = rdpeudp::parse_v2(b);
        let _ = rdpeudp::looks_like_syn(b);
        let _ = rdpeudp::looks_like_syn_ack(b);
    });
}

fn keylog_seeds() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = std::fs::read_dir(common::repo_root().join("fixtures/tls"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "keys"))
                .filter_map(|e| std::fs::read(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    v.push(b"# comment\n\nCLIENT_RANDOM 00 11\r\n".to_vec());
    v
}

#[test]
fn fuzz_keylog_lines() {
    fuzz(
        "keylog_lines",
        &keylog_seeds(),
        budget(DEFAULT_ITERS),
        HANG,
        |b| {
            let store = rdpscope::keys::KeyStore::with_capacity(8);
            let stats = store.add_text(b, rdpscope::keys::KeySource::Keylog);
            let lines = b.split(|&c| c == b'\n').count() as u64;
            assert_eq!(
                stats.accepted + stats.bad + stats.ignored + stats.comments,
                lines
            );
            assert!(store.len().0 <= 8);
        },
    );
}

/// Real records of the TLS fixtures and the RDP captures under every suite with a wrong
/// key, before and after the keys arrive.
fn tls_decrypt_seeds() -> Vec<Vec<u8>> {
    use rdpscope::flow::Side;
    use rdpscope::tls::fuzz_input::{encode_fuzz_input, FUZZ_SUITES};
    let records = tls_records();
    let mut out = Vec::new();
    for (i, chunk) in records.chunks(6).take(40).enumerate() {
        let recs: Vec<(Side, &[u8])> = chunk
            .iter()
            .enumerate()
            .map(|(j, r)| {
                (
                    if j % 2 == 0 {
                        Side::Client
                    } else {
                        Side::Server
                    },
                    r.as_slice(),
                )
            })
            .collect();
        let selector = (i % FUZZ_SUITES.len()) as u8 | if i % 3 == 0 { 0x80 } else { 0 };
        out.push(encode_fuzz_input(selector, &[i as u8; 48], &recs));
    }
    out
}

#[test]
fn fuzz_tls_decrypt() {
    fuzz(
        "tls_decrypt",
        &tls_decrypt_seeds(),
        budget(DEFAULT_ITERS),
        HANG,
        |b| {
            let s = rdpscope::tls::fuzz_input::decrypt_fuzz_input(b);
            assert!(s.held <= rdpscope::tls::MAX_HELD_RECORDS);
        },
    );
}
