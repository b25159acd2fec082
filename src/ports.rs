//! The ports RDP uses, known in this one place: the session host listens on TCP 3389 and
//! RDP-UDP beside it on UDP 3389 (MS-RDPBCGR 1.3.1.1, MS-RDPEUDP 1.3); an RD Gateway on
//! TCP 443 (HTTPS transport, MS-TSGU 2.1) and UDP 3391 (its UDP transport, MS-TSGU 2.2.1).

/// TCP port of an RDP session host.
pub const RDP_TCP: u16 = 3389;
/// UDP port of RDP-UDP beside a session host.
pub const RDP_UDP: u16 = 3389;
/// TCP port of an RD Gateway (HTTPS).
pub const GATEWAY_TCP: u16 = 443;
/// UDP port of an RD Gateway's UDP transport.
pub const GATEWAY_UDP: u16 = 3391;

/// Every port where RDP or its gateway listens by default: a flow between an unknown port
/// and one of these has its server on the known port.
pub const SERVER_PORTS: [u16; 3] = [RDP_TCP, GATEWAY_TCP, GATEWAY_UDP];

/// The live capture's default BPF filter: everything above, TCP and UDP as each is used.
pub const DEFAULT_FILTER: &str = "tcp port 3389 or udp port 3389 or tcp port 443 or udp port 3391";

/// Kerberos KDC, TCP and UDP (RFC 4120 7.2.1, 7.2.2).
pub const KERBEROS: u16 = 88;
/// DNS, UDP and TCP (RFC 1035 4.2).
pub const DNS: u16 = 53;

/// The KDC's port: its exchanges tell why NLA's Kerberos failed.
pub fn is_kerberos(port: u16) -> bool {
    port == KERBEROS
}

/// The DNS port: its lookups tell how the client found (or failed to find) the server.
pub fn is_dns(port: u16) -> bool {
    port == DNS
}

/// A port of a service followed beside RDP (Kerberos, DNS).
pub fn is_side_service(port: u16) -> bool {
    is_kerberos(port) || is_dns(port)
}

/// A TCP port a client opens for an RDP session (not the gateway's 443: HTTPS is followed
/// only when an X.224 request shows RDP inside).
pub fn is_rdp_tcp(port: u16) -> bool {
    port == RDP_TCP
}

/// A UDP port where RDP-UDP listens: beside the session host, or behind an RD Gateway.
pub fn is_rdp_udp(port: u16) -> bool {
    port == RDP_UDP || port == GATEWAY_UDP
}

/// UDP on `udp_port` can carry the RDP-UDP transport of a TCP connection to `tcp_port`:
/// the same port, or the gateway's UDP 3391 beside its TCP 443.
pub fn udp_beside_tcp(tcp_port: u16, udp_port: u16) -> bool {
    tcp_port == udp_port || (tcp_port == GATEWAY_TCP && udp_port == GATEWAY_UDP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_filter_names_each_port_with_its_transport() {
        let expected = format!(
            "tcp port {RDP_TCP} or udp port {RDP_UDP} or tcp port {GATEWAY_TCP} or udp port {GATEWAY_UDP}"
        );
        assert_eq!(DEFAULT_FILTER, expected);
    }

    #[test]
    fn gateway_udp_pairs_with_gateway_tcp_only() {
        assert!(udp_beside_tcp(3389, 3389));
        assert!(udp_beside_tcp(443, 3391));
        assert!(!udp_beside_tcp(3389, 3391));
        assert!(!udp_beside_tcp(443, 3389));
        assert!(is_rdp_udp(3391) && is_rdp_udp(3389) && !is_rdp_udp(443));
        assert!(is_rdp_tcp(3389) && !is_rdp_tcp(443));
    }
}
