//! `--redact`: stable pseudonyms for what identifies people and machines, applied once to
//! every diagnosed connection (and capture-level report) before any renderer sees it, so the
//! table, timelines, findings, JSON, live lines and any later report are all redacted alike.
//!
//! Replaced: IP addresses (IPv4 by an address of the reserved 240.0.0.0/4, IPv6 by one of
//! the documentation prefix 2001:db8::/32, so the family stays visible; ports are kept), the
//! `mstshash` cookie (`user-…`), the load-balancer routing token (`token-…`), the GCC client
//! name (`client-…`), and the host names of TLS (SNI, certificate subject/issuer values,
//! subjectAltNames: `host-…`, or the address pseudonym when they are addresses). The same
//! input always gives the same pseudonym under one key: a keyed SipHash-2-4. The key is
//! random per run unless `--redact-key` gives one (then pseudonyms are stable across runs,
//! and the same key must be kept secret: whoever has it can test guesses). Text built from
//! these values (timeline events, finding titles, explanations, evidence notes, decode
//! errors) is rewritten with the same pseudonyms, and any other IP address literal in it too.

use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::diagnose::flood::ServerReport;
use crate::diagnose::{Diagnosed, Finding};
use crate::flow::FlowMeta;
use crate::session::EventKind;

/// SipHash-2-4 of `data` under the key (k0, k1).
fn siphash24(k0: u64, k1: u64, data: &[u8]) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    let compress = |v: &mut [u64; 4], m: u64| {
        v[3] ^= m;
        round(v);
        round(v);
        v[0] ^= m;
    };
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        compress(&mut v, u64::from_le_bytes(w));
    }
    let mut last = [0u8; 8];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    last[7] = data.len() as u8;
    compress(&mut v, u64::from_le_bytes(last));
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// Gives pseudonyms under one key. Its Debug output never shows the key.
#[derive(Clone)]
pub struct Redactor {
    k0: u64,
    k1: u64,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor { key: <secret> }")
    }
}

impl Redactor {
    /// Pseudonyms stable across runs that use the same key.
    pub fn from_key(key: &str) -> Self {
        let k = key.as_bytes();
        Redactor {
            k0: siphash24(0x7264_7073_636f_7065, 1, k),
            k1: siphash24(0x7264_7073_636f_7065, 2, k),
        }
    }

