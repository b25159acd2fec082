//! The RDP connection sequence read from decrypted TLS (MS-RDPBCGR 1.3.1.1): the MCS connect
//! through `session::rdp`'s handlers, then the slow-path PDUs through `proto::rdp_pdu`.
//! Fast-path and virtual-channel traffic is counted, not parsed.

use super::event::{EventKind, InnerEvent};
use super::{rdp, Connection, Stamped};
use crate::flow::Sides;
use crate::flow::{PacketInfo, Side};
use crate::proto::rdp_pdu::{
    self, DataPdu, ErrInfo, LicenseErrorCode, LicenseMsgType, LicensingPdu, LogonError, PduContext,
    RdpPdu, SaveSessionInfo, SlowPathPdu,
};
use crate::proto::ProtoError;

/// The outcome of licensing (MS-RDPBCGR 2.2.1.12): STATUS_VALID_CLIENT, an error, or a
/// license issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenseOutcome {
    pub valid: bool,
    /// The ERROR_ALERT code, if the outcome came as one.
    pub error: Option<LicenseErrorCode>,
}

/// Where a Server Redirection PDU sends the client (MS-RDPBCGR 2.2.13.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectTarget {
    /// FQDN, else NetBIOS name, else address.
    pub target: Option<String>,
    /// LB_NOREDIRECT: informational, the client stays.
    pub no_redirect: bool,
    pub load_balance_info: bool,
}

/// What the decrypted RDP sequence showed.
#[derive(Debug, Default)]
pub struct InnerRdp {
    pub client_info: Option<Stamped<(bool, bool)>>,
    pub licensing: Option<Stamped<LicenseOutcome>>,
    pub demand_active: Option<PacketInfo>,
    pub confirm_active: Option<PacketInfo>,
    /// Server Font Map: the connection sequence finished (2.2.1.22).
    pub finalised: Option<PacketInfo>,
    pub deactivate_all: Option<PacketInfo>,
    /// The last non-zero Set Error Info (2.2.5.1.1).
    pub errinfo: Option<Stamped<ErrInfo>>,
    /// The first failing logon notice of a Save Session Info (2.2.10.1.1.4.1.1).
    pub logon_error: Option<Stamped<LogonError>>,
    pub logon_notified: Option<PacketInfo>,
    pub redirect: Option<Stamped<RedirectTarget>>,
    pub slow_path_pdus: Sides<u64>,
    pub fastpath_pdus: Sides<u64>,
    pub virtual_channel_pdus: Sides<u64>,
}

/// Decoder context from the MCS Connect Response (SC_NET, SC_MCS_MSGCHANNEL).
fn context(conn: &Connection) -> PduContext {
    let mut ctx = PduContext::default();
    if let Some(resp) = &conn.mcs.connect_response {
        if let Some(io) = resp.value.server.io_channel {
            ctx.io_channel = io;
        }
        ctx.message_channel = resp.value.server.message_channel;
    }
    ctx
}

/// A whole decrypted TPKT.
pub(super) fn tpkt(conn: &mut Connection, at: &PacketInfo, side: Side, msg: &[u8]) {
    // The TPKT, X.224 and MCS layers are decoded once, by `rdp::handle_tpkt`.
    let Some(domain) = rdp::handle_tpkt(conn, at, side, msg) else {
        return;
    };
    match rdp_pdu::slow_path_from_domain(domain, context(conn)) {
        Ok(SlowPathPdu::SendData { pdu, .. }) => {
            *conn
                .inner
                .get_or_insert_with(Box::default)
                .rdp
                .slow_path_pdus
                .get_mut(side) += 1;
            rdp_pdu(conn, at, side, pdu);
        }
        Ok(_) => {}
        // X.224/MCS errors were already reported by `rdp::handle_tpkt`.
        Err(e) if is_rdp_layer(&e) => {
            conn.decode_error(at, side, super::DecodeError::Proto(e));
        }
        Err(_) => {}
    }
}

fn is_rdp_layer(e: &ProtoError) -> bool {
    let layer = match e {
        ProtoError::Truncated { layer, .. } | ProtoError::Invalid { layer, .. } => *layer,
    };
    !matches!(layer, "tpkt" | "x224" | "mcs" | "per" | "ber" | "gcc")
}

pub(super) fn fastpath(conn: &mut Connection, at: &PacketInfo, side: Side) {
    *conn
        .inner
        .get_or_insert_with(Box::default)
        .rdp
        .fastpath_pdus
        .get_mut(side) += 1;
    if conn.mcs.fastpath.get(side).is_none() {
        *conn.mcs.fastpath.get_mut(side) = Some(*at);
        conn.timeline.push(at, side, EventKind::FirstFastPath);
    }
}

fn push(conn: &mut Connection, at: &PacketInfo, side: Side, ev: InnerEvent) {
    conn.timeline.push(at, side, EventKind::Inner(ev));
}

