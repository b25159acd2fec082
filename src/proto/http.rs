//! HTTP/1.1 request and response heads (RFC 9112) as an RD Gateway speaks them (MS-TSGU
//! 2.2.5, 3.3.5.1): the RDG_OUT_DATA / RDG_IN_DATA methods, the WebSocket upgrade to
//! `/remoteDesktopGateway/`, the RDG-* headers, WWW-Authenticate / Authorization schemes with
//! their tokens base64-decoded (for the NTLM/SPNEGO readers), Content-Length and chunked
//! transfer coding. Built on httparse; at most `MAX_HEADERS` headers.

use base64::Engine as _;

use super::byte_cursor::utf16le_text;
use super::ProtoError;

const LAYER: &str = "http";
pub const MAX_HEADERS: usize = 64;
/// Authentication tokens (SPNEGO with a Kerberos ticket) are a few KiB; longer is cut.
pub const MAX_TOKEN: usize = 64 * 1024;
/// The path of the HTTP and WebSocket transports (MS-TSGU 3.3.5.1).
pub const GATEWAY_PATH: &str = "/remoteDesktopGateway/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub name: &'a str,
    pub value: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead<'a> {
    pub method: &'a str,
    pub target: &'a str,
    /// Minor version: 1 for HTTP/1.1.
    pub version: u8,
    pub headers: Vec<Header<'a>>,
    /// Bytes of the head, up to and including the blank line; the body follows.
    pub head_len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead<'a> {
    pub version: u8,
    pub status: u16,
    /// `User Account Restricted` is a reason an RD Gateway gives with 401.
    pub reason: &'a str,
    pub headers: Vec<Header<'a>>,
    pub head_len: usize,
}

/// An authentication scheme of WWW-Authenticate / Authorization (RFC 9110 section 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    Negotiate,
    Ntlm,
    Kerberos,
    Basic,
    Bearer,
    Digest,
    Other,
}

impl AuthScheme {
    fn from_name(name: &str) -> AuthScheme {
        match name.to_ascii_lowercase().as_str() {
            "negotiate" => AuthScheme::Negotiate,
            "ntlm" => AuthScheme::Ntlm,
            "kerberos" => AuthScheme::Kerberos,
            "basic" => AuthScheme::Basic,
            "bearer" => AuthScheme::Bearer,
            "digest" => AuthScheme::Digest,
            _ => AuthScheme::Other,
        }
    }
}

/// A scheme and its token. Basic credentials are never decoded (they hold the password):
/// for Basic the token stays empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthToken {
    pub scheme: AuthScheme,
    /// The base64-decoded token bytes (an NTLM message or a SPNEGO token), cut at MAX_TOKEN;
    /// empty when the header had none or it was not valid base64.
    pub token: Vec<u8>,
    /// Length of the token as sent (base64 characters).
    pub token_text_len: usize,
}

/// The RDG-* headers of a gateway request (MS-TSGU 2.2.5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdgHeaders {
    pub connection_id: Option<String>,
    pub correlation_id: Option<String>,
    /// RDG-User-Id decoded (base64 of a UTF-16LE user name).
    pub user_id: Option<String>,
    pub auth_scheme: Option<String>,
}

/// What a request is for an RD Gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayRequest {
    /// RDG_OUT_DATA (the server-to-client channel); with `Upgrade: websocket`, the WebSocket
    /// transport.
    OutData {
        websocket: bool,
    },
    InData,
    /// A plain GET upgrading to WebSocket on the gateway path.
    WebSocket,
    /// MS-KKDCP: `POST /KdcProxy`.
    KdcProxy,
    /// Legacy RPC over HTTP (RPC_IN_DATA / RPC_OUT_DATA to /rpc/rpcproxy.dll).
    RpcOverHttp,
}

fn header_value<'a>(headers: &[Header<'a>], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

fn header_text<'a>(headers: &[Header<'a>], name: &str) -> Option<&'a str> {
    header_value(headers, name)
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(str::trim)
}

fn content_length(headers: &[Header]) -> Option<u64> {
    header_text(headers, "content-length")?.parse().ok()
}

fn is_chunked(headers: &[Header]) -> bool {
    header_text(headers, "transfer-encoding").is_some_and(|v| {
        v.split(',')
            .any(|c| c.trim().eq_ignore_ascii_case("chunked"))
    })
}

/// Splits `Scheme token` and decodes the token.
pub fn parse_auth_value(value: &[u8]) -> AuthToken {
    let text = std::str::from_utf8(value).unwrap_or("").trim();
    let (name, rest) = text.split_once(' ').unwrap_or((text, ""));
    let scheme = AuthScheme::from_name(name);
    let rest = rest.trim();
    // Only token68 forms are base64 (auth-param lists such as `realm="x"` are not).
    let token = if scheme == AuthScheme::Basic || rest.contains('=') && !rest.ends_with('=') {
        Vec::new()
    } else {
        let cut = rest
            .get(..rest.len().min(MAX_TOKEN * 4 / 3 + 4))
            .unwrap_or("");
        base64::engine::general_purpose::STANDARD
            .decode(cut)
            .unwrap_or_default()
    };
    AuthToken {
        scheme,
        token,
        token_text_len: rest.len(),
    }
}

