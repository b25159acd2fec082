//! Kerberos V5 messages (RFC 4120 5), as a Windows client exchanges them with its KDC on
//! TCP/UDP 88 (RFC 4120 7.2) and with the RDP server inside SPNEGO (RFC 4121 4.1), plus the
//! user-to-user TGT-REQ/TGT-REP Windows CredSSP uses.
//!
//! Names, realms, times, codes and types come out; encrypted parts only as their etype.

pub mod codes;

use serde::Serialize;

pub use codes::{Etype, KrbErrorCode, PaType};

use super::credssp::NtStatus;
use super::der::{GeneralizedTime, Reader, Tag};
use super::{Framing, ProtoError};

const LAYER: &str = "kerberos";
/// Windows sends 2 to 4 name components (`TERMSRV/host`, `krbtgt/REALM`).
const MAX_NAME_COMPONENTS: usize = 8;
/// PA-DATA entries in one message, etypes in a request: a handful in practice.
const MAX_PA_DATA: usize = 32;
const MAX_ETYPES: usize = 32;
/// A TCP record above this is refused: Windows tickets with a large PAC stay well below
/// 64 KiB (MaxTokenSize defaults to 48 000 bytes).
pub const MAX_TCP_RECORD: usize = 1 << 20;

/// PrincipalName (RFC 4120 5.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrincipalName {
    /// name-type (1 NT-PRINCIPAL, 2 NT-SRV-INST, 10 NT-ENTERPRISE, ...).
    pub name_type: i32,
    pub components: Vec<String>,
}

impl PrincipalName {
    /// `TERMSRV/host`, `Administrator`: the components joined with '/'.
    pub fn joined(&self) -> String {
        self.components.join("/")
    }

    /// The service class of a service principal (`TERMSRV`, `HTTP`, `krbtgt`).
    pub fn service(&self) -> Option<&str> {
        match self.components.as_slice() {
            [service, _, ..] => Some(service),
            _ => None,
        }
    }
}

/// What a Ticket (RFC 4120 5.3) says in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketInfo {
    pub realm: String,
    pub sname: PrincipalName,
    pub etype: Etype,
    pub kvno: Option<u32>,
}

/// AS-REQ / TGS-REQ (RFC 4120 5.4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KdcReq {
    pub padata: Vec<PaType>,
    pub kdc_options: u32,
    pub cname: Option<PrincipalName>,
    pub realm: String,
    pub sname: Option<PrincipalName>,
    pub till: Option<GeneralizedTime>,
    pub nonce: u32,
    pub etypes: Vec<Etype>,
    /// The TGT presented in a TGS-REQ's PA-TGS-REQ (its AP-REQ's ticket).
    pub tgt: Option<TicketInfo>,
    /// additional-tickets present (user-to-user, constrained delegation).
    pub additional_tickets: bool,
}

/// AS-REP / TGS-REP (RFC 4120 5.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KdcRep {
    pub padata: Vec<PaType>,
    pub crealm: String,
    pub cname: PrincipalName,
    pub ticket: TicketInfo,
    pub enc_part_etype: Etype,
}

/// AP-REQ (RFC 4120 5.5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApReq {
    pub ap_options: u32,
    pub ticket: TicketInfo,
    pub authenticator_etype: Etype,
}

/// AP-REP (RFC 4120 5.5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApRep {
    pub enc_part_etype: Etype,
}

/// KRB-ERROR `e-data` (RFC 4120 5.9.1), in the shapes Windows sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ErrorData {
    /// METHOD-DATA (RFC 4120 5.2.7.1): the pre-authentication the KDC accepts, the etypes
    /// its PA-ETYPE-INFO2 offers, and the NTSTATUS a Windows KDC puts in a 12-byte
    /// PA-PW-SALT of a KRB-ERROR (the KERB-EXT-ERROR layout of MS-KILE 2.2.2).
    MethodData {
        pa_types: Vec<PaType>,
        etypes: Vec<Etype>,
        status: Option<NtStatus>,
    },
    /// KERB-ERROR-DATA (MS-KILE 2.2.1); KERB_ERR_TYPE_EXTENDED (3) carries the NTSTATUS
    /// (KERB-EXT-ERROR, MS-KILE 2.2.2) that says which account restriction applied.
    Typed {
        data_type: i32,
        status: Option<NtStatus>,
    },
    Other {
        len: usize,
    },
}

