//! Grouping a connection's milestones into phases with start, end and who waited on whom.
//!
//! After the TLS handshake everything is encrypted, so CredSSP and the MCS connect are
//! inferred from the direction and rhythm of records (FACTS 2.6, 6): CredSSP over NTLM is
//! five flights (client, server, client, server, client), plus a short server record
//! (Early User Authorization Result) with HYBRID_EX.

use super::facts::ConnectionFacts;
use super::timeline::{Phase, PhaseName};
use super::{AppRecord, Connection};
use crate::flow::{FlowMeta, PacketInfo, Side, TcpStats};

/// A run of records sent by one side before the other answered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flight {
    pub side: Side,
    pub first: PacketInfo,
    pub last: PacketInfo,
    pub records: usize,
    pub bytes: usize,
}

pub fn flights(records: &[AppRecord]) -> Vec<Flight> {
    let mut out: Vec<Flight> = Vec::new();
    for r in records {
        match out.last_mut() {
            Some(f) if f.side == r.side => {
                f.last = r.at;
                f.records += 1;
                f.bytes += r.len;
            }
            _ => out.push(Flight {
                side: r.side,
                first: r.at,
                last: r.at,
                records: 1,
                bytes: r.len,
            }),
        }
    }
    out
}

/// How far the connection got, as phases and the facts the diagnosis needs.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub phases: Vec<Phase>,
    /// CredSSP flights seen (client and server messages), when NLA was selected.
    pub credssp_flights: Vec<Flight>,
    pub credssp_complete: bool,
    /// First packet of the session proper (after all security handshakes).
    pub data_start: Option<PacketInfo>,
    /// Flights exchanged in the session proper.
    pub data_flights: usize,
    /// The connection reached the RDP session itself (not just its handshakes).
    pub established: bool,
    /// Who owes the next message, since when nothing moved, loss and round trip: the one
    /// source every rule and renderer reads.
    pub facts: ConnectionFacts,
}

impl Progress {
    pub fn last_phase(&self) -> Option<&Phase> {
        self.phases
            .iter()
            .rev()
            .find(|p| p.name != PhaseName::Closed)
    }
}

/// Flights of the encrypted connection sequence before the session can have started: MCS
/// connect request and response, attach user request and confirm (FACTS 2.6).
const MIN_SEQUENCE_FLIGHTS: usize = 4;
/// The server's finalization (Synchronize, Control, Control, Font Map) and first graphics
/// come as a burst: several records, or a lot of bytes, in one server flight.
const BURST_RECORDS: usize = 3;
const BURST_BYTES: usize = 1500;

/// The first server burst after the connection sequence: where the session proper starts.
fn session_start(flights: &[Flight]) -> Option<&Flight> {
    flights
        .iter()
        .skip(MIN_SEQUENCE_FLIGHTS)
        .find(|f| f.side == Side::Server && (f.records >= BURST_RECORDS || f.bytes >= BURST_BYTES))
}
/// With NTLM, CredSSP is five messages; Kerberos has the same shape (FACTS 6).
const CREDSSP_FLIGHTS: usize = 5;
/// The Early User Authorization Result is a 4-byte PDU: a small record.
const EARLY_AUTH_MAX_RECORD: usize = 64;

