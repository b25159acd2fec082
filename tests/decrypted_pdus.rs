//! The parsers on whole decrypted streams of the shared Windows captures (tshark decrypts them
//! with the secrets embedded in each pcapng and prints the plaintext with `-x`):
//! - every slow-path PDU of the direct connections goes through `rdp_pdu::parse_slow_path`
//!   without an error, and the PDUs tshark names are found with the values it shows;
//! - the RD Gateway connection reads as HTTP upgrade, WebSocket frames, MS-TSGU packets,
//!   whose DATA packets carry the tunnelled RDP connection.
//!
//! Skips when the captures or tshark are absent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{have_tool, shared_captures};
use rdpscope::proto::rdp_pdu::{self, DataPdu, PduContext, RdpPdu, SaveSessionInfo, SlowPathPdu};
use rdpscope::proto::tsgu::{self, TsguPacket};
use rdpscope::proto::{http, tpkt, websocket, x224, Framing};

/// The decrypted TLS payloads of the frames `filter` selects, in frame order.
fn decrypted_records(file: &std::path::Path, filter: &str) -> Vec<(u32, Vec<u8>)> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-d", "tcp.port==3389,tls", "-Y", filter, "-x"])
        .output()
        .expect("tshark runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut records = Vec::new();
    let mut frame = 0u32;
    let mut current: Option<Vec<u8>> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Frame (") {
            frame += 1;
            let _ = rest;
        }
        if line.starts_with("Decrypted TLS (") {
            if let Some(r) = current.take() {
                records.push((frame, r));
            }
            current = Some(Vec::new());
            continue;
        }
        if !line.starts_with(|c: char| c.is_ascii_hexdigit()) || line.len() < 6 {
            if line.trim().is_empty() || line.ends_with("):") {
                if let Some(r) = current.take() {
                    records.push((frame, r));
                }
            }
            continue;
        }
        if let Some(buf) = current.as_mut() {
            let hex_part = line.get(6..).unwrap_or("");
            for tok in hex_part.split(' ').take(16) {
                if tok.len() != 2 {
                    break;
                }
                match u8::from_str_radix(tok, 16) {
                    Ok(b) => buf.push(b),
                    Err(_) => break,
                }
            }
        }
    }
    if let Some(r) = current.take() {
        records.push((frame, r));
    }
    records
}

/// Decodes the TPKTs of every record; returns counts by PDU kind and the errors.
fn decode_all(file: &std::path::Path) -> (BTreeMap<String, usize>, Vec<String>, Vec<RdpPdu>) {
    let mut counts = BTreeMap::new();
    let mut errors = Vec::new();
    let mut pdus = Vec::new();
    for (frame, record) in decrypted_records(file, "rdp") {
        let mut rest = record.as_slice();
        while let Framing::Complete(n) = tpkt::find_size(rest) {
            let (one, tail) = rest.split_at(n);
            rest = tail;
            match rdp_pdu::parse_slow_path(one, PduContext::default()) {
                Ok(SlowPathPdu::SendData { pdu, .. }) => {
                    let kind = format!("{pdu:?}")
                        .split([' ', '(', '{'])
                        .next()
                        .unwrap_or("")
                        .to_string();
                    *counts.entry(kind).or_insert(0) += 1;
                    pdus.push(pdu);
                }
                Ok(other) => *counts.entry(format!("{other:?}")).or_insert(0) += 1,
                Err(e) => errors.push(format!("frame {frame}: {e}")),
            }
        }
    }
    (counts, errors, pdus)
}

#[test]
fn every_decrypted_pdu_of_the_windows_captures_decodes() {
    let Some(dir) = shared_captures() else { return };
    if !have_tool("tshark") {
        return;
    }
    let dir = dir.join("awakecoding_wireshark-rdp");
    for name in [
        "rdp-nla-kerberos-auth2.pcapng",
        "rdp-no-nla-smartcard-auth1.pcapng",
    ] {
        let (counts, errors, pdus) = decode_all(&dir.join(name));
        eprintln!("{name}: {counts:?}");
        assert!(errors.is_empty(), "{name}: {errors:?}");
        // tshark -Y rdp lists one ClientInfo, one Error Alert, one Demand Active, one
        // Confirm Active and two Save Session Info PDUs in each.
        for (kind, n) in [
            ("ClientInfo", 1),
            ("Licensing", 1),
            ("DemandActive", 1),
            ("ConfirmActive", 1),
        ] {
            assert_eq!(counts.get(kind), Some(&n), "{name}: {kind} in {counts:?}");
        }
        let save_session = pdus
            .iter()
            .filter(|p| {
                matches!(
                    p,
                    RdpPdu::Data {
                        body: DataPdu::SaveSessionInfo(_),
                        ..
                    }
                )
            })
            .count();
        assert_eq!(save_session, 2, "{name}");
        let errinfo: Vec<u32> = pdus
            .iter()
            .filter_map(|p| match p {
                RdpPdu::Data {
                    body: DataPdu::SetErrorInfo { error_info },
                    ..
                } => Some(error_info.0),
                _ => None,
            })
            .collect();
        // Kerberos capture: frame 1111 only; smartcard: frames 1060 (NONE) and 2231.
        let expected: &[u32] = if name.contains("kerberos") {
            &[0xB]
        } else {
            &[0, 0xB]
        };
        assert_eq!(errinfo, expected, "{name}");
        assert!(pdus.iter().any(|p| matches!(
            p,
            RdpPdu::Data {
                body: DataPdu::SaveSessionInfo(SaveSessionInfo::Extended(_)),
                ..
            }
        )));
        assert!(
            counts.get("Heartbeat").is_some_and(|n| *n > 0),
            "{name}: {counts:?}"
        );
    }
}

