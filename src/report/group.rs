//! Connections that repeat, shown as one: a brute force or a client retrying in a loop makes
//! dozens of connections that fail the same way between the same peers, and a row (and a
//! fix) for each of them buries the one line that matters. A group is the connections of one
//! client host to one server port that end with the same verdict, for the same cause (the
//! headline finding's code), in the same phase. The servers may differ: a scan of a subnet
//! is one group that names its servers. `--all` and `--connection N` show each connection.
//!
//! Grouping is a view of the report only: the JSON stays one object per connection.

use std::net::IpAddr;

use super::{connection_label, duration_text, headline, incomplete_reason, phase_reached};
use crate::diagnose::client_error::{self, ClientError};
use crate::diagnose::{catalog, Diagnosed, Finding, FindingCode, Severity, Verdict};
use crate::flow::{Endpoint, TransportKind};
use crate::timefmt::{clock, date, zone_name};

/// One row of the report: a connection on its own, or connections that repeat.
#[derive(Clone)]
pub struct Group<'a> {
    first: &'a Diagnosed,
    /// Every member in table order, `first` included.
    members: Vec<&'a Diagnosed>,
}

/// What connections must share to be one group.
#[derive(Debug, PartialEq)]
struct Key {
    file: usize,
    transport: TransportKind,
    verdict: Verdict,
    cause: Option<FindingCode>,
    incomplete: Option<&'static str>,
    phase: &'static str,
    client: IpAddr,
    server_port: u16,
}

/// The grouping key; none for a connection that is shown with its RDP-UDP flows (or is one
/// of them): those rows belong together under their TCP connection.
fn key(d: &Diagnosed) -> Option<Key> {
    if d.tcp_peer.is_some() || !d.udp_peers.is_empty() {
        return None;
    }
    Some(Key {
        file: d.meta.first.file,
        transport: d.meta.transport,
        verdict: d.verdict,
        cause: headline(d).map(|f| f.code),
        incomplete: incomplete_reason(d),
        phase: phase_reached(d),
        client: d.meta.client.ip,
        server_port: d.meta.server.port,
    })
}

/// The rows in table order with the repeats merged: each group sits where its first member
/// was.
pub fn group(rows: &[Diagnosed]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut keys: Vec<(Key, usize)> = Vec::new();
    for d in rows {
        let Some(k) = key(d) else {
            groups.push(Group::single(d));
            continue;
        };
        let at = keys.iter().find(|(x, _)| *x == k).map(|(_, i)| *i);
        match at.and_then(|i| groups.get_mut(i)) {
            Some(g) => g.members.push(d),
            None => {
                keys.push((k, groups.len()));
                groups.push(Group::single(d));
            }
        }
    }
    groups
}

/// The rows one by one (`--all`, `--connection`, `--timeline`).
pub fn each(rows: &[Diagnosed]) -> Vec<Group<'_>> {
    rows.iter().map(Group::single).collect()
}

/// A finding code as it appears across a group: the most severe instance, the first
/// connection that has it, and every connection that has it.
pub struct CodeInGroup<'a> {
    pub code: FindingCode,
    pub severity: Severity,
    /// The first instance, whose words stand for all of them.
    pub example: &'a Finding,
    pub example_in: &'a Diagnosed,
    /// The connections with this code, each with its instance.
    pub instances: Vec<(&'a Diagnosed, &'a Finding)>,
}

impl CodeInGroup<'_> {
    /// The title for all instances: theirs when they share it, else the code's summary.
    pub fn title(&self) -> String {
        let title = |d: &Diagnosed, f: &Finding| super::findings::title(f, &d.meta.server);
        let first = title(self.example_in, self.example);
        if self.instances.iter().all(|(d, f)| title(d, f) == first) {
            first
        } else {
            catalog::info(self.code).summary.to_string()
        }
    }
}

impl<'a> Group<'a> {
    pub fn single(d: &'a Diagnosed) -> Self {
        Group {
            first: d,
            members: vec![d],
        }
    }

