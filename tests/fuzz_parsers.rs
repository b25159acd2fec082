//! Stable fuzzing of every protocol parser entry point (see tests/fuzz/mod.rs for the knobs:
//! FUZZ_ITERS, FUZZ_SECS, FUZZ_SEED, FUZZ_CORPUS_OUT). Besides "no panic", the framing
//! functions must keep their contract: a `Complete(n)` PDU fits in the buffer and is not
//! empty, `NeedMore(n)` asks for at least one byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;
mod fuzz;

use std::time::Duration;

use fuzz::*;
use rdpscope::proto::rdp_pdu::{self, PduContext, SecurityLayer};
use rdpscope::proto::tls::TlsConversation;
use rdpscope::proto::x224::Tpdu;
use rdpscope::proto::{
    dns, dtls, fastpath, gcc, http, mcs, rdpeudp, tls, tpkt, tsgu, websocket, x224, Framing,
};

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

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    s.chunks_exact(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

/// Decrypted slow-path PDUs of the awakecoding_wireshark-rdp captures (Set Error Info,
/// licensing alert, heartbeat, auto-detect, control) and the cleartext TPKTs of the corpus.
fn rdp_pdu_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = [
        "0300002402f08068000103eb3016160017000000ea030100000116002f0000000b000000",
        "0300002202f08068000103eb701480000000ff031000070000000200000004000000",
        "0300001602f08068000103f070080040000000010808",
        "0300001802f08064000803f0700a0020800a060100000000",
        "0300002802f08064000803eb701a1a001700f103ea03010000010c00140000000400000000000000",
        // Synthetic: Save Session Info with Logon Errors, Server Redirection (enhanced).
        "0300003002f08068000103eb70222200170000 00ea03010000012200260000 03000000 0e00 02000000 08000000 fdffffff 00000000",
        "0300002a02f08068000103eb701c1c000a00ea030000 0004 1400 07000000 00010000 08000000 6800 6f00 7300 7400",
    ]
    .iter()
    .map(|h| hex(h))
    .collect();
    seeds.extend(tpkt_frames().into_iter().take(200));
    seeds
}

#[test]
fn fuzz_rdp_pdu() {
    fuzz(
        "rdp_pdu",
        &rdp_pdu_seeds(),
        budget(DEFAULT_ITERS),
        HANG,
        |b| {
            let _ = rdp_pdu::parse_slow_path(b, PduContext::default());
            let standard = PduContext {
                security: SecurityLayer::Standard,
                ..PduContext::default()
            };
            let _ = rdp_pdu::parse_slow_path(b, standard);
            let _ = rdp_pdu::parse_user_data(b, rdp_pdu::DEFAULT_IO_CHANNEL, PduContext::default());
            let _ = rdp_pdu::parse_user_data(b, 1008, PduContext::default());
            let _ = rdp_pdu::client_info::parse_client_info(b);
            let _ = rdp_pdu::licensing::parse_licensing(b);
            let _ = rdp_pdu::save_session::parse_save_session_info(b);
            let _ = rdp_pdu::redirect::parse_server_redirection(b);
            let _ = rdp_pdu::capabilities::parse_demand_active(b);
            let _ = rdp_pdu::capabilities::parse_confirm_active(b);
            let _ = rdp_pdu::client_info::parse_early_user_authorization(b);
        },
    );
}

/// MS-TSGU packets of rdp-rdg-same-creds-kerberos-password-success1.pcapng (unmasked).
const TSGU_SEEDS: &[&str] = &[
    "010000000e000000010000000000",
    "020000001200000000000000010000000700",
    "04000000100000003f00000000000000",
    "050000001a00000000000000000003000000040000003f000000",
    "060000002a00000000001e00490054002d00480045004c0050002d0043004c00490045004e0054000000",
    "070000001800000000000000030000000000008000000000",
    "080000004c00000001003d0d03003c00490054002d00480045004c0050002d0054004500530054002e00610064002e00690074002d00680065006c0070002e006e0069006e006a0061000000",
    "0a0000001d0000001300030000130ed00000123400021f080008000000",
    "0900000020000000000000000700000001000000 3f0d 0800 0102030405060708",
];

#[test]
fn fuzz_tsgu() {
    let seeds: Vec<Vec<u8>> = TSGU_SEEDS.iter().map(|h| hex(h)).collect();
    fuzz("tsgu", &seeds, budget(DEFAULT_ITERS), HANG, |b| {
        check_framing(b, tsgu::find_size(b));
        if let Ok((_, p)) = tsgu::parse_packet(b) {
            let _ = p.status().map(|s| (s.name(), s.canonical()));
        }
    });
}

