//! The terminal report of `analyze`: the summary table, then each connection worth a look
//! with its phase waterfall and findings (and with `--timeline` its full timeline).

use std::fmt::Write as _;

use super::group::{self, CodeInGroup, Group};
use super::{table, waterfall, worth_a_waterfall};
use crate::diagnose::client_error::ClientError;
use crate::diagnose::run::RunSummary;
use crate::diagnose::{Diagnosed, Severity};

/// How the terminal output looks.
#[derive(Debug, Clone, Copy, Default)]
pub struct TerminalStyle {
    /// `--all`: healthy connections' blocks and informational findings too.
    pub all: bool,
    /// `--timeline`: each connection's waterfall rows and event table.
    pub timeline: bool,
    pub color: bool,
    /// The terminal's width; none on a terminal whose width comfy-table finds itself.
    pub width: Option<u16>,
}

impl TerminalStyle {
    /// Columns text blocks wrap at: the terminal's width, 120 when unknown, at least 60.
    pub fn wrap(&self) -> usize {
        usize::from(self.width.unwrap_or(120)).max(60)
    }
}

/// The whole report of `rows` (already in table order). With `grouped`, connections that
/// repeat share a row and a block (see `group`).
pub fn report(
    rows: &[Diagnosed],
    style: &TerminalStyle,
    run: &RunSummary,
    grouped: bool,
) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        // With a filter, the capture notes say how many packets it kept of how many.
        let _ = match &run.filter {
            Some(_) => writeln!(out, "No RDP connections found."),
            None => writeln!(
                out,
                "No RDP connections found ({} packets read).",
                run.packets
            ),
        };
        return out;
    }
    let groups = if grouped {
        group::group(rows)
    } else {
        group::each(rows)
    };
    let color = style.color;
    let _ = writeln!(out, "{}", table::group_table(&groups, color, style.width));
    let width = style.wrap();
    let summary = format!("{}{}", table::footer(rows), table::span_text(rows));
    out.push_str(&table::wrap(&summary, width, ""));
    if let Some(note) = group::merged_note(&groups) {
        out.push_str(&table::wrap(&note, width, ""));
    }
    let min = if style.all {
        Severity::Info
    } else {
        Severity::Warning
    };
    for g in &groups {
        if g.is_single() {
            connection_block(&mut out, g.first(), style, min);
        } else {
            out.push_str(&group_block(g, min, width));
        }
    }
    out
}

/// One connection's block: heading, waterfall, client error, findings (and timeline).
fn connection_block(out: &mut String, d: &Diagnosed, style: &TerminalStyle, min: Severity) {
    let color = style.color;
    let width = style.wrap();
    let block = table::findings_block(d, min, width, style.timeline || style.all);
    let phases = if style.all || worth_a_waterfall(d) {
        let mut line = waterfall::waterfall_line(d, width, color);
        if !style.timeline && !line.is_empty() {
            // With --timeline the rows below name the gaps.
            line.push_str(&waterfall::gap_notes(d, width));
        }
        line
    } else {
        String::new()
    };
    if !block.is_empty() || !phases.is_empty() {
        let _ = writeln!(
            out,
            "\n#{} {} -> {}: {}{}",
            d.meta.id,
            d.meta.client,
            d.meta.server,
            d.verdict.name(),
            super::gateway::gateway_label(d)
                .or_else(|| d.via_gateway.map(|id| format!("via RD Gateway #{id}")))
                .map(|l| format!(" [{l}]"))
                .unwrap_or_default()
        );
        out.push_str(&phases);
        if let Some(e) = crate::diagnose::client_error::expected(d) {
            out.push_str(&client_error_line(&e, width));
        }
        if let Some(line) = rtt_unmeasured(d) {
            out.push_str(&table::wrap(&line, width, "  "));
        }
        out.push_str(&block);
    }
    if style.timeline {
        let _ = writeln!(out, "\n#{} timeline", d.meta.id);
        out.push_str(&waterfall::waterfall_rows(d, width, color));
        let _ = writeln!(out, "{}", table::timeline_table(d, color, width));
    }
}

fn client_error_line(e: &ClientError, width: usize) -> String {
    let line = format!(
        "The client would show error {}{}",
        super::codes::client_error::label(e),
        if e.inferred { " (inferred)" } else { "" }
    );
    table::wrap(&line, width, "  ")
}