pub fn compute_phases(conn: &Connection, meta: &FlowMeta, tcp: Option<&TcpStats>) -> Progress {
    let mut p = Progress {
        facts: ConnectionFacts::compute(conn, tcp),
        ..Progress::default()
    };
    let last = meta.last;
    let owes_next = p.facts.owes_next;
    let owed_by = |_after: &PacketInfo| -> Option<Side> { owes_next };

    if let Some(t) = tcp.filter(|t| t.syn_seen) {
        let start = t.first_syn.as_ref().map(info).unwrap_or(meta.first);
        let (end, complete) = match (&t.handshake_ack, &t.first_syn_ack) {
            (Some(a), _) => (info(a), true),
            (None, Some(sa)) => (info(sa), true),
            (None, None) => (last_tcp_attempt(t, meta), false),
        };
        p.phases.push(Phase {
            name: PhaseName::TcpConnect,
            start,
            end,
            complete,
            waiting_on: Some(if complete { Side::Client } else { Side::Server }),
        });
    }

    if let Some(cr) = &conn.x224.request {
        let (end, complete, waiting) = match &conn.x224.confirm {
            Some(cc) => (cc.at, true, Side::Server),
            None => (last, false, Side::Server),
        };
        p.phases.push(Phase {
            name: PhaseName::X224Negotiation,
            start: cr.at,
            end,
            complete,
            waiting_on: Some(waiting),
        });
    }

    let mut handshake_end: Option<PacketInfo> = conn.x224.confirm.as_ref().map(|c| c.at);
    if let Some(ch) = &conn.tls.client_hello {
        let done = conn.tls.handshake_done;
        let end = done.unwrap_or_else(|| last_payload_before_close(conn, tcp, &last));
        p.phases.push(Phase {
            name: PhaseName::TlsHandshake,
            start: ch.at,
            end,
            complete: done.is_some(),
            waiting_on: if done.is_some() {
                Some(Side::Client)
            } else {
                owed_by(&end)
            },
        });
        handshake_end = done;
    }

    let all = flights(&conn.tls.early_records);
    let mut rest: &[Flight] = &all;
    if conn.x224.nla_selected() && handshake_end.is_some() {
        // TLS 1.3 session tickets may come before the client's first CredSSP message.
        let skip = rest.iter().take_while(|f| f.side == Side::Server).count();
        rest = rest.get(skip..).unwrap_or_default();
        let mut n = CREDSSP_FLIGHTS.min(rest.len());
        if n == CREDSSP_FLIGHTS && conn.x224.selected_protocol().is_some_and(|s| s.0 & 8 != 0) {
            if let Some(f) = rest.get(n) {
                if f.side == Side::Server && f.bytes <= EARLY_AUTH_MAX_RECORD * f.records {
                    n += 1;
                }
            }
        }
        p.credssp_flights = rest.get(..n).unwrap_or_default().to_vec();
        p.credssp_complete = n >= CREDSSP_FLIGHTS;
        if let (Some(first), Some(last_f)) = (p.credssp_flights.first(), p.credssp_flights.last()) {
            let end = if p.credssp_complete {
                last_f.last
            } else {
                last_payload_before_close(conn, tcp, &last)
            };
            p.phases.push(Phase {
                name: PhaseName::Credssp,
                start: first.first,
                end,
                complete: p.credssp_complete,
                waiting_on: if p.credssp_complete {
                    Some(last_f.side)
                } else {
                    owed_by(&end)
                },
            });
        }
        rest = rest.get(n..).unwrap_or_default();
        handshake_end = if p.credssp_complete { Some(last) } else { None };
    }

    if conn.standard_security() {
        if let Some(ci) = &conn.mcs.connect_initial {
            // The server's licensing PDU or first fast-path output: the sequence went through.
            let fp = conn
                .mcs
                .fastpath
                .iter()
                .flatten()
                .min_by_key(|a| a.ts_ns)
                .copied();
            let reached = fp.or(conn.mcs.license);
            let end = reached.unwrap_or_else(|| last_payload_before_close(conn, tcp, &last));
            p.phases.push(Phase {
                name: PhaseName::McsConnect,
                start: ci.at,
                end,
                complete: reached.is_some(),
                waiting_on: if reached.is_some() {
                    Some(Side::Server)
                } else {
                    owed_by(&end)
                },
            });
            if let Some(at) = reached {
                p.data_start = Some(at);
                p.established = true;
            }
        }
    } else if handshake_end.is_some() {
        if let Some(first) = rest.first() {
            let session = session_start(rest);
            let end = session
                .map(|f| f.first)
                .unwrap_or_else(|| last_payload_before_close(conn, tcp, &last));
            p.phases.push(Phase {
                name: PhaseName::McsConnect,
                start: first.first,
                end,
                complete: session.is_some(),
                waiting_on: if session.is_some() {
                    Some(Side::Server)
                } else {
                    owed_by(&end)
                },
            });
            if let Some(f) = session {
                p.data_start = Some(f.first);
                p.established = true;
            }
        }
        p.data_flights = rest.len();
    }

    if let Some(start) = p.data_start {
        let end = last_payload_before_close(conn, tcp, &last);
        p.phases.push(Phase {
            name: PhaseName::RdpData,
            start,
            end: if end.ts_ns >= start.ts_ns { end } else { start },
            complete: true,
            waiting_on: owed_by(&end),
        });
    }

    // The phase the connection stopped in waits on whoever owes the next message.
    if let Some(stopped) = p
        .phases
        .iter_mut()
        .rev()
        .find(|ph| ph.name != PhaseName::Closed)
    {
        if !p.established && owes_next.is_some() {
            stopped.waiting_on = owes_next;
        }
    }

    if let Some(t) = tcp {
        let close = t
            .fin
            .iter()
            .chain(t.rst.iter())
            .flatten()
            .min_by_key(|f| f.ts_ns);
        if let Some(c) = close {
            p.phases.push(Phase {
                name: PhaseName::Closed,
                start: info(c),
                end: last,
                complete: true,
                waiting_on: None,
            });
        }
    }
    if conn.gateway.is_some() || conn.dtls.is_some() {
        super::gateway::phases::refine(&mut p, conn, last);
    }
    p
}

