//! One Kerberos conversation with a KDC (RFC 4120 7.2: TCP or UDP port 88): its requests
//! (AS-REQ, TGS-REQ), the reply to each (AS-REP, TGS-REP or KRB-ERROR, RFC 4120 5.4.2, 5.9.1),
//! and, on TCP, whether the KDC answered the connection at all.
//!
//! Typed values only; `correlate::auth_context` ties them to the RDP connection they serve.

use crate::flow::{PacketInfo, Side, StreamOutput};
use crate::proto::kerberos::{self, KdcReq, KrbErrorCode, KrbMessage, PaType};

/// Exchanges kept per flow: a logon is two to four; more is a loop worth only its start.
pub const MAX_EXCHANGES: usize = 16;
/// TCP bytes buffered per side while a record is incomplete (a KDC message is a few KiB;
/// a PAC-laden TGS-REP can reach tens of KiB).
const MAX_BUFFER: usize = 64 * 1024;

/// AS-REQ (initial ticket, the user's password at stake) or TGS-REQ (a service ticket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KrbRequestKind {
    As,
    Tgs,
}

/// A KDC-REQ as seen (RFC 4120 5.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrbRequest {
    pub at: PacketInfo,
    pub kind: KrbRequestKind,
    /// The client principal (AS-REQ only), components joined with `/`.
    pub cname: Option<String>,
    pub realm: String,
    /// The service asked for: `krbtgt/REALM`, `TERMSRV/host`...
    pub sname: Option<String>,
    /// The request carried PA-ENC-TIMESTAMP (the answer to PREAUTH_REQUIRED).
    pub preauth: bool,
}

/// What the KDC answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KrbReplyKind {
    AsRep,
    TgsRep,
    Error(KrbErrorCode),
}

/// A KDC-REP or KRB-ERROR (RFC 4120 5.4.2, 5.9.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrbReply {
    pub at: PacketInfo,
    pub kind: KrbReplyKind,
    pub realm: String,
    /// The service principal the reply is about.
    pub sname: Option<String>,
    pub cname: Option<String>,
}

/// A request and the reply it got, if any (or a reply whose request the capture missed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KrbExchange {
    pub request: Option<KrbRequest>,
    pub reply: Option<KrbReply>,
}

/// A TCP connection to the KDC: the client's SYNs and the KDC's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdcConnect {
    pub first_syn: PacketInfo,
    pub syns: u32,
    /// SYN/ACK (false) or RST (true).
    pub answer: Option<(PacketInfo, bool)>,
}

/// The state of one flow to port 88.
#[derive(Debug, Default, Clone)]
pub struct KerberosFlow {
    pub exchanges: Vec<KrbExchange>,
    pub connect: Option<KdcConnect>,
    pub decode_errors: u32,
    buffers: crate::flow::Sides<Vec<u8>>,
    /// Something changed since `take_changed`.
    changed: bool,
}

fn request_of(at: &PacketInfo, kind: KrbRequestKind, req: &KdcReq) -> KrbRequest {
    KrbRequest {
        at: *at,
        kind,
        cname: req.cname.as_ref().map(|c| c.joined()),
        realm: req.realm.clone(),
        sname: req.sname.as_ref().map(|s| s.joined()),
        preauth: req.padata.contains(&PaType::PA_ENC_TIMESTAMP),
    }
}

impl KerberosFlow {
    /// True once per change: the pipeline then copies the exchanges to the correlator.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// One message, from either side.
    pub fn message(&mut self, at: &PacketInfo, msg: KrbMessage) {
        let reply = |kind, realm: &str, sname: Option<String>, cname: Option<String>| KrbReply {
            at: *at,
            kind,
            realm: realm.to_string(),
            sname,
            cname,
        };
        match msg {
            KrbMessage::AsReq(r) => self.request(request_of(at, KrbRequestKind::As, &r)),
            KrbMessage::TgsReq(r) => self.request(request_of(at, KrbRequestKind::Tgs, &r)),
            KrbMessage::AsRep(r) => self.reply(reply(
                KrbReplyKind::AsRep,
                &r.crealm,
                Some(r.ticket.sname.joined()),
                Some(r.cname.joined()),
            )),
            KrbMessage::TgsRep(r) => self.reply(reply(
                KrbReplyKind::TgsRep,
                &r.crealm,
                Some(r.ticket.sname.joined()),
                Some(r.cname.joined()),
            )),
            KrbMessage::Error(e) => self.reply(reply(
                KrbReplyKind::Error(e.error_code),
                &e.realm,
                Some(e.sname.joined()),
                e.cname.as_ref().map(|c| c.joined()),
            )),
            _ => {}
        }
    }

