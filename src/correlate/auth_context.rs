//! The Kerberos and DNS exchanges around an RDP connection (its `auth_context`).
//!
//! Design (memory stays bounded while connections stream out as they finish): side flows are
//! copied here as they change, kept per capture for `RETAIN_NS` after their last packet and
//! at most `MAX_RECORDS` in all. A finishing RDP connection takes, from the same client
//! address, the exchanges between `TIE_WINDOW_NS` before its first packet and its last one:
//! its authentication (NLA's Kerberos, the name lookup before the SYN) runs in that span. The
//! side exchanges therefore never wait for a connection; a record that expires (or is left at
//! the end) without serving any connection is handed back as an orphan, so a failed lookup
//! with no connection after it is still reported.

use std::collections::VecDeque;
use std::net::IpAddr;

use crate::flow::{Endpoint, FlowMeta, TransportKind};
use crate::session::dns::DnsLookup;
use crate::session::kerberos::{KdcConnect, KrbExchange};
use crate::session::{Connection, SideFlow};

/// How long before a connection's first packet a side exchange can serve it.
pub const TIE_WINDOW_NS: i64 = 60_000_000_000;
/// How long a side flow is kept after its last change.
pub const RETAIN_NS: i64 = 120_000_000_000;
/// Side flows kept at once.
pub const MAX_RECORDS: usize = 4096;
/// Items of each kind in one connection's context.
pub const MAX_TIED: usize = 32;
/// Orphan records kept for the closing report.
pub const MAX_ORPHANS: usize = 64;

/// What a side flow held.
#[derive(Debug, Clone, PartialEq)]
pub enum SideContent {
    Kerberos {
        exchanges: Vec<KrbExchange>,
        connect: Option<KdcConnect>,
    },
    Dns(Vec<DnsLookup>),
}

/// One side flow as the correlator keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct SideRecord {
    pub flow: u64,
    pub transport: TransportKind,
    pub client: IpAddr,
    pub server: Endpoint,
    pub first_ns: i64,
    pub last_ns: i64,
    pub content: SideContent,
    /// Served at least one connection.
    pub tied: bool,
}

impl SideRecord {
    pub fn new(meta: &FlowMeta, side: &SideFlow) -> Self {
        SideRecord {
            flow: meta.id,
            transport: meta.transport,
            client: meta.client.ip,
            server: meta.server,
            first_ns: meta.first.ts_ns,
            last_ns: meta.last.ts_ns,
            content: match side {
                SideFlow::Kerberos(k) => SideContent::Kerberos {
                    exchanges: k.exchanges.clone(),
                    connect: k.connect,
                },
                SideFlow::Dns(d) => SideContent::Dns(d.lookups.clone()),
            },
            tied: false,
        }
    }
}

/// Why an exchange was tied to the connection, beyond the same client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameTie {
    /// The service ticket asked for is `TERMSRV/<host>` with host the SNI or the certificate.
    ServicePrincipal,
    /// The Kerberos client principal is the user of the X.224 cookie (`mstshash=user`).
    CookieUser,
    /// The DNS name looked up is the SNI or the certificate's name.
    ServerName,
    /// The DNS answer holds the address the client connected to.
    AnswerIsServer,
}

/// The basis of a tie: the same client, `offset_ms` from the connection's first packet
/// (negative: before it), and a matching name when there is one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TieBasis {
    pub offset_ms: f64,
    pub name: Option<NameTie>,
}

/// A side value tied to a connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Tied<T> {
    pub flow: u64,
    pub transport: TransportKind,
    pub server: Endpoint,
    pub basis: TieBasis,
    pub value: T,
}

/// The side exchanges that served one connection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthContext {
    pub kerberos: Vec<Tied<KrbExchange>>,
    pub kdc_connects: Vec<Tied<KdcConnect>>,
    pub dns: Vec<Tied<DnsLookup>>,
    /// When the context was taken (the connection's last packet, capture time).
    pub now_ns: i64,
    /// The time evidence offsets count from (the connection's first packet).
    pub start_ns: i64,
}

impl AuthContext {
    pub fn is_empty(&self) -> bool {
        self.kerberos.is_empty() && self.kdc_connects.is_empty() && self.dns.is_empty()
    }
}

/// The names a connection showed for its server and user, lower case.
#[derive(Debug, Default)]
struct ConnectionNames {
    hosts: Vec<String>,
    user: Option<String>,
}