    pub fn first(&self) -> &'a Diagnosed {
        self.first
    }

    pub fn members(&self) -> &[&'a Diagnosed] {
        &self.members
    }

    /// How many connections (at least one: a group is never empty).
    pub fn count(&self) -> usize {
        self.members.len()
    }

    pub fn is_single(&self) -> bool {
        self.members.len() == 1
    }

    /// The lowest and highest frame of the members (all from one file).
    pub fn frames(&self) -> (u64, u64) {
        let lo = self.members.iter().map(|d| d.meta.first.frame).min();
        let hi = self.members.iter().map(|d| d.meta.last.frame).max();
        (lo.unwrap_or(0), hi.unwrap_or(0))
    }

    /// The first member's first packet and the last packet of any member.
    pub fn span_ns(&self) -> (i64, i64) {
        let lo = self.members.iter().map(|d| d.meta.first.ts_ns).min();
        let hi = self.members.iter().map(|d| d.meta.last.ts_ns).max();
        (
            lo.unwrap_or(self.first.meta.first.ts_ns),
            hi.unwrap_or(self.first.meta.last.ts_ns),
        )
    }

    /// The distinct servers, in the order first met.
    pub fn servers(&self) -> Vec<Endpoint> {
        let mut out: Vec<Endpoint> = Vec::new();
        for d in &self.members {
            if !out.contains(&d.meta.server) {
                out.push(d.meta.server);
            }
        }
        out
    }

    /// The client error every member would show, when they agree on one.
    pub fn client_error(&self) -> Option<ClientError> {
        let first = client_error::expected(self.first)?;
        self.members
            .iter()
            .all(|d| client_error::expected(d) == Some(first))
            .then_some(first)
    }

    /// The finding codes of at least `min` severity across the members: most severe first,
    /// then in the order first met.
    pub fn codes(&self, min: Severity) -> Vec<CodeInGroup<'a>> {
        let mut out: Vec<CodeInGroup<'a>> = Vec::new();
        for d in &self.members {
            for f in d.findings.iter().filter(|f| f.severity >= min) {
                match out.iter_mut().find(|c| c.code == f.code) {
                    Some(c) => {
                        c.severity = c.severity.max(f.severity);
                        // One connection with the same code twice counts once.
                        if !c.instances.iter().any(|(x, _)| x.meta.id == d.meta.id) {
                            c.instances.push((d, f));
                        }
                    }
                    None => out.push(CodeInGroup {
                        code: f.code,
                        severity: f.severity,
                        example: f,
                        example_in: d,
                        instances: vec![(d, f)],
                    }),
                }
            }
        }
        out.sort_by_key(|c| std::cmp::Reverse(c.severity));
        out
    }
}

/// The # cell: the connection's label, or a group's first id and its size ("1 ×23").
pub fn id_text(g: &Group) -> String {
    if g.is_single() {
        connection_label(g.first)
    } else {
        format!("{} ×{}", g.first.meta.id, g.count())
    }
}

/// The client cell: the address (with its port when `with_port` and alone).
pub fn client_text(g: &Group, with_port: bool) -> String {
    let c = &g.first.meta.client;
    if with_port && g.is_single() {
        c.to_string()
    } else {
        c.ip.to_string()
    }
}

/// The server cell: the server, or how many servers on the group's port ("21 hosts:3389").
pub fn server_text(g: &Group) -> String {
    match g.servers().as_slice() {
        [one] => one.to_string(),
        many => format!("{} hosts:{}", many.len(), g.first.meta.server.port),
    }
}

/// The took cell: the connection's length, or the shortest and longest of the group's.
pub fn took_text(g: &Group) -> String {
    let took = |d: &&Diagnosed| d.meta.last.ts_ns - d.meta.first.ts_ns;
    let lo = g.members.iter().map(took).min().unwrap_or(0);
    let hi = g.members.iter().map(took).max().unwrap_or(0);
    let (lo, hi) = (duration_text(lo), duration_text(hi));
    if g.is_single() || lo == hi {
        return hi;
    }
    // "12.3–55.3 s": the unit once when both share it.
    let unit = |t: &str| t.rsplit(' ').next().map(str::to_string);
    match (lo.split(' ').next(), unit(&lo) == unit(&hi)) {
        (Some(number), true) => format!("{number}–{hi}"),
        _ => format!("{lo}–{hi}"),
    }
}

/// A connection's finding cell: its headline finding's title, or why it is incomplete.
fn connection_finding(d: &Diagnosed) -> String {
    let text = headline(d)
        .map(|f| super::findings::title(f, &d.meta.server))
        .or_else(|| incomplete_reason(d).map(str::to_string));
    let hop = super::gateway::gateway_label(d)
        .or_else(|| d.via_gateway.map(|id| format!("via RD Gateway #{id}")));
    match (hop, text) {
        (Some(h), Some(t)) => format!("{h}: {t}"),
        (Some(h), None) => h,
        (None, t) => t.unwrap_or_default(),
    }
}

/// The finding cell: the connection's, or for a group the title they share (the code's
/// summary when their titles differ) with the frames and end time of the group.
pub fn finding_text(g: &Group) -> String {
    let title = connection_finding(g.first);
    if g.is_single() {
        return title;
    }
    let same = g.members.iter().all(|d| connection_finding(d) == title);
    let title = match headline(g.first) {
        Some(f) if !same => {
            let phase = g.first.progress.last_phase().map(|p| p.name);
            match phase {
                Some(p) => format!(
                    "{} ({})",
                    catalog::info(f.code).summary,
                    super::phase_text(p)
                ),
                None => catalog::info(f.code).summary.to_string(),
            }
        }
        _ => title,
    };
    let (lo, hi) = g.frames();
    let (start, end) = g.span_ns();
    let until = if date(start) == date(end) {
        clock(end, false)
    } else {
        format!("{} {}", date(end), clock(end, false))
    };
    let sep = if title.is_empty() { "" } else { " " };
    format!("{title}{sep}[frames {lo}–{hi}, until {until}]")
}

