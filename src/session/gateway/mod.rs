//! RD Gateway connections seen from outside their TLS (MS-TSGU 1.3, 2.1): what each TLS or
//! DTLS flow that may be a gateway's showed, keyless: its handshake, its server's names,
//! the rhythm of its encrypted records and who closed it. Whether a flow *is* a gateway's
//! is decided from these facts by `recognise` (one flow) and `correlate::gateway` (flows
//! together: the OUT/IN pair, the KDC proxy beside it, the UDP transport on 3391).
//! With the TLS keys, `inside` reads what the decrypted stream shows (HTTP, WebSocket,
//! HTTP/2 KDC proxy, MS-TSGU) and carries the tunnelled RDP connection as a child
//! `Connection`.

pub mod dtls;
pub mod inside;
pub mod inside_facts;
mod inside_stream;
mod inside_tunnel;
pub mod phases;
pub mod recognise;

use std::net::IpAddr;

use super::Connection;
use crate::flow::{Endpoint, FlowMeta, Side, Sides, TcpStats, TransportKind};

pub use dtls::DtlsFlow;
pub use inside::{route_plaintext, GatewayInside};
pub use inside_facts::{GatewayEvent, GatewayInsideFacts};
pub use inside_tunnel::is_routine_krb_error;

/// How the gateway carries the tunnel (MS-TSGU 2.1): HTTP transport (two channels),
/// its WebSocket variant (one connection), legacy RPC over HTTP, or UDP with DTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayTransport {
    Http,
    WebSocket,
    RpcOverHttp,
    Udp,
}

/// The part one connection plays in a gateway session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayRole {
    /// RDG_OUT_DATA: the server-to-client channel of the HTTP transport (MS-TSGU 3.3.5.1).
    OutChannel,
    /// RDG_IN_DATA: the client-to-server channel.
    InChannel,
    /// The one connection of the WebSocket variant, both directions.
    WebSocket,
    /// `POST /KdcProxy` beside the tunnel (MS-KKDCP 2.1).
    KdcProxy,
    /// The DTLS flow of the UDP transport (MS-TSGU 2.2.1, port 3391).
    Udp,
}

/// What made a flow a gateway's: part of the evidence, shown with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayBasis {
    /// DTLS on UDP 3391: the gateway's UDP transport port and protocol.
    DtlsOnGatewayPort,
    /// DTLS to 3391 from the same client to the same server while this TLS flow was open.
    UdpTransportBeside,
    /// Two TLS connections to the same server opened together, one carrying the server's
    /// bytes and the other the client's: the HTTP transport's OUT and IN channels.
    PairedChannels,
    /// A short request/response TLS connection to a gateway recognised otherwise.
    KdcProxyBeside,
    /// The server's name (SNI, certificate) names a gateway, and the connection carried
    /// interactive traffic both ways (a tunnelled session) for a while.
    NamedInteractive,
    /// The server's name names a gateway and the connection failed during or right after TLS.
    NamedFailure,
    /// The decrypted stream is a gateway's HTTP (RDG_OUT_DATA / RDG_IN_DATA, the WebSocket
    /// upgrade to /remoteDesktopGateway/, POST /KdcProxy): proof, not a shape.
    DecryptedGatewayHttp,
}

/// A recognised gateway connection: set on its `Connection` by the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayFacts {
    pub transport: GatewayTransport,
    pub role: GatewayRole,
    /// The gateway's name as the client asked for it (SNI) or the certificate gave it.
    pub server_name: Option<String>,
    /// The RDG-Connection-Id of the channel pair: only readable with keys (None keyless).
    pub connection_id: Option<String>,
    /// The other channel of the pair, the tunnel beside a KDC proxy, or the TCP connection
    /// beside a UDP flow (connection id).
    pub paired_with: Option<u64>,
    /// Why this is a gateway connection (strongest first).
    pub basis: Vec<GatewayBasis>,
}

impl GatewayFacts {
    /// The facts of a connection whose decrypted stream proved it a gateway's, named by what
    /// the HTTP inside said; `keyless` is what recognition from the outside found, if it did.
    pub fn with_inside(
        keyless: Option<GatewayFacts>,
        inside: &GatewayInsideFacts,
        server_name: Option<String>,
    ) -> GatewayFacts {
        let seen = inside.transport.map(|t| match (t, inside.http_channel) {
            (inside_facts::InsideTransport::Http, Some(inside_facts::HttpChannel::In)) => {
                (GatewayTransport::Http, GatewayRole::InChannel)
            }
            (inside_facts::InsideTransport::Http, _) => {
                (GatewayTransport::Http, GatewayRole::OutChannel)
            }
            (inside_facts::InsideTransport::WebSocket, _) => {
                (GatewayTransport::WebSocket, GatewayRole::WebSocket)
            }
            (inside_facts::InsideTransport::RpcOverHttp, _) => {
                (GatewayTransport::RpcOverHttp, GatewayRole::WebSocket)
            }
            (inside_facts::InsideTransport::KdcProxy, _) => {
                (GatewayTransport::Http, GatewayRole::KdcProxy)
            }
        });
        let mut facts = keyless.unwrap_or(GatewayFacts {
            transport: GatewayTransport::WebSocket,
            role: GatewayRole::WebSocket,
            server_name,
            connection_id: None,
            paired_with: None,
            basis: Vec::new(),
        });
        if let Some((transport, role)) = seen {
            facts.transport = transport;
            facts.role = role;
        }
        if facts.connection_id.is_none() {
            facts.connection_id = inside.connection_id.clone();
        }
        facts.basis.insert(0, GatewayBasis::DecryptedGatewayHttp);
        facts
    }
}

