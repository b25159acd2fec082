//! The cleartext RDP layers: X.224 negotiation, and MCS/GCC plus the security-header PDUs
//! that stay readable under Standard RDP Security.

use super::event::{ClientSummary, ConfirmKind, DecodeError, EventKind};
use super::{Connection, Stamped};
use crate::flow::Sides;
use crate::flow::{PacketInfo, Side};
use crate::proto::gcc::{ClientData, ServerData};
use crate::proto::mcs::{self, DisconnectReason, DomainPdu, McsPdu, McsResult};
use crate::proto::nego::{NegFailure, NegRsp, Protocols};
use crate::proto::x224::{self, ConnectionConfirm, ConnectionRequest, NegotiationResponse, Tpdu};
use crate::proto::{fastpath, tpkt};

#[derive(Debug, Default)]
pub struct X224State {
    pub request: Option<Stamped<ConnectionRequest>>,
    pub confirm: Option<Stamped<ConnectionConfirm>>,
    pub disconnect: Option<Stamped<()>>,
}

impl X224State {
    /// Heap bytes of the negotiation's strings.
    pub fn heap_bytes(&self) -> usize {
        self.request.as_ref().map_or(0, |r| {
            let cr = &r.value;
            cr.cookie.as_ref().map_or(0, String::capacity)
                + cr.routing_token.as_ref().map_or(0, String::capacity)
        })
    }

    pub fn requested_protocols(&self) -> Option<Protocols> {
        let req = self.request.as_ref()?;
        Some(
            req.value
                .neg_req
                .as_ref()
                .map(|n| n.requested_protocols)
                .unwrap_or(Protocols(0)),
        )
    }

    /// The protocol the server chose; a CC without negotiation data means Standard RDP Security.
    pub fn selected_protocol(&self) -> Option<Protocols> {
        self.confirm.as_ref()?.value.selected_protocol()
    }

    pub fn response(&self) -> Option<&NegRsp> {
        match self.confirm.as_ref()?.value.negotiation.as_ref()? {
            NegotiationResponse::Response(r) => Some(r),
            _ => None,
        }
    }

    pub fn failure(&self) -> Option<&NegFailure> {
        match self.confirm.as_ref()?.value.negotiation.as_ref()? {
            NegotiationResponse::Failure(f) => Some(f),
            _ => None,
        }
    }

    /// HYBRID or HYBRID_EX selected: CredSSP runs inside the TLS tunnel.
    pub fn nla_selected(&self) -> bool {
        self.selected_protocol()
            .is_some_and(|p| p.0 & (Protocols::HYBRID | Protocols::HYBRID_EX) != 0)
    }

    pub fn tls_selected(&self) -> bool {
        self.selected_protocol().is_some_and(|p| p.0 != 0)
    }
}

#[derive(Debug, Default)]
pub struct McsState {
    // Boxed: most connections of a logon storm never get this far, and the state of each
    // open connection stays small (hundreds of bytes each, inline).
    pub connect_initial: Option<Box<Stamped<ClientData>>>,
    pub connect_response: Option<Box<Stamped<McsResponse>>>,
    pub ultimatum: Option<Stamped<DisconnectReason>>,
    pub attach_confirm: Option<PacketInfo>,
    pub channel_joins: u32,
    pub security_exchange: Option<PacketInfo>,
    pub client_info: Option<PacketInfo>,
    pub license: Option<PacketInfo>,
    /// First fast-path PDU per side: the session reached steady state.
    pub fastpath: Sides<Option<PacketInfo>>,
    pub data_pdus: Sides<u64>,
}

impl McsState {
    /// Heap bytes of the boxed connect PDUs.
    pub fn heap_bytes(&self) -> usize {
        self.connect_initial
            .as_ref()
            .map_or(0, |_| std::mem::size_of::<Stamped<ClientData>>())
            + self
                .connect_response
                .as_ref()
                .map_or(0, |_| std::mem::size_of::<Stamped<McsResponse>>())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct McsResponse {
    pub result: McsResult,
    pub server: ServerData,
}

///
/// Returns the MCS domain PDU it carried, if any, so the caller need not parse it again.
pub(super) fn handle_tpkt<'a>(
    conn: &mut Connection,
    at: &PacketInfo,
    side: Side,
    bytes: &'a [u8],
) -> Option<DomainPdu<'a>> {
    let payload = match tpkt::parse_tpkt(bytes) {
        Ok((_, payload)) => payload,
        Err(e) => {
            conn.decode_error(at, side, DecodeError::Proto(e));
            return None;
        }
    };
    match x224::parse_tpdu(payload) {
        Ok(Tpdu::ConnectionRequest(cr)) => connection_request(conn, at, side, cr),
        Ok(Tpdu::ConnectionConfirm(cc)) => connection_confirm(conn, at, side, cc),
        Ok(Tpdu::Data(data)) => return mcs_data(conn, at, side, data),
        Ok(Tpdu::DisconnectRequest { .. }) => {
            conn.timeline
                .push(at, side, EventKind::X224DisconnectRequest);
            conn.x224.disconnect.get_or_insert(Stamped {
                at: *at,
                side,
                value: (),
            });
        }
        Ok(Tpdu::Error { .. }) => conn.timeline.push(at, side, EventKind::X224Error),
        Ok(Tpdu::Unknown { code }) => {
            conn.timeline
                .push(at, side, EventKind::X224UnknownTpdu { code })
        }
        Err(e) => conn.decode_error(at, side, DecodeError::Proto(e)),
    }
    None
}

