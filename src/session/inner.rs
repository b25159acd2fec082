//! What the decrypted TLS stream says: CredSSP round by round (MS-CSSP 3.1.5), then the RDP
//! connection sequence in plaintext (MS-RDPBCGR 1.3.1.1). The TLS layer hands each side's
//! application bytes here with the packet that completed their record; messages may span
//! records, so each side keeps a small bounded buffer.

use super::event::{AuthMech, AuthToken, CredsspStep, EventKind, InnerEvent};
use super::{inner_rdp, Connection, Stamped};
use crate::flow::Sides;
use crate::flow::{PacketInfo, Side};
use crate::proto::credssp::{self, NtStatus};
use crate::proto::ntlm::{self, NtlmMessage, NtlmResponseKind, WindowsVersion};
use crate::proto::rdp_pdu::AuthorizationResult;
use crate::proto::spnego::{self, Mech, MechToken};
use crate::proto::{fastpath, tpkt, Framing};

/// A side's unframed plaintext is dropped beyond this (a TSRequest or TPKT is far smaller).
const MAX_BUFFERED: usize = 256 * 1024;
/// TLS content type of application data (RFC 8446 5.1).
const APPLICATION_DATA: u8 = 23;
/// TLS content type of an alert (RFC 8446 5.1).
const ALERT: u8 = 21;

/// The identity an NTLM AUTHENTICATE named (MS-NLMP 2.2.1.3); never a password-derived field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtlmIdentity {
    pub user: String,
    pub domain: String,
    pub workstation: String,
    pub version: Option<WindowsVersion>,
    pub response: NtlmResponseKind,
}

/// CredSSP as it went (MS-CSSP 2.2.1, 3.1.5).
#[derive(Debug, Default)]
pub struct CredsspState {
    /// The client's TSRequest version (the first one seen).
    pub version: Option<u32>,
    /// The package that carried the logon: the last one seen.
    pub mechanism: Option<AuthMech>,
    /// A Kerberos AP-REQ went out before the mechanism settled on another package.
    pub kerberos_attempted: bool,
    pub ntlm: Option<NtlmIdentity>,
    /// The server's errorCode (version 3 and later).
    pub error: Option<Stamped<NtStatus>>,
    /// TSRequests seen, both sides.
    pub messages: u32,
    /// The last NTLM AUTHENTICATE (or Kerberos AP-REQ): the client's credentials went out.
    pub credentials_sent: Option<PacketInfo>,
    pub pub_key_auth: Sides<Option<PacketInfo>>,
    /// The client's authInfo (TSCredentials): CredSSP finished from the client's side.
    pub auth_info: Option<PacketInfo>,
    pub early_authorization: Option<Stamped<AuthorizationResult>>,
}

/// How decryption of a connection went (the TLS layer sets it; `decryption.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecryptionOutcome {
    /// No secrets for this connection (or none given).
    #[default]
    NoKeys,
    Decrypted,
    /// A record did not authenticate under the keys found: they belong to another connection.
    Failed,
    /// Keys were there but the cipher suite is one rdpscope cannot decrypt.
    Unsupported,
}

/// Where a connection's secrets came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// A Decryption Secrets Block of the capture itself.
    Pcapng,
    /// `--keylog` or `SSLKEYLOGFILE`.
    Keylog,
}

/// The TLS layer's account of decrypting this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecryptionFacts {
    pub outcome: DecryptionOutcome,
    /// Records opened.
    pub records: u64,
    pub source: Option<KeyOrigin>,
    /// The first record that failed to authenticate, and the packet that carried it.
    pub failed_at: Option<(Side, PacketInfo)>,
    /// Records dropped unread while the keys were missing (the hold was full).
    pub dropped: u64,
}

/// Everything read from the decrypted stream of one connection.
#[derive(Debug, Default)]
pub struct InnerState {
    buffers: Sides<Vec<u8>>,
    /// The side is past CredSSP (an RDP PDU came from it).
    past_credssp: Sides<bool>,
    /// Plaintext application records seen, per side.
    pub records: Sides<u64>,
    /// Bytes that framed as nothing known, or overflowed the buffer.
    pub unknown_bytes: Sides<u64>,
    pub credssp: CredsspState,
    pub rdp: inner_rdp::InnerRdp,
    /// The first decrypted alert, per side (level, description).
    pub alert: Sides<Option<Stamped<(u8, u8)>>>,
    pub decryption: DecryptionFacts,
}

impl InnerState {
    /// Some plaintext was read.
    pub fn any(&self) -> bool {
        self.records.iter().any(|r| *r > 0)
    }
}