    /// A random key for this run only (from the OS-seeded hasher keys of the standard library).
    pub fn random() -> Self {
        let draw = || {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0x7265_6461_6374);
            h.finish()
        };
        Redactor {
            k0: draw(),
            k1: draw(),
        }
    }

    fn hash(&self, domain: &str, data: &[u8]) -> u64 {
        let mut buf = Vec::with_capacity(domain.len() + 1 + data.len());
        buf.extend_from_slice(domain.as_bytes());
        buf.push(0);
        buf.extend_from_slice(data);
        siphash24(self.k0, self.k1, &buf)
    }

    /// IPv4 into 240.0.0.0/4, IPv6 into 2001:db8::/32.
    pub fn ip(&self, ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V4(a) => {
                let h = self.hash("ipv4", &a.octets()) as u32;
                IpAddr::V4(Ipv4Addr::from(0xf000_0000 | (h & 0x0fff_ffff)))
            }
            IpAddr::V6(a) => {
                let hi = self.hash("ipv6-hi", &a.octets());
                let lo = self.hash("ipv6-lo", &a.octets());
                let bits = (0x2001_0db8u128 << 96) | (u128::from(hi as u32) << 64) | u128::from(lo);
                IpAddr::V6(Ipv6Addr::from(bits))
            }
        }
    }

    /// `prefix-xxxxxx` for a name.
    pub fn name(&self, prefix: &str, s: &str) -> String {
        format!(
            "{prefix}-{:06x}",
            self.hash(prefix, s.as_bytes()) & 0xff_ffff
        )
    }

    /// A host name or an address, as TLS carries it (SNI, certificate names).
    pub fn host(&self, s: &str) -> String {
        match s.parse::<IpAddr>() {
            Ok(ip) => self.ip(ip).to_string(),
            Err(_) => self.name("host", &s.to_ascii_lowercase()),
        }
    }

    /// A distinguished name ("CN=a, O=b") with every attribute value replaced.
    pub fn dn(&self, dn: &str) -> String {
        dn.split(", ")
            .map(|part| match part.split_once('=') {
                Some((k, v)) => format!("{k}={}", self.host(v)),
                None => self.host(part),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn meta(&self, m: &mut FlowMeta) {
        m.client.ip = self.ip(m.client.ip);
        m.server.ip = self.ip(m.server.ip);
    }

    /// Redacts one diagnosed connection in place: fields, then every text built from them.
    pub fn diagnosed(&self, d: &mut Diagnosed) {
        let mut known = Known::default();
        self.meta(&mut d.meta);
        let c = &mut d.connection;
        if let Some(req) = c.x224.request.as_mut() {
            let r = &mut req.value;
            if let Some(v) = r.cookie.as_mut() {
                *v = known.add(v, self.name("user", v));
            }
            if let Some(v) = r.routing_token.as_mut() {
                *v = known.add(v, self.name("token", v));
            }
        }
        if let Some(core) = c
            .mcs
            .connect_initial
            .as_mut()
            .and_then(|ci| ci.value.core.as_mut())
        {
            let pseudonym = self.name("client", &core.client_name);
            let escaped = format!("{:?}", core.client_name);
            known.add(escaped.trim_matches('"'), pseudonym.clone());
            core.client_name = known.add(&core.client_name, pseudonym);
        }
        if let Some(ch) = c.tls.client_hello.as_mut() {
            if let Some(v) = ch.value.sni.as_mut() {
                *v = known.add(v, self.host(v));
            }
        }
        if let Some(certs) = c.tls.certificates.as_mut() {
            for cert in certs.value.iter_mut() {
                for dn in [&mut cert.subject, &mut cert.issuer] {
                    for part in dn.split(", ") {
                        if let Some((_, v)) = part.split_once('=') {
                            known.add(v, self.host(v));
                        }
                    }
                    *dn = known.add(dn, self.dn(dn));
                }
                for san in cert.sans.iter_mut() {
                    *san = known.add(san, self.host(san));
                }
            }
        }
        if let Some((_, icmp)) = c.unreachable.as_mut() {
            icmp.inner_src = self.ip(icmp.inner_src);
            icmp.inner_dst = self.ip(icmp.inner_dst);
        }
        known.sort();
        for e in c.timeline.events.iter_mut() {
            self.event(&mut e.kind);
        }
        for f in d.findings.iter_mut() {
            self.finding(f, &known);
        }
    }

    /// The identifying values an event carries: cookie, client name, SNI, certificate names,
    /// the addresses an ICMP message quotes.
    fn event(&self, k: &mut EventKind) {
        match k {
            EventKind::X224Request {
                cookie: Some(c), ..
            } => *c = self.name("user", c),
            EventKind::McsConnectInitial { client: Some(c) } => {
                c.name = self.name("client", &c.name)
            }
            EventKind::TlsClientHello { sni: Some(s), .. } => *s = self.host(s),
            EventKind::TlsCertificate { subject, .. } => *subject = self.dn(subject),
            EventKind::IcmpUnreachable(icmp) => {
                icmp.inner_src = self.ip(icmp.inner_src);
                icmp.inner_dst = self.ip(icmp.inner_dst);
            }
            _ => {}
        }
    }

    /// Redacts a capture-level server report in place.
    pub fn server(&self, s: &mut ServerReport) {
        s.server.ip = self.ip(s.server.ip);
        for f in s.findings.iter_mut() {
            self.finding(f, &Known::default());
        }
    }

    fn finding(&self, f: &mut Finding, known: &Known) {
        f.title = self.text(&f.title, known);
        f.explanation = self.text(&f.explanation, known);
        f.fix = self.text(&f.fix, known);
        for e in f.evidence.iter_mut() {
            e.note = self.text(&e.note, known);
        }
    }

    /// `s` with every IP address literal replaced, then every known value (addresses first,
    /// so a pseudonym is never mapped again).
    fn text(&self, s: &str, known: &Known) -> String {
        let mut out = self.ip_literals(s);
        for (value, pseudonym) in &known.pairs {
            out = replace_value(&out, value, pseudonym);
        }
        out
    }

    /// Replaces IPv4 (dotted quad) and IPv6 literals found in free text.
    fn ip_literals(&self, s: &str) -> String {
        let is_addr_char = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find(is_addr_char) {
            let (before, tail) = rest.split_at(start);
            out.push_str(before);
            let len = tail.find(|c: char| !is_addr_char(c)).unwrap_or(tail.len());
            let (run, after) = tail.split_at(len);
            let glued = before
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
            out.push_str(&self.redact_run(run, glued));
            rest = after;
        }
        out.push_str(rest);
        out
    }

    /// One run of address characters: "10.0.0.1:3389", "fe80::1", "12:30:01", "TLSv1.2"...
    fn redact_run(&self, run: &str, glued: bool) -> String {
        if !glued && run.matches(':').count() >= 2 {
            let trimmed = run.trim_end_matches(['.', ':']);
            if let Ok(ip) = trimmed.parse::<Ipv6Addr>() {
                return format!("{}{}", self.ip(IpAddr::V6(ip)), &run[trimmed.len()..]);
            }
        }
        // IPv4 quads anywhere in the run (a port or a full stop may follow).
        let mut out = String::new();
        let mut rest = run;
        while !rest.is_empty() {
            match first_ipv4(rest) {
                Some((at, len, ip)) => {
                    out.push_str(&rest[..at]);
                    out.push_str(&self.ip(IpAddr::V4(ip)).to_string());
                    rest = &rest[at + len..];
                }
                None => {
                    out.push_str(rest);
                    break;
                }
            }
        }
        out
    }
}

/// The first dotted quad in `s` not part of a longer dotted number: (offset, length, address).
fn first_ipv4(s: &str) -> Option<(usize, usize, Ipv4Addr)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && (b[i - 1].is_ascii_digit() || b[i - 1] == b'.')) {
            i += 1;
            continue;
        }
        let len = b[i..]
            .iter()
            .position(|c| !c.is_ascii_digit() && *c != b'.')
            .unwrap_or(b.len() - i);
        let cand = s[i..i + len].trim_end_matches('.');
        if let Ok(ip) = cand.parse::<Ipv4Addr>() {
            return Some((i, cand.len(), ip));
        }
        i += len.max(1);
    }
    None
}