/// KRB-ERROR (RFC 4120 5.9.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KrbError {
    pub ctime: Option<GeneralizedTime>,
    pub stime: GeneralizedTime,
    pub error_code: KrbErrorCode,
    pub crealm: Option<String>,
    pub cname: Option<PrincipalName>,
    pub realm: String,
    pub sname: PrincipalName,
    pub e_text: Option<String>,
    pub e_data: Option<ErrorData>,
}

/// KERB-TGT-REQUEST (user-to-user, draft-swift-win2k-krb-user2user 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TgtReq {
    pub server_name: Option<PrincipalName>,
    pub realm: Option<String>,
}

/// One Kerberos message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum KrbMessage {
    AsReq(KdcReq),
    AsRep(KdcRep),
    TgsReq(KdcReq),
    TgsRep(KdcRep),
    ApReq(ApReq),
    ApRep(ApRep),
    Error(KrbError),
    TgtReq(TgtReq),
    /// KERB-TGT-REPLY: the server's TGT for user-to-user.
    TgtRep(TicketInfo),
}

impl KrbMessage {
    /// The msg-type number (RFC 4120 5.10 / 7.5.7): 10 AS-REQ ... 30 KRB-ERROR.
    pub fn msg_type(&self) -> i32 {
        match self {
            KrbMessage::AsReq(_) => 10,
            KrbMessage::AsRep(_) => 11,
            KrbMessage::TgsReq(_) => 12,
            KrbMessage::TgsRep(_) => 13,
            KrbMessage::ApReq(_) => 14,
            KrbMessage::ApRep(_) => 15,
            KrbMessage::TgtReq(_) => 16,
            KrbMessage::TgtRep(_) => 17,
            KrbMessage::Error(_) => 30,
        }
    }
}

/// TCP framing (RFC 4120 7.2.2): a 4-byte big-endian length, then the message. The high bit
/// is reserved for extensions no one deploys: a record with it set is refused.
pub fn find_tcp_record_size(buf: &[u8]) -> Framing {
    let Some(head) = buf.get(..4) else {
        return Framing::NeedMore(4 - buf.len());
    };
    let len = <[u8; 4]>::try_from(head).map_or(0, u32::from_be_bytes) as usize;
    if len == 0 || len > MAX_TCP_RECORD {
        return Framing::Invalid;
    }
    let total = len + 4;
    if buf.len() >= total {
        Framing::Complete(total)
    } else {
        Framing::NeedMore(total - buf.len())
    }
}

/// One TCP record: the message and the bytes after it.
pub fn parse_tcp_record(buf: &[u8]) -> Result<(KrbMessage, &[u8]), ProtoError> {
    match find_tcp_record_size(buf) {
        Framing::Complete(n) => {
            let (record, rest) = buf.split_at(n);
            let msg = parse_message(record.get(4..).unwrap_or_default())?;
            Ok((msg, rest))
        }
        Framing::NeedMore(_) => Err(ProtoError::truncated(LAYER, "record", buf.len())),
        Framing::Invalid => Err(ProtoError::invalid(
            LAYER,
            "record length",
            0,
            "zero or too large",
        )),
    }
}

/// A UDP datagram (RFC 4120 7.2.1) holds exactly one message.
pub fn parse_udp_datagram(datagram: &[u8]) -> Result<KrbMessage, ProtoError> {
    parse_message(datagram)
}