#[test]
fn fuzz_websocket() {
    let seeds: Vec<Vec<u8>> = [
        "828efe5e7639ff5e7639f05e7639ff5e7639fe5e",
        "8212020000001200000000000000010000000700",
        "827e0751090000005107",
        "827f000000000000000a0102030405060708090a",
        "880203e8",
    ]
    .iter()
    .map(|h| hex(h))
    .collect();
    fuzz("websocket", &seeds, budget(DEFAULT_ITERS), HANG, |b| {
        check_framing(b, websocket::find_size(b));
        if let Ok(f) = websocket::parse_frame(b) {
            assert_eq!(f.unmasked().count(), f.payload.len());
            let mut out = [0u8; 32];
            let n = f.unmask_into(&mut out);
            assert!(n <= 32 && n <= f.payload.len());
        }
    });
}

#[test]
fn fuzz_dtls() {
    let seeds: Vec<Vec<u8>> = [
        "16fefd0000000000000000009c010000900000000000000090fefd",
        "16feff000000000000000000230300001700000000000000",
        "17fefd000100000000000100200102030405",
    ]
    .iter()
    .map(|h| hex(h))
    .collect();
    fuzz("dtls", &seeds, budget(DEFAULT_ITERS), HANG, |b| {
        if let Ok(h) = dtls::parse_record_header(b) {
            assert!(b.len() >= dtls::RECORD_HEADER_LEN);
            assert!(h.sequence < 1 << 48);
        }
    });
}

#[test]
fn fuzz_http() {
    let seeds: Vec<Vec<u8>> = [
        "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
RDG-Connection-Id: {EBB921D3-86CD-401F-8154-47360E45BF2F}\r\n\
RDG-User-Id: UAByAG8AdABlAGMAdABlAGQAVQBzAGUAcgBAAGEAZAAuAGkAdAAtAGgAZQBsAHAALgBuAGkAbgBqAGEA\r\n\
Authorization: Negotiate YIIHWwYGKwYBBQUCoIIHTzCCB0ugMDAuBgkqhkiC9xIBAgIG\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM TlRMTVNTUAACAAAA\r\nContent-Length: 0\r\n\r\n",
        "POST /KdcProxy HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1f\r\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    fuzz("http", &seeds, budget(DEFAULT_ITERS), HANG, |b| {
        if let Ok(Some(r)) = http::parse_request(b) {
            assert!(r.head_len <= b.len());
            let _ = (
                r.rdg(),
                r.authorization(),
                r.gateway_request(),
                r.content_length(),
            );
        }
        if let Ok(Some(r)) = http::parse_response(b) {
            assert!(r.head_len <= b.len());
            let _ = (
                r.www_authenticate(),
                r.is_websocket_accept(),
                r.is_chunked(),
            );
        }
        let _ = http::parse_chunk_size(b);
    });
}

/// fixtures/dns/dnsmasq_dig.pcap answers (UDP and TCP) and the UDP datagrams of the corpus.
fn dns_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = [
        "f9e28580000100010000000103726470036c616204746573740000010001c00c000100010000000000040a01020300002904d0000000000000",
        "573385800001000100000001095f6b65726265726f73045f746370036c616204746573740000210001c00c00210001000000000014000000640058036b6463036c616204746573740000002904d0000000000000",
        "4a8085800001000100000001026777036c616204746573740000010001c00c0005000100000000000e03726470036c616204746573740000002904d0000000000000",
        "003901e68580000100010000000103726470036c616204746573740000010001c00c000100010000000000040a01020300002904d0000000000000",
    ]
    .iter()
    .map(|h| hex(h))
    .collect();
    seeds.extend(corpus().datagrams.iter().take(100).cloned());
    seeds
}

#[test]
fn fuzz_dns() {
    fuzz("dns", &dns_seeds(), budget(DEFAULT_ITERS), HANG, |b| {
        check_framing(b, dns::find_size_tcp(b));
        if let Ok(m) = dns::parse_message(b) {
            assert!(m.answers.len() <= dns::MAX_RECORDS);
            let _ = m.addresses().count();
        }
        let _ = dns::parse_tcp(b);
        let mut d = rdpscope::session::dns::DnsFlow::default();
        d.datagram(&SIDE_AT, b);
        let (x, y) = b.split_at(b.len() / 2);
        for part in [x, y] {
            d.stream(&SIDE_AT, Side::Server, StreamOutput::Data(part));
        }
        assert!(d.lookups.len() <= rdpscope::session::dns::MAX_LOOKUPS);
    });
}