/// One decrypted record's plaintext from `side`, completed by packet `at`.
pub fn plaintext(
    conn: &mut Connection,
    at: &PacketInfo,
    side: Side,
    content_type: u8,
    data: &[u8],
) {
    let i = side;
    match content_type {
        APPLICATION_DATA => {}
        ALERT => return alert(conn, at, side, data),
        _ => return,
    }
    *conn.inner_mut().records.get_mut(i) += 1;
    let mut buf = std::mem::take(conn.inner_mut().buffers.get_mut(i));
    if buf.is_empty() {
        // Common case: frame straight from the record, buffer only an unfinished tail.
        let used = frame_all(conn, at, side, data);
        buf.extend_from_slice(data.get(used..).unwrap_or_default());
    } else {
        buf.extend_from_slice(data);
        let used = frame_all(conn, at, side, &buf);
        buf.drain(..used);
    }
    if buf.len() > MAX_BUFFERED {
        *conn.inner_mut().unknown_bytes.get_mut(i) += buf.len() as u64;
        buf.clear();
    }
    *conn.inner_mut().buffers.get_mut(i) = buf;
}

fn alert(conn: &mut Connection, at: &PacketInfo, side: Side, data: &[u8]) {
    let [level, description, ..] = *data else {
        return;
    };
    let slot = conn.inner_mut().alert.get_mut(side);
    if slot.is_none() {
        *slot = Some(Stamped {
            at: *at,
            side,
            value: (level, description),
        });
        let ev = InnerEvent::Alert { level, description };
        conn.timeline.push(at, side, EventKind::Inner(ev));
    }
}

/// What the front of a side's buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    TsRequest(usize),
    Tpkt(usize),
    FastPath(usize),
    EarlyAuthorization,
    NeedMore,
    Unknown,
}

fn next_unit(conn: &Connection, side: Side, b: &[u8]) -> Unit {
    let sized = |f: Framing, unit: fn(usize) -> Unit| match f {
        Framing::Complete(n) => unit(n),
        Framing::NeedMore(_) => Unit::NeedMore,
        Framing::Invalid => Unit::Unknown,
    };
    let i = side;
    match b.first() {
        None => Unit::NeedMore,
        Some(0x30) if !*conn.inner().past_credssp.get(i) => {
            sized(credssp::find_ts_request_size(b), Unit::TsRequest)
        }
        Some(0x03) => sized(tpkt::find_size(b), Unit::Tpkt),
        Some(_) if early_authorization_expected(conn, side) && b.len() >= 4 => {
            Unit::EarlyAuthorization
        }
        Some(f) if f & 0x03 == 0 => sized(fastpath::find_size(b), Unit::FastPath),
        Some(_) => Unit::Unknown,
    }
}

/// HYBRID_EX: the server's first message after CredSSP is the 4-byte authorization result.
fn early_authorization_expected(conn: &Connection, side: Side) -> bool {
    side == Side::Server
        && conn.inner().credssp.early_authorization.is_none()
        && !*conn.inner().past_credssp.get(side)
        && conn.inner().credssp.auth_info.is_some()
        && conn
            .x224
            .selected_protocol()
            .is_some_and(|p| p.0 & crate::proto::nego::Protocols::HYBRID_EX != 0)
}

/// Frames and handles every whole message at the front of `b`; returns the bytes used.
fn frame_all(conn: &mut Connection, at: &PacketInfo, side: Side, b: &[u8]) -> usize {
    let mut used = 0;
    let i = side;
    while let Some(rest) = b.get(used..) {
        let (n, unit) = match next_unit(conn, side, rest) {
            Unit::NeedMore => break,
            Unit::Unknown => {
                *conn.inner_mut().unknown_bytes.get_mut(i) += rest.len() as u64;
                return b.len();
            }
            Unit::EarlyAuthorization => (4, Unit::EarlyAuthorization),
            u @ (Unit::TsRequest(n) | Unit::Tpkt(n) | Unit::FastPath(n)) => (n, u),
        };
        let Some(msg) = rest.get(..n) else { break };
        match unit {
            Unit::TsRequest(_) => ts_request(conn, at, side, msg),
            Unit::Tpkt(_) => {
                *conn.inner_mut().past_credssp.get_mut(i) = true;
                inner_rdp::tpkt(conn, at, side, msg);
            }
            Unit::FastPath(_) => {
                *conn.inner_mut().past_credssp.get_mut(i) = true;
                inner_rdp::fastpath(conn, at, side);
            }
            Unit::EarlyAuthorization => early_authorization(conn, at, side, msg),
            Unit::NeedMore | Unit::Unknown => {}
        }
        used += n.max(1);
    }
    used.min(b.len())
}

fn early_authorization(conn: &mut Connection, at: &PacketInfo, side: Side, msg: &[u8]) {
    *conn.inner_mut().past_credssp.get_mut(side) = true;
    let Ok(result) = crate::proto::rdp_pdu::client_info::parse_early_user_authorization(msg) else {
        return;
    };
    conn.inner_mut().credssp.early_authorization = Some(Stamped {
        at: *at,
        side,
        value: result,
    });
    let ev = InnerEvent::EarlyUserAuthorization(result);
    conn.timeline.push(at, side, EventKind::Inner(ev));
}

