//! Heads of a real Windows client and RD Gateway
//! (awakecoding_wireshark-rdp/rdp-rdg-same-creds-kerberos-password-success1.pcapng,
//! decrypted by tshark: `tshark -r F -Y http -x`).

use super::*;
use proptest::prelude::*;

/// Frame 39: the WebSocket upgrade (method RDG_OUT_DATA). The Negotiate token is cut to its
/// first 48 base64 characters here (the rest is a Kerberos ticket).
const UPGRADE: &str = "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\n\
Cache-Control: no-cache\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Upgrade: websocket\r\n\
Accept: */*\r\n\
User-Agent: MS-RDGateway/1.0\r\n\
RDG-Connection-Id: {EBB921D3-86CD-401F-8154-47360E45BF2F}\r\n\
RDG-Correlation-Id: {198BC706-491F-4C19-BAC0-3B06F5E20000}\r\n\
RDG-User-Id: UAByAG8AdABlAGMAdABlAGQAVQBzAGUAcgBAAGEAZAAuAGkAdAAtAGgAZQBsAHAALgBuAGkAbgBqAGEA\r\n\
RDG-Client-AppBuild: Type=OOB; Build=WinBuild Jan 01 2016 10.0.22621.3447;\r\n\
RDG-Client-Generation: Win32#10.0=7\r\n\
Sec-WebSocket-Key: Bo/pJSYjHyDxu69C1p98dw==\r\n\
Sec-WebSocket-Version: 13\r\n\
Host: it-help-gw.ad.it-help.ninja\r\n\
Authorization: Negotiate YIIHWwYGKwYBBQUCoIIHTzCCB0ugMDAuBgkqhkiC9xIBAgIG\r\n\
\r\n";

/// Frame 41: the gateway's answer.
const SWITCHING: &str = "HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Server: Microsoft-HTTPAPI/2.0\r\n\
Sec-WebSocket-Accept: 6WehmTwma1qpt5OOdh+KSmVd1Vc=\r\n\
Connection: Upgrade\r\n\
Date: Fri, 10 May 2024 19:51:40 GMT\r\n\
\r\n";

#[test]
fn gateway_websocket_upgrade_as_tshark_shows_it() {
    let req = parse_request(UPGRADE.as_bytes()).unwrap().unwrap();
    assert_eq!(req.method, "RDG_OUT_DATA");
    assert_eq!(req.target, GATEWAY_PATH);
    assert_eq!(req.version, 1);
    assert_eq!(req.head_len, UPGRADE.len());
    assert_eq!(req.headers.len(), 15);
    assert_eq!(
        req.gateway_request(),
        Some(GatewayRequest::OutData { websocket: true })
    );
    let rdg = req.rdg();
    assert_eq!(
        rdg.connection_id.as_deref(),
        Some("{EBB921D3-86CD-401F-8154-47360E45BF2F}")
    );
    assert_eq!(
        rdg.correlation_id.as_deref(),
        Some("{198BC706-491F-4C19-BAC0-3B06F5E20000}")
    );
    assert_eq!(
        rdg.user_id.as_deref(),
        Some("ProtectedUser@ad.it-help.ninja")
    );
    let auth = req.authorization().unwrap();
    assert_eq!(auth.scheme, AuthScheme::Negotiate);
    // SPNEGO InitialContextToken: [APPLICATION 0] then the OID 1.3.6.1.5.5.2.
    assert_eq!(&auth.token[..4], &[0x60, 0x82, 0x07, 0x5b]);
    assert_eq!(
        &auth.token[4..12],
        &[0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]
    );
    assert_eq!(req.content_length(), None);
}

#[test]
fn switching_protocols_as_tshark_shows_it() {
    let rsp = parse_response(SWITCHING.as_bytes()).unwrap().unwrap();
    assert_eq!((rsp.status, rsp.reason), (101, "Switching Protocols"));
    assert!(rsp.is_websocket_accept());
    assert!(rsp.www_authenticate().is_empty());
    assert_eq!(rsp.head_len, SWITCHING.len());
}

#[test]
fn partial_heads_wait_for_more() {
    assert_eq!(parse_request(&UPGRADE.as_bytes()[..100]).unwrap(), None);
    assert_eq!(parse_response(b"HTTP/1.1 401 Unauth").unwrap(), None);
}

#[test]
fn synthetic_gateway_refusal_with_challenges() {
    let rsp = parse_response(
        b"HTTP/1.1 401 User Account Restricted\r\nWWW-Authenticate: Negotiate\r\n\
WWW-Authenticate: NTLM TlRMTVNTUAACAAAA\r\nWWW-Authenticate: Basic realm=\"gw\"\r\n\
Content-Length: 0\r\n\r\n",
    )
    .unwrap()
    .unwrap();
    assert_eq!((rsp.status, rsp.reason), (401, "User Account Restricted"));
    let challenges = rsp.www_authenticate();
    let schemes: Vec<AuthScheme> = challenges.iter().map(|c| c.scheme).collect();
    assert_eq!(
        schemes,
        [AuthScheme::Negotiate, AuthScheme::Ntlm, AuthScheme::Basic]
    );
    assert_eq!(&challenges[1].token[..8], b"NTLMSSP\0");
    assert!(challenges[2].token.is_empty());
    assert_eq!(rsp.content_length(), Some(0));
}

#[test]
fn synthetic_basic_credentials_are_never_decoded() {
    let req = parse_request(
        b"RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\nAuthorization: Basic dXNlcjpodW50ZXIy\r\n\
Transfer-Encoding: chunked\r\n\r\n",
    )
    .unwrap()
    .unwrap();
    assert_eq!(req.gateway_request(), Some(GatewayRequest::InData));
    let auth = req.authorization().unwrap();
    assert_eq!(auth.scheme, AuthScheme::Basic);
    assert!(auth.token.is_empty());
    assert!(req.is_chunked());
    assert_eq!(parse_chunk_size(b"1f\r\n").unwrap(), Some((4, 31)));
    assert_eq!(parse_chunk_size(b"1f").unwrap(), None);
    assert!(parse_chunk_size(b"zz\r\n").is_err());
}

#[test]
fn synthetic_kdc_proxy_post_and_too_many_headers() {
    let req = parse_request(b"POST /KdcProxy HTTP/1.1\r\nContent-Length: 367\r\n\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(req.gateway_request(), Some(GatewayRequest::KdcProxy));
    assert_eq!(req.content_length(), Some(367));
    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..=MAX_HEADERS {
        many.extend(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend(b"\r\n");
    assert!(matches!(
        parse_request(&many),
        Err(ProtoError::Invalid {
            field: "headers",
            ..
        })
    ));
}

proptest! {
    #[test]
    fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..400), cut in 0usize..1200) {
        let _ = parse_request(&data);
        let _ = parse_response(&data);
        let _ = parse_chunk_size(&data);
        let _ = parse_auth_value(&data);
        let b = UPGRADE.as_bytes();
        if let Ok(Some(r)) = parse_request(&b[..cut.min(b.len())]) {
            let _ = (r.rdg(), r.authorization(), r.gateway_request());
        }
    }
}