/// Connections named in a group's block before "and N more".
const IDS_NAMED: usize = 12;
/// Servers named in a group's block.
const SERVERS_NAMED: usize = 6;
/// Connections whose evidence frames a group's finding lists.
const EVIDENCE_NAMED: usize = 6;

/// A group's block: which connections and where, then each finding code once, with its
/// explanation as the first connection had it, the evidence frames per connection, and the
/// fix once. Empty when no member has a finding worth showing (healthy repeats).
pub fn group_block(g: &Group, min: Severity, width: usize) -> String {
    let codes = g.codes(min);
    let first = g.first();
    if codes.is_empty() && !worth_a_waterfall(first) {
        return String::new();
    }
    let mut out = format!(
        "\n#{} and {} more: {} -> {}: {}\n",
        first.meta.id,
        g.count() - 1,
        first.meta.client.ip,
        group::server_text(g),
        first.verdict.name()
    );
    out.push_str(&table::wrap(
        &format!(
            "{} connections ({}), {}; `--connection N` shows one",
            g.count(),
            group::id_list(g.members().iter().copied(), IDS_NAMED),
            group::span_text(g)
        ),
        width,
        "  ",
    ));
    if g.servers().len() > 1 {
        out.push_str(&table::wrap(
            &format!("servers: {}", group::server_list(g, SERVERS_NAMED)),
            width,
            "  ",
        ));
    }
    if let Some(e) = g.client_error() {
        out.push_str(&client_error_line(&e, width));
    }
    for c in &codes {
        out.push_str(&code_text(g, c, width));
    }
    out
}

/// One finding code of a group: title, how many members have it, an example's explanation,
/// evidence frames per member, the fix once.
fn code_text(g: &Group, c: &CodeInGroup, width: usize) -> String {
    let words = super::findings::words(c.example, &c.example_in.meta.server);
    let who = if c.instances.len() == g.count() {
        format!("all {}", g.count())
    } else {
        format!(
            "{} of {}: {}",
            c.instances.len(),
            g.count(),
            group::id_list(c.instances.iter().map(|(d, _)| *d), IDS_NAMED)
        )
    };
    let mut s = table::wrap(
        &format!(
            "[{}] {} ({}), in {who}",
            c.severity.name(),
            c.title(),
            c.code
        ),
        width,
        "  ",
    );
    s.push_str(&table::wrap(
        &format!("#{}: {}", c.example_in.meta.id, words.explanation),
        width,
        "    ",
    ));
    let evidence: Vec<String> = c
        .instances
        .iter()
        .filter(|(_, f)| !f.evidence.is_empty())
        .take(EVIDENCE_NAMED)
        .map(|(d, f)| {
            format!(
                "#{} frames {}",
                d.meta.id,
                table::frame_list(f.evidence.iter().map(|e| e.frame))
            )
        })
        .collect();
    if !evidence.is_empty() {
        let more = c.instances.len().saturating_sub(EVIDENCE_NAMED);
        let tail = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        s.push_str(&table::wrap(
            &format!("evidence: {}{tail}", evidence.join("; ")),
            width,
            "    ",
        ));
    }
    s.push_str(&table::wrap(&format!("fix: {}", words.fix), width, "    "));
    s
}

/// Said instead of a number when the handshake was retransmitted and no other sample is
/// unambiguous (Karn's rule, RFC 6298 3): the elapsed time there is the retransmission timer.
fn rtt_unmeasured(d: &Diagnosed) -> Option<String> {
    let t = d.tcp.as_ref()?;
    let crate::flow::RttUnavailable::HandshakeRetransmitted { syn, syn_ack } =
        t.rtt_unavailable()?
    else {
        return None;
    };
    let what = match (syn, syn_ack) {
        (0, n) => format!("the SYN/ACK was sent {} times", n + 1),
        (n, 0) => format!("the SYN was sent {} times", n + 1),
        (s, a) if s == a => format!("the SYN and the SYN/ACK were each sent {} times", s + 1),
        (s, a) => format!("the SYN was sent {} and the SYN/ACK {} times", s + 1, a + 1),
    };
    let took = t
        .handshake_rtt_ns()
        .map(|ns| {
            format!(
                " (the handshake took {:.0} ms)",
                crate::timefmt::ms_between(0, ns)
            )
        })
        .unwrap_or_default();
    Some(format!(
        "Round trip not measured: {what}{took}, so its time is the retransmission timer's, and no \
         data segment of each side was acknowledged without a retransmission (Karn's rule)"
    ))
}