/// Replaces `value` in `s`: anywhere when it is 4 characters or more, as a whole word when
/// shorter (a one-letter user name must not eat every "a" of the text).
fn replace_value(s: &str, value: &str, pseudonym: &str) -> String {
    if !s.contains(value) {
        return s.to_string();
    }
    if value.chars().count() >= 4 {
        return s.replace(value, pseudonym);
    }
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(value) {
        let end = at + value.len();
        let alone = !word(rest[..at].chars().next_back()) && !word(rest[end..].chars().next());
        out.push_str(&rest[..at]);
        out.push_str(if alone { pseudonym } else { value });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Values seen in a connection's fields and their pseudonyms, longest first.
#[derive(Default)]
struct Known {
    pairs: Vec<(String, String)>,
}

impl Known {
    /// Remembers `value` -> `pseudonym` and returns the pseudonym.
    /// Addresses are left to the literal scan of the text.
    fn add(&mut self, value: &str, pseudonym: String) -> String {
        if !value.is_empty() && value != pseudonym && value.parse::<IpAddr>().is_err() {
            self.pairs.push((value.to_string(), pseudonym.clone()));
        }
        pseudonym
    }

    fn sort(&mut self) {
        self.pairs
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        self.pairs.dedup_by(|a, b| a.0 == b.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siphash_matches_the_reference_vector() {
        // SipHash-2-4 paper, appendix A: key 00..0f, empty message.
        let k0 = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        let k1 = u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]);
        assert_eq!(siphash24(k0, k1, b""), 0x726f_db47_dd0e_0e31);
    }

    #[test]
    fn pseudonyms_are_stable_per_key_and_keep_the_family() {
        let a = Redactor::from_key("k");
        let b = Redactor::from_key("k");
        let other = Redactor::from_key("other");
        let v4: IpAddr = "10.99.0.1".parse().unwrap();
        let v6: IpAddr = "fe80::1".parse().unwrap();
        assert_eq!(a.ip(v4), b.ip(v4));
        assert_ne!(a.ip(v4), other.ip(v4));
        assert!(a.ip(v4).to_string().starts_with("24") || a.ip(v4).to_string().starts_with("25"));
        assert!(a.ip(v4).is_ipv4() && a.ip(v6).is_ipv6());
        assert!(a.ip(v6).to_string().starts_with("2001:db8:"));
        assert_eq!(a.name("user", "labuser"), b.name("user", "labuser"));
        assert!(a.name("user", "labuser").starts_with("user-"));
        assert_eq!(a.host("SRV.example"), a.host("srv.example"));
        assert_eq!(a.host("10.99.0.1"), a.ip(v4).to_string());
    }

    #[test]
    fn text_loses_every_address_and_known_value() {
        let r = Redactor::from_key("k");
        let mut known = Known::default();
        known.add("labuser", r.name("user", "labuser"));
        known.sort();
        let s = "cookie mstshash=labuser from 10.99.0.2:36512 to [fe80::1]:3389, \
                 SNI 10.99.0.1. TLSv1.2, RDP 10.7, OID 1.2.840.113549.1.1.11 at 23:12:01";
        let t = r.text(s, &known);
        for leak in ["labuser", "10.99.0.2", "fe80::1", "10.99.0.1"] {
            assert!(!t.contains(leak), "{leak} in {t}");
        }
        for kept in [
            ":36512",
            "]:3389",
            "TLSv1.2",
            "RDP 10.7",
            "1.2.840.113549.1.1.11",
            "23:12:01",
        ] {
            assert!(t.contains(kept), "{kept} lost from {t}");
        }
        assert!(t.contains(&r.ip("10.99.0.1".parse().unwrap()).to_string()));
    }

    #[test]
    fn distinguished_names_keep_their_shape() {
        let r = Redactor::from_key("k");
        let dn = r.dn("CN=srv01.corp.example, O=Corp");
        assert!(
            dn.starts_with("CN=host-") && dn.contains(", O=host-"),
            "{dn}"
        );
        assert!(!dn.contains("srv01") && !dn.contains("Corp"));
    }
}
