//! The `--json` contract: one object per connection. Keys are only ever added, never renamed;
//! docs/json.md lists every key and a test keeps the two in step.

use serde::Serialize;

use crate::diagnose::flood::{ServerReport, VerdictCounts};
use crate::diagnose::run::RunSummary;
use crate::diagnose::{Diagnosed, Finding, FindingCode, Severity, Verdict};
use crate::flow::{Endpoint, Gap, Side, TcpStats, TransportKind};
use crate::proto::tls;
use crate::session::Connection;
use crate::timefmt::{ms_between, rfc3339_us};

pub mod fast;
mod gateway;
mod gcc;
mod inside;
pub(super) mod text;
pub use gcc::{
    ChannelJson, ClientClusterJson, ClientCoreJson, ClientDataJson, ClientSecurityJson,
    ServerCertificateJson, ServerCoreJson, ServerDataJson, ServerSecurityJson,
};

#[derive(Debug, Serialize)]
pub struct ConnectionJson<'a> {
    /// `"connection"`, `"gateway"` for an RD Gateway connection; the closing capture-level
    /// line has `"summary"`.
    pub kind: &'static str,
    pub id: u64,
    pub transport: TransportKind,
    pub client: String,
    pub server: String,
    pub start: String,
    pub duration_ms: f64,
    pub packets: u64,
    pub bytes: u64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub verdict: Verdict,
    pub phase: Option<&'static str>,
    pub phases: PhasesJson<'a>,
    pub tcp: Option<TcpJson<'a>>,
    pub x224: Option<X224Json>,
    pub tls: Option<TlsJson>,
    pub mcs: Option<McsJson<'a>>,
    pub udp: Option<UdpJson>,
    /// Read inside TLS (issue 15).
    pub decryption: Option<inside::DecryptionJson>,
    pub credssp: Option<inside::CredsspJson<'a>>,
    pub disconnect: Option<inside::DisconnectJson>,
    pub licensing: Option<inside::LicensingJson>,
    pub redirect: Option<inside::RedirectJson<'a>>,
    pub tcp_peer: Option<u64>,
    pub udp_peers: &'a [u64],
    pub findings: Vec<FindingJson>,
    /// The error the client would show for a failed connection (inferred from the findings).
    pub client_error: Option<ClientErrorJson>,
    /// For an `incomplete` connection, why (one sentence).
    pub incomplete: Option<&'static str>,
    pub timeline: TimelineJson<'a>,
    /// Events left out of `timeline` (past `--max-timeline-events`).
    pub timeline_dropped: u64,
    /// Finished early because the flow table was full (`--max-flows`).
    pub evicted: bool,
    /// Kerberos and DNS exchanges tied to the connection (omitted when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_context: Option<super::json_side::AuthContextJson>,
    /// The connection's place among its retries (TCP only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<super::json_side::AttemptRefJson>,
    /// An RD Gateway connection: its transport, role and pairing seen from outside the TLS,
    /// and with keys what the HTTP / MS-TSGU inside said (omitted on other lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<gateway::GatewayJson>,
    /// For an RDP connection tunnelled through an RD Gateway: the gateway connection's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_gateway: Option<u64>,
}

/// A client error pair as the dialog shows it: "0x904", "0x7".
#[derive(Debug, Serialize)]
pub struct ClientErrorJson {
    pub code: String,
    pub extended: Option<String>,
    pub name: String,
    pub inferred: bool,
}

