//! The DTLS flow of an RD Gateway's UDP transport (MS-TSGU 2.2.1: DTLS to port 3391),
//! keyless: datagrams per side, the client's ClientHello (and its retransmissions), and the
//! gateway's first answer (HelloVerifyRequest or ServerHello, RFC 6347 4.2.1).

use crate::flow::{PacketInfo, Side, Sides};
use crate::proto::dtls::{self, HandshakeType};

#[derive(Debug, Clone, Default)]
pub struct DtlsFlow {
    pub datagrams: Sides<u64>,
    pub bytes: Sides<u64>,
    /// The first ClientHello, and how many the client sent (first + retransmissions).
    pub client_hello: Option<PacketInfo>,
    pub client_hellos: u32,
    /// The server's first datagram of any kind.
    pub first_answer: Option<PacketInfo>,
    /// The server's HelloVerifyRequest or ServerHello.
    pub server_hello: Option<PacketInfo>,
    /// Datagrams that were not DTLS records.
    pub not_dtls: u64,
}

impl DtlsFlow {
    pub fn datagram(&mut self, pkt: &PacketInfo, side: Side, payload: &[u8]) {
        *self.datagrams.get_mut(side) += 1;
        *self.bytes.get_mut(side) += payload.len() as u64;
        let Ok(h) = dtls::parse_record_header(payload) else {
            self.not_dtls += 1;
            return;
        };
        match side {
            Side::Client => {
                if h.handshake == Some(HandshakeType::CLIENT_HELLO) {
                    self.client_hellos = self.client_hellos.saturating_add(1);
                    self.client_hello.get_or_insert(*pkt);
                }
            }
            Side::Server => {
                self.first_answer.get_or_insert(*pkt);
                if matches!(
                    h.handshake,
                    Some(HandshakeType::HELLO_VERIFY_REQUEST | HandshakeType::SERVER_HELLO)
                ) {
                    self.server_hello.get_or_insert(*pkt);
                }
            }
        }
    }

    /// The gateway sent anything back.
    pub fn answered(&self) -> bool {
        self.first_answer.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(frame: u64) -> PacketInfo {
        PacketInfo {
            file: 0,
            frame,
            ts_ns: frame as i64 * 1_000_000,
        }
    }

    const HELLO: [u8; 14] = [0x16, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x9C, 0x01];
    const VERIFY: [u8; 14] = [0x16, 0xFE, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x23, 0x03];

    #[test]
    fn synthetic_unanswered_client_hellos_are_counted() {
        let mut d = DtlsFlow::default();
        for f in 1..=3 {
            d.datagram(&at(f), Side::Client, &HELLO);
        }
        assert_eq!(d.client_hellos, 3);
        assert_eq!(d.client_hello.map(|p| p.frame), Some(1));
        assert!(!d.answered());
    }

    #[test]
    fn synthetic_hello_verify_request_is_an_answer() {
        let mut d = DtlsFlow::default();
        d.datagram(&at(1), Side::Client, &HELLO);
        d.datagram(&at(2), Side::Server, &VERIFY);
        d.datagram(&at(3), Side::Client, b"not dtls");
        assert!(d.answered());
        assert_eq!(d.server_hello.map(|p| p.frame), Some(2));
        assert_eq!(d.not_dtls, 1);
        assert_eq!(d.datagrams, Sides([2, 1]));
    }
}
