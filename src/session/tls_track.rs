//! Following the TLS handshake of a connection, and counting the encrypted records after it
//! (whose sizes and directions are all a passive observer has of CredSSP and the session).
//!
//! With the run's secrets, `decrypt` gets the ClientHello random and the ServerHello from
//! here and every record of both sides (`handle_record`; whole application_data records
//! through `Pdu::TlsAppRecord`), and hands the plaintext to `inner`.

use super::event::{DecodeError, EventKind, TlsMessage};
use super::{Connection, Stamped};
use crate::flow::Sides;
use crate::flow::{PacketInfo, Side};
use crate::proto::tls::{
    CertificateInfo, ClientHelloInfo, ServerHelloInfo, TlsConversation, TlsEvent,
};

/// One encrypted record after the handshake.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AppRecord {
    pub at: PacketInfo,
    pub side: Side,
    pub len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    pub level: u8,
    pub description: u8,
    /// Sent after the side's keys changed: level and description are not readable.
    pub encrypted: bool,
}

impl Alert {
    fn event(self) -> EventKind {
        EventKind::TlsAlert {
            level: self.level,
            description: self.description,
            encrypted: self.encrypted,
        }
    }
}

#[derive(Debug, Default)]
pub struct TlsState {
    conversation: TlsConversation,
    pub client_hello: Option<Stamped<ClientHelloInfo>>,
    pub server_hello: Option<Stamped<ServerHelloInfo>>,
    pub certificates: Option<Stamped<Vec<CertificateInfo>>>,
    pub alert: Option<Stamped<Alert>>,
    pub change_cipher_spec: Sides<Option<PacketInfo>>,
    /// First encrypted handshake record per side (the Finished message).
    pub finished: Sides<Option<PacketInfo>>,
    /// When both sides had finished the handshake.
    pub handshake_done: Option<PacketInfo>,
    pub app_records: Sides<u64>,
    pub app_bytes: Sides<u64>,
    /// The first encrypted records after the handshake (CredSSP, then the MCS connect).
    pub early_records: Vec<AppRecord>,
    pub records: Sides<u64>,
}

pub const EARLY_RECORDS: usize = 48;

impl TlsState {
    /// A fresh state whose TLS reassembly skips handshake messages over `max` bytes.
    pub fn with_max_handshake(max: usize) -> Self {
        TlsState {
            conversation: TlsConversation::with_max_handshake(max),
            ..TlsState::default()
        }
    }

    /// Heap bytes of the reassembly buffers and the handshake's facts.
    pub fn heap_bytes(&self) -> usize {
        use super::connection_footprint::vec_bytes;
        let hello = self.client_hello.as_ref().map_or(0, |h| {
            let h = &h.value;
            vec_bytes(&h.supported_versions)
                + vec_bytes(&h.cipher_suites)
                + h.sni.as_ref().map_or(0, String::capacity)
                + vec_bytes(&h.supported_groups)
                + vec_bytes(&h.signature_algorithms)
                + vec_bytes(&h.alpn)
        });
        let certs = self.certificates.as_ref().map_or(0, |c| {
            vec_bytes(&c.value)
                + c.value
                    .iter()
                    .map(|c| {
                        c.subject.capacity()
                            + c.issuer.capacity()
                            + c.common_name.as_ref().map_or(0, String::capacity)
                            + c.not_before.capacity()
                            + c.not_after.capacity()
                            + c.key.capacity()
                            + vec_bytes(&c.sans)
                            + c.sans.iter().map(String::capacity).sum::<usize>()
                            + c.parse_error.as_ref().map_or(0, String::capacity)
                    })
                    .sum::<usize>()
        });
        self.conversation.heap_bytes() + hello + certs + vec_bytes(&self.early_records)
    }

    pub fn is_tls13(&self) -> bool {
        self.server_hello
            .as_ref()
            .is_some_and(|s| s.value.selected_version == 0x0304)
    }

    pub fn version(&self) -> Option<u16> {
        self.server_hello.as_ref().map(|s| s.value.selected_version)
    }

    fn note_finished(&mut self, at: &PacketInfo, side: Side) {
        let i = side;
        if self.finished.get(i).is_none() {
            *self.finished.get_mut(i) = Some(*at);
        }
        if self.handshake_done.is_none() && self.finished.iter().all(Option::is_some) {
            self.handshake_done = Some(*at);
        }
    }
}

pub(super) fn handle_record(conn: &mut Connection, at: &PacketInfo, side: Side, record: &[u8]) {
    let max = conn.max_tls_handshake.0;
    conn.tls.conversation.set_max_handshake(max);
    *conn.tls.records.get_mut(side) += 1;
    let events = conn
        .tls
        .conversation
        .feed_record(side == Side::Client, record);
    for ev in events {
        tls_event(conn, at, side, ev);
    }
    super::decrypt::record(conn, at, side, record);
}