    fn request(&mut self, request: KrbRequest) {
        if self.exchanges.len() < MAX_EXCHANGES {
            self.exchanges.push(KrbExchange {
                request: Some(request),
                reply: None,
            });
            self.changed = true;
        }
    }

    /// A reply answers the oldest unanswered request (TCP and UDP alike: a KDC answers in order
    /// on one connection, and a UDP flow is one client port).
    fn reply(&mut self, reply: KrbReply) {
        if let Some(x) = self
            .exchanges
            .iter_mut()
            .find(|x| x.request.is_some() && x.reply.is_none())
        {
            x.reply = Some(reply);
            self.changed = true;
        } else if self.exchanges.len() < MAX_EXCHANGES {
            self.exchanges.push(KrbExchange {
                request: None,
                reply: Some(reply),
            });
            self.changed = true;
        }
    }

    /// A UDP datagram: one message (RFC 4120 7.2.1).
    pub fn datagram(&mut self, at: &PacketInfo, payload: &[u8]) {
        match kerberos::parse_udp_datagram(payload) {
            Ok(msg) => self.message(at, msg),
            Err(_) => self.decode_errors += 1,
        }
    }

    /// Reassembled TCP bytes: 4-byte length-prefixed records (RFC 4120 7.2.2).
    pub fn stream(&mut self, at: &PacketInfo, side: Side, out: StreamOutput<'_>) {
        let i = side;
        match out {
            StreamOutput::Gap(_) => self.buffers.get_mut(i).clear(),
            StreamOutput::Data(bytes) => {
                let mut buf = std::mem::take(self.buffers.get_mut(i));
                let mut errors = 0;
                let invalid = super::stream::length_prefixed(
                    &mut buf,
                    bytes,
                    MAX_BUFFER,
                    kerberos::find_tcp_record_size,
                    4,
                    &mut |msg| match kerberos::parse_message(msg) {
                        Ok(m) => self.message(at, m),
                        Err(_) => errors += 1,
                    },
                );
                self.decode_errors += errors + invalid;
                *self.buffers.get_mut(i) = buf;
            }
        }
    }

