//! The phases of a gateway connection, keyless: TCP, TLS (or DTLS), then, inferred from the
//! rhythm of the encrypted records, gateway authentication (the client's first HTTP request
//! until the gateway's first answer: 401 challenge, 101 upgrade or 200, MS-TSGU 3.3.5.1),
//! the tunnel setup (MS-TSGU handshake, tunnel, tunnel auth and channel create with their
//! responses: the next records up to `TUNNEL_RECORDS`), and the tunnelled data after it.

use super::super::phases::Progress;
use super::super::timeline::{Phase, PhaseName};
use super::super::Connection;
use crate::flow::{PacketInfo, Side};

/// Records (both ways, from the first after TLS) by which the tunnel is set up: the
/// MS-TSGU setup is eight messages, authentication rounds add a few.
pub const TUNNEL_RECORDS: usize = 16;

/// Replaces the RDP phases `compute_phases` inferred after TLS with the gateway's.
pub fn refine(p: &mut Progress, conn: &Connection, last: PacketInfo) {
    if let Some(d) = conn.dtls.as_deref() {
        p.phases.clear();
        if let Some(hello) = d.client_hello {
            let end = d.first_answer.unwrap_or(last);
            p.phases.push(Phase {
                name: PhaseName::TlsHandshake,
                start: hello,
                end,
                complete: d.answered(),
                waiting_on: Some(if d.answered() {
                    Side::Client
                } else {
                    Side::Server
                }),
            });
        }
        p.established = d.answered();
        return;
    }
    let closed = p
        .phases
        .iter()
        .find(|ph| ph.name == PhaseName::Closed)
        .cloned();
    p.phases
        .retain(|ph| matches!(ph.name, PhaseName::TcpConnect | PhaseName::TlsHandshake));
    p.established = false;
    p.data_start = None;
    p.credssp_flights.clear();
    p.credssp_complete = false;
    let records = &conn.tls.early_records;
    let end_of_bytes = conn
        .last_payload
        .iter()
        .flatten()
        .max_by_key(|x| x.ts_ns)
        .copied()
        .unwrap_or(last);
    if conn.tls.handshake_done.is_some() {
        // An HTTP/2 server speaks first (its SETTINGS, RFC 9113 3.4): the exchange starts
        // with the client's first record and its answer is the next server record.
        let first_request = records.iter().position(|r| r.side == Side::Client);
        if let Some(first) = first_request.and_then(|i| records.get(i)) {
            let answer = records
                .iter()
                .skip(first_request.unwrap_or(0))
                .find(|r| r.side == Side::Server);
            p.phases.push(Phase {
                name: PhaseName::GatewayAuth,
                start: first.at,
                end: answer.map(|a| a.at).unwrap_or(end_of_bytes),
                complete: answer.is_some(),
                waiting_on: Some(Side::Server),
            });
            let kdc_proxy = conn
                .gateway
                .as_deref()
                .is_some_and(|g| g.role == super::GatewayRole::KdcProxy);
            if let Some(answer) = answer.filter(|_| !kdc_proxy) {
                let setup = records.get(TUNNEL_RECORDS.saturating_sub(1));
                p.phases.push(Phase {
                    name: PhaseName::GatewayTunnel,
                    start: answer.at,
                    end: setup.map(|r| r.at).unwrap_or(end_of_bytes),
                    complete: setup.is_some(),
                    waiting_on: p.facts.owes_next,
                });
                if let Some(setup) = setup {
                    p.data_start = Some(setup.at);
                    p.established = true;
                    p.phases.push(Phase {
                        name: PhaseName::GatewayData,
                        start: setup.at,
                        end: if end_of_bytes.ts_ns >= setup.at.ts_ns {
                            end_of_bytes
                        } else {
                            setup.at
                        },
                        complete: true,
                        waiting_on: p.facts.owes_next,
                    });
                }
            }
        }
    }
    if let Some(c) = closed {
        p.phases.push(c);
    }
}
