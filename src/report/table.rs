//! The terminal report: a summary row per connection (verdict first), then for each
//! connection with findings a short block: title, explanation, evidence frames, fix.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table};

use super::{connection_label, duration_text, headline, phase_reached, VERDICTS_WORST_FIRST};
use crate::diagnose::{Diagnosed, Finding, Severity, Verdict};
use crate::flow::{Endpoint, Side};
use crate::timefmt::{clock, date, ms_between, zone_name};

fn verdict_color(v: Verdict) -> Color {
    match v {
        Verdict::Ok => Color::Green,
        Verdict::Failed => Color::Red,
        Verdict::Stalled => Color::Magenta,
        Verdict::Slow => Color::Yellow,
        Verdict::Incomplete => Color::Grey,
    }
}

/// "4, 7, 9": each frame once, in order (two notes on one frame name it once).
pub fn frame_list(frames: impl Iterator<Item = u64>) -> String {
    let mut frames: Vec<u64> = frames.collect();
    frames.sort_unstable();
    frames.dedup();
    frames
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Table order: by connection id, each RDP-UDP flow right under the TCP connection it belongs to.
pub fn table_order(conns: &mut [Diagnosed]) {
    conns.sort_by_key(|d| {
        (
            d.tcp_peer.unwrap_or(d.meta.id),
            d.tcp_peer.is_some(),
            d.meta.id,
        )
    });
}

/// The columns of the summary table; narrow terminals drop or merge some (see `Layout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Id,
    Start,
    Client,
    Server,
    Verdict,
    Phase,
    Took,
    Finding,
}

/// The finding needs this many columns to be read without a word per line.
const MIN_FINDING_WIDTH: usize = 28;

/// Layouts from widest to narrowest: the client's port goes first (it is rarely what
/// matters), then the phase (the finding names it), then the start time.
const LAYOUTS: [(&[Column], bool); 5] = {
    use Column::*;
    [
        (
            &[Id, Start, Client, Server, Verdict, Phase, Took, Finding],
            true,
        ),
        (
            &[Id, Start, Client, Server, Verdict, Phase, Took, Finding],
            false,
        ),
        (&[Id, Start, Client, Server, Verdict, Took, Finding], false),
        (&[Id, Client, Server, Verdict, Phase, Took, Finding], false),
        (&[Id, Client, Server, Verdict, Took, Finding], false),
    ]
};

fn header(c: Column) -> &'static str {
    match c {
        Column::Id => "#",
        Column::Start => "start",
        Column::Client => "client",
        Column::Server => "server",
        Column::Verdict => "verdict",
        Column::Phase => "phase",
        Column::Took => "took",
        Column::Finding => "finding",
    }
}

/// Whether the connections start on more than one calendar day: then `start` shows dates.
fn spans_days(conns: &[Diagnosed]) -> bool {
    let mut days = conns.iter().map(|d| date(d.meta.first.ts_ns));
    let first = days.next();
    days.any(|d| Some(d) != first)
}

/// " from 2021-03-04 10:00:01 to 2022-01-02 09:00:00 UTC": the span of the connections'
/// starts for the summary line (the date once when both are on one day).
pub fn span_text(conns: &[Diagnosed]) -> String {
    let first = conns.iter().map(|d| d.meta.first.ts_ns).min();
    let last = conns.iter().map(|d| d.meta.last.ts_ns).max();
    let (Some(first), Some(last)) = (first, last) else {
        return String::new();
    };
    let end = if date(first) == date(last) {
        clock(last, false)
    } else {
        format!("{} {}", date(last), clock(last, false))
    };
    format!(
        ", {} {} to {end} {}",
        date(first),
        clock(first, false),
        zone_name()
    )
}

fn cell_text(d: &Diagnosed, c: Column, client_port: bool, dated: bool) -> String {
    let m = &d.meta;
    match c {
        Column::Id => connection_label(d),
        Column::Start if dated => {
            format!("{} {}", date(m.first.ts_ns), clock(m.first.ts_ns, false))
        }
        Column::Start => clock(m.first.ts_ns, false),
        Column::Client if client_port => m.client.to_string(),
        Column::Client => m.client.ip.to_string(),
        Column::Server => m.server.to_string(),
        Column::Verdict => d.verdict.name().to_string(),
        Column::Phase => phase_reached(d).to_string(),
        Column::Took => duration_text(m.last.ts_ns - m.first.ts_ns),
        Column::Finding => {
            let text = headline(d)
                .map(|f| super::findings::title(f, &m.server))
                .or_else(|| super::incomplete_reason(d).map(str::to_string));
            match (super::gateway::gateway_label(d), text) {
                (Some(gw), Some(t)) => format!("{gw}: {t}"),
                (Some(gw), None) => gw,
                (None, t) => t.unwrap_or_default(),
            }
        }
    }
}