fn first(slot: &mut Option<PacketInfo>, at: &PacketInfo) -> bool {
    let fresh = slot.is_none();
    slot.get_or_insert(*at);
    fresh
}

/// A connection-sequence step marked once, at its first sighting.
fn milestone(conn: &mut Connection, at: &PacketInfo, side: Side, ev: InnerEvent) {
    let st = &mut conn.inner.get_or_insert_with(Box::default).rdp;
    let slot = match ev {
        InnerEvent::DemandActive => &mut st.demand_active,
        InnerEvent::ConfirmActive => &mut st.confirm_active,
        InnerEvent::DeactivateAll => &mut st.deactivate_all,
        InnerEvent::Finalised => &mut st.finalised,
        _ => return,
    };
    if first(slot, at) {
        push(conn, at, side, ev);
    }
}

fn rdp_pdu(conn: &mut Connection, at: &PacketInfo, side: Side, pdu: RdpPdu) {
    let st = &mut conn.inner.get_or_insert_with(Box::default).rdp;
    match pdu {
        RdpPdu::ClientInfo(info) => {
            let flags = (info.auto_logon(), info.password_present);
            conn.mcs.client_info.get_or_insert(*at);
            if st.client_info.is_none() {
                st.client_info = Some(Stamped {
                    at: *at,
                    side,
                    value: flags,
                });
                let ev = InnerEvent::ClientInfo {
                    auto_logon: flags.0,
                    password_present: flags.1,
                };
                push(conn, at, side, ev);
            }
        }
        RdpPdu::Licensing(l) => licensing(conn, at, side, &l),
        RdpPdu::DemandActive(_) => milestone(conn, at, side, InnerEvent::DemandActive),
        RdpPdu::ConfirmActive(_) => milestone(conn, at, side, InnerEvent::ConfirmActive),
        RdpPdu::DeactivateAll(_) => milestone(conn, at, side, InnerEvent::DeactivateAll),
        RdpPdu::ServerRedirection(r) => {
            let target = r
                .target_fqdn
                .clone()
                .or_else(|| r.target_netbios_name.clone())
                .or_else(|| r.target_net_address.clone())
                .or_else(|| r.target_net_addresses.first().cloned());
            let value = RedirectTarget {
                target: target.clone(),
                no_redirect: r.no_redirect(),
                load_balance_info: r.load_balance_info.is_some(),
            };
            st.redirect.get_or_insert(Stamped {
                at: *at,
                side,
                value,
            });
            push(conn, at, side, InnerEvent::ServerRedirection { target });
        }
        RdpPdu::Data { body, .. } => data_pdu(conn, at, side, body),
        RdpPdu::VirtualChannel { .. } => *st.virtual_channel_pdus.get_mut(side) += 1,
        _ => {}
    }
}

fn licensing(conn: &mut Connection, at: &PacketInfo, side: Side, l: &LicensingPdu) {
    conn.mcs.license.get_or_insert(*at);
    let msg_type = l.preamble.msg_type;
    let error = match &l.body {
        rdp_pdu::licensing::LicenseBody::Error(e) => Some(e.error_code),
        _ => None,
    };
    let outcome = match l.outcome() {
        Some(valid) => Some(LicenseOutcome { valid, error }),
        // A license issued or upgraded ends licensing too.
        None if matches!(
            msg_type,
            LicenseMsgType::NEW_LICENSE | LicenseMsgType::UPGRADE_LICENSE
        ) =>
        {
            Some(LicenseOutcome {
                valid: true,
                error: None,
            })
        }
        None => None,
    };
    if let Some(value) = outcome {
        conn.inner.get_or_insert_with(Box::default).rdp.licensing = Some(Stamped {
            at: *at,
            side,
            value,
        });
    }
    push(conn, at, side, InnerEvent::Licensing { msg_type, error });
}

fn data_pdu(conn: &mut Connection, at: &PacketInfo, side: Side, body: DataPdu) {
    let st = &mut conn.inner.get_or_insert_with(Box::default).rdp;
    match body {
        DataPdu::SetErrorInfo { error_info } => {
            if error_info != ErrInfo::NONE {
                st.errinfo = Some(Stamped {
                    at: *at,
                    side,
                    value: error_info,
                });
            }
            push(conn, at, side, InnerEvent::SetErrorInfo(error_info));
        }
        DataPdu::SaveSessionInfo(info) => {
            let error = match &info {
                SaveSessionInfo::Extended(ext) => ext.logon_errors.and_then(|e| e.failure()),
                _ => None,
            };
            if let Some(e) = error {
                st.logon_error.get_or_insert(Stamped {
                    at: *at,
                    side,
                    value: e,
                });
            }
            if first(&mut st.logon_notified, at) || error.is_some() {
                push(conn, at, side, InnerEvent::SaveSessionInfo { error });
            }
        }
        DataPdu::FontMap => milestone(conn, at, side, InnerEvent::Finalised),
        _ => {}
    }
}