fn connection_names(c: &Connection) -> ConnectionNames {
    let mut hosts = Vec::new();
    if let Some(sni) = c
        .tls
        .client_hello
        .as_ref()
        .and_then(|h| h.value.sni.as_ref())
    {
        hosts.push(sni.to_ascii_lowercase());
    }
    if let Some(leaf) = c.tls.certificates.as_ref().and_then(|x| x.value.first()) {
        hosts.extend(leaf.sans.iter().map(|s| s.to_ascii_lowercase()));
        if let Some(cn) = leaf.subject.split("CN=").nth(1) {
            hosts.push(
                cn.split(',')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase(),
            );
        }
    }
    let user = c
        .x224
        .request
        .as_ref()
        .and_then(|r| r.value.cookie.as_ref())
        .and_then(|k| k.split("mstshash=").nth(1))
        .map(|u| u.trim().to_ascii_lowercase());
    ConnectionNames { hosts, user }
}

/// `a` and `b` name the same host: equal, or one is the other's first label.
fn same_host(a: &str, b: &str) -> bool {
    let first = |s: &str| s.split('.').next().unwrap_or("").to_string();
    !a.is_empty() && (a == b || first(a) == b || first(b) == a)
}

fn krb_name_tie(x: &KrbExchange, names: &ConnectionNames) -> Option<NameTie> {
    let req = x.request.as_ref()?;
    let spn_host = req
        .sname
        .as_deref()
        .and_then(|s| s.strip_prefix("TERMSRV/"))
        .map(str::to_ascii_lowercase);
    if spn_host.is_some_and(|h| names.hosts.iter().any(|n| same_host(&h, n))) {
        return Some(NameTie::ServicePrincipal);
    }
    let cname = req.cname.as_deref().map(str::to_ascii_lowercase)?;
    names
        .user
        .as_deref()
        .filter(|u| cname.split('@').next() == Some(u))
        .map(|_| NameTie::CookieUser)
}

fn dns_name_tie(l: &DnsLookup, server: IpAddr, names: &ConnectionNames) -> Option<NameTie> {
    if l.reply
        .as_ref()
        .is_some_and(|r| r.addresses.contains(&server))
    {
        Some(NameTie::AnswerIsServer)
    } else if names.hosts.iter().any(|h| same_host(&l.name, h)) {
        Some(NameTie::ServerName)
    } else {
        None
    }
}

/// The side flows seen recently.
#[derive(Debug, Default)]
pub struct SideStore {
    records: VecDeque<SideRecord>,
    orphans: Vec<SideRecord>,
    /// What `records` holds, so the common answers ("not kept yet", "nothing from this
    /// client") need no walk through up to `MAX_RECORDS` records for every flow.
    index: RecordIndex,
    /// Records dropped from the front of `records` so far: the record with serial `n`
    /// stands at `n - popped`.
    popped: u64,
}

/// The flows (with their records' serials) and, for each client address, the serials of its
/// kept records in the order they were kept: a finishing connection looks at its client's
/// records only, not at every record kept (up to `MAX_RECORDS`, a walk for each connection
/// once a long capture has filled the store).
#[derive(Debug, Default)]
struct RecordIndex {
    flows: std::collections::HashMap<u64, u64, ahash::RandomState>,
    clients: std::collections::HashMap<IpAddr, VecDeque<u64>, ahash::RandomState>,
}

impl RecordIndex {
    fn add(&mut self, r: &SideRecord, serial: u64) {
        self.flows.insert(r.flow, serial);
        self.clients.entry(r.client).or_default().push_back(serial);
    }

    /// `r`, the oldest record kept, is dropped: it is its client's oldest too.
    fn remove(&mut self, r: &SideRecord) {
        self.flows.remove(&r.flow);
        if let Some(serials) = self.clients.get_mut(&r.client) {
            serials.pop_front();
            if serials.is_empty() {
                self.clients.remove(&r.client);
            }
        }
    }
}

impl SideStore {
    /// A side flow changed: keep its latest state.
    pub fn update(&mut self, record: SideRecord) {
        let now = record.last_ns;
        if let Some(r) = self.kept_mut(record.flow) {
            let tied = r.tied;
            *r = record;
            r.tied = tied;
        } else {
            self.push(record);
        }
        self.expire(now);
    }