impl ClientErrorJson {
    fn new(e: &crate::diagnose::client_error::ClientError) -> Self {
        ClientErrorJson {
            code: format!("0x{:X}", e.reason.0),
            extended: e.extended.map(|x| format!("0x{:X}", x.0)),
            name: super::codes::client_error::label(e),
            inferred: e.inferred,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TcpJson<'a> {
    /// Round trip from unambiguous samples only (Karn's rule).
    pub rtt_ms: Option<f64>,
    /// `handshake` or `data_samples`; null with `rtt_ms`.
    pub rtt_source: Option<&'static str>,
    /// Why there is no `rtt_ms`: `handshake_retransmitted` or `no_handshake`.
    pub rtt_unavailable: Option<&'static str>,
    /// SYN to the ACK of the SYN/ACK as captured, retransmission timers included.
    pub handshake_ms: Option<f64>,
    /// What the network lost of each side's segments, counted as tshark's TCP analysis does.
    pub loss: PerSide<LossJson>,
    pub syn_retries: usize,
    pub retransmissions: PerSide<u32>,
    pub zero_windows: PerSide<u32>,
    pub gaps: &'a [Gap],
    pub closed_by: Option<Side>,
    pub reset_by: Option<Side>,
    pub syn_seen: bool,
}

/// One direction's loss facts (`session::facts::LossCounts`).
#[derive(Debug, Serialize, Clone, Copy)]
pub struct LossJson {
    /// Retransmissions of unacknowledged bytes (timeouts and fast retransmits).
    pub retransmissions: u32,
    /// Retransmissions of bytes the peer had already acknowledged.
    pub spurious: u32,
    /// Segments lost before the capture point, seen as holes filled late.
    pub lost_upstream: u32,
    /// Duplicate ACKs the peer sent about this side's data.
    pub dup_acks_received: u32,
    /// SYN (client) or SYN/ACK (server) sent again.
    pub syn_retransmissions: u32,
}

impl LossJson {
    fn new(l: &crate::session::facts::LossCounts) -> Self {
        LossJson {
            retransmissions: l.rto_count,
            spurious: l.spurious,
            lost_upstream: l.lost_upstream,
            dup_acks_received: l.dup_acks_received,
            syn_retransmissions: l.syn_retransmits,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PerSide<T> {
    pub client: T,
    pub server: T,
}

impl<T: Copy> PerSide<T> {
    pub fn from_array(v: &[T; 2]) -> Self {
        PerSide {
            client: v[0],
            server: v[1],
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PhaseJson {
    pub name: &'static str,
    pub start_ms: f64,
    pub duration_ms: f64,
    pub complete: bool,
    pub waiting_on: Option<Side>,
}

#[derive(Debug, Serialize)]
pub struct EventJson {
    pub t_ms: f64,
    pub frame: u64,
    pub dir: &'static str,
    pub event: std::borrow::Cow<'static, str>,
}

/// The phases as an array of `PhaseJson`, each made as it is written: no vector of them is
/// built for a line that is written once.
#[derive(Debug)]
pub struct PhasesJson<'a> {
    /// The connection's first packet, which `start_ms` counts from.
    pub t0: i64,
    pub phases: &'a [crate::session::timeline::Phase],
}

impl Serialize for PhasesJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.phases.len()))?;
        for p in self.phases {
            seq.serialize_element(&PhaseJson {
                name: p.name.name(),
                start_ms: ms_between(self.t0, p.start.ts_ns),
                duration_ms: ms_between(0, p.duration_ns()),
                complete: p.complete,
                waiting_on: p.waiting_on,
            })?;
        }
        seq.end()
    }
}

/// The timeline as an array of `EventJson`, each made (and its words dropped) as it is
/// written, as `PhasesJson` does for the phases.
#[derive(Debug)]
pub struct TimelineJson<'a> {
    /// The connection's first packet, which `t_ms` counts from.
    pub t0: i64,
    pub events: &'a [crate::session::timeline::Event],
}

impl Serialize for TimelineJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.events.len()))?;
        for e in self.events {
            seq.serialize_element(&EventJson {
                t_ms: ms_between(self.t0, e.at.ts_ns),
                frame: e.at.frame,
                dir: dir_name(e.dir),
                event: super::events::event_text(e),
            })?;
        }
        seq.end()
    }
}

/// A finding with its words.
#[derive(Debug, Serialize)]
pub struct FindingJson {
    pub code: FindingCode,
    pub severity: Severity,
    pub title: String,
    pub explanation: String,
    pub evidence: Vec<EvidenceJson>,
    pub fix: &'static str,
}

