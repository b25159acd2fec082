//! MS-TSGU packets of a real Windows client and RD Gateway
//! (awakecoding_wireshark-rdp/rdp-rdg-same-creds-kerberos-password-success1.pcapng, TLS
//! decrypted by tshark with the embedded secrets, WebSocket payloads unmasked). tshark 4.0
//! does not decode MS-TSGU: each field was checked by hand against MS-TSGU 2.2.10.

use super::*;
use crate::proto::test_util::hex;
use proptest::prelude::*;

/// Frame 42 (client): HANDSHAKE_REQUEST, version 1.0, no extended auth.
const HANDSHAKE_REQUEST: &str = "010000000e000000010000000000";
/// Frame 43 (gateway): HANDSHAKE_RESPONSE, S_OK, 1.0, extendedAuth SC|PAA|SSPI_NTLM.
const HANDSHAKE_RESPONSE: &str = "0200000012000000000000000100000007 00";
/// Frame 44 (client): TUNNEL_CREATE, capsFlags 0x3f.
const TUNNEL_CREATE: &str = "04000000100000003f00000000000000";
/// Frame 45 (gateway): TUNNEL_RESPONSE, S_OK, tunnelId 4, capsFlags 0x3f.
const TUNNEL_RESPONSE: &str = "050000001a00000000000000000003000000040000003f000000";
/// Frame 46 (client): TUNNEL_AUTH, client name IT-HELP-CLIENT.
const TUNNEL_AUTH: &str =
    "060000002a00000000001e00490054002d00480045004c0050002d0043004c00490045004e0054000000";
/// Frame 47 (gateway): TUNNEL_AUTH_RESPONSE, S_OK, redirFlags 0x80000000, idle timeout 0.
const TUNNEL_AUTH_RESPONSE: &str = "0700000018000000000000000300000000000080 00000000";
/// Frame 48 (client): CHANNEL_CREATE to IT-HELP-TEST.ad.it-help.ninja port 3389, protocol 3.
const CHANNEL_CREATE: &str = "080000004c00000001003d0d03003c00490054002d00480045004c0050002d0054004500530054002e00610064002e00690074002d00680065006c0070002e006e0069006e006a0061000000";
/// Frame 51 (client): DATA carrying the tunnelled X.224 Connection Request.
const DATA_CR: &str = "0a000000390000002f000300002f2ae00000000000436f6f6b69653a206d737473686173683d50726f7465637465640d0a010008000b000000";
/// Frame 53 (gateway): DATA carrying the session host's X.224 Connection Confirm.
const DATA_CC: &str = "0a0000001d0000001300030000130ed00000123400021f080008000000";

fn packet(h: &str) -> (PacketHeader, TsguPacket<'static>) {
    let bytes: &'static [u8] = Box::leak(hex(h).into_boxed_slice());
    assert_eq!(find_size(bytes), Framing::Complete(bytes.len()));
    parse_packet(bytes).unwrap()
}

#[test]
fn handshake() {
    assert_eq!(
        packet(HANDSHAKE_REQUEST).1,
        TsguPacket::HandshakeRequest {
            ver_major: 1,
            ver_minor: 0,
            client_version: 0,
            extended_auth: 0
        }
    );
    let (h, p) = packet(HANDSHAKE_RESPONSE);
    assert_eq!(h.packet_type.name(), Some("PKT_TYPE_HANDSHAKE_RESPONSE"));
    assert_eq!(h.packet_length, 18);
    assert_eq!(p.status(), Some(TsguStatus::S_OK));
    assert!(matches!(
        p,
        TsguPacket::HandshakeResponse {
            extended_auth: 7,
            ..
        }
    ));
}

#[test]
fn tunnel_and_tunnel_auth() {
    assert_eq!(
        packet(TUNNEL_CREATE).1,
        TsguPacket::TunnelCreate {
            caps_flags: 0x3f,
            fields_present: 0
        }
    );
    assert_eq!(
        packet(TUNNEL_RESPONSE).1,
        TsguPacket::TunnelResponse {
            server_version: 0,
            status_code: TsguStatus::S_OK,
            fields_present: 3,
            tunnel_id: Some(4),
            caps_flags: Some(0x3f)
        }
    );
    assert_eq!(
        packet(TUNNEL_AUTH).1,
        TsguPacket::TunnelAuth {
            fields_present: 0,
            client_name: "IT-HELP-CLIENT".into()
        }
    );
    assert_eq!(
        packet(TUNNEL_AUTH_RESPONSE).1,
        TsguPacket::TunnelAuthResponse {
            error_code: TsguStatus::S_OK,
            fields_present: 3,
            redir_flags: Some(0x8000_0000),
            idle_timeout_minutes: Some(0)
        }
    );
}

#[test]
fn channel_create_names_the_target_host_and_port() {
    assert_eq!(
        packet(CHANNEL_CREATE).1,
        TsguPacket::ChannelCreate {
            resources: vec!["IT-HELP-TEST.ad.it-help.ninja".into()],
            alt_resources: vec![],
            port: 3389,
            protocol: 3
        }
    );
}