    /// A side flow changed: its record refreshed in place (the lists it holds reuse their
    /// memory), or made when the flow is not kept yet. The same as `update` with
    /// `SideRecord::new(meta, side)`.
    pub fn note(&mut self, meta: &FlowMeta, side: &SideFlow) {
        if let Some(r) = self.kept_mut(meta.id) {
            r.first_ns = meta.first.ts_ns;
            r.last_ns = meta.last.ts_ns;
            r.transport = meta.transport;
            r.server = meta.server;
            match (&mut r.content, side) {
                (SideContent::Kerberos { exchanges, connect }, SideFlow::Kerberos(k)) => {
                    exchanges.clone_from(&k.exchanges);
                    *connect = k.connect;
                }
                (SideContent::Dns(lookups), SideFlow::Dns(d)) => lookups.clone_from(&d.lookups),
                (content, _) => *content = SideRecord::new(meta, side).content,
            }
        } else {
            self.push(SideRecord::new(meta, side));
        }
        self.expire(meta.last.ts_ns);
    }

    /// The kept record of `flow`, found through its serial.
    fn kept_mut(&mut self, flow: u64) -> Option<&mut SideRecord> {
        let serial = *self.index.flows.get(&flow)?;
        let at = usize::try_from(serial.checked_sub(self.popped)?).ok()?;
        self.records.get_mut(at).filter(|r| r.flow == flow)
    }

    fn push(&mut self, record: SideRecord) {
        let serial = self.popped + self.records.len() as u64;
        self.index.add(&record, serial);
        self.records.push_back(record);
    }

    fn pop_front(&mut self) -> Option<SideRecord> {
        let r = self.records.pop_front()?;
        self.popped += 1;
        self.index.remove(&r);
        Some(r)
    }

    /// Drops records older than `RETAIN_NS` (or past `MAX_RECORDS`), keeping orphans.
    pub fn expire(&mut self, now_ns: i64) {
        while let Some(front) = self.records.front() {
            if front.last_ns >= now_ns - RETAIN_NS && self.records.len() <= MAX_RECORDS {
                break;
            }
            if let Some(r) = self.pop_front() {
                self.orphan(r);
            }
        }
    }

    fn orphan(&mut self, r: SideRecord) {
        if !r.tied && self.orphans.len() < MAX_ORPHANS {
            self.orphans.push(r);
        }
    }

    /// The context of a connection that just finished.
    pub fn context_for(&mut self, meta: &FlowMeta, conn: &Connection) -> AuthContext {
        let from = meta.first.ts_ns - TIE_WINDOW_NS;
        let to = meta.last.ts_ns;
        let t0 = meta.first.ts_ns;
        let offset = |ts: i64| (ts - t0) as f64 / 1e6;
        let mut ctx = AuthContext {
            now_ns: to,
            start_ns: t0,
            ..AuthContext::default()
        };
        let Some(serials) = self.index.clients.get(&meta.client.ip) else {
            return ctx;
        };
        let names = connection_names(conn);
        // Serials in the order kept: the records in the order a walk of `records` meets them.
        for &serial in serials {
            let at = serial.checked_sub(self.popped).map(usize::try_from);
            let Some(r) = at
                .and_then(Result::ok)
                .and_then(|i| self.records.get_mut(i))
            else {
                continue;
            };
            if r.client != meta.client.ip || r.last_ns < from || r.first_ns > to {
                continue;
            }
            let in_window = |ts: i64| ts >= from && ts <= to;
            let mut used = false;
            match &r.content {
                SideContent::Kerberos { exchanges, connect } => {
                    for x in exchanges {
                        let ts = x
                            .request
                            .as_ref()
                            .map(|q| q.at.ts_ns)
                            .or(x.reply.as_ref().map(|p| p.at.ts_ns))
                            .unwrap_or(r.first_ns);
                        if in_window(ts) && ctx.kerberos.len() < MAX_TIED {
                            used = true;
                            ctx.kerberos.push(Tied {
                                flow: r.flow,
                                transport: r.transport,
                                server: r.server,
                                basis: TieBasis {
                                    offset_ms: offset(ts),
                                    name: krb_name_tie(x, &names),
                                },
                                value: x.clone(),
                            });
                        }
                    }
                    if let Some(c) = connect {
                        if in_window(c.first_syn.ts_ns) && ctx.kdc_connects.len() < MAX_TIED {
                            used = true;
                            ctx.kdc_connects.push(Tied {
                                flow: r.flow,
                                transport: r.transport,
                                server: r.server,
                                basis: TieBasis {
                                    offset_ms: offset(c.first_syn.ts_ns),
                                    name: None,
                                },
                                value: *c,
                            });
                        }
                    }
                }
                SideContent::Dns(lookups) => {
                    for l in lookups {
                        if in_window(l.at.ts_ns) && ctx.dns.len() < MAX_TIED {
                            used = true;
                            ctx.dns.push(Tied {
                                flow: r.flow,
                                transport: r.transport,
                                server: r.server,
                                basis: TieBasis {
                                    offset_ms: offset(l.at.ts_ns),
                                    name: dns_name_tie(l, meta.server.ip, &names),
                                },
                                value: l.clone(),
                            });
                        }
                    }
                }
            }
            r.tied |= used;
        }
        ctx.kerberos.sort_by_key(|t| t.basis.offset_ms as i64);
        ctx.dns.sort_by_key(|t| t.basis.offset_ms as i64);
        ctx
    }