/// The widest layout whose fixed columns leave the finding `MIN_FINDING_WIDTH` columns
/// within `width` (borders: 3 columns per cell and 1).
fn layout_for(conns: &[Diagnosed], width: usize) -> (&'static [Column], bool) {
    let dated = spans_days(conns);
    // Short findings (or none) need no more than their own length.
    let finding_need = conns
        .iter()
        .map(|d| cell_text(d, Column::Finding, false, false).chars().count())
        .max()
        .unwrap_or(0)
        .clamp("finding".len(), MIN_FINDING_WIDTH);
    for (columns, client_port) in LAYOUTS {
        let fixed: usize = columns
            .iter()
            .filter(|c| **c != Column::Finding)
            .map(|c| {
                conns
                    .iter()
                    .map(|d| cell_text(d, *c, client_port, dated).chars().count())
                    .chain([header(*c).len()])
                    .max()
                    .unwrap_or(0)
            })
            .sum();
        if fixed + 3 * columns.len() + 1 + finding_need <= width {
            return (columns, client_port);
        }
    }
    // The narrowest layout when none fits.
    let [.., narrowest] = LAYOUTS;
    narrowest
}

pub fn summary_table(conns: &[Diagnosed], color: bool, width: Option<u16>) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(w) = width {
        table.set_width(w);
    }
    if !color {
        table.force_no_tty();
    }
    let (columns, client_port) = layout_for(conns, usize::from(table.width().unwrap_or(120)));
    table.set_header(columns.iter().map(|c| header(*c)).collect::<Vec<_>>());
    let dated = spans_days(conns);
    for d in conns {
        let row = columns.iter().map(|c| {
            let cell = Cell::new(cell_text(d, *c, client_port, dated));
            if color && *c == Column::Verdict {
                cell.fg(verdict_color(d.verdict))
            } else {
                cell
            }
        });
        table.add_row(row.collect::<Vec<_>>());
    }
    // Everything but the finding keeps its natural width; the finding wraps.
    let finding = columns.iter().position(|c| *c == Column::Finding);
    for (i, col) in table.column_iter_mut().enumerate() {
        if Some(i) != finding {
            col.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    table
}

/// "2 failed, 1 ok": verdict counts, worst first, zero counts left out.
pub fn verdict_counts(count: impl Fn(Verdict) -> u64) -> String {
    let parts: Vec<String> = VERDICTS_WORST_FIRST
        .iter()
        .filter_map(|v| {
            let n = count(*v);
            (n > 0).then(|| format!("{n} {}", v.name()))
        })
        .collect();
    parts.join(", ")
}

/// "3 connections: 2 failed, 1 ok".
pub fn footer(conns: &[Diagnosed]) -> String {
    format!(
        "{} connection{}: {}",
        conns.len(),
        if conns.len() == 1 { "" } else { "s" },
        verdict_counts(|v| conns.iter().filter(|d| d.verdict == v).count() as u64)
    )
}

/// Word-wraps `text` to `width` columns, every line starting with `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.len() + 1 + word.len() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = format!("{indent}  ");
        } else if line.len() > indent.len() && !line.ends_with(' ') {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.trim().is_empty() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The findings of one connection as text: title, explanation, evidence frames, fix.
/// `detail` adds each evidence frame's note.
pub fn findings_block(d: &Diagnosed, min: Severity, width: usize, detail: bool) -> String {
    d.findings
        .iter()
        .filter(|f| f.severity >= min)
        .map(|f| finding_text(f, &d.meta.server, width, detail))
        .collect()
}

/// One finding as text: title, explanation, evidence frames (with notes when `detail`), fix.
pub fn finding_text(f: &Finding, server: &Endpoint, width: usize, detail: bool) -> String {
    let words = super::findings::words(f, server);
    let mut s = wrap(
        &format!("[{}] {} ({})", f.severity.name(), words.title, f.code),
        width,
        "  ",
    );
    s.push_str(&wrap(&words.explanation, width, "    "));
    if !f.evidence.is_empty() {
        let ev = if detail {
            f.evidence
                .iter()
                .map(|e| {
                    format!(
                        "frame {} at {:.1} ms: {}",
                        e.frame,
                        e.t_ms,
                        super::findings::note_text(&e.note)
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            format!("frames {}", frame_list(f.evidence.iter().map(|e| e.frame)))
        };
        s.push_str(&wrap(&format!("evidence: {ev}"), width, "    "));
    }
    s.push_str(&wrap(&format!("fix: {}", words.fix), width, "    "));
    s
}

/// The full event table of one connection.
pub fn timeline_table(d: &Diagnosed, color: bool) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["t (ms)", "frame", "", "event"]);
    if !color {
        table.force_no_tty();
    }
    let t0 = d.meta.first.ts_ns;
    for e in &d.connection.timeline.events {
        table.add_row(vec![
            format!("{:.3}", ms_between(t0, e.at.ts_ns)),
            e.at.frame.to_string(),
            match e.dir {
                Side::Client => "C→S".to_string(),
                Side::Server => "C←S".to_string(),
            },
            super::events::event_text(e),
        ]);
    }
    let tl = &d.connection.timeline;
    if tl.dropped > 0 {
        table.add_row(vec![
            String::new(),
            String::new(),
            String::new(),
            format!(
                "... {} more events not kept (the first {} are, --max-timeline-events)",
                tl.dropped, tl.max
            ),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    #[test]
    fn synthetic_frame_lists_name_each_frame_once() {
        assert_eq!(super::frame_list([4, 4, 9, 7].into_iter()), "4, 7, 9");
    }
}