/// Parses one message by its APPLICATION tag (RFC 4120 5.10), or a user-to-user
/// SEQUENCE by its msg-type (16, 17).
pub fn parse_message(b: &[u8]) -> Result<KrbMessage, ProtoError> {
    let mut r = Reader::new(LAYER, b);
    let tag = r
        .peek_tag()
        .ok_or_else(|| ProtoError::truncated(LAYER, "message", 0))?;
    if tag == Tag::SEQUENCE {
        return parse_u2u(&mut r);
    }
    let mut inner = r.constructed(tag, "message")?;
    match (tag.class, tag.number) {
        (super::der::Class::Application, 10) => kdc_req(&mut inner).map(KrbMessage::AsReq),
        (super::der::Class::Application, 12) => kdc_req(&mut inner).map(KrbMessage::TgsReq),
        (super::der::Class::Application, 11) => kdc_rep(&mut inner).map(KrbMessage::AsRep),
        (super::der::Class::Application, 13) => kdc_rep(&mut inner).map(KrbMessage::TgsRep),
        (super::der::Class::Application, 14) => ap_req(&mut inner).map(KrbMessage::ApReq),
        (super::der::Class::Application, 15) => ap_rep(&mut inner).map(KrbMessage::ApRep),
        (super::der::Class::Application, 30) => krb_error(&mut inner).map(KrbMessage::Error),
        _ => Err(ProtoError::invalid(
            LAYER,
            "message",
            0,
            format!("unknown tag {tag:?}"),
        )),
    }
}

fn int32(r: &mut Reader<'_>, n: u32, field: &'static str) -> Result<i32, ProtoError> {
    let mut f = r.field(n, field)?;
    let at = f.offset();
    let v = f.integer(field)?;
    i32::try_from(v).map_err(|_| ProtoError::invalid(LAYER, field, at, format!("{v} out of Int32")))
}

fn uint32(r: &mut Reader<'_>, n: u32, field: &'static str) -> Result<u32, ProtoError> {
    let mut f = r.field(n, field)?;
    let at = f.offset();
    let v = f.integer(field)?;
    // Windows encodes some UInt32 nonces as negative Int32 values: accept both readings.
    u32::try_from(v)
        .or_else(|_| i32::try_from(v).map(|x| x as u32))
        .map_err(|_| ProtoError::invalid(LAYER, field, at, format!("{v} out of UInt32")))
}

fn string(r: &mut Reader<'_>, n: u32, field: &'static str) -> Result<String, ProtoError> {
    Ok(r.field(n, field)?.general_string(field)?.to_string())
}

fn optional_string(
    r: &mut Reader<'_>,
    n: u32,
    field: &'static str,
) -> Result<Option<String>, ProtoError> {
    match r.optional(n, field)? {
        Some(mut f) => Ok(Some(f.general_string(field)?.to_string())),
        None => Ok(None),
    }
}

fn time(r: &mut Reader<'_>, n: u32, field: &'static str) -> Result<GeneralizedTime, ProtoError> {
    r.field(n, field)?
        .expect(Tag::GENERALIZED_TIME, field)?
        .as_time(field)
}

fn optional_time(
    r: &mut Reader<'_>,
    n: u32,
    field: &'static str,
) -> Result<Option<GeneralizedTime>, ProtoError> {
    match r.optional(n, field)? {
        Some(mut f) => Ok(Some(
            f.expect(Tag::GENERALIZED_TIME, field)?.as_time(field)?,
        )),
        None => Ok(None),
    }
}

/// Flags (KDCOptions, APOptions): a BIT STRING whose first 32 bits are read big-endian.
fn flags32(r: &mut Reader<'_>, n: u32, field: &'static str) -> Result<u32, ProtoError> {
    let (_, bits) = r
        .field(n, field)?
        .expect(Tag::BIT_STRING, field)?
        .as_bit_string(field)?;
    let mut word = [0u8; 4];
    for (dst, src) in word.iter_mut().zip(bits) {
        *dst = *src;
    }
    Ok(u32::from_be_bytes(word))
}