    /// A TCP segment's flags: SYNs from the client, the KDC's SYN/ACK or RST.
    pub fn segment(&mut self, at: &PacketInfo, side: Side, syn: bool, ack: bool, rst: bool) {
        match (side, syn, ack) {
            (Side::Client, true, false) => {
                let c = self.connect.get_or_insert(KdcConnect {
                    first_syn: *at,
                    syns: 0,
                    answer: None,
                });
                c.syns += 1;
                self.changed = true;
            }
            (Side::Server, true, true) | (Side::Server, false, _) if syn || rst => {
                if let Some(c) = self.connect.as_mut().filter(|c| c.answer.is_none()) {
                    c.answer = Some((*at, rst && !syn));
                    self.changed = true;
                }
            }
            _ => {}
        }
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

    #[test]
    fn synthetic_tcp_record_split_across_segments_and_garbage_do_not_panic() {
        let mut k = KerberosFlow::default();
        k.stream(
            &at(1),
            Side::Client,
            StreamOutput::Data(&[0, 0, 0, 3, 0x6a]),
        );
        k.stream(&at(2), Side::Client, StreamOutput::Data(&[0x01, 0x00]));
        assert_eq!(k.decode_errors, 1);
        k.stream(&at(3), Side::Client, StreamOutput::Data(&[0xff; 9]));
        assert_eq!(k.decode_errors, 2);
        assert!(k.exchanges.is_empty());
    }

    #[test]
    fn synthetic_syn_then_rst_is_a_refused_connect() {
        let mut k = KerberosFlow::default();
        k.segment(&at(1), Side::Client, true, false, false);
        k.segment(&at(2), Side::Client, true, false, false);
        k.segment(&at(3), Side::Server, false, true, true);
        let c = k.connect.unwrap();
        assert_eq!((c.syns, c.answer.map(|a| a.1)), (2, Some(true)));
        assert!(k.take_changed() && !k.take_changed());
    }

    /// The four UDP datagrams of krb_wrong_password.pcap (frames 19, 20, 33, 34): AS-REQ,
    /// PREAUTH_REQUIRED, AS-REQ with PA-ENC-TIMESTAMP, PREAUTH_FAILED.
    const WRONG_PASSWORD: [&[&str]; 4] = [
        &[
        "6a81b63081b3a103020105a20302010aa31a3018300aa10402020096a2020400300aa10402020095a2020400",
        "a4818a308187a00703050000000010a1143012a003020101a10b30091b076c616275736572a20d1b0b524450",
        "4c41422e54455354a320301ea003020102a11730151b066b72627467741b0b5244504c41422e54455354a511",
        "180f32303236313230333031323731325aa706020471d4b72ba81a3018020112020111020114020113020110",
        "02011702011902011a",
        ],
        &[
        "7e81ea3081e7a003020105a10302011ea411180f32303236313230323031323731325aa5050203099588a603",
        "020119a70d1b0b5244504c41422e54455354a8143012a003020101a10b30091b076c616275736572a90d1b0b",
        "5244504c41422e54455354aa20301ea003020102a11730151b066b72627467741b0b5244504c41422e544553",
        "54ab101b0e4e45454445445f50524541555448ac5404523050300aa10402020088a20204003028a103020113",
        "a221041f301d301ba003020112a1141b125244504c41422e544553546c6162757365723009a103020102a202",
        "0400300da10402020085a20504034d4954",
        ],
        &[
        "6a82011430820110a103020105a20302010aa3773075300da10402020085a20504034d4954304ca103020102",
        "a24504433041a003020112a23a04384225b3930971f95d13f96ddbe0c572e839e86ced7e9b70d38eb97d26a6",
        "e5e2cfcd40bdade1a5decaf17eeaba27c2b14dc18b350a723be953300aa10402020096a2020400300aa10402",
        "020095a2020400a4818a308187a00703050000000010a1143012a003020101a10b30091b076c616275736572",
        "a20d1b0b5244504c41422e54455354a320301ea003020102a11730151b066b72627467741b0b5244504c4142",
        "2e54455354a511180f32303236313230333031323731325aa70602046a1bc253a81a30180201120201110201",
        "1402011302011002011702011902011a",
        ],
        &[
        "7e81ea3081e7a003020105a10302011ea411180f32303236313230323031323731325aa5050203099589a603",
        "020118a70d1b0b5244504c41422e54455354a8143012a003020101a10b30091b076c616275736572a90d1b0b",
        "5244504c41422e54455354aa20301ea003020102a11730151b066b72627467741b0b5244504c41422e544553",
        "54ab101b0e505245415554485f4641494c4544ac5404523050300aa10402020088a20204003028a103020113",
        "a221041f301d301ba003020112a1141b125244504c41422e544553546c6162757365723009a103020102a202",
        "0400300da10402020085a20504034d4954",
        ],
    ];

    #[test]
    fn wrong_password_round_pairs_each_as_req_with_its_krb_error() {
        let mut k = KerberosFlow::default();
        for (i, parts) in WRONG_PASSWORD.iter().enumerate() {
            let bytes = crate::proto::test_util::hex(&parts.concat());
            k.datagram(&at([19, 20, 33, 34][i]), &bytes);
        }
        assert_eq!(k.decode_errors, 0);
        assert_eq!(k.exchanges.len(), 2);
        let first = &k.exchanges[0];
        let req = first.request.as_ref().unwrap();
        assert_eq!(
            (req.at.frame, req.kind, req.preauth),
            (19, KrbRequestKind::As, false)
        );
        assert_eq!(req.cname.as_deref(), Some("labuser"));
        assert_eq!(req.realm, "RDPLAB.TEST");
        assert_eq!(req.sname.as_deref(), Some("krbtgt/RDPLAB.TEST"));
        let rep = first.reply.as_ref().unwrap();
        assert_eq!(
            rep.kind,
            KrbReplyKind::Error(KrbErrorCode::KDC_ERR_PREAUTH_REQUIRED)
        );
        let second = &k.exchanges[1];
        assert!(second.request.as_ref().unwrap().preauth);
        assert_eq!(
            second.reply.as_ref().map(|r| (r.at.frame, r.kind)),
            Some((
                34,
                KrbReplyKind::Error(KrbErrorCode::KDC_ERR_PREAUTH_FAILED)
            ))
        );
    }
}