fn info(f: &crate::flow::FrameTime) -> PacketInfo {
    PacketInfo {
        file: 0,
        frame: f.frame,
        ts_ns: f.ts_ns,
    }
}

fn last_tcp_attempt(t: &TcpStats, meta: &FlowMeta) -> PacketInfo {
    t.syn_retries
        .last()
        .or(t.first_syn.as_ref())
        .map(info)
        .unwrap_or(meta.last)
}

/// The last payload packet before the connection closed (or the capture ended).
fn last_payload_before_close(
    conn: &Connection,
    _tcp: Option<&TcpStats>,
    fallback: &PacketInfo,
) -> PacketInfo {
    conn.last_payload
        .iter()
        .flatten()
        .max_by_key(|p| p.ts_ns)
        .copied()
        .unwrap_or(*fallback)
}

/// Who owed the next message: the side that did not send the last payload.
pub fn waiting_side(conn: &Connection, _after: &PacketInfo) -> Option<Side> {
    super::facts::waiting_side(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Sides;
    use crate::flow::{Endpoint, FrameTime, TransportKind};
    use crate::proto::nego::{NegRsp, NegRspFlags, Protocols};
    use crate::proto::x224::{ConnectionConfirm, ConnectionRequest, NegotiationResponse};
    use crate::session::Stamped;

    const T0: i64 = 1_000_000_000_000;

    fn at(ms: i64, frame: u64) -> PacketInfo {
        PacketInfo {
            file: 0,
            frame,
            ts_ns: T0 + ms * 1_000_000,
        }
    }

    fn frame_time(ms: i64, frame: u64) -> FrameTime {
        FrameTime {
            frame,
            ts_ns: T0 + ms * 1_000_000,
        }
    }

    fn meta(last: PacketInfo) -> FlowMeta {
        let endpoint = |ip: [u8; 4], port| Endpoint {
            ip: std::net::IpAddr::from(ip),
            port,
        };
        FlowMeta {
            id: 1,
            transport: TransportKind::Tcp,
            client: endpoint([10, 0, 0, 2], 50000),
            server: endpoint([10, 0, 0, 1], 3389),
            first: at(0, 1),
            last,
            packets: 10,
            bytes: 1000,
            packets_by_side: [5, 5].into(),
        }
    }

    fn record(side: Side, ms: i64, frame: u64, len: usize) -> AppRecord {
        AppRecord {
            at: at(ms, frame),
            side,
            len,
        }
    }

    #[test]
    fn synthetic_records_group_into_flights_by_direction() {
        let records = [
            record(Side::Client, 1, 1, 100),
            record(Side::Server, 2, 2, 50),
            record(Side::Server, 3, 3, 70),
            record(Side::Client, 4, 4, 10),
        ];
        let f = flights(&records);
        assert_eq!(f.len(), 3);
        assert_eq!(
            (f[1].side, f[1].records, f[1].bytes),
            (Side::Server, 2, 120)
        );
        assert_eq!((f[1].first.frame, f[1].last.frame), (2, 3));
        assert!(flights(&[]).is_empty());
    }

    #[test]
    fn synthetic_the_session_starts_at_the_first_server_burst_after_the_sequence() {
        let mut records = Vec::new();
        // MCS connect, attach user: four small alternating flights.
        for i in 0..4u64 {
            let side = if i % 2 == 0 {
                Side::Client
            } else {
                Side::Server
            };
            records.push(record(side, i as i64, i + 1, 200));
        }
        // A small server record, then the client, then the finalization burst.
        records.push(record(Side::Client, 10, 10, 80));
        records.push(record(Side::Server, 11, 11, 2000));
        let all = flights(&records);
        let start = session_start(&all).expect("a burst");
        assert_eq!(start.first.frame, 11);
        // Without the burst there is no session yet.
        assert!(session_start(&all[..5]).is_none());
    }

    #[test]
    fn synthetic_who_owes_the_next_message_is_the_side_that_did_not_speak_last() {
        let mut conn = Connection::default();
        assert_eq!(waiting_side(&conn, &at(0, 1)), None);
        conn.last_payload = Sides([Some(at(5, 5)), None]);
        assert_eq!(waiting_side(&conn, &at(5, 5)), Some(Side::Server));
        conn.last_payload = Sides([Some(at(5, 5)), Some(at(6, 6))]);
        assert_eq!(waiting_side(&conn, &at(6, 6)), Some(Side::Client));
    }

    #[test]
    fn synthetic_an_unanswered_syn_is_an_incomplete_connect_waiting_on_the_server() {
        let conn = Connection::default();
        let tcp = TcpStats {
            syn_seen: true,
            first_syn: Some(frame_time(0, 1)),
            syn_retries: vec![frame_time(1000, 2), frame_time(3000, 3)],
            ..TcpStats::default()
        };
        let p = compute_phases(&conn, &meta(at(3000, 3)), Some(&tcp));
        assert_eq!(p.phases.len(), 1);
        let connect = &p.phases[0];
        assert_eq!(connect.name, PhaseName::TcpConnect);
        assert!(!connect.complete);
        assert_eq!(connect.waiting_on, Some(Side::Server));
        // It lasts until the last SYN retry.
        assert_eq!(connect.end.frame, 3);
        assert!(!p.established);
    }

    #[test]
    fn synthetic_a_confirmed_standard_security_request_then_fast_path_is_established() {
        let mut conn = Connection::default();
        conn.x224.request = Some(Stamped {
            at: at(1, 4),
            side: Side::Client,
            value: ConnectionRequest {
                dst_ref: 0,
                src_ref: 0,
                class_option: 0,
                cookie: None,
                routing_token: None,
                neg_req: None,
                correlation_info: None,
                unparsed: 0,
            },
        });
        conn.x224.confirm = Some(Stamped {
            at: at(2, 5),
            side: Side::Server,
            value: ConnectionConfirm {
                dst_ref: 0,
                src_ref: 0,
                class_option: 0,
                negotiation: Some(NegotiationResponse::Response(NegRsp {
                    flags: NegRspFlags(0),
                    selected_protocol: Protocols(Protocols::RDP),
                })),
                bad_neg_length: None,
            },
        });
        conn.mcs.connect_initial = Some(Box::new(Stamped {
            at: at(3, 6),
            side: Side::Client,
            value: Default::default(),
        }));
        conn.mcs.fastpath = Sides([None, Some(at(9, 12))]);
        conn.last_payload = Sides([Some(at(8, 11)), Some(at(9, 12))]);
        let tcp = TcpStats {
            syn_seen: true,
            first_syn: Some(frame_time(0, 1)),
            first_syn_ack: Some(frame_time(0, 2)),
            handshake_ack: Some(frame_time(0, 3)),
            ..TcpStats::default()
        };
        let p = compute_phases(&conn, &meta(at(9, 12)), Some(&tcp));
        let names: Vec<_> = p.phases.iter().map(|p| (p.name, p.complete)).collect();
        assert_eq!(
            names,
            [
                (PhaseName::TcpConnect, true),
                (PhaseName::X224Negotiation, true),
                (PhaseName::McsConnect, true),
                (PhaseName::RdpData, true),
            ]
        );
        assert!(p.established);
        assert_eq!(p.data_start.map(|d| d.frame), Some(12));
        assert_eq!(p.last_phase().map(|p| p.name), Some(PhaseName::RdpData));
    }
}