#[derive(Debug, Serialize)]
pub struct EvidenceJson {
    pub frame: u64,
    pub t_ms: f64,
    pub note: String,
}

impl FindingJson {
    /// `f`, a finding about a connection to (or a flood at) `server`, in words.
    pub fn new(f: &Finding, server: &Endpoint) -> Self {
        let w = super::findings::words(f, server);
        FindingJson {
            code: f.code,
            severity: f.severity,
            title: w.title,
            explanation: w.explanation,
            evidence: f
                .evidence
                .iter()
                .map(|e| EvidenceJson {
                    frame: e.frame,
                    t_ms: e.t_ms,
                    note: super::findings::note_text(&e.note),
                })
                .collect(),
            fix: w.fix,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct X224Json {
    pub cookie: Option<String>,
    pub routing_token: Option<String>,
    pub requested_protocols: Option<Vec<String>>,
    pub request_flags: Option<Vec<String>>,
    pub correlation_id: Option<String>,
    pub selected_protocol: Option<String>,
    pub response_flags: Option<Vec<String>>,
    pub failure_code: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AlertJson {
    pub level: String,
    pub description: String,
    pub from: Side,
}

#[derive(Debug, Serialize)]
pub struct CertificateJson {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub self_signed: bool,
    pub key: String,
    pub sans: Vec<String>,
}

/// The cipher suites a ClientHello offered (RFC 8446 4.1.2), written as their IANA names
/// straight from the registry's static strings: a ClientHello offers dozens, and a `String`
/// per suite per connection was a good part of the JSON writer's allocations.
#[derive(Debug, Default)]
pub struct CipherSuiteNames(pub Vec<u16>);

impl Serialize for CipherSuiteNames {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for &id in &self.0 {
            match tls::cipher_suite_static_name(id) {
                Some(name) => seq.serialize_element(&RegistryName(name))?,
                None => seq.serialize_element(&tls::cipher_suite_name(id))?,
            }
        }
        seq.end()
    }
}

/// A cipher suite's IANA name, letters, digits and underscores only (a test checks every
/// one), written as a JSON string the way an enum variant's name is: serde_json writes
/// the same quoted string either way, and the `--json` writer knows a variant name has
/// nothing to escape, so the dozens of names of a ClientHello are copied without the scan.
struct RegistryName(&'static str);

impl Serialize for RegistryName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit_variant("CipherSuite", 0, self.0)
    }
}

#[derive(Debug, Serialize)]
pub struct TlsJson {
    pub record_version: Option<String>,
    pub client_hello_version: Option<String>,
    pub client_versions: Vec<String>,
    pub client_cipher_suites: CipherSuiteNames,
    pub sni: Option<String>,
    pub version: Option<String>,
    pub cipher_suite: Option<String>,
    pub alert: Option<AlertJson>,
    pub certificate: Option<CertificateJson>,
    pub app_records: PerSide<u64>,
}

#[derive(Debug, Serialize)]
pub struct MtuJson {
    pub up: u16,
    pub down: u16,
}

#[derive(Debug, Serialize)]
pub struct UdpJson {
    pub syn_count: u32,
    pub synack: bool,
    pub established: bool,
    pub version: Option<String>,
    pub mode: Option<&'static str>,
    pub mtu: Option<MtuJson>,
    pub correlation_id: Option<String>,
    pub packets: PerSide<u64>,
    pub data_packets: PerSide<u64>,
    pub loss_pct: PerSide<f64>,
    pub retransmissions: u64,
}

fn udp_json(c: &Connection) -> Option<UdpJson> {
    let u = c.udp.as_ref()?;
    Some(UdpJson {
        syn_count: u.syn_count,
        synack: u.synack.is_some(),
        established: u.established.is_some(),
        version: u.version.map(super::events::udp_version_text),
        mode: u.lossy.map(|l| if l { "lossy" } else { "reliable" }),
        mtu: u.mtu.map(|(up, down)| MtuJson { up, down }),
        correlation_id: u.correlation_id.clone(),
        packets: PerSide::from_array(&u.packets),
        data_packets: PerSide::from_array(&u.data_packets),
        loss_pct: PerSide {
            client: u.seqs.get(Side::Client).loss_pct(),
            server: u.seqs.get(Side::Server).loss_pct(),
        },
        retransmissions: u.retransmissions(),
    })
}

#[derive(Debug, Serialize)]
pub struct McsJson<'a> {
    pub client: Option<ClientDataJson<'a>>,
    pub result: Option<String>,
    pub server: Option<ServerDataJson<'a>>,
}

impl<'a> TcpJson<'a> {
    fn new(t: &'a TcpStats, facts: &crate::session::facts::ConnectionFacts) -> Self {
        use crate::flow::{RttSource, RttUnavailable};
        let [client, server] = facts.loss;
        TcpJson {
            rtt_ms: facts.rtt.map(|r| ms_between(0, r.ns)),
            rtt_source: facts.rtt.map(|r| match r.source {
                RttSource::Handshake => "handshake",
                RttSource::DataSamples => "data_samples",
            }),
            rtt_unavailable: t.rtt_unavailable().map(|u| match u {
                RttUnavailable::NoHandshake => "no_handshake",
                RttUnavailable::HandshakeRetransmitted { .. } => "handshake_retransmitted",
            }),
            handshake_ms: t.handshake_rtt_ns().map(|ns| ms_between(0, ns)),
            loss: PerSide {
                client: LossJson::new(&client),
                server: LossJson::new(&server),
            },
            syn_retries: t.syn_retries.len(),
            retransmissions: PerSide::from_array(&t.retransmissions),
            zero_windows: PerSide::from_array(&t.zero_windows),
            gaps: &t.gaps,
            closed_by: t.closed_by(),
            reset_by: t.reset_by(),
            syn_seen: t.syn_seen,
        }
    }
}

fn dir_name(side: Side) -> &'static str {
    match side {
        Side::Client => "c2s",
        Side::Server => "s2c",
    }
}