#[test]
fn channel_response_with_its_cookie_zeroed() {
    // Frame 49 (gateway): CHANNEL_RESPONSE, S_OK, fieldsPresent 7, channelId 1, udpPort
    // 3391, authnCookie of 0x739 bytes; the cookie (a credential for the UDP transport) is
    // replaced by zeros here.
    let mut b = hex("09000000510700000000000007000000010000003f0d3907");
    b.resize(0x751, 0);
    let (_, p) = parse_packet(&b).unwrap();
    assert_eq!(
        p,
        TsguPacket::ChannelResponse {
            error_code: TsguStatus::S_OK,
            fields_present: 7,
            channel_id: Some(1),
            udp_port: Some(3391),
            authn_cookie_len: Some(0x739)
        }
    );
}

#[test]
fn data_hands_on_the_tunnelled_rdp_bytes() {
    let (_, p) = packet(DATA_CR);
    let TsguPacket::Data { data } = p else {
        panic!()
    };
    assert_eq!(data.len(), 0x2f);
    assert!(crate::proto::x224::looks_like_connection_request(data));
    let (_, p) = packet(DATA_CC);
    let TsguPacket::Data { data } = p else {
        panic!()
    };
    // X.224 CC with RDP_NEG_RSP selecting HYBRID_EX (8).
    assert_eq!(&data[..6], &hex("030000130ed0")[..]);
    assert_eq!(data[15], 0x08);
}

#[test]
fn status_names_cover_both_hresult_forms() {
    assert_eq!(
        TsguStatus(0x8007_59DB).name().as_deref(),
        Some("E_PROXY_NAP_ACCESSDENIED")
    );
    assert_eq!(
        TsguStatus(0x59DD).name().as_deref(),
        Some("HRESULT_CODE(E_PROXY_TS_CONNECTFAILED)")
    );
    assert_eq!(
        TsguStatus(0x59DD).canonical(),
        TsguStatus::E_PROXY_TS_CONNECTFAILED
    );
    assert_eq!(
        TsguStatus(0x59E6).name().as_deref(),
        Some("E_PROXY_MAXCONNECTIONSREACHED")
    );
    assert_eq!(TsguStatus(5).name().as_deref(), Some("ERROR_ACCESS_DENIED"));
    assert_eq!(TsguStatus(0x1234_5678).name(), None);
}

#[test]
fn synthetic_policy_denial_and_close() {
    // TUNNEL_AUTH_RESPONSE carrying E_PROXY_NAP_ACCESSDENIED, no optional fields.
    let (_, p) = packet("0700000010000000db590780 0000 0000");
    assert_eq!(p.status(), Some(TsguStatus::E_PROXY_NAP_ACCESSDENIED));
    let (_, p) = packet("100000000c000000dd590780");
    assert_eq!(
        p,
        TsguPacket::CloseChannel {
            status_code: TsguStatus::E_PROXY_TS_CONNECTFAILED
        }
    );
    let (_, p) = packet("0d00000008000000");
    assert_eq!(p, TsguPacket::Keepalive);
}

#[test]
fn framing_rejects_what_is_not_a_packet() {
    assert_eq!(find_size(&hex("0a00")), Framing::NeedMore(6));
    assert_eq!(find_size(&hex("0a0000001d000000")), Framing::NeedMore(21));
    assert_eq!(find_size(&hex("0a00000004000000")), Framing::Invalid);
    assert_eq!(find_size(&hex("4745542f20485454")), Framing::Invalid);
    assert_eq!(find_size(&hex("0a000000ffffff7f")), Framing::Invalid);
    assert!(parse_packet(&hex("0a0000001d000000")).is_err());
}

proptest! {
    #[test]
    fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..300), cut in 0usize..100, flip in 0usize..100) {
        let _ = find_size(&data);
        let _ = parse_packet(&data);
        for h in [HANDSHAKE_RESPONSE, TUNNEL_RESPONSE, TUNNEL_AUTH, CHANNEL_CREATE, DATA_CR] {
            let mut b = hex(h);
            let _ = parse_packet(&b[..cut.min(b.len())]);
            if let Some(x) = b.get_mut(flip) {
                *x ^= 0xa5;
            }
            let _ = parse_packet(&b);
        }
    }
}

#[test]
fn policy_and_auth_refusals_in_both_forms() {
    for s in [
        0x8007_59DA,
        0x59DA,
        0x8007_59DB,
        0x59DB,
        0x8007_59ED,
        0x59FB,
        0x59FC,
        5,
    ] {
        assert!(TsguStatus(s).is_policy_denial(), "{s:#x}");
    }
    for s in [0x8007_59F8, 0x59F8, 0x8007_59F9, 0x59FA] {
        assert!(TsguStatus(s).is_auth_refusal(), "{s:#x}");
        assert!(!TsguStatus(s).is_policy_denial(), "{s:#x}");
    }
    for s in [0, 0x8007_59DD, 0x59DD, 0x59E6, 0x8007_59D8] {
        assert!(!TsguStatus(s).is_policy_denial() && !TsguStatus(s).is_auth_refusal());
    }
    assert_eq!(
        TsguStatus::E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED
            .name()
            .as_deref(),
        Some("E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED")
    );
}