fn principal(r: &mut Reader<'_>, field: &'static str) -> Result<PrincipalName, ProtoError> {
    let mut seq = r.sequence(field)?;
    let name_type = int32(&mut seq, 0, "name-type")?;
    let components =
        seq.field(1, "name-string")?
            .sequence_of("name-string", MAX_NAME_COMPONENTS, |s| {
                s.general_string("KerberosString").map(str::to_string)
            })?;
    Ok(PrincipalName {
        name_type,
        components,
    })
}

fn principal_field(
    r: &mut Reader<'_>,
    n: u32,
    field: &'static str,
) -> Result<PrincipalName, ProtoError> {
    principal(&mut r.field(n, field)?, field)
}

fn optional_principal(
    r: &mut Reader<'_>,
    n: u32,
    field: &'static str,
) -> Result<Option<PrincipalName>, ProtoError> {
    match r.optional(n, field)? {
        Some(mut f) => principal(&mut f, field).map(Some),
        None => Ok(None),
    }
}

/// EncryptedData (RFC 4120 5.2.9): its etype and kvno; the cipher text is skipped.
fn encrypted(
    r: &mut Reader<'_>,
    n: u32,
    field: &'static str,
) -> Result<(Etype, Option<u32>), ProtoError> {
    let mut seq = r.field(n, field)?.sequence(field)?;
    let etype = Etype(int32(&mut seq, 0, "etype")?);
    let kvno = match seq.peek_tag() {
        Some(t) if t == Tag::context(1) => Some(uint32(&mut seq, 1, "kvno")?),
        _ => None,
    };
    Ok((etype, kvno))
}

/// Ticket (RFC 4120 5.3): `[APPLICATION 1] SEQUENCE`.
fn ticket(r: &mut Reader<'_>, field: &'static str) -> Result<TicketInfo, ProtoError> {
    let mut seq = r.constructed(Tag::application(1), field)?.sequence(field)?;
    let _tkt_vno = int32(&mut seq, 0, "tkt-vno")?;
    let realm = string(&mut seq, 1, "realm")?;
    let sname = principal_field(&mut seq, 2, "sname")?;
    let (etype, kvno) = encrypted(&mut seq, 3, "enc-part")?;
    Ok(TicketInfo {
        realm,
        sname,
        etype,
        kvno,
    })
}

/// A SEQUENCE OF PA-DATA, each with its value slice.
fn pa_data<'a>(
    r: &mut Reader<'a>,
    field: &'static str,
) -> Result<Vec<(PaType, &'a [u8])>, ProtoError> {
    r.sequence_of(field, MAX_PA_DATA, |item| {
        let mut seq = item.sequence("PA-DATA")?;
        let ty = PaType(int32(&mut seq, 1, "padata-type")?);
        let value = match seq.optional(2, "padata-value")? {
            Some(mut f) => f.octet_string("padata-value")?,
            None => &[],
        };
        Ok((ty, value))
    })
}