fn x224_json(c: &Connection) -> Option<X224Json> {
    let x = &c.x224;
    if x.request.is_none() && x.confirm.is_none() {
        return None;
    }
    let req = x.request.as_ref().map(|r| &r.value);
    let neg = req.and_then(|r| r.neg_req.as_ref());
    let rsp = x.response();
    Some(X224Json {
        cookie: req.and_then(|r| r.cookie.clone()),
        routing_token: req.and_then(|r| r.routing_token.clone()),
        requested_protocols: x.requested_protocols().map(|p| p.names()),
        request_flags: neg.map(|n| n.flags.names()),
        correlation_id: req
            .and_then(|r| r.correlation_info.as_ref())
            .map(|c| c.guid()),
        selected_protocol: x.selected_protocol().map(|p| p.selected_name()),
        response_flags: rsp.map(|r| r.flags.names()),
        failure_code: x.failure().map(|f| f.failure_code.name()),
    })
}

fn tls_json(c: &Connection) -> Option<TlsJson> {
    let t = &c.tls;
    let ch = t.client_hello.as_ref().map(|c| &c.value);
    if ch.is_none() && t.server_hello.is_none() && t.app_records.0 == [0, 0] {
        return None;
    }
    let sh = t.server_hello.as_ref().map(|s| &s.value);
    Some(TlsJson {
        record_version: ch.map(|c| tls::version_name(c.record_version)),
        client_hello_version: ch.map(|c| tls::version_name(c.legacy_version)),
        client_versions: ch
            .map(|c| {
                c.offered_versions()
                    .into_iter()
                    .map(tls::version_name)
                    .collect()
            })
            .unwrap_or_default(),
        client_cipher_suites: CipherSuiteNames(
            ch.map(|c| c.cipher_suites.clone()).unwrap_or_default(),
        ),
        sni: ch.and_then(|c| c.sni.clone()),
        version: sh.map(|s| tls::version_name(s.selected_version)),
        cipher_suite: sh.map(|s| tls::cipher_suite_name(s.cipher_suite)),
        alert: t.alert.as_ref().map(|a| AlertJson {
            level: if a.value.encrypted {
                "encrypted".to_string()
            } else {
                tls::alert_level_name(a.value.level)
            },
            description: if a.value.encrypted {
                "encrypted".to_string()
            } else {
                tls::alert_description_name(a.value.description)
            },
            from: a.side,
        }),
        certificate: t
            .certificates
            .as_ref()
            .and_then(|c| c.value.first())
            .map(|leaf| CertificateJson {
                subject: leaf.subject.clone(),
                issuer: leaf.issuer.clone(),
                not_before: leaf.not_before.clone(),
                not_after: leaf.not_after.clone(),
                self_signed: leaf.self_signed,
                key: leaf.key.clone(),
                sans: leaf.sans.clone(),
            }),
        app_records: PerSide::from_array(&t.app_records),
    })
}