fn connection_request(conn: &mut Connection, at: &PacketInfo, side: Side, cr: ConnectionRequest) {
    let kind = EventKind::X224Request {
        cookie: cr.cookie.as_deref().map(Box::from),
        routing_token: cr.routing_token.is_some(),
        protocols: cr.neg_req.as_ref().map(|n| n.requested_protocols),
    };
    conn.timeline.push(at, side, kind);
    if conn.x224.request.is_none() {
        conn.x224.request = Some(Stamped {
            at: *at,
            side,
            value: cr,
        });
    }
}

fn connection_confirm(conn: &mut Connection, at: &PacketInfo, side: Side, cc: ConnectionConfirm) {
    let kind = match &cc.negotiation {
        Some(NegotiationResponse::Response(r)) => ConfirmKind::Selected(r.selected_protocol),
        Some(NegotiationResponse::Failure(f)) => ConfirmKind::Failure(f.failure_code),
        Some(NegotiationResponse::Unknown { neg_type }) => ConfirmKind::UnknownType(*neg_type),
        None => ConfirmKind::NoNegotiation,
    };
    conn.timeline.push(at, side, EventKind::X224Confirm(kind));
    if conn.x224.confirm.is_none() {
        conn.x224.confirm = Some(Stamped {
            at: *at,
            side,
            value: cc,
        });
    }
}

fn mcs_data<'a>(
    conn: &mut Connection,
    at: &PacketInfo,
    side: Side,
    data: &'a [u8],
) -> Option<DomainPdu<'a>> {
    *conn.mcs.data_pdus.get_mut(side) += 1;
    let pdu = match mcs::parse_mcs_pdu(data) {
        Ok(p) => p,
        Err(e) => {
            conn.decode_error(at, side, DecodeError::Proto(e));
            return None;
        }
    };
    match pdu {
        McsPdu::ConnectInitial(ci) => {
            let client = ci.client.core.as_ref().map(|core| ClientSummary {
                name: core.client_name.clone(),
                build: core.client_build,
                width: core.desktop_width,
                height: core.desktop_height,
            });
            conn.timeline
                .push(at, side, EventKind::McsConnectInitial { client });
            conn.mcs.connect_initial.get_or_insert_with(|| {
                Box::new(Stamped {
                    at: *at,
                    side,
                    value: ci.client,
                })
            });
        }
        McsPdu::ConnectResponse(cr) => {
            let result = cr.result;
            conn.timeline
                .push(at, side, EventKind::McsConnectResponse { result });
            conn.mcs.connect_response.get_or_insert_with(|| {
                Box::new(Stamped {
                    at: *at,
                    side,
                    value: McsResponse {
                        result,
                        server: cr.server,
                    },
                })
            });
        }
        McsPdu::Domain(d) => {
            domain_pdu(conn, at, side, &d);
            return Some(d);
        }
    }
    None
}

fn domain_pdu(conn: &mut Connection, at: &PacketInfo, side: Side, d: &DomainPdu<'_>) {
    match *d {
        DomainPdu::DisconnectProviderUltimatum { reason } => {
            conn.timeline
                .push(at, side, EventKind::Ultimatum { reason });
            conn.mcs.ultimatum.get_or_insert(Stamped {
                at: *at,
                side,
                value: reason,
            });
        }
        DomainPdu::ErectDomainRequest => {
            conn.timeline
                .push(at, side, EventKind::McsErectDomainRequest)
        }
        DomainPdu::AttachUserRequest => {
            conn.timeline
                .push(at, side, EventKind::McsAttachUserRequest)
        }
        DomainPdu::AttachUserConfirm { .. } => {
            conn.mcs.attach_confirm.get_or_insert(*at);
            conn.timeline
                .push(at, side, EventKind::McsAttachUserConfirm);
        }
        DomainPdu::ChannelJoinRequest { .. } => {}
        DomainPdu::ChannelJoinConfirm { .. } => conn.mcs.channel_joins += 1,
        DomainPdu::SendDataRequest { user_data, .. }
        | DomainPdu::SendDataIndication { user_data, .. } => {
            security_pdu(conn, at, side, user_data)
        }
        _ => {}
    }
}

/// Standard RDP Security: the basic security header says what the (encrypted) PDU is.
fn security_pdu(conn: &mut Connection, at: &PacketInfo, side: Side, user_data: &[u8]) {
    if !conn.standard_security() {
        return;
    }
    let Ok((flags, _)) = mcs::parse_security_header(user_data) else {
        return;
    };
    let (slot, kind) = if flags.contains(mcs::SecurityFlags::EXCHANGE_PKT) {
        (&mut conn.mcs.security_exchange, EventKind::SecurityExchange)
    } else if flags.contains(mcs::SecurityFlags::INFO_PKT) {
        (&mut conn.mcs.client_info, EventKind::ClientInfo)
    } else if flags.contains(mcs::SecurityFlags::LICENSE_PKT) {
        (&mut conn.mcs.license, EventKind::Licensing)
    } else {
        return;
    };
    if slot.is_none() {
        *slot = Some(*at);
        conn.timeline.push(at, side, kind);
    }
}

pub(super) fn handle_fastpath(conn: &mut Connection, at: &PacketInfo, side: Side, bytes: &[u8]) {
    let i = side;
    if conn.mcs.fastpath.get(i).is_none() && fastpath::parse_header(bytes).is_ok() {
        *conn.mcs.fastpath.get_mut(i) = Some(*at);
        conn.timeline.push(at, side, EventKind::FirstFastPath);
    }
}