fn kdc_req(r: &mut Reader<'_>) -> Result<KdcReq, ProtoError> {
    let mut seq = r.sequence("KDC-REQ")?;
    let _pvno = int32(&mut seq, 1, "pvno")?;
    let _msg_type = int32(&mut seq, 2, "msg-type")?;
    let padata = match seq.optional(3, "padata")? {
        Some(mut f) => pa_data(&mut f, "padata")?,
        None => Vec::new(),
    };
    // PA-TGS-REQ carries an AP-REQ whose ticket is the TGT (RFC 4120 5.4.1).
    let tgt = padata
        .iter()
        .find(|(t, _)| *t == PaType::PA_TGS_REQ)
        .and_then(|(_, v)| {
            // Only an AP-REQ is read here: a nested KDC-REQ would recurse without bound.
            let mut inner = Reader::new(LAYER, v)
                .constructed(Tag::application(14), "PA-TGS-REQ")
                .ok()?;
            ap_req(&mut inner).ok().map(|ap| ap.ticket)
        });
    let mut body = seq.field(4, "req-body")?.sequence("KDC-REQ-BODY")?;
    let kdc_options = flags32(&mut body, 0, "kdc-options")?;
    let cname = optional_principal(&mut body, 1, "cname")?;
    let realm = string(&mut body, 2, "realm")?;
    let sname = optional_principal(&mut body, 3, "sname")?;
    let _from = optional_time(&mut body, 4, "from")?;
    let till = optional_time(&mut body, 5, "till")?;
    let _rtime = optional_time(&mut body, 6, "rtime")?;
    let nonce = uint32(&mut body, 7, "nonce")?;
    let etypes = body
        .field(8, "etype")?
        .sequence_of("etype", MAX_ETYPES, |e| {
            let at = e.offset();
            let v = e.integer("etype")?;
            i32::try_from(v)
                .map(Etype)
                .map_err(|_| ProtoError::invalid(LAYER, "etype", at, format!("{v}")))
        })?;
    let _addresses = body.optional(9, "addresses")?;
    let _authz = body.optional(10, "enc-authorization-data")?;
    let additional_tickets = body.optional(11, "additional-tickets")?.is_some();
    Ok(KdcReq {
        padata: padata.into_iter().map(|(t, _)| t).collect(),
        kdc_options,
        cname,
        realm,
        sname,
        till,
        nonce,
        etypes,
        tgt,
        additional_tickets,
    })
}

fn kdc_rep(r: &mut Reader<'_>) -> Result<KdcRep, ProtoError> {
    let mut seq = r.sequence("KDC-REP")?;
    let _pvno = int32(&mut seq, 0, "pvno")?;
    let _msg_type = int32(&mut seq, 1, "msg-type")?;
    let padata = match seq.optional(2, "padata")? {
        Some(mut f) => pa_data(&mut f, "padata")?
            .into_iter()
            .map(|(t, _)| t)
            .collect(),
        None => Vec::new(),
    };
    let crealm = string(&mut seq, 3, "crealm")?;
    let cname = principal_field(&mut seq, 4, "cname")?;
    let ticket = ticket(&mut seq.field(5, "ticket")?, "ticket")?;
    let (enc_part_etype, _) = encrypted(&mut seq, 6, "enc-part")?;
    Ok(KdcRep {
        padata,
        crealm,
        cname,
        ticket,
        enc_part_etype,
    })
}

fn ap_req(r: &mut Reader<'_>) -> Result<ApReq, ProtoError> {
    let mut seq = r.sequence("AP-REQ")?;
    let _pvno = int32(&mut seq, 0, "pvno")?;
    let _msg_type = int32(&mut seq, 1, "msg-type")?;
    let ap_options = flags32(&mut seq, 2, "ap-options")?;
    let ticket = ticket(&mut seq.field(3, "ticket")?, "ticket")?;
    let (authenticator_etype, _) = encrypted(&mut seq, 4, "authenticator")?;
    Ok(ApReq {
        ap_options,
        ticket,
        authenticator_etype,
    })
}

fn ap_rep(r: &mut Reader<'_>) -> Result<ApRep, ProtoError> {
    let mut seq = r.sequence("AP-REP")?;
    let _pvno = int32(&mut seq, 0, "pvno")?;
    let _msg_type = int32(&mut seq, 1, "msg-type")?;
    let (enc_part_etype, _) = encrypted(&mut seq, 2, "enc-part")?;
    Ok(ApRep { enc_part_etype })
}