fn ts_request(conn: &mut Connection, at: &PacketInfo, side: Side, msg: &[u8]) {
    let req = match credssp::parse_ts_request(msg) {
        Ok(r) => r,
        Err(e) => return conn.decode_error(at, side, super::DecodeError::Proto(e)),
    };
    let inner = conn.inner_mut();
    let cs = &mut inner.credssp;
    cs.messages += 1;
    if side == Side::Client {
        cs.version.get_or_insert(req.version);
    }
    let token = req.nego_tokens.first().map(|t| read_token(cs, at, side, t));
    if req.has_pub_key_auth() {
        cs.pub_key_auth.get_mut(side).get_or_insert(*at);
    }
    if req.has_auth_info() && side == Side::Client {
        cs.auth_info.get_or_insert(*at);
        *inner.past_credssp.get_mut(side) = true;
    }
    if let Some(code) = req.error_code.filter(|c| c.0 != 0) {
        cs.error.get_or_insert(Stamped {
            at: *at,
            side,
            value: code,
        });
    }
    let step = CredsspStep {
        version: req.version,
        token,
        pub_key_auth: req.has_pub_key_auth(),
        auth_info: req.has_auth_info(),
        error: req.error_code,
    };
    conn.timeline
        .push(at, side, EventKind::Inner(InnerEvent::Credssp(step)));
}

/// The package a SPNEGO mechanism names.
fn auth_mech(m: Mech<'_>) -> AuthMech {
    match m {
        m if m.is_kerberos() => AuthMech::Kerberos,
        Mech::Ntlm => AuthMech::Ntlm,
        Mech::Negoex => AuthMech::Negoex,
        Mech::Pku2u => AuthMech::Pku2u,
        _ => AuthMech::Other,
    }
}

/// Reads a negoToken, unwrapping one SPNEGO layer, and notes what it shows.
pub(crate) fn read_token(
    cs: &mut CredsspState,
    at: &PacketInfo,
    side: Side,
    b: &[u8],
) -> AuthToken {
    match spnego::parse_nego_token(b) {
        Ok(MechToken::NegTokenInit(init)) => match init.mech_token {
            Some(inner) => read_inner(cs, at, side, inner),
            None => AuthToken::SpnegoInit,
        },
        Ok(MechToken::NegTokenResp(resp)) => {
            if let Some(m) = resp.supported_mech {
                cs.mechanism = Some(auth_mech(m));
            }
            match resp.response_token {
                Some(inner) => read_inner(cs, at, side, inner),
                None if resp.neg_state == Some(spnego::NegState::REJECT) => AuthToken::SpnegoReject,
                None => AuthToken::Other,
            }
        }
        Ok(token) => mech_token(cs, at, side, &token),
        Err(_) => AuthToken::Other,
    }
}

fn read_inner(cs: &mut CredsspState, at: &PacketInfo, side: Side, b: &[u8]) -> AuthToken {
    match spnego::parse_nego_token(b) {
        Ok(token) => mech_token(cs, at, side, &token),
        Err(_) => AuthToken::Other,
    }
}

/// GSS-API token ids of Kerberos (RFC 4121 4.1).
const TOK_AP_REQ: u16 = 0x0100;
const TOK_AP_REP: u16 = 0x0200;
const TOK_KRB_ERROR: u16 = 0x0300;

fn mech_token(cs: &mut CredsspState, at: &PacketInfo, side: Side, t: &MechToken<'_>) -> AuthToken {
    match t {
        MechToken::Ntlm(b) => ntlm_token(cs, at, b),
        MechToken::Kerberos(k) => {
            cs.mechanism = Some(AuthMech::Kerberos);
            match k.tok_id {
                TOK_AP_REQ => {
                    cs.kerberos_attempted = true;
                    if side == Side::Client {
                        cs.credentials_sent = Some(*at);
                    }
                    AuthToken::KerberosApReq
                }
                TOK_AP_REP => AuthToken::KerberosApRep,
                TOK_KRB_ERROR => AuthToken::KerberosError,
                _ => AuthToken::Other,
            }
        }
        MechToken::KerberosRaw(_) => {
            cs.mechanism = Some(AuthMech::Kerberos);
            AuthToken::Other
        }
        MechToken::Negoex(_) => {
            cs.mechanism = Some(AuthMech::Negoex);
            AuthToken::Negoex
        }
        MechToken::Other { mech, .. } => {
            cs.mechanism = Some(auth_mech(*mech));
            AuthToken::Other
        }
        MechToken::NegTokenInit(_) | MechToken::NegTokenResp(_) => AuthToken::Other,
    }
}

fn ntlm_token(cs: &mut CredsspState, at: &PacketInfo, b: &[u8]) -> AuthToken {
    cs.mechanism = Some(AuthMech::Ntlm);
    match ntlm::parse_message(b) {
        Ok(NtlmMessage::Negotiate(_)) => AuthToken::NtlmNegotiate,
        Ok(NtlmMessage::Challenge(_)) => AuthToken::NtlmChallenge,
        Ok(NtlmMessage::Authenticate(a)) => {
            cs.credentials_sent = Some(*at);
            cs.ntlm = Some(NtlmIdentity {
                user: a.user,
                domain: a.domain,
                workstation: a.workstation,
                version: a.version,
                response: a.response,
            });
            AuthToken::NtlmAuthenticate
        }
        Err(_) => AuthToken::Other,
    }
}