fn mcs_json(c: &Connection) -> Option<McsJson<'_>> {
    let m = &c.mcs;
    if m.connect_initial.is_none() && m.connect_response.is_none() {
        return None;
    }
    Some(McsJson {
        client: m
            .connect_initial
            .as_ref()
            .map(|ci| ClientDataJson::new(&ci.value)),
        result: m.connect_response.as_ref().map(|r| r.value.result.name()),
        server: m
            .connect_response
            .as_ref()
            .map(|r| ServerDataJson::new(&r.value.server)),
    })
}

impl<'a> ConnectionJson<'a> {
    pub fn new(d: &'a Diagnosed) -> Self {
        let m = &d.meta;
        let t0 = m.first.ts_ns;
        let c = &d.connection;
        ConnectionJson {
            kind: if c.gateway.is_some() || c.gateway_inside.is_some() {
                "gateway"
            } else {
                "connection"
            },
            id: m.id,
            transport: m.transport,
            client: text::endpoint_text(&m.client),
            server: text::endpoint_text(&m.server),
            start: rfc3339_us(t0),
            duration_ms: ms_between(t0, m.last.ts_ns),
            packets: m.packets,
            bytes: m.bytes,
            first_frame: m.first.frame,
            last_frame: m.last.frame,
            verdict: d.verdict,
            phase: d.progress.last_phase().map(|p| p.name.name()),
            phases: PhasesJson {
                t0,
                phases: &d.progress.phases,
            },
            tcp: d.tcp.as_ref().map(|t| TcpJson::new(t, &d.progress.facts)),
            x224: x224_json(c),
            tls: tls_json(c),
            mcs: mcs_json(c),
            udp: udp_json(c),
            decryption: inside::decryption(c),
            credssp: inside::credssp(c),
            disconnect: inside::disconnect(c),
            licensing: inside::licensing(c),
            redirect: inside::redirect(c),
            tcp_peer: d.tcp_peer,
            udp_peers: &d.udp_peers,
            findings: d
                .findings
                .iter()
                .map(|f| FindingJson::new(f, &m.server))
                .collect(),
            client_error: crate::diagnose::client_error::expected(d)
                .as_ref()
                .map(ClientErrorJson::new),
            incomplete: super::incomplete_reason(d),
            timeline: TimelineJson {
                t0,
                events: &c.timeline.events,
            },
            timeline_dropped: c.timeline.dropped,
            evicted: d.evicted,
            auth_context: super::json_side::AuthContextJson::new(&d.auth_context),
            attempt: d.attempt.map(|a| super::json_side::AttemptRefJson {
                id: a.id,
                position: a.position,
            }),
            gateway: gateway::gateway(c),
            via_gateway: d.via_gateway,
        }
    }
}