// ---- authentication parsers (DER, CredSSP, SPNEGO, NTLM, Kerberos) ----------------------

#[path = "fuzz/auth_seeds.rs"]
mod auth_seeds;

use rdpscope::proto::spnego::MechToken;
use rdpscope::proto::{credssp, der, kerberos, ntlm, spnego};

/// Follows a token through every reader it can reach, as a session would.
fn decode_token(token: &[u8], depth: u8) {
    if depth > 4 {
        return;
    }
    match spnego::parse_nego_token(token) {
        Ok(MechToken::NegTokenInit(init)) => {
            for m in &init.mech_types {
                let _ = m.to_string();
            }
            if let Some(t) = init.mech_token {
                decode_token(t, depth + 1);
            }
        }
        Ok(MechToken::NegTokenResp(resp)) => {
            let _ = resp.neg_state.map(|s| s.name());
            if let Some(t) = resp.response_token {
                decode_token(t, depth + 1);
            }
        }
        Ok(MechToken::Ntlm(b)) => {
            if let Ok(ntlm::NtlmMessage::Negotiate(n)) = ntlm::parse_message(b) {
                let _ = n.flags.names();
            }
        }
        Ok(MechToken::Kerberos(k)) => {
            let _ = kerberos::parse_message(k.message);
        }
        Ok(MechToken::KerberosRaw(b)) => {
            let _ = kerberos::parse_message(b);
        }
        _ => {}
    }
}

/// Walks every element of a DER value with the reader's accessors.
fn walk_der(r: &mut der::Reader<'_>) {
    for _ in 0..256 {
        if r.is_empty() {
            return;
        }
        let Ok(tlv) = r.read("x") else { return };
        let _ = tlv.as_i64("x");
        let _ = tlv.as_unsigned_bytes("x");
        let _ = tlv.as_bit_string("x");
        let _ = tlv.as_time("x").map(|t| t.unix_seconds());
        let _ = tlv.as_oid("x").map(|o| o.to_string());
        if let Ok(mut inner) = r.enter(&tlv, "x") {
            walk_der(&mut inner);
        }
    }
}

fn auth_seeds() -> Vec<Vec<u8>> {
    let msgs = auth_seeds::ts_requests();
    let mut seeds = auth_seeds::nested_tokens(&msgs);
    seeds.extend(msgs);
    seeds.push(auth_seeds::synthetic_ntlm_authenticate());
    dedup(seeds, 400)
}

fn kerberos_seeds() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let dir = common::repo_root().join("../shared/captures/awakecoding_wireshark-rdp");
    let files: Vec<std::path::PathBuf> = common::captures_under(&dir);
    let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    let (mut tcp, udp) = auth_seeds::kerberos_payloads(&paths, 200);
    // The Kerberos tokens inside the CredSSP seeds too (AP-REP, user-to-user).
    for t in auth_seeds::nested_tokens(&auth_seeds::ts_requests()) {
        if let Ok(MechToken::Kerberos(k)) = spnego::parse_nego_token(&t) {
            let mut record = (k.message.len() as u32).to_be_bytes().to_vec();
            record.extend_from_slice(k.message);
            tcp.push(record);
        }
    }
    (dedup(tcp, 200), dedup(udp, 200))
}

#[test]
fn fuzz_der_reader() {
    fuzz("der", &auth_seeds(), budget(DEFAULT_ITERS), HANG, |b| {
        walk_der(&mut der::Reader::new("fuzz", b));
    });
}

#[test]
fn fuzz_credssp() {
    let seeds = auth_seeds();
    assert!(
        seeds.iter().any(|s| credssp::parse_ts_request(s).is_ok()),
        "no TSRequest among the seeds"
    );
    fuzz("credssp", &seeds, budget(DEFAULT_ITERS), HANG, |b| {
        let _ = credssp::looks_like_ts_request(b);
        check_framing(b, credssp::find_ts_request_size(b));
        if let Ok(req) = credssp::parse_ts_request(b) {
            let _ = req.error_code.map(|c| c.to_string());
            for t in &req.nego_tokens {
                decode_token(t, 0);
            }
        }
    });
}

#[test]
fn fuzz_spnego() {
    fuzz("spnego", &auth_seeds(), budget(DEFAULT_ITERS), HANG, |b| {
        decode_token(b, 0);
    });
}

