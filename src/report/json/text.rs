//! Values of a `--json` line written without `fmt`: each line has several, and the
//! formatting machinery costs more than the bytes they hold.

use std::net::{IpAddr, Ipv4Addr};

use crate::flow::Endpoint;

/// `e` as its `Display` writes it (`10.0.0.1:3389`, `[::1]:3389`). An IPv4 endpoint, the
/// usual case, is written digit by digit: two per line, and `fmt` took about 1,800
/// instructions for each.
pub(in crate::report) fn endpoint_text(e: &Endpoint) -> String {
    let IpAddr::V4(ip) = e.ip else {
        return e.to_string();
    };
    let mut out = String::with_capacity(21);
    push_v4(&mut out, ip);
    out.push(':');
    out.push_str(itoa::Buffer::new().format(e.port));
    out
}

/// `ip` as its `Display` writes it, an IPv4 address digit by digit as `endpoint_text` does.
pub(in crate::report) fn ip_text(ip: &IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut out = String::with_capacity(15);
    push_v4(&mut out, *v4);
    out
}

fn push_v4(out: &mut String, ip: Ipv4Addr) {
    let mut digits = itoa::Buffer::new();
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(digits.format(octet));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_read_as_their_display_writes_them() {
        for (ip, port) in [
            ("10.0.0.1", 3389),
            ("0.0.0.0", 0),
            ("255.255.255.255", 65535),
            ("192.168.100.7", 49_152),
            ("::1", 3389),
            ("fe80::1:2", 443),
        ] {
            let e = Endpoint {
                ip: ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
                port,
            };
            assert_eq!(endpoint_text(&e), e.to_string());
            assert_eq!(ip_text(&e.ip), e.ip.to_string());
        }
    }
}