/// Appends one NDJSON line and its newline to `buf`: the bytes of `to_line`, serialised in
/// place (reuse `buf` across connections to avoid growing a fresh String for each).
pub fn push_line(buf: &mut Vec<u8>, d: &Diagnosed) {
    let start = buf.len();
    let json = ConnectionJson::new(d);
    if fast::append(buf, &json).is_err() {
        buf.truncate(start);
        if serde_json::to_writer(&mut *buf, &json).is_err() {
            buf.truncate(start);
            buf.extend_from_slice(to_line(d).as_bytes());
        }
    }
    buf.push(b'\n');
}

/// One NDJSON line (no trailing newline).
pub fn to_line(d: &Diagnosed) -> String {
    serde_json::to_string(&ConnectionJson::new(d)).unwrap_or_else(|e| {
        format!(
            "{{\"error\":\"cannot serialise connection {}: {e}\"}}",
            d.meta.id
        )
    })
}

/// The closing line: what the run found about the capture as a whole.
#[derive(Debug, Serialize)]
pub struct SummaryLineJson {
    pub kind: &'static str,
    pub summary: SummaryJson,
    /// `--each`: why this file could not be read (to its end), as stderr says it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `--each`: the file this line sums up, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SummaryJson {
    pub packets: u64,
    pub connections: u64,
    pub evicted: u64,
    pub timelines_truncated: u64,
    /// With `-f`: the filter, the packets read and those it kept (omitted without a filter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterJson>,
    pub servers: Vec<ServerJson>,
    /// Retries: attempts of two connections or more (omitted when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<super::json_side::AttemptJson>,
}

#[derive(Debug, Serialize)]
pub struct FilterJson {
    pub expression: String,
    pub read: u64,
    pub kept: u64,
}

#[derive(Debug, Serialize)]
pub struct ServerJson {
    pub server: String,
    pub transport: TransportKind,
    pub connections: u64,
    pub distinct_clients: u64,
    pub distinct_clients_estimated: bool,
    pub verdicts: VerdictCounts,
    pub findings: Vec<FindingJson>,
}

impl ServerJson {
    fn new(s: &ServerReport) -> Self {
        ServerJson {
            server: s.server.to_string(),
            transport: s.transport,
            connections: s.connections,
            distinct_clients: s.distinct_clients,
            distinct_clients_estimated: s.distinct_clients_estimated,
            verdicts: s.verdicts,
            findings: s
                .findings
                .iter()
                .map(|f| FindingJson::new(f, &s.server))
                .collect(),
        }
    }
}

/// The closing `"kind": "summary"` line (no trailing newline), printed after the connections
/// when the run has something to say about the capture as a whole: a flooded server, or
/// connections evicted from a full flow table. None otherwise.
pub fn summary_line(s: &RunSummary) -> Option<String> {
    if s.servers.is_empty() && s.evicted == 0 && s.attempts.is_empty() && s.filter.is_none() {
        return None;
    }
    Some(summary_text(&summary_json(s, None, None)))
}

/// `--each`: the summary line of one file, always printed (after that file's connections),
/// with its `file` and, when it could not be read, its `error`.
pub fn file_summary_line(s: &RunSummary, file: &str) -> String {
    let error = s.error.as_ref().map(ToString::to_string);
    summary_text(&summary_json(s, error, Some(file.to_string())))
}

fn summary_json(s: &RunSummary, error: Option<String>, file: Option<String>) -> SummaryLineJson {
    SummaryLineJson {
        kind: "summary",
        summary: SummaryJson {
            packets: s.packets,
            connections: s.connections,
            evicted: s.evicted,
            timelines_truncated: s.timelines_truncated,
            filter: s.filter.as_ref().map(|f| FilterJson {
                expression: f.expression.clone(),
                read: f.read,
                kept: f.kept,
            }),
            servers: s.servers.iter().map(ServerJson::new).collect(),
            attempts: s
                .attempts
                .iter()
                .map(super::json_side::AttemptJson::new)
                .collect(),
        },
        error,
        file,
    }
}

fn summary_text(line: &SummaryLineJson) -> String {
    serde_json::to_string(line).unwrap_or_else(|e| {
        format!("{{\"kind\":\"summary\",\"error\":\"cannot serialise the summary: {e}\"}}")
    })
}
