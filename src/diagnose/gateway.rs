//! RD Gateway connections, keyless (MS-TSGU 3.3.5.1, MS-KKDCP 2.1): the TCP and TLS rules
//! of any connection, then what the encrypted rhythm shows: the gateway closing right after
//! the client's first request (a refused logon), a KDC proxy that got no answer, the UDP
//! transport never answered. All of them are inferred: the status is inside the TLS.

use super::{Ctx, Evidence, Facts, Finding, FindingCode, Note, Severity, Verdict};
use crate::flow::Side;
use crate::session::gateway::{GatewayFacts, GatewayRole};

/// Records each way within which a gateway that closes has refused the client.
const SHORT_EXCHANGE_RECORDS: u64 = 6;

/// The values of a gateway finding.
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayFinding {
    /// The gateway closed after `client`/`server` encrypted records following TLS.
    ClosedAfterShortExchange {
        client_records: u64,
        server_records: u64,
        after_tls_ms: f64,
        close: super::Close,
        kdc_proxy: bool,
    },
    /// DTLS ClientHellos to UDP 3391 that got no answer.
    UdpUnanswered { hellos: u32, span_ms: f64 },
}

/// What a gateway evidence frame shows.
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayNote {
    TlsDone,
    ClientRequest { bytes: usize },
    GatewayAnswer { bytes: usize },
    GatewayCloses(super::Close),
    DtlsHello { n: u32 },
}

pub(super) fn gateway_findings(ctx: &Ctx, gw: &GatewayFacts, out: &mut Vec<Finding>) {
    if let Some(d) = ctx.conn.dtls.as_deref() {
        if let (Some(hello), false) = (d.client_hello, d.answered()) {
            let last = ctx.conn.last_packet.get(Side::Client).unwrap_or(hello);
            out.push(Finding::new(
                FindingCode::GatewayUdpBlocked,
                Facts::Gateway(GatewayFinding::UdpUnanswered {
                    hellos: d.client_hellos,
                    span_ms: crate::timefmt::ms_between(hello.ts_ns, last.ts_ns),
                }),
                vec![
                    ctx.ev(&hello, Note::Gateway(GatewayNote::DtlsHello { n: 1 })),
                    ctx.ev(
                        &last,
                        Note::Gateway(GatewayNote::DtlsHello { n: d.client_hellos }),
                    ),
                ],
            ));
        }
        return;
    }
    super::connect::connect_findings(ctx, out);
    super::tls::tls_findings(ctx, out);
    if gw.role != GatewayRole::KdcProxy {
        super::timing::timing_findings(ctx, out);
        // Keyless, the tunnel's end is a guess and includes the inner RDP connection's own
        // setup (prompts, CredSSP): a "slow" verdict would blame the wrong hop.
        out.retain(|f| f.code != FindingCode::HandshakeSlow);
    }
    super::capture::capture_findings(ctx, out);
    short_exchange_finding(ctx, gw, out);
}

/// The gateway (not the client) closed within a few records after TLS finished.
fn short_exchange_finding(ctx: &Ctx, gw: &GatewayFacts, out: &mut Vec<Finding>) {
    let t = &ctx.conn.tls;
    let Some(done) = t.handshake_done else { return };
    let (c, s) = (
        *t.app_records.get(Side::Client),
        *t.app_records.get(Side::Server),
    );
    let Some((side, at, close)) = ctx.first_close() else {
        return;
    };
    if side != Side::Server || c == 0 || c > SHORT_EXCHANGE_RECORDS || s > SHORT_EXCHANGE_RECORDS {
        return;
    }
    let kdc_proxy = gw.role == GatewayRole::KdcProxy;
    // A KDC proxy may close after answering (HTTP/1.1 without keep-alive): only no answer fails.
    if kdc_proxy && s > 0 {
        return;
    }
    let mut evidence: Vec<Evidence> = vec![ctx.ev(&done, Note::Gateway(GatewayNote::TlsDone))];
    if let Some(r) = t.early_records.iter().find(|r| r.side == Side::Client) {
        evidence.push(ctx.ev(
            &r.at,
            Note::Gateway(GatewayNote::ClientRequest { bytes: r.len }),
        ));
    }
    let request_at = t
        .early_records
        .iter()
        .position(|r| r.side == Side::Client)
        .unwrap_or(0);
    if let Some(r) = t
        .early_records
        .iter()
        .skip(request_at)
        .find(|r| r.side == Side::Server)
    {
        evidence.push(ctx.ev(
            &r.at,
            Note::Gateway(GatewayNote::GatewayAnswer { bytes: r.len }),
        ));
    }
    evidence.push(ctx.ev(&at, Note::Gateway(GatewayNote::GatewayCloses(close))));
    let code = if kdc_proxy {
        FindingCode::KdcProxyFailed
    } else {
        FindingCode::GatewayAuthFailed
    };
    out.push(Finding::new(
        code,
        Facts::Gateway(GatewayFinding::ClosedAfterShortExchange {
            client_records: c,
            server_records: s,
            after_tls_ms: crate::timefmt::ms_between(done.ts_ns, at.ts_ns),
            close,
            kdc_proxy,
        }),
        evidence,
    ));
}

/// A gateway connection's verdict: a tunnel that reached its data is ok, a KDC proxy that
/// was answered is ok, the UDP transport unanswered is failed (the session goes on over TCP).
pub(super) fn gateway_verdict(ctx: &Ctx, gw: &GatewayFacts, findings: &[Finding]) -> Verdict {
    let has = |code: FindingCode| findings.iter().any(|f| f.code == code);
    if has(FindingCode::HandshakeStalled) || has(FindingCode::SegmentBlackHoled) {
        return Verdict::Stalled;
    }
    if findings
        .iter()
        .any(|f| f.severity == Severity::Error || f.code == FindingCode::GatewayUdpBlocked)
    {
        return Verdict::Failed;
    }
    if has(FindingCode::HandshakeSlow) {
        return Verdict::Slow;
    }
    let answered = *ctx.conn.tls.app_records.get(Side::Server) > 0;
    if ctx.progress.established || (gw.role == GatewayRole::KdcProxy && answered) {
        return Verdict::Ok;
    }
    if gw.role == GatewayRole::KdcProxy
        && findings
            .iter()
            .any(|f| f.code == FindingCode::KdcProxyFailed)
    {
        return Verdict::Failed;
    }
    Verdict::Incomplete
}