#[test]
fn fuzz_ntlm() {
    let mut seeds: Vec<Vec<u8>> = auth_seeds()
        .into_iter()
        .filter(|s| s.starts_with(b"NTLMSSP\0"))
        .collect();
    seeds.push(auth_seeds::synthetic_ntlm_authenticate());
    assert!(seeds.len() >= 3, "NTLM seeds: {}", seeds.len());
    let Ok(ntlm::NtlmMessage::Authenticate(a)) =
        ntlm::parse_message(&auth_seeds::synthetic_ntlm_authenticate())
    else {
        panic!("the synthetic AUTHENTICATE seed does not parse");
    };
    assert_eq!(a.response, ntlm::NtlmResponseKind::V2);
    assert_eq!(
        a.client_info.and_then(|i| i.target_name).as_deref(),
        Some("TERMSRV/10.10.0.10")
    );
    fuzz(
        "ntlm",
        &seeds,
        budget(DEFAULT_ITERS),
        HANG,
        |b| match ntlm::parse_message(b) {
            Ok(ntlm::NtlmMessage::Negotiate(n)) => drop(n.flags.names()),
            Ok(ntlm::NtlmMessage::Challenge(c)) => drop(c.flags.names()),
            Ok(ntlm::NtlmMessage::Authenticate(a)) => drop(a.is_anonymous()),
            Err(e) => drop(e.to_string()),
        },
    );
}

#[test]
fn fuzz_kerberos() {
    let (tcp, udp) = kerberos_seeds();
    let mut seeds = tcp.clone();
    seeds.extend(udp);
    // Bare messages too (UDP datagrams, tokens inside SPNEGO).
    seeds.extend(tcp.iter().filter_map(|r| r.get(4..).map(<[u8]>::to_vec)));
    fuzz(
        "kerberos",
        &dedup(seeds, 400),
        budget(DEFAULT_ITERS),
        HANG,
        |b| {
            check_framing(b, kerberos::find_tcp_record_size(b));
            if let Ok((msg, rest)) = kerberos::parse_tcp_record(b) {
                assert!(rest.len() < b.len());
                let _ = msg.msg_type();
            }
            let _ = kerberos::parse_udp_datagram(b);
            // The session machine, as the flow table feeds it: a datagram, then the same
            // bytes as a TCP stream split in two.
            let mut k = rdpscope::session::kerberos::KerberosFlow::default();
            k.datagram(&SIDE_AT, b);
            let (x, y) = b.split_at(b.len() / 2);
            for part in [x, y] {
                k.stream(&SIDE_AT, Side::Client, StreamOutput::Data(part));
            }
            assert!(k.exchanges.len() <= rdpscope::session::kerberos::MAX_EXCHANGES);
        },
    );
}

/// `session::inner` on arbitrary decrypted streams: the input is cut into records at 0xFF
/// bytes, alternating sides, so messages span records and sides interleave.
#[test]
fn fuzz_inner_session() {
    let mut seeds = rdp_pdu_seeds();
    seeds.push(hex("300da003020106a406020480090302"));
    seeds.push(hex("3037a003020106a130302e302ca02a04284e544c4d5353500001000000b78208e2000000000000000000000000000000000a005d580000000f"));
    fuzz(
        "inner_session",
        &seeds,
        budget(DEFAULT_ITERS),
        HANG,
        inner_session_input,
    );
}

fn inner_session_input(b: &[u8]) {
    use rdpscope::flow::{PacketInfo, Side};
    let mut conn = rdpscope::session::Connection::default();
    for (i, rec) in b.split(|&x| x == 0xFF).enumerate() {
        let side = if i % 2 == 0 {
            Side::Client
        } else {
            Side::Server
        };
        let at = PacketInfo {
            file: 0,
            frame: i as u64,
            ts_ns: 0,
        };
        let content_type = if rec.first() == Some(&0x15) { 21 } else { 23 };
        rdpscope::session::inner::plaintext(&mut conn, &at, side, content_type, rec);
    }
    assert!(conn.inner().records.iter().sum::<u64>() <= b.len() as u64 + 1);
}
/// Where the session-machine fuzz cases say their bytes came from.
const SIDE_AT: rdpscope::flow::PacketInfo = rdpscope::flow::PacketInfo {
    file: 0,
    frame: 1,
    ts_ns: 0,
};
use rdpscope::flow::{Side, StreamOutput};

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