/// Records after which the traffic counts as interactive (well past authentication and the
/// MS-TSGU tunnel setup, which take fewer than ten records each way).
pub const INTERACTIVE_RECORDS: u64 = 32;

/// The keyless shape of one candidate flow: what recognition and correlation look at. Small
/// and owned, so that finished candidates can be remembered in a bounded window.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowShape {
    /// Provisional (candidate) id of the flow.
    pub candidate: u64,
    pub transport: TransportKind,
    pub client: IpAddr,
    pub server: Endpoint,
    pub first_ns: i64,
    pub last_ns: i64,
    /// When the ClientHello (TLS or DTLS) was seen.
    pub hello_ns: Option<i64>,
    pub handshake_done: bool,
    /// Encrypted application records and their bytes per side (TLS), or datagrams (DTLS).
    pub records: Sides<u64>,
    pub bytes: Sides<u64>,
    /// SNI, then certificate common name and DNS SANs (at most a few, deduplicated).
    pub names: Vec<String>,
    pub alpn: Vec<String>,
    /// Who ended the connection first (FIN or RST), if anyone did.
    pub closed_by: Option<Side>,
    /// The TLS handshake failed visibly (alert, or closed before it finished).
    pub tls_failed: bool,
}

const MAX_NAMES: usize = 4;

impl FlowShape {
    /// The shape of a TLS (TCP) or DTLS (UDP) candidate flow.
    pub fn of(conn: &Connection, meta: &FlowMeta, tcp: Option<&TcpStats>) -> FlowShape {
        let mut shape = FlowShape {
            candidate: meta.id,
            transport: meta.transport,
            client: meta.client.ip,
            server: meta.server,
            first_ns: meta.first.ts_ns,
            last_ns: meta.last.ts_ns,
            hello_ns: None,
            handshake_done: false,
            records: Sides([0, 0]),
            bytes: Sides([0, 0]),
            names: Vec::new(),
            alpn: Vec::new(),
            closed_by: tcp.and_then(first_closer),
            tls_failed: false,
        };
        if let Some(d) = conn.dtls.as_deref() {
            shape.hello_ns = d.client_hello.map(|p| p.ts_ns);
            shape.handshake_done = d.answered();
            shape.records = d.datagrams;
            shape.bytes = d.bytes;
            return shape;
        }
        let tls = &conn.tls;
        shape.hello_ns = tls.client_hello.as_ref().map(|c| c.at.ts_ns);
        shape.handshake_done = tls.handshake_done.is_some();
        shape.records = tls.app_records;
        shape.bytes = tls.app_bytes;
        shape.tls_failed = !shape.handshake_done
            && shape.hello_ns.is_some()
            && (tls.alert.is_some() || shape.closed_by.is_some());
        if let Some(ch) = &tls.client_hello {
            if let Some(sni) = &ch.value.sni {
                shape.push_name(sni);
            }
            shape.alpn = ch.value.alpn.iter().take(MAX_NAMES).cloned().collect();
        }
        if let Some(leaf) = tls.certificates.as_ref().and_then(|c| c.value.first()) {
            if let Some(cn) = &leaf.common_name {
                shape.push_name(cn);
            }
            for san in &leaf.sans {
                shape.push_name(san);
            }
        }
        shape
    }

    fn push_name(&mut self, name: &str) {
        if self.names.len() < MAX_NAMES && !self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
        {
            self.names.push(name.to_string());
        }
    }

    pub fn duration_ns(&self) -> i64 {
        self.last_ns.saturating_sub(self.first_ns)
    }

    /// The name to show for the gateway: the SNI, else the certificate's.
    pub fn server_name(&self) -> Option<String> {
        self.names.first().cloned()
    }
}

fn first_closer(t: &TcpStats) -> Option<Side> {
    let at = |side: Side| {
        [t.fin.get(side), t.rst.get(side)]
            .into_iter()
            .flatten()
            .map(|f| f.ts_ns)
            .min()
    };
    match (at(Side::Client), at(Side::Server)) {
        (Some(c), Some(s)) => Some(if c <= s { Side::Client } else { Side::Server }),
        (Some(_), None) => Some(Side::Client),
        (None, Some(_)) => Some(Side::Server),
        (None, None) => None,
    }
}

/// Does a TCP flow's first client payload start with a TLS ClientHello (RFC 8446 5.1:
/// handshake record, version 3.x, then handshake type 1)? Header bytes only.
pub fn starts_with_client_hello(payload: &[u8]) -> bool {
    matches!(payload, [0x16, 0x03, minor, _, _, 0x01, ..] if *minor <= 0x04)
}