fn collect<'a>(raw: &[httparse::Header<'a>]) -> Vec<Header<'a>> {
    raw.iter()
        .filter(|h| !h.name.is_empty())
        .map(|h| Header {
            name: h.name,
            value: h.value,
        })
        .collect()
}

fn map_error(e: httparse::Error) -> ProtoError {
    let field = match e {
        httparse::Error::TooManyHeaders => "headers",
        httparse::Error::Status => "status",
        httparse::Error::Version => "version",
        httparse::Error::Token => "method",
        httparse::Error::HeaderName => "header name",
        httparse::Error::HeaderValue => "header value",
        _ => "head",
    };
    ProtoError::invalid(LAYER, field, 0, e.to_string())
}

/// A request head from the front of `b`: Ok(None) while the blank line has not arrived.
pub fn parse_request(b: &[u8]) -> Result<Option<RequestHead<'_>>, ProtoError> {
    let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut raw);
    match req.parse(b).map_err(map_error)? {
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(head_len) => Ok(Some(RequestHead {
            method: req.method.unwrap_or(""),
            target: req.path.unwrap_or(""),
            version: req.version.unwrap_or(1),
            headers: collect(req.headers),
            head_len,
        })),
    }
}

/// A response head from the front of `b`: Ok(None) while the blank line has not arrived.
pub fn parse_response(b: &[u8]) -> Result<Option<ResponseHead<'_>>, ProtoError> {
    let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut rsp = httparse::Response::new(&mut raw);
    match rsp.parse(b).map_err(map_error)? {
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(head_len) => Ok(Some(ResponseHead {
            version: rsp.version.unwrap_or(1),
            status: rsp.code.unwrap_or(0),
            reason: rsp.reason.unwrap_or(""),
            headers: collect(rsp.headers),
            head_len,
        })),
    }
}

/// A chunk-size line of a chunked body (RFC 9112 section 7.1): Ok(Some((line_len, size))),
/// Ok(None) while incomplete.
pub fn parse_chunk_size(b: &[u8]) -> Result<Option<(usize, u64)>, ProtoError> {
    match httparse::parse_chunk_size(b) {
        Ok(httparse::Status::Complete(v)) => Ok(Some(v)),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(_) => Err(ProtoError::invalid(
            LAYER,
            "chunk size",
            0,
            "not a hex size line",
        )),
    }
}

impl<'a> RequestHead<'a> {
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        header_value(&self.headers, name)
    }

    pub fn content_length(&self) -> Option<u64> {
        content_length(&self.headers)
    }

    pub fn is_chunked(&self) -> bool {
        is_chunked(&self.headers)
    }

    pub fn is_websocket_upgrade(&self) -> bool {
        header_text(&self.headers, "upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    }

    /// The gateway role of this request, if it has one.
    pub fn gateway_request(&self) -> Option<GatewayRequest> {
        let on_gateway_path = self
            .target
            .to_ascii_lowercase()
            .starts_with(&GATEWAY_PATH.to_ascii_lowercase());
        match self.method {
            "RDG_OUT_DATA" => Some(GatewayRequest::OutData {
                websocket: self.is_websocket_upgrade(),
            }),
            "RDG_IN_DATA" => Some(GatewayRequest::InData),
            "RPC_IN_DATA" | "RPC_OUT_DATA" => Some(GatewayRequest::RpcOverHttp),
            "GET" if on_gateway_path && self.is_websocket_upgrade() => {
                Some(GatewayRequest::WebSocket)
            }
            "POST" if self.target.eq_ignore_ascii_case("/KdcProxy") => {
                Some(GatewayRequest::KdcProxy)
            }
            _ => None,
        }
    }

    pub fn authorization(&self) -> Option<AuthToken> {
        self.header("authorization").map(parse_auth_value)
    }

    pub fn rdg(&self) -> RdgHeaders {
        let text = |n| header_text(&self.headers, n).map(str::to_string);
        let user_id = header_text(&self.headers, "rdg-user-id").map(|v| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v.get(..v.len().min(2048)).unwrap_or(""))
                .unwrap_or_default();
            utf16le_text(&bytes, 256)
        });
        RdgHeaders {
            connection_id: text("rdg-connection-id"),
            correlation_id: text("rdg-correlation-id"),
            user_id,
            auth_scheme: text("rdg-auth-scheme"),
        }
    }
}

impl<'a> ResponseHead<'a> {
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        header_value(&self.headers, name)
    }

    pub fn content_length(&self) -> Option<u64> {
        content_length(&self.headers)
    }

    pub fn is_chunked(&self) -> bool {
        is_chunked(&self.headers)
    }

    /// Every WWW-Authenticate challenge (one header per scheme, as IIS sends them).
    pub fn www_authenticate(&self) -> Vec<AuthToken> {
        self.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("www-authenticate"))
            .map(|h| parse_auth_value(h.value))
            .collect()
    }

    /// 101 Switching Protocols to WebSocket.
    pub fn is_websocket_accept(&self) -> bool {
        self.status == 101
            && header_text(&self.headers, "upgrade")
                .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
