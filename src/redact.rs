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
//! errors) is made from the redacted values: no text is scanned.

use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::capture::IcmpUnreachable;
use crate::diagnose::flood::ServerReport;
use crate::diagnose::{CertProblem, Diagnosed, Facts, Finding, Note};
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
    for (slot, byte) in last.iter_mut().zip(rest) {
        *slot = *byte;
    }
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

    /// Redacts one diagnosed connection in place: its fields, its events and its findings'
    /// facts, each by type, before any renderer makes words of them.
    pub fn diagnosed(&self, d: &mut Diagnosed) {
        self.meta(&mut d.meta);
        self.auth_context(&mut d.auth_context);
        let c = &mut d.connection;
        if let Some(req) = c.x224.request.as_mut() {
            let r = &mut req.value;
            if let Some(v) = r.cookie.as_mut() {
                *v = self.name("user", v);
            }
            if let Some(v) = r.routing_token.as_mut() {
                *v = self.name("token", v);
            }
        }
        if let Some(core) = c
            .mcs
            .connect_initial
            .as_mut()
            .and_then(|ci| ci.value.core.as_mut())
        {
            core.client_name = self.name("client", &core.client_name);
        }
        if let Some(ch) = c.tls.client_hello.as_mut() {
            if let Some(v) = ch.value.sni.as_mut() {
                *v = self.host(v);
            }
        }
        if let Some(gw) = c.gateway_inside.as_deref_mut() {
            self.gateway_inside(&mut gw.facts);
        }
        if let Some(g) = c.gateway.as_deref_mut() {
            if let Some(v) = g.server_name.as_mut() {
                *v = self.host(v);
            }
        }
        if let Some(certs) = c.tls.certificates.as_mut() {
            for cert in certs.value.iter_mut() {
                cert.subject = self.dn(&cert.subject);
                cert.issuer = self.dn(&cert.issuer);
                if let Some(cn) = cert.common_name.as_mut() {
                    *cn = self.host(cn);
                }
                for san in cert.sans.iter_mut() {
                    *san = self.host(san);
                }
            }
        }
        if let Some(n) = c.inner.as_deref_mut().and_then(|i| i.credssp.ntlm.as_mut()) {
            n.user = self.name("user", &n.user);
            n.domain = self.name("domain", &n.domain);
            n.workstation = self.name("client", &n.workstation);
        }
        if let Some(t) = c
            .inner
            .as_deref_mut()
            .and_then(|i| i.rdp.redirect.as_mut())
            .and_then(|r| r.value.target.as_mut())
        {
            *t = self.host(t);
        }
        if let Some((_, icmp)) = c.unreachable.as_deref_mut() {
            self.icmp(icmp);
        }
        for e in c.timeline.events.iter_mut() {
            self.event(&mut e.kind);
        }
        for f in d.findings.iter_mut() {
            self.finding(f);
        }
    }

    fn icmp(&self, icmp: &mut IcmpUnreachable) {
        icmp.inner_src = self.ip(icmp.inner_src);
        icmp.inner_dst = self.ip(icmp.inner_dst);
    }

    /// The identifying values an event carries: cookie, client name, SNI, certificate names,
    /// the addresses an ICMP message quotes.
    fn event(&self, k: &mut EventKind) {
        match k {
            EventKind::X224Request {
                cookie: Some(c), ..
            } => *c = self.name("user", c).into(),
            EventKind::McsConnectInitial { client: Some(c) } => {
                c.name = self.name("client", &c.name)
            }
            EventKind::TlsClientHello { sni: Some(s), .. } => *s = self.host(s).into(),
            EventKind::TlsCertificate(c) => c.subject = self.dn(&c.subject),
            EventKind::IcmpUnreachable(icmp) => self.icmp(icmp),
            EventKind::Inner(crate::session::InnerEvent::ServerRedirection { target: Some(t) }) => {
                *t = self.host(t)
            }
            _ => {}
        }
    }

    /// The names and addresses a finding's facts and evidence carry.
    fn finding(&self, f: &mut Finding) {
        match &mut f.facts {
            Facts::RefusedByIcmp(icmp) => self.icmp(icmp),
            Facts::CertificateProblem { subject, problems } => {
                *subject = self.dn(subject);
                self.cert_problems(problems);
            }
            Facts::ClientRejectedCertificate { problems } => self.cert_problems(problems),
            Facts::Abort { last: Some(e), .. } => self.event(&mut e.kind),
            Facts::SegmentBlackHoled {
                carried: Some(e), ..
            } => self.event(&mut e.kind),
            Facts::ConnectionFlood(flood) => flood.server.ip = self.ip(flood.server.ip),
            Facts::Inside(crate::diagnose::inside::InsideFacts::RedirectTargetFailed {
                target: Some(t),
            }) => *t = self.host(t),
            Facts::Side(side) => self.side_facts(side),
            Facts::GatewayInside(g) => self.gateway_finding(g),
            _ => {}
        }
        for e in f.evidence.iter_mut() {
            match &mut e.note {
                Note::Icmp(icmp) => self.icmp(icmp),
                Note::ServerCertificate(subject) => *subject = self.dn(subject),
                Note::LastMessage(event) => self.event(&mut event.kind),
                Note::Inside(crate::diagnose::inside::InsideNote::Redirect(Some(t))) => {
                    *t = self.host(t)
                }
                Note::Side(n) => self.side_note(n),
                _ => {}
            }
        }
    }

    /// The names a decrypted gateway stream shows: the user, the client, the target host,
    /// the realm.
    fn gateway_inside(&self, f: &mut crate::session::gateway::GatewayInsideFacts) {
        if let Some(u) = f.user_id.as_mut() {
            *u = self.name("user", u);
        }
        if let Some(n) = f.tunnel.client_name.as_mut() {
            *n = self.name("client", n);
        }
        if let Some(t) = f.channel.target.as_mut() {
            *t = self.host(t);
        }
        for t in f.channel.alternatives.iter_mut() {
            *t = self.host(t);
        }
        if let Some(d) = f.kdc_proxy.target_domain.as_mut() {
            *d = self.host(d);
        }
    }

    fn gateway_finding(&self, g: &mut crate::diagnose::gateway_inside::GatewayFinding) {
        use crate::diagnose::gateway_inside::GatewayFinding as G;
        match g {
            G::PolicyDenied {
                target: Some(t), ..
            }
            | G::TargetUnreachable {
                target: Some(t), ..
            } => *t = self.host(t),
            G::KdcProxyFailed {
                target_domain: Some(d),
                ..
            } => *d = self.host(d),
            _ => {}
        }
    }

    fn cert_problems(&self, problems: &mut [CertProblem]) {
        for p in problems {
            if let CertProblem::NameMismatch { subject, sni } = p {
                *subject = self.dn(subject);
                *sni = self.host(sni);
            }
        }
    }

    /// A Kerberos principal (`user`, `user@REALM`, `TERMSRV/host`): each component mapped,
    /// the service class kept.
    fn principal(&self, p: &str) -> String {
        let (name, realm) = p.split_once('@').map_or((p, None), |(n, r)| (n, Some(r)));
        let mut parts: Vec<String> = name.split('/').map(str::to_string).collect();
        match parts.as_mut_slice() {
            [user] => *user = self.name("user", user),
            [_service, host, ..] => *host = self.host(host),
            [] => {}
        }
        let mut out = parts.join("/");
        if let Some(r) = realm {
            out = format!("{out}@{}", self.host(r));
        }
        out
    }

    /// The names and addresses of the Kerberos and DNS exchanges tied to a connection.
    fn auth_context(&self, c: &mut crate::correlate::AuthContext) {
        for t in c.kerberos.iter_mut() {
            t.server.ip = self.ip(t.server.ip);
            if let Some(q) = t.value.request.as_mut() {
                q.cname = q.cname.as_deref().map(|n| self.principal(n));
                q.sname = q.sname.as_deref().map(|n| self.principal(n));
                q.realm = self.host(&q.realm);
            }
            if let Some(r) = t.value.reply.as_mut() {
                r.cname = r.cname.as_deref().map(|n| self.principal(n));
                r.sname = r.sname.as_deref().map(|n| self.principal(n));
                r.realm = self.host(&r.realm);
            }
        }
        for t in c.kdc_connects.iter_mut() {
            t.server.ip = self.ip(t.server.ip);
        }
        for t in c.dns.iter_mut() {
            t.server.ip = self.ip(t.server.ip);
            t.value.name = self.host(&t.value.name);
            if let Some(r) = t.value.reply.as_mut() {
                r.addresses.iter_mut().for_each(|a| *a = self.ip(*a));
                r.srv_targets.iter_mut().for_each(|h| *h = self.host(h));
                r.aliases.iter_mut().for_each(|h| *h = self.host(h));
            }
        }
    }

    fn side_facts(&self, f: &mut crate::diagnose::side::SideFacts) {
        use crate::diagnose::side::SideFacts;
        match f {
            SideFacts::KdcError {
                cname,
                sname,
                realm,
                kdc,
                ..
            } => {
                *cname = cname.as_deref().map(|n| self.principal(n));
                *sname = sname.as_deref().map(|n| self.principal(n));
                *realm = self.host(realm);
                kdc.ip = self.ip(kdc.ip);
            }
            SideFacts::KdcUnreachable { kdc, .. } => kdc.ip = self.ip(kdc.ip),
            SideFacts::DnsFailed { name, .. } => *name = self.host(name),
            SideFacts::DnsMismatch {
                name,
                answered,
                used,
            } => {
                *name = self.host(name);
                answered.iter_mut().for_each(|a| *a = self.ip(*a));
                *used = self.ip(*used);
            }
        }
    }

    fn side_note(&self, n: &mut crate::diagnose::side::SideNote) {
        use crate::diagnose::side::SideNote;
        match n {
            SideNote::KrbRequest { sname, .. } => {
                *sname = sname.as_deref().map(|s| self.principal(s))
            }
            SideNote::DnsQuery(name) | SideNote::DnsUnanswered(name) => *name = self.host(name),
            SideNote::DnsAnswer { addresses, .. } => {
                addresses.iter_mut().for_each(|a| *a = self.ip(*a))
            }
            _ => {}
        }
    }

    /// An attempt's client and server addresses.
    pub fn attempt<O>(&self, a: &mut crate::correlate::Attempt<O>) {
        a.client = self.ip(a.client);
        a.server.ip = self.ip(a.server.ip);
    }

    /// Redacts a capture-level server report in place.
    pub fn server(&self, s: &mut ServerReport) {
        s.server.ip = self.ip(s.server.ip);
        for f in s.findings.iter_mut() {
            self.finding(f);
        }
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
    fn synthetic_typed_fields_are_mapped_before_any_words_are_made() {
        use crate::flow::Side;
        use crate::report::{events, findings, test_support};
        let r = Redactor::from_key("k");
        let mut d = test_support::nla_failure();
        let at = d.meta.first;
        d.connection.timeline.push(
            &at,
            Side::Client,
            EventKind::X224Request {
                cookie: Some("labuser".into()),
                routing_token: false,
                protocols: None,
            },
        );
        d.findings.push(test_support::certificate_finding(
            "CN=srv01.corp.example",
            "srv01.corp.example",
        ));
        r.diagnosed(&mut d);
        let mut text: Vec<String> = d
            .connection
            .timeline
            .events
            .iter()
            .map(|e| events::event_text(e).into_owned())
            .collect();
        for f in &d.findings {
            let w = findings::words(f, &d.meta.server);
            text.extend([w.title, w.explanation]);
            text.extend(f.evidence.iter().map(|e| findings::note_text(&e.note)));
        }
        let all = text.join("\n");
        for leak in ["labuser", "srv01", "corp.example", "10.0.0.1", "10.0.0.2"] {
            assert!(!all.contains(leak), "{leak} in {all}");
        }
        assert!(
            all.contains(&format!("mstshash={}", r.name("user", "labuser"))),
            "{all}"
        );
        assert!(all.contains(&r.dn("CN=srv01.corp.example")), "{all}");
        assert!(all.contains(&r.host("srv01.corp.example")), "{all}");
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