/// One direction of the gateway's WebSocket connection: the HTTP head, then the unmasked
/// payloads of its binary frames, concatenated.
fn websocket_stream(file: &std::path::Path, filter: &str, request: bool) -> (usize, Vec<u8>) {
    let bytes: Vec<u8> = decrypted_records(file, filter)
        .into_iter()
        .flat_map(|(_, r)| r)
        .collect();
    let head_len = if request {
        http::parse_request(&bytes).unwrap().unwrap().head_len
    } else {
        let head = http::parse_response(&bytes).unwrap().unwrap();
        assert!(head.is_websocket_accept());
        head.head_len
    };
    let mut rest = &bytes[head_len..];
    let mut payload = Vec::new();
    let mut frames = 0;
    while let Framing::Complete(n) = websocket::find_size(rest) {
        let frame = websocket::parse_frame(&rest[..n]).unwrap();
        assert_eq!(
            frame.header.masked(),
            request,
            "clients mask, servers do not"
        );
        // Close, ping and pong frames carry no MS-TSGU bytes.
        if !frame.header.opcode.is_control() {
            payload.extend(frame.unmasked());
        }
        rest = &rest[n..];
        frames += 1;
    }
    assert!(rest.len() < 16, "{} bytes left unframed", rest.len());
    (frames, payload)
}

#[test]
fn the_gateway_tunnel_reads_as_websocket_and_ms_tsgu() {
    let Some(dir) = shared_captures() else { return };
    if !have_tool("tshark") {
        return;
    }
    let file =
        dir.join("awakecoding_wireshark-rdp/rdp-rdg-same-creds-kerberos-password-success1.pcapng");
    // tcp.stream 0 is 49790 -> 443, the WebSocket transport (stream 1 is the KDC proxy).
    let (client_frames, client) = websocket_stream(
        &file,
        "tcp.stream==0 && tcp.dstport==443 && tls.app_data",
        true,
    );
    let (server_frames, server) = websocket_stream(
        &file,
        "tcp.stream==0 && tcp.srcport==443 && tls.app_data",
        false,
    );
    assert!(client_frames > 10 && server_frames > 10);
    let mut kinds = BTreeMap::new();
    let mut tunnelled = [Vec::new(), Vec::new()];
    for (side, stream) in [&client, &server].into_iter().enumerate() {
        let mut rest = stream.as_slice();
        while let Framing::Complete(n) = tsgu::find_size(rest) {
            let (_, packet) = tsgu::parse_packet(&rest[..n]).unwrap();
            if let Some(status) = packet.status() {
                assert!(status.is_success(), "{packet:?}");
            }
            match &packet {
                TsguPacket::ChannelCreate {
                    resources, port, ..
                } => {
                    assert_eq!(resources, &["IT-HELP-TEST.ad.it-help.ninja"]);
                    assert_eq!(*port, 3389);
                }
                TsguPacket::Data { data } => tunnelled[side].extend_from_slice(data),
                _ => {}
            }
            let kind = format!("{packet:?}")
                .split([' ', '{'])
                .next()
                .unwrap_or("")
                .to_string();
            *kinds.entry(kind).or_insert(0usize) += 1;
            rest = &rest[n..];
        }
        assert!(
            rest.is_empty(),
            "{} bytes of side {side} are not MS-TSGU",
            rest.len()
        );
    }
    eprintln!("MS-TSGU packets: {kinds:?}");
    assert!(kinds.get("Data").is_some_and(|n| *n > 500), "{kinds:?}");
    for kind in [
        "HandshakeRequest",
        "HandshakeResponse",
        "TunnelCreate",
        "TunnelResponse",
        "TunnelAuth",
        "TunnelAuthResponse",
        "ChannelCreate",
        "ChannelResponse",
        "CloseChannel",
        "CloseChannelResponse",
    ] {
        assert_eq!(kinds.get(kind), Some(&1), "{kind} in {kinds:?}");
    }
    // The tunnelled connection starts with the client's X.224 Connection Request and the
    // session host's Connection Confirm, then its own TLS (a handshake record, 0x16).
    assert!(x224::looks_like_connection_request(&tunnelled[0]));
    let Framing::Complete(cr_len) = tpkt::find_size(&tunnelled[0]) else {
        panic!("no whole CR")
    };
    assert_eq!(tunnelled[0].get(cr_len), Some(&0x16));
    let Framing::Complete(cc_len) = tpkt::find_size(&tunnelled[1]) else {
        panic!("no whole CC")
    };
    assert_eq!(tunnelled[1].get(cc_len), Some(&0x16));
}