    /// End of capture: the side flows that served no connection.
    pub fn finish(&mut self) -> Vec<SideRecord> {
        while let Some(r) = self.pop_front() {
            self.orphan(r);
        }
        std::mem::take(&mut self.orphans)
    }
}

/// The context of side flows that served no connection, one client at a time.
pub fn orphan_context(records: &[SideRecord], now_ns: i64) -> Vec<(IpAddr, AuthContext)> {
    let mut out: Vec<(IpAddr, AuthContext)> = Vec::new();
    for r in records {
        let i = match out.iter().position(|(c, _)| *c == r.client) {
            Some(i) => i,
            None => {
                out.push((
                    r.client,
                    AuthContext {
                        now_ns,
                        start_ns: r.first_ns,
                        ..AuthContext::default()
                    },
                ));
                out.len() - 1
            }
        };
        let Some((_, ctx)) = out.get_mut(i) else {
            continue;
        };
        let tie = |ts: i64| TieBasis {
            offset_ms: (ts - r.first_ns) as f64 / 1e6,
            name: None,
        };
        match &r.content {
            SideContent::Kerberos { exchanges, connect } => {
                for x in exchanges.iter().take(MAX_TIED) {
                    ctx.kerberos.push(Tied {
                        flow: r.flow,
                        transport: r.transport,
                        server: r.server,
                        basis: tie(r.first_ns),
                        value: x.clone(),
                    });
                }
                if let Some(c) = connect {
                    ctx.kdc_connects.push(Tied {
                        flow: r.flow,
                        transport: r.transport,
                        server: r.server,
                        basis: tie(r.first_ns),
                        value: *c,
                    });
                }
            }
            SideContent::Dns(lookups) => {
                for l in lookups.iter().take(MAX_TIED) {
                    ctx.dns.push(Tied {
                        flow: r.flow,
                        transport: r.transport,
                        server: r.server,
                        basis: tie(l.at.ts_ns),
                        value: l.clone(),
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod index_tests {
    use super::*;

    fn record(flow: u64, client: [u8; 4], last_s: i64) -> SideRecord {
        SideRecord {
            flow,
            transport: TransportKind::Udp,
            client: IpAddr::from(client),
            server: Endpoint {
                ip: IpAddr::from([10, 0, 0, 53]),
                port: 53,
            },
            first_ns: last_s * 1_000_000_000,
            last_ns: last_s * 1_000_000_000,
            content: SideContent::Dns(Vec::new()),
            tied: false,
        }
    }

    #[test]
    fn synthetic_index_follows_updates_and_expiry() {
        let mut store = SideStore::default();
        store.update(record(1, [10, 0, 0, 2], 1));
        store.update(record(2, [10, 0, 0, 3], 2));
        // The same flow again replaces its record, and keeps it indexed once.
        store.update(record(1, [10, 0, 0, 2], 3));
        assert_eq!(store.records.len(), 2);
        assert_eq!(store.index.flows.len(), 2);
        assert_eq!(
            store
                .index
                .clients
                .get(&IpAddr::from([10, 0, 0, 2]))
                .map(|serials| serials.iter().copied().collect::<Vec<_>>()),
            Some(vec![0])
        );
        // Past RETAIN_NS both expire: the index empties with the records.
        store.update(record(3, [10, 0, 0, 4], 3 + RETAIN_NS / 1_000_000_000 + 1));
        assert_eq!(store.records.len(), 1);
        assert!(!store.index.flows.contains_key(&1) && !store.index.flows.contains_key(&2));
        assert!(!store
            .index
            .clients
            .contains_key(&IpAddr::from([10, 0, 0, 2])));
        assert_eq!(
            store.finish().len(),
            3,
            "untied records are handed back as orphans"
        );
        assert!(store.index.flows.is_empty() && store.index.clients.is_empty());
    }
}