fn krb_error(r: &mut Reader<'_>) -> Result<KrbError, ProtoError> {
    let mut seq = r.sequence("KRB-ERROR")?;
    let _pvno = int32(&mut seq, 0, "pvno")?;
    let _msg_type = int32(&mut seq, 1, "msg-type")?;
    let ctime = optional_time(&mut seq, 2, "ctime")?;
    let _cusec = seq.optional(3, "cusec")?;
    let stime = time(&mut seq, 4, "stime")?;
    let _susec = int32(&mut seq, 5, "susec")?;
    let error_code = KrbErrorCode(int32(&mut seq, 6, "error-code")?);
    let crealm = optional_string(&mut seq, 7, "crealm")?;
    let cname = optional_principal(&mut seq, 8, "cname")?;
    let realm = string(&mut seq, 9, "realm")?;
    let sname = principal_field(&mut seq, 10, "sname")?;
    let e_text = optional_string(&mut seq, 11, "e-text")?;
    let e_data = match seq.optional(12, "e-data")? {
        Some(mut f) => Some(error_data(f.octet_string("e-data")?)),
        None => None,
    };
    Ok(KrbError {
        ctime,
        stime,
        error_code,
        crealm,
        cname,
        realm,
        sname,
        e_text,
        e_data,
    })
}

/// e-data is an OCTET STRING whose contents depend on the error: try the known shapes.
fn error_data(b: &[u8]) -> ErrorData {
    if let Ok(list) = pa_data(&mut Reader::new(LAYER, b), "METHOD-DATA") {
        let etypes = list
            .iter()
            .find(|(t, _)| *t == PaType::PA_ETYPE_INFO2)
            .and_then(|(_, v)| etype_info2(v).ok())
            .unwrap_or_default();
        let status = list
            .iter()
            .find(|(t, v)| *t == PaType::PA_PW_SALT && v.len() == EXT_ERROR_LEN)
            .and_then(|(_, v)| ext_error_status(v));
        return ErrorData::MethodData {
            pa_types: list.into_iter().map(|(t, _)| t).collect(),
            etypes,
            status,
        };
    }
    let typed = || -> Result<ErrorData, ProtoError> {
        let mut seq = Reader::new(LAYER, b).sequence("KERB-ERROR-DATA")?;
        let data_type = int32(&mut seq, 1, "data-type")?;
        let value = match seq.optional(2, "data-value")? {
            Some(mut f) => f.octet_string("data-value")?,
            None => &[],
        };
        let status = if data_type == 3 {
            ext_error_status(value)
        } else {
            None
        };
        Ok(ErrorData::Typed { data_type, status })
    };
    typed().unwrap_or(ErrorData::Other { len: b.len() })
}

/// KERB-EXT-ERROR (MS-KILE 2.2.2): status (NTSTATUS, little-endian), reserved, flags.
const EXT_ERROR_LEN: usize = 12;

fn ext_error_status(v: &[u8]) -> Option<NtStatus> {
    let status = <[u8; 4]>::try_from(v.get(..4)?).ok()?;
    Some(NtStatus(u32::from_le_bytes(status)))
}

/// ETYPE-INFO2 (RFC 4120 5.2.7.5): the etypes (salts are not kept).
fn etype_info2(b: &[u8]) -> Result<Vec<Etype>, ProtoError> {
    Reader::new(LAYER, b).sequence_of("ETYPE-INFO2", MAX_ETYPES, |e| {
        let mut seq = e.sequence("ETYPE-INFO2-ENTRY")?;
        let etype = Etype(int32(&mut seq, 0, "etype")?);
        seq.skip_rest();
        Ok(etype)
    })
}

/// KERB-TGT-REQUEST (msg-type 16) and KERB-TGT-REPLY (17).
fn parse_u2u(r: &mut Reader<'_>) -> Result<KrbMessage, ProtoError> {
    let mut seq = r.sequence("user-to-user")?;
    let _pvno = int32(&mut seq, 0, "pvno")?;
    match int32(&mut seq, 1, "msg-type")? {
        16 => Ok(KrbMessage::TgtReq(TgtReq {
            server_name: optional_principal(&mut seq, 2, "server-name")?,
            realm: optional_string(&mut seq, 3, "realm")?,
        })),
        17 => Ok(KrbMessage::TgtRep(ticket(
            &mut seq.field(2, "ticket")?,
            "ticket",
        )?)),
        other => Err(ProtoError::invalid(
            LAYER,
            "msg-type",
            0,
            format!("{other}"),
        )),
    }
}

#[cfg(test)]
mod tests;
