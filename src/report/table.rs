//! The terminal report: a summary row per connection (verdict first), then for each
//! connection with findings a short block: title, explanation, evidence frames, fix.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table};

use super::group::{self, Group};
use super::{phase_reached, VERDICTS_WORST_FIRST};
use crate::diagnose::{Diagnosed, Evidence, Finding, Severity, Verdict};
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

/// Evidence grouped by frame, in frame order: each frame once with its time and its notes
/// (each note once), so a frame that shows two things reads "frame 11 at 5.2 ms: a; b".
pub fn evidence_by_frame(evidence: &[Evidence]) -> Vec<(u64, f64, Vec<String>)> {
    let mut sorted: Vec<&Evidence> = evidence.iter().collect();
    sorted.sort_by_key(|e| e.frame);
    let mut out: Vec<(u64, f64, Vec<String>)> = Vec::new();
    for e in sorted {
        let note = super::findings::note_text(&e.note);
        match out.last_mut() {
            Some((frame, _, notes)) if *frame == e.frame => {
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
            _ => out.push((e.frame, e.t_ms, vec![note])),
        }
    }
    out
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
/// matters), then the phase (the finding names it), then the start time, then how long it took.
const LAYOUTS: [(&[Column], bool); 6] = {
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
        (&[Id, Client, Server, Verdict, Finding], false),
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
fn spans_days<'a>(conns: impl Iterator<Item = &'a Diagnosed>) -> bool {
    let mut days = conns.map(|d| date(d.meta.first.ts_ns));
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

fn cell_text(g: &Group, c: Column, client_port: bool, dated: bool) -> String {
    let d = g.first();
    let m = &d.meta;
    match c {
        Column::Id => group::id_text(g),
        Column::Start if dated => {
            format!("{} {}", date(m.first.ts_ns), clock(m.first.ts_ns, false))
        }
        Column::Start => clock(m.first.ts_ns, false),
        Column::Client => group::client_text(g, client_port),
        Column::Server => group::server_text(g),
        Column::Verdict => d.verdict.name().to_string(),
        Column::Phase => phase_reached(d).to_string(),
        Column::Took => group::took_text(g),
        Column::Finding => group::finding_text(g),
    }
}

/// The widest layout whose fixed columns leave the finding `MIN_FINDING_WIDTH` columns
/// within `width` (borders: 3 columns per cell and 1).
fn layout_for(conns: &[Group], width: usize) -> (&'static [Column], bool) {
    let dated = spans_days(conns.iter().flat_map(|g| g.members().iter().copied()));
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

/// The table of `conns`, one row each.
pub fn summary_table(conns: &[Diagnosed], color: bool, width: Option<u16>) -> Table {
    group_table(&group::each(conns), color, width)
}

/// The table of `groups`, one row per group (a connection alone is a group of one).
pub fn group_table(groups: &[Group], color: bool, width: Option<u16>) -> Table {
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
    let (columns, client_port) = layout_for(groups, usize::from(table.width().unwrap_or(120)));
    table.set_header(columns.iter().map(|c| header(*c)).collect::<Vec<_>>());
    let dated = spans_days(groups.iter().flat_map(|g| g.members().iter().copied()));
    for g in groups {
        let verdict = g.first().verdict;
        let row = columns.iter().map(|c| {
            let cell = Cell::new(cell_text(g, *c, client_port, dated));
            if color && *c == Column::Verdict {
                cell.fg(verdict_color(verdict))
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
    // A word longer than a line (a registry path) is cut where the line ends.
    let room = width.saturating_sub(indent.len() + 2).max(20);
    let words = text.split_whitespace().flat_map(|w| {
        let chars: Vec<char> = w.chars().collect();
        chars
            .chunks(room)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
    });
    for word in words {
        let word = word.as_str();
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
            evidence_by_frame(&f.evidence)
                .iter()
                .map(|(frame, t_ms, notes)| {
                    format!("frame {frame} at {t_ms:.1} ms: {}", notes.join("; "))
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
pub fn timeline_table(d: &Diagnosed, color: bool, width: usize) -> Table {
    let mut table = Table::new();
    table.set_width(u16::try_from(width).unwrap_or(u16::MAX));
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
            super::events::event_text(e).into_owned(),
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