/// rdp-rdg-same-creds-kerberos-password-success1.pcapng, TLS stream 1 (decrypted by
/// tshark): frame 28's KDC-PROXY-MESSAGE (KRB-ERROR 25) and a request with target-domain.
const KKDCP_SEEDS: &[&str] = &[
    "3081d0a081cd0481ca000000c67e81c33081c0a003020105a10302011ea411180f32303234303531303139353134305aa505020302a7e1a603020119a9121b1061642e69742d68656c702e6e696e6a61aa253023a003020102a11c301a1b066b72627467741b1061642e69742d68656c702e6e696e6a61ac5a045830563033a103020113a22c042a30283026a003020112a11f1b1d41442e49542d48454c502e4e494e4a4150726f746563746564557365723009a103020102a20204003009a103020110a20204003009a10302010fa2020400",
    "3020a00a0408000000040102030 4a1121b1061642e69742d68656c702e6e696e6a61",
];

#[test]
fn fuzz_kkdcp() {
    use rdpscope::proto::kkdcp;
    let seeds: Vec<Vec<u8>> = KKDCP_SEEDS.iter().map(|h| hex(h)).collect();
    fuzz("kkdcp", &seeds, budget(DEFAULT_ITERS), HANG, |b| {
        let _ = kkdcp::looks_like_message(b);
        if let Ok(m) = kkdcp::parse_message(b) {
            assert!(m.kerb_message.len() <= b.len());
            let _ = m.kerberos();
        }
    });
}

#[test]
fn fuzz_http2() {
    use rdpscope::proto::http2;
    // Frames 18 (server SETTINGS), 21 (SETTINGS ACK), 28 (HEADERS :status 200 + DATA) and
    // 29 (HEADERS from the dynamic table) of the same stream.
    let seeds: Vec<Vec<u8>> = [
        "000012040000000000000300000064001000000002000400100000000004080000000000000f0001",
        "000000040100000000",
        "000034010400000001885f8210437690d06258741e54ad8f7efd70ebc8c097070f1296c361be940814d03f4a08026940bf71b0dc680a62d1bf5c82104300",
        "00000c01040000000383c3c287c1c0bf5c03333537",
        "000005012400000001000000000f4883 6c0cff",
    ]
    .iter()
    .map(|h| hex(h))
    .collect();
    fuzz("http2", &seeds, budget(DEFAULT_ITERS), HANG, |b| {
        check_framing(b, http2::find_size(b));
        if let Ok((_, http2::Frame::Headers { block })) = http2::parse_frame(b) {
            let _ = http2::response_status(block);
        }
        let _ = http2::response_status(b);
    });
}

#[test]
fn fuzz_gateway_inside() {
    // Records split at 0xFF, alternating sides: the upgrade, 101, then WebSocket frames of
    // TSGU packets (HANDSHAKE_REQUEST, CHANNEL_CREATE, DATA with an X.224 CR), and an HTTP/2
    // preface.
    let mut upgrade =
        b"RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nUpgrade: websocket\r\n\r\n".to_vec();
    upgrade.push(0xFF);
    upgrade.extend(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
    upgrade.push(0xFF);
    upgrade.extend(hex("828efe5e7639ff5e7639f05e7639ff5e7639fe5e"));
    upgrade.push(0xFF);
    upgrade.extend(hex("8212020000001200000000000000010000000700"));
    upgrade.push(0xFF);
    upgrade.extend(hex("82390a000000390000002f000300002f2ae00000000000436f6f6b69653a206d737473686173683d50726f7465637465640d0a010008000b000000"));
    let mut h2 = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    h2.extend(hex("000000040100000000"));
    let seeds = vec![
        upgrade,
        h2,
        b"POST /KdcProxy HTTP/1.1\r\nContent-Length: 4\r\n\r\n0\x02\x80\x00".to_vec(),
        b"RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n\x0d\0\0\0\x08\0\0\0\r\n".to_vec(),
    ];
    fuzz(
        "gateway_inside",
        &seeds,
        budget(DEFAULT_ITERS),
        HANG,
        gateway_inside_input,
    );
}

fn gateway_inside_input(b: &[u8]) {
    use rdpscope::flow::{PacketInfo, Side};
    let mut conn = rdpscope::session::Connection::default();
    for (i, rec) in b.split(|&x| x == 0xFF).enumerate() {
        let side = if i % 2 == 0 {
            Side::Client
        } else {
            Side::Server
        };
        let at = PacketInfo {
            file: 0,
            frame: i as u64,
            ts_ns: 0,
        };
        rdpscope::session::gateway::route_plaintext(&mut conn, &at, side, 23, rec);
    }
    if let Some(gw) = conn.gateway_inside.as_deref() {
        let f = &gw.facts;
        assert!(f.data.iter().map(|d| d.bytes).sum::<u64>() <= b.len() as u64);
        assert!(f.decode_errors.len() <= 4);
    }
}
