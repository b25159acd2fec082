//! Values of a `--json` line written without `fmt`: each line has several, and the
//! formatting machinery costs more than the bytes they hold.

use crate::flow::Endpoint;

/// `e` as its `Display` writes it (`10.0.0.1:3389`, `[::1]:3389`). An IPv4 endpoint, the
/// usual case, is written digit by digit: two per line, and `fmt` took about 1,800
/// instructions for each.
pub(super) fn endpoint_text(e: &Endpoint) -> String {
    let std::net::IpAddr::V4(ip) = e.ip else {
        return e.to_string();
    };
    let mut out = String::with_capacity(21);
    let mut digits = itoa::Buffer::new();
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(digits.format(octet));
    }
    out.push(':');
    out.push_str(digits.format(e.port));
    out
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
                ip: ip.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
                port,
            };
            assert_eq!(endpoint_text(&e), e.to_string());
        }
    }
}
