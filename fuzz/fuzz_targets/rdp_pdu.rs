#![no_main]
use libfuzzer_sys::fuzz_target;
use rdpscope::proto::rdp_pdu::{self, PduContext, SecurityLayer};

fuzz_target!(|data: &[u8]| {
    let _ = rdp_pdu::parse_slow_path(data, PduContext::default());
    let standard = PduContext {
        security: SecurityLayer::Standard,
        ..PduContext::default()
    };
    let _ = rdp_pdu::parse_slow_path(data, standard);
    let _ = rdp_pdu::parse_user_data(data, rdp_pdu::DEFAULT_IO_CHANNEL, PduContext::default());
    let _ = rdp_pdu::parse_user_data(data, 1008, PduContext::default());
    let _ = rdp_pdu::client_info::parse_client_info(data);
    let _ = rdp_pdu::client_info::parse_early_user_authorization(data);
    let _ = rdp_pdu::licensing::parse_licensing(data);
    let _ = rdp_pdu::save_session::parse_save_session_info(data);
    let _ = rdp_pdu::redirect::parse_server_redirection(data);
    let _ = rdp_pdu::capabilities::parse_demand_active(data);
    let _ = rdp_pdu::capabilities::parse_confirm_active(data);
});