fn tls_event(conn: &mut Connection, at: &PacketInfo, side: Side, ev: TlsEvent) {
    let tl = &mut conn.timeline;
    let st = &mut conn.tls;
    match ev {
        TlsEvent::ClientHello(ch) => {
            let offered = ch.offered_versions();
            let versions = offered.iter().min().zip(offered.iter().max());
            let kind = EventKind::TlsClientHello {
                versions: versions.map(|(lo, hi)| (*lo, *hi)),
                cipher_suites: ch.cipher_suites.len(),
                sni: ch.sni.as_deref().map(Box::from),
            };
            tl.push(at, side, kind);
            if st.client_hello.is_none() {
                super::decrypt::client_hello(conn, ch.random);
            }
            conn.tls.client_hello.get_or_insert(Stamped {
                at: *at,
                side,
                value: ch,
            });
        }
        TlsEvent::ServerHello(sh) | TlsEvent::HelloRetryRequest(sh) => {
            let kind = EventKind::TlsServerHello {
                retry_request: sh.is_hello_retry_request,
                version: sh.selected_version,
                cipher_suite: sh.cipher_suite,
            };
            tl.push(at, side, kind);
            if !sh.is_hello_retry_request {
                super::decrypt::server_hello(conn, at, &sh);
            }
            let st = &mut conn.tls;
            if !sh.is_hello_retry_request || st.server_hello.is_none() {
                st.server_hello = Some(Stamped {
                    at: *at,
                    side,
                    value: sh,
                });
            }
        }
        TlsEvent::Certificate(chain) => {
            if let Some(leaf) = chain.first() {
                let kind = EventKind::TlsCertificate(Box::new(super::CertificateEvent {
                    subject: leaf.subject.clone(),
                    not_before: leaf.not_before.clone(),
                    not_after: leaf.not_after.clone(),
                }));
                tl.push(at, side, kind);
            }
            st.certificates.get_or_insert(Stamped {
                at: *at,
                side,
                value: chain,
            });
        }
        TlsEvent::Alert { level, description } => {
            let alert = Alert {
                level,
                description,
                encrypted: false,
            };
            tl.push(at, side, alert.event());
            st.alert.get_or_insert(Stamped {
                at: *at,
                side,
                value: alert,
            });
        }
        TlsEvent::EncryptedAlert { .. } => {
            note_encrypted_alert(tl, st, at, side);
        }
        TlsEvent::ChangeCipherSpec => {
            let i = side;
            if st.change_cipher_spec.get(i).is_none() {
                *st.change_cipher_spec.get_mut(i) = Some(*at);
                if !st.is_tls13() {
                    tl.push(at, side, EventKind::TlsChangeCipherSpec);
                }
            }
        }
        TlsEvent::EncryptedHandshake { .. } => {
            if st.finished.get(side).is_none() {
                tl.push(at, side, EventKind::TlsFinished);
            }
            st.note_finished(at, side);
        }
        TlsEvent::ApplicationData { len } => handle_app_data(conn, at, side, len),
        TlsEvent::Malformed(reason) => conn.decode_error(at, side, DecodeError::Tls(reason)),
        TlsEvent::HandshakeTooLarge { len } => {
            conn.decode_error(at, side, DecodeError::TlsHandshakeTooLarge { len })
        }
        TlsEvent::ServerKeyExchange => message(tl, at, side, TlsMessage::ServerKeyExchange),
        TlsEvent::CertificateRequest => message(tl, at, side, TlsMessage::CertificateRequest),
        TlsEvent::ServerHelloDone => message(tl, at, side, TlsMessage::ServerHelloDone),
        TlsEvent::ClientKeyExchange => message(tl, at, side, TlsMessage::ClientKeyExchange),
        TlsEvent::CertificateVerify => message(tl, at, side, TlsMessage::CertificateVerify),
        TlsEvent::NewSessionTicket => message(tl, at, side, TlsMessage::NewSessionTicket),
        TlsEvent::Heartbeat => message(tl, at, side, TlsMessage::Heartbeat),
    }
}

fn message(tl: &mut super::Timeline, at: &PacketInfo, side: Side, m: TlsMessage) {
    tl.push(at, side, EventKind::TlsHandshake(m));
}

/// An alert whose level and description are under the record keys.
fn note_encrypted_alert(tl: &mut super::Timeline, st: &mut TlsState, at: &PacketInfo, side: Side) {
    let alert = Alert {
        level: 0,
        description: 0,
        encrypted: true,
    };
    tl.push(at, side, alert.event());
    st.alert.get_or_insert(Stamped {
        at: *at,
        side,
        value: alert,
    });
}

/// A TLS 1.3 alert travels as application_data: 2 bytes of alert, the inner content type
/// and a 16-byte AEAD tag. No RDP or CredSSP message is that small.
const TLS13_ALERT_RECORD: usize = 2 + 1 + 16;

/// An application_data record: in TLS 1.3 the handshake's own tail travels this way too.
pub(super) fn handle_app_data(conn: &mut Connection, at: &PacketInfo, side: Side, len: usize) {
    let st = &mut conn.tls;
    let i = side;
    *st.records.get_mut(i) += 1;
    if st.is_tls13() && st.handshake_done.is_some() && len == TLS13_ALERT_RECORD {
        note_encrypted_alert(&mut conn.timeline, st, at, side);
        return;
    }
    if st.is_tls13() && st.handshake_done.is_none() {
        // Server: EncryptedExtensions..Finished; client: its Finished ends the handshake.
        if st.finished.get(i).is_none() {
            let kind = if side == Side::Client {
                EventKind::TlsFinished
            } else {
                EventKind::TlsEncryptedServerFlight
            };
            conn.timeline.push(at, side, kind);
        }
        st.note_finished(at, side);
        return;
    }
    *st.app_records.get_mut(i) += 1;
    *st.app_bytes.get_mut(i) += len as u64;
    if st.early_records.len() < EARLY_RECORDS {
        st.early_records.push(AppRecord { at: *at, side, len });
    }
}