/// "frames 1–2345, 2018-08-20 18:24:17 to 23:10:02 UTC": where a group sits in the capture.
pub fn span_text(g: &Group) -> String {
    let (lo, hi) = g.frames();
    let (start, end) = g.span_ns();
    let end_text = if date(start) == date(end) {
        clock(end, false)
    } else {
        format!("{} {}", date(end), clock(end, false))
    };
    format!(
        "frames {lo}–{hi}, {} {} to {end_text} {}",
        date(start),
        clock(start, false),
        zone_name()
    )
}

/// "#1, #2, #6 and 20 more": connection ids, at most `cap` of them named.
pub fn id_list<'d>(ids: impl Iterator<Item = &'d Diagnosed>, cap: usize) -> String {
    let ids: Vec<u64> = ids.map(|d| d.meta.id).collect();
    let named: Vec<String> = ids.iter().take(cap).map(|id| format!("#{id}")).collect();
    let more = ids.len().saturating_sub(cap);
    if more == 0 {
        named.join(", ")
    } else {
        format!("{} and {more} more", named.join(", "))
    }
}

/// "158.153.228.29, 158.153.47.4 and 19 more": the servers of a group, at most `cap` named.
pub fn server_list(g: &Group, cap: usize) -> String {
    let servers = g.servers();
    let named: Vec<String> = servers.iter().take(cap).map(|s| s.ip.to_string()).collect();
    let more = servers.len().saturating_sub(cap);
    if more == 0 {
        named.join(", ")
    } else {
        format!("{} and {more} more", named.join(", "))
    }
}

/// "3 groups of repeating connections (--all shows each)": said under a grouped table.
pub fn merged_note(groups: &[Group]) -> Option<String> {
    let merged = groups.iter().filter(|g| !g.is_single()).count();
    let rows: usize = groups.iter().map(Group::count).sum();
    (merged > 0).then(|| {
        format!(
            "{rows} connections in {} rows: {merged} row{} group{} connections that repeat \
             (same client, server port, verdict, cause and phase; `--all` shows each).",
            groups.len(),
            if merged == 1 { "" } else { "s" },
            if merged == 1 { "s" } else { "" },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{diagnosed, nla_finding};

    fn failure(id: u64, client: [u8; 4], server: [u8; 4]) -> Diagnosed {
        let mut d = diagnosed(&[], 100.0, Verdict::Failed, vec![nla_finding()]);
        d.meta.id = id;
        d.meta.client.ip = IpAddr::from(client);
        d.meta.server.ip = IpAddr::from(server);
        d.meta.first.frame = id * 10;
        d.meta.last.frame = id * 10 + 9;
        d
    }

    #[test]
    fn synthetic_repeats_merge_and_distinct_clients_stay_apart() {
        let rows = vec![
            failure(1, [10, 0, 0, 2], [10, 0, 0, 1]),
            failure(2, [10, 0, 0, 3], [10, 0, 0, 1]),
            failure(3, [10, 0, 0, 2], [10, 0, 0, 9]),
            failure(4, [10, 0, 0, 2], [10, 0, 0, 1]),
        ];
        let groups = group(&rows);
        assert_eq!(groups.len(), 2);
        let ids: Vec<Vec<u64>> = groups
            .iter()
            .map(|g| g.members().iter().map(|d| d.meta.id).collect())
            .collect();
        assert_eq!(ids, [vec![1, 3, 4], vec![2]]);
        let g = groups.first().expect("a group");
        assert_eq!(g.frames(), (10, 49));
        assert_eq!(id_text(g), "1 ×3");
        assert_eq!(server_text(g), "2 hosts:3389");
        assert_eq!(server_list(g, 1), "10.0.0.1 and 1 more");
        assert!(finding_text(g).ends_with("[frames 10–49, until 22:13:20]"));
        assert_eq!(each(&rows).len(), 4);
    }

    #[test]
    fn synthetic_a_different_verdict_is_a_different_group() {
        let mut ok = failure(2, [10, 0, 0, 2], [10, 0, 0, 1]);
        ok.verdict = Verdict::Ok;
        ok.findings.clear();
        let rows = vec![failure(1, [10, 0, 0, 2], [10, 0, 0, 1]), ok];
        assert_eq!(group(&rows).len(), 2);
        assert!(merged_note(&group(&rows)).is_none());
    }
}
