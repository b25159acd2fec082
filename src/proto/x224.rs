//! X.224 (ISO 8073 class 0) TPDUs inside TPKT (FACTS 1.2): Connection Request and Confirm with
//! the RDP negotiation data they carry, Data, Disconnect Request and Error.

use nom::number::complete::{be_u16, u8 as byte};
use nom::IResult;

use super::wire::{field, run};

use super::nego::{
    correlation_id, neg_header, neg_value, CorrelationInfo, FailureCode, NegFailure, NegReq,
    NegReqFlags, NegRsp, NegRspFlags, Protocols, TYPE_CORRELATION_INFO, TYPE_NEG_FAILURE,
    TYPE_NEG_REQ, TYPE_NEG_RSP,
};
use super::ProtoError;

pub const CODE_CR: u8 = 0xe0;
pub const CODE_CC: u8 = 0xd0;
pub const CODE_DR: u8 = 0x80;
pub const CODE_DT: u8 = 0xf0;
pub const CODE_ER: u8 = 0x70;

/// Cookies and routing tokens are text lines; longer ones are cut (FreeRDP allows 255).
const MAX_TOKEN: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionRequest {
    pub dst_ref: u16,
    pub src_ref: u16,
    pub class_option: u8,
    /// The `mstshash=` value (usually the user name, often truncated by mstsc).
    pub cookie: Option<String>,
    /// A load-balancer routing token line (`Cookie: msts=...`), kept whole.
    pub routing_token: Option<String>,
    pub neg_req: Option<NegReq>,
    pub correlation_info: Option<CorrelationInfo>,
    /// Bytes of the variable part nothing above explains.
    pub unparsed: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NegotiationResponse {
    Response(NegRsp),
    Failure(NegFailure),
    Unknown { neg_type: u8 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionConfirm {
    pub dst_ref: u16,
    pub src_ref: u16,
    pub class_option: u8,
    pub negotiation: Option<NegotiationResponse>,
    /// The negotiation structure's length field when it is not the 8 the spec requires.
    pub bad_neg_length: Option<u16>,
}

impl ConnectionConfirm {
    /// The protocol the server chose; a CC without negotiation data means Standard RDP
    /// Security (0). None when the server refused.
    pub fn selected_protocol(&self) -> Option<Protocols> {
        match &self.negotiation {
            None => Some(Protocols(0)),
            Some(NegotiationResponse::Response(r)) => Some(r.selected_protocol),
            Some(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tpdu<'a> {
    ConnectionRequest(ConnectionRequest),
    ConnectionConfirm(ConnectionConfirm),
    Data(&'a [u8]),
    DisconnectRequest {
        dst_ref: u16,
        src_ref: u16,
        reason: u8,
    },
    Error {
        dst_ref: u16,
        cause: u8,
    },
    Unknown {
        code: u8,
    },
}

/// `03 00 LL LL LI E0`: an X.224 Connection Request in a TPKT, by its header alone.
pub fn looks_like_connection_request(b: &[u8]) -> bool {
    match b {
        [0x03, 0x00, hi, lo, li, code, ..] => {
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            *code & 0xf0 == CODE_CR && *li >= 6 && usize::from(*li) + 5 <= len && len <= 4096
        }
        _ => false,
    }
}

/// TPDU-ER (X.224 13.12): DST-REF then the reject cause.
fn error_header(i: &[u8]) -> IResult<&[u8], (u16, u8)> {
    let (i, dst_ref) = be_u16(i)?;
    let (i, cause) = byte(i)?;
    Ok((i, (dst_ref, cause)))
}

fn refs(i: &[u8]) -> IResult<&[u8], (u16, u16, u8)> {
    let (i, dst) = be_u16(i)?;
    let (i, src) = be_u16(i)?;
    let (i, class) = byte(i)?;
    Ok((i, (dst, src, class)))
}

/// Decodes the TPDU that follows the TPKT header: `payload[0]` is the length indicator.
pub fn parse_tpdu(payload: &[u8]) -> Result<Tpdu<'_>, ProtoError> {
    let (li, code) = run("x224", payload, |i| {
        let (i, li) = field("length indicator", byte)(i)?;
        let (i, code) = field("TPDU code", byte)(i)?;
        Ok((i, (li, code)))
    })?;
    let header_end = usize::from(li) + 1;
    if header_end > payload.len() {
        return Err(ProtoError::invalid(
            "x224",
            "length indicator",
            0,
            format!("{li} runs past the {}-byte TPDU", payload.len()),
        ));
    }
    let body = payload.get(2..).unwrap_or_default();
    let truncated = |field| ProtoError::truncated("x224", field, 2);
    match code & 0xf0 {
        CODE_DT => Ok(Tpdu::Data(payload.get(header_end..).unwrap_or_default())),
        CODE_CR => {
            let (var, (dst_ref, src_ref, class_option)) =
                refs(body).map_err(|_| truncated("CR header"))?;
            Ok(Tpdu::ConnectionRequest(connection_request(
                var,
                dst_ref,
                src_ref,
                class_option,
            )))
        }
        CODE_CC => {
            let (var, (dst_ref, src_ref, class_option)) =
                refs(body).map_err(|_| truncated("CC header"))?;
            Ok(Tpdu::ConnectionConfirm(connection_confirm(
                var,
                dst_ref,
                src_ref,
                class_option,
            )?))
        }
        CODE_DR => {
            let (_, (dst_ref, src_ref, reason)) = refs(body).map_err(|_| truncated("DR header"))?;
            Ok(Tpdu::DisconnectRequest {
                dst_ref,
                src_ref,
                reason,
            })
        }
        CODE_ER => {
            let (_, (dst_ref, cause)) = error_header(body).map_err(|_| truncated("ER header"))?;
            Ok(Tpdu::Error { dst_ref, cause })
        }
        _ => Ok(Tpdu::Unknown { code }),
    }
}

/// Splits off one CRLF-terminated text line (a cookie or routing token).
fn text_line(var: &[u8]) -> Option<(String, &[u8])> {
    let end = var.windows(2).take(MAX_TOKEN).position(|w| w == b"\r\n")?;
    let line = String::from_utf8_lossy(var.get(..end)?).into_owned();
    Some((line, var.get(end + 2..)?))
}

fn connection_request(
    mut var: &[u8],
    dst_ref: u16,
    src_ref: u16,
    class_option: u8,
) -> ConnectionRequest {
    let mut cr = ConnectionRequest {
        dst_ref,
        src_ref,
        class_option,
        cookie: None,
        routing_token: None,
        neg_req: None,
        correlation_info: None,
        unparsed: 0,
    };
    if var.starts_with(b"Cookie: mstshash=") {
        if let Some((line, rest)) = text_line(var) {
            cr.cookie = line.strip_prefix("Cookie: mstshash=").map(str::to_string);
            var = rest;
        }
    } else if var.first().is_some_and(|b| b.is_ascii_alphabetic()) {
        if let Some((line, rest)) = text_line(var) {
            cr.routing_token = Some(line);
            var = rest;
        }
    }
    if let Ok((rest, (TYPE_NEG_REQ, flags, _len))) = neg_header(var) {
        if let Ok((rest, requested)) = neg_value(rest) {
            cr.neg_req = Some(NegReq {
                flags: NegReqFlags(flags),
                requested_protocols: Protocols(requested),
            });
            var = rest;
        }
    }
    if let Ok((rest, (TYPE_CORRELATION_INFO, flags, _len))) = neg_header(var) {
        if let Ok((rest, id)) = correlation_id(rest) {
            cr.correlation_info = Some(CorrelationInfo {
                flags,
                correlation_id: id,
            });
            var = rest.get(16..).unwrap_or(rest);
        }
    }
    cr.unparsed = var.len();
    cr
}

fn connection_confirm(
    var: &[u8],
    dst_ref: u16,
    src_ref: u16,
    class_option: u8,
) -> Result<ConnectionConfirm, ProtoError> {
    let mut cc = ConnectionConfirm {
        dst_ref,
        src_ref,
        class_option,
        negotiation: None,
        bad_neg_length: None,
    };
    if var.is_empty() {
        return Ok(cc);
    }
    let (rest, (neg_type, flags, len)) =
        neg_header(var).map_err(|_| ProtoError::truncated("x224", "rdpNegData header", 7))?;
    if len != 8 {
        cc.bad_neg_length = Some(len);
    }
    let value = neg_value(rest).map(|(_, v)| v);
    cc.negotiation = Some(match (neg_type, value) {
        (TYPE_NEG_RSP, Ok(v)) => NegotiationResponse::Response(NegRsp {
            flags: NegRspFlags(flags),
            selected_protocol: Protocols(v),
        }),
        (TYPE_NEG_FAILURE, Ok(v)) => NegotiationResponse::Failure(NegFailure {
            flags,
            failure_code: FailureCode(v),
        }),
        (TYPE_NEG_RSP | TYPE_NEG_FAILURE, Err(_)) => {
            return Err(ProtoError::truncated("x224", "rdpNegData value", 11));
        }
        (other, _) => NegotiationResponse::Unknown { neg_type: other },
    });
    Ok(cc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::hex;
    use crate::proto::tpkt::parse_tpkt;
    use proptest::prelude::*;

    /// zeek_zeek/rdp-to-ssl.pcap frame 4: LI 0x2a, cookie "AWAKECODI", NEG_REQ at offset 35
    /// with requestedProtocols 0x00000003 (SSL|HYBRID).
    const CR_TO_SSL: &str = "0300002f2ae00000000000436f6f6b69653a206d737473686173683d4157414b45434f44490d0a0100080003000000";
    /// Same capture, frame 6: CC with RDP_NEG_RSP flags 0x01, selectedProtocol 0x02 (HYBRID).
    const CC_HYBRID: &str = "030000130ed000001234000201080002000000";
    /// OISF_suricata-verify/RDP-003.pcap frame 6: CC with no negotiation data (LI 6).
    const CC_STANDARD: &str = "0300000b06d00000123400";

    fn tpdu(hexstr: &str) -> Tpdu<'static> {
        let bytes: &'static [u8] = Box::leak(hex(hexstr).into_boxed_slice());
        parse_tpdu(parse_tpkt(bytes).unwrap().1).unwrap()
    }

    #[test]
    fn decodes_a_windows_connection_request() {
        let Tpdu::ConnectionRequest(cr) = tpdu(CR_TO_SSL) else {
            panic!("not a CR")
        };
        assert_eq!(cr.cookie.as_deref(), Some("AWAKECODI"));
        let neg = cr.neg_req.unwrap();
        assert_eq!(neg.requested_protocols.names(), vec!["ssl", "hybrid"]);
        assert!(cr.correlation_info.is_none());
        assert_eq!(cr.unparsed, 0);
        assert!(looks_like_connection_request(&hex(CR_TO_SSL)));
        assert!(!looks_like_connection_request(&hex(CC_HYBRID)));
    }

    #[test]
    fn decodes_confirms_with_and_without_negotiation() {
        let Tpdu::ConnectionConfirm(cc) = tpdu(CC_HYBRID) else {
            panic!("not a CC")
        };
        assert_eq!(cc.src_ref, 0x1234);
        assert_eq!(cc.selected_protocol(), Some(Protocols(Protocols::HYBRID)));
        let Some(NegotiationResponse::Response(r)) = &cc.negotiation else {
            panic!()
        };
        assert_eq!(r.flags.names(), vec!["EXTENDED_CLIENT_DATA_SUPPORTED"]);
        let Tpdu::ConnectionConfirm(cc) = tpdu(CC_STANDARD) else {
            panic!("not a CC")
        };
        assert_eq!(cc.negotiation, None);
        assert_eq!(cc.selected_protocol(), Some(Protocols(0)));
    }

    #[test]
    fn decodes_a_negotiation_failure() {
        // zeek_zeek/rdp-proprietary-encryption.pcap frame 5: RDP_NEG_FAILURE code 2.
        let Tpdu::ConnectionConfirm(cc) = tpdu("030000130ed0000012340003000800020000 00") else {
            panic!()
        };
        let Some(NegotiationResponse::Failure(f)) = cc.negotiation else {
            panic!()
        };
        assert_eq!(f.failure_code.name(), "SSL_NOT_ALLOWED_BY_SERVER");
        assert_eq!(cc.selected_protocol(), None);
    }

    #[test]
    fn data_tpdu_hands_over_the_mcs_bytes() {
        // OISF_suricata-verify/RDP-003.pcap frame 10: Attach User Request `28` after `02 f0 80`.
        assert_eq!(tpdu("0300000802f08028"), Tpdu::Data(&[0x28]));
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..128), cut in 0usize..47) {
            let _ = parse_tpdu(&data);
            let _ = looks_like_connection_request(&data);
            let cr = hex(CR_TO_SSL);
            let _ = parse_tpdu(&cr[4..cut.max(4)]);
        }
    }
}
