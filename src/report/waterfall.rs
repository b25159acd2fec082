//! Phase waterfalls for the terminal: where a connection spent its time and where it stopped.
//!
//! Two forms on the same axis (the connection's first to last packet): `waterfall_rows`, one
//! row per phase with its start and length (`--timeline`), and `waterfall_line`, the same bars
//! folded onto one line with a legend, for the findings block (the README demo must keep to
//! one 40-line screen). Both draw with one mapping: each phase its own glyph (`glyph`), idle
//! time between phases `IDLE`, and the stop marks; `gap_notes` names the long idle gaps.

use super::{ms_text, phase_spans, PhaseSpan, Stop};
use crate::diagnose::gaps::{long_gaps, PhaseGap};
use crate::flow::Side;
use crate::session::PhaseName;

/// Idle time: after one phase ended and before the next began, nothing of the connection
/// moved.
const IDLE: char = '·';

/// Each phase has its own glyph, in both forms, so they read the same without colour.
fn glyph(name: PhaseName) -> char {
    match name {
        PhaseName::TcpConnect => '░',
        PhaseName::X224Negotiation => '▒',
        PhaseName::TlsHandshake => '▓',
        PhaseName::Credssp => '█',
        PhaseName::McsConnect => '▞',
        PhaseName::RdpData | PhaseName::GatewayData => '━',
        PhaseName::GatewayAuth => '█',
        PhaseName::GatewayTunnel => '▞',
        PhaseName::Closed => ' ',
    }
}

/// Short legend names: the one-line form has little room.
fn short_name(name: PhaseName) -> &'static str {
    match name {
        PhaseName::TcpConnect => "tcp",
        PhaseName::X224Negotiation => "x224",
        PhaseName::TlsHandshake => "tls",
        PhaseName::Credssp => "credssp",
        PhaseName::McsConnect => "mcs",
        PhaseName::RdpData | PhaseName::GatewayData => "data",
        PhaseName::GatewayAuth => "gw-auth",
        PhaseName::GatewayTunnel => "tunnel",
        PhaseName::Closed => "closed",
    }
}

/// ANSI foreground colour of a phase (the stopped phase is drawn in its stop colour instead).
fn ansi(name: PhaseName) -> &'static str {
    match name {
        PhaseName::TcpConnect => "34",
        PhaseName::X224Negotiation => "36",
        PhaseName::TlsHandshake => "32",
        PhaseName::Credssp => "35",
        PhaseName::McsConnect | PhaseName::GatewayTunnel => "33",
        PhaseName::GatewayAuth => "35",
        PhaseName::RdpData | PhaseName::GatewayData | PhaseName::Closed => "37",
    }
}

fn stop_ansi(stop: Stop) -> &'static str {
    match stop {
        Stop::Failed => "1;31",
        Stop::Pending => "1;33",
    }
}

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\u{1b}[{code}m{text}\u{1b}[0m")
    } else {
        text.to_string()
    }
}

fn span_color(s: &PhaseSpan) -> &'static str {
    s.stop.map_or(ansi(s.name), stop_ansi)
}

/// The cells `[from, to)` of a `cells`-wide bar that a span covers: always at least one, so
/// a sub-millisecond phase stays visible on a one-second axis.
fn cells_of(start_ms: f64, end_ms: f64, total_ms: f64, cells: usize) -> (usize, usize) {
    let cells = cells.max(1);
    if total_ms <= 0.0 {
        return (0, 1);
    }
    let scale = cells as f64 / total_ms;
    let from = ((start_ms * scale).floor().max(0.0) as usize).min(cells - 1);
    let to = ((end_ms * scale).ceil() as usize).clamp(from + 1, cells);
    (from, to)
}

const NAME_WIDTH: usize = 16;
const TIME_WIDTH: usize = 7;
const MIN_BAR: usize = 10;
const MAX_BAR: usize = 80;

/// One row per phase: name, start offset, length, and a bar on the connection's time axis in
/// the phase's glyph, preceded by `IDLE` for the idle time since the previous phase ended; the
/// phase the connection stopped in ends with `✗` (failed) or `…` (still waiting) and who was
/// owed the next message. Then the legend and the long gaps. Empty without a phase.
pub fn waterfall_rows(d: &crate::diagnose::Diagnosed, width: usize, color: bool) -> String {
    let (spans, total_ms) = phase_spans(d);
    if spans.is_empty() {
        return String::new();
    }
    let notes: Vec<Option<String>> = spans.iter().map(PhaseSpan::stop_note).collect();
    let note_room = notes
        .iter()
        .flatten()
        .map(|n| n.chars().count() + 3)
        .max()
        .unwrap_or(0);
    let fixed = 2 + NAME_WIDTH + 1 + TIME_WIDTH + 2 + TIME_WIDTH + 2;
    let cells = width
        .saturating_sub(fixed + note_room)
        .clamp(MIN_BAR, MAX_BAR);
    let total_text = ms_text(total_ms);
    let mut out = format!(
        "  {:<NAME_WIDTH$} {:>TIME_WIDTH$}  {:>TIME_WIDTH$}  0{:>pad$}\n",
        "phase",
        "start",
        "took",
        total_text,
        pad = cells.saturating_sub(1).max(total_text.len()),
    );
    let mut previous_end = 0;
    let mut idle_drawn = false;
    for (s, note) in spans.iter().zip(&notes) {
        let (from, to) = cells_of(s.start_ms, s.end_ms(), total_ms, cells);
        let bar: String = std::iter::repeat_n(glyph(s.name), to - from).collect();
        let blank = previous_end.min(from);
        let idle = from - blank;
        idle_drawn |= idle > 0;
        previous_end = previous_end.max(to);
        let mut row = format!(
            "  {:<NAME_WIDTH$} {:>TIME_WIDTH$}  {:>TIME_WIDTH$}  {}{}{}",
            s.name.name(),
            ms_text(s.start_ms),
            ms_text(s.duration_ms),
            " ".repeat(blank),
            IDLE.to_string().repeat(idle),
            paint(&bar, span_color(s), color),
        );
        if let (Some(stop), Some(note)) = (s.stop, note) {
            row.push_str(&paint(stop.mark(), stop_ansi(stop), color));
            row.push(' ');
            row.push_str(note);
        }
        out.push_str(row.trim_end());
        out.push('\n');
    }
    out.push_str(&legend(&spans, idle_drawn));
    out.push_str(&gap_notes(d, width));
    out
}

/// The one legend of both forms' glyphs: the phases drawn, idle time when drawn, the marks.
fn legend(spans: &[PhaseSpan], idle: bool) -> String {
    let mut items: Vec<String> = Vec::new();
    for s in spans {
        let item = format!("{} {}", glyph(s.name), short_name(s.name));
        if !items.contains(&item) {
            items.push(item);
        }
    }
    if idle {
        items.push(format!("{IDLE} idle"));
    }
    let stops: Vec<Stop> = spans.iter().filter_map(|s| s.stop).collect();
    if stops.contains(&Stop::Failed) {
        items.push(format!("{} failed", Stop::Failed.mark()));
    }
    if stops.contains(&Stop::Pending) {
        items.push(format!("{} waiting", Stop::Pending.mark()));
    }
    format!("  {}\n", items.join("  "))
}

/// What a pause before `phase` may be: the step it precedes, and the usual cause when the
/// client is the one pausing there.
fn before_words(phase: PhaseName) -> (&'static str, Option<&'static str>) {
    match phase {
        PhaseName::TcpConnect => ("the TCP handshake", None),
        PhaseName::X224Negotiation => ("the X.224 Connection Request", None),
        PhaseName::TlsHandshake => ("the ClientHello", Some("a prompt?")),
        PhaseName::Credssp => (
            "CredSSP (NLA)",
            Some("a certificate warning or a credential prompt?"),
        ),
        PhaseName::McsConnect => ("the MCS Connect Initial", Some("a certificate warning?")),
        PhaseName::RdpData => ("the session data", None),
        PhaseName::Closed => ("the close", None),
        PhaseName::GatewayAuth => (
            "the first request to the RD Gateway",
            Some("a credential prompt?"),
        ),
        PhaseName::GatewayTunnel => ("the gateway tunnel setup", None),
        PhaseName::GatewayData => ("the tunnelled connection", None),
    }
}

/// "3.25 s client pause before the ClientHello (frames 5 to 13): a prompt?"
pub fn gap_sentence(g: &PhaseGap) -> String {
    let who = match g.paused {
        Some(Side::Client) => "client pause",
        Some(Side::Server) => "server pause",
        None => "pause",
    };
    let (step, guess) = before_words(g.before);
    let guess = match (g.paused, guess) {
        (Some(Side::Client), Some(q)) => format!(": {q}"),
        _ => String::new(),
    };
    format!(
        "{} {who} before {step} (frames {} to {}){guess}",
        ms_text(crate::timefmt::ms_between(0, g.duration_ns())),
        g.from.frame,
        g.to.frame,
    )
}

/// One line per long idle gap between phases (`diagnose::gaps::LONG_GAP_NS`), each starting
/// with the idle glyph; empty when there is none.
pub fn gap_notes(d: &crate::diagnose::Diagnosed, width: usize) -> String {
    long_gaps(&d.progress)
        .iter()
        .map(|g| super::table::wrap(&format!("{IDLE} {}", gap_sentence(g)), width, "  "))
        .collect()
}

/// Narrower than this, the one-line bar says too little: the stop note is left out first.
const MIN_LINE_BAR: usize = 24;

/// The waterfall on one line: every phase's bar in its own glyph on a shared axis, the
/// stopped phase followed by its mark, then the axis length and a legend with each phase's
/// length. Empty when the connection has no phase.
pub fn waterfall_line(d: &crate::diagnose::Diagnosed, width: usize, color: bool) -> String {
    let (spans, total_ms) = phase_spans(d);
    if spans.is_empty() {
        return String::new();
    }
    let mut legend_items: Vec<(String, Option<&PhaseSpan>)> = spans
        .iter()
        .map(|s| {
            let mark = s.stop.map(|m| format!(" {}", m.mark())).unwrap_or_default();
            let text = format!(
                "{}{} {}{mark}",
                glyph(s.name),
                short_name(s.name),
                ms_text(s.duration_ms)
            );
            (text, Some(s))
        })
        .collect();
    // Room for the idle item when the phases leave time between them.
    let gapped = spans
        .windows(2)
        .any(|w| matches!(w, [a, b] if b.start_ms > a.end_ms()));
    if gapped {
        legend_items.push((format!("{IDLE}idle"), None));
    }
    let legend_len: usize = legend_items
        .iter()
        .map(|(t, _)| t.chars().count() + 1)
        .sum();
    let total_text = ms_text(total_ms);
    // Indent, the bar's two edges and its mark cell, the axis length and two gaps.
    let fixed = 2 + 3 + 1 + total_text.len() + 2 + legend_len;
    let note = spans.iter().find_map(PhaseSpan::stop_note);
    let with_note = note
        .as_ref()
        .map(|n| fixed + n.chars().count() + 2)
        .filter(|&needed| width.saturating_sub(needed) >= MIN_LINE_BAR);
    // A legend that leaves no room for the bar (many phases on a narrow terminal) goes on
    // lines of its own under the bar.
    let legend_below = with_note.is_none() && width < fixed + MIN_BAR;
    let needed = match with_note {
        Some(n) => n,
        None if legend_below => fixed - legend_len,
        None => fixed,
    };
    let cells = width.saturating_sub(needed).clamp(MIN_BAR, MAX_BAR);

    // The bar plus one cell, so the stop mark always has room after the last phase.
    let mut bar: Vec<(char, Option<&PhaseSpan>)> = vec![(' ', None); cells + 1];
    let mut mark_at = None;
    // A phase starting in the cell where the previous one ended moves one cell right, so a
    // sub-millisecond phase is not drawn over by the next.
    let mut next_free = 0;
    for s in &spans {
        let (from, to) = cells_of(s.start_ms, s.end_ms(), total_ms, cells);
        let from = from.max(next_free).min(cells - 1);
        let to = to.max(from + 1);
        next_free = to;
        for cell in bar.iter_mut().take(to).skip(from) {
            *cell = (glyph(s.name), Some(s));
        }
        if let Some(stop) = s.stop {
            mark_at = Some((to, stop));
        }
    }
    // Between the first phase's start and the last one's end, an undrawn cell is idle time.
    let first = bar.iter().position(|(_, s)| s.is_some()).unwrap_or(0);
    let last = bar.iter().rposition(|(_, s)| s.is_some()).unwrap_or(0);
    let mut idle_drawn = false;
    for (i, cell) in bar.iter_mut().enumerate() {
        if i > first && i < last && cell.1.is_none() && mark_at.is_none_or(|(at, _)| at != i) {
            cell.0 = IDLE;
            idle_drawn = true;
        }
    }
    if !idle_drawn {
        legend_items.retain(|(_, s)| s.is_some());
    }
    let mut line = String::from("  ▕");
    for (i, (ch, span)) in bar.iter().enumerate() {
        match (mark_at, span) {
            (Some((at, stop)), _) if at == i => {
                line.push_str(&paint(stop.mark(), stop_ansi(stop), color))
            }
            (_, Some(s)) => line.push_str(&paint(&ch.to_string(), span_color(s), color)),
            (_, None) => line.push(*ch),
        }
    }
    line.push_str("▏ ");
    line.push_str(&total_text);
    if legend_below {
        // Wrapped by visible width: the colour codes take no columns.
        let indent = "    ";
        let mut used = width;
        for (text, s) in &legend_items {
            let len = text.chars().count();
            if used + 1 + len > width {
                line.push('\n');
                line.push_str(indent);
                used = indent.len();
            } else {
                line.push(' ');
                used += 1;
            }
            line.push_str(&legend_item(text, *s, color));
            used += len;
        }
    } else {
        line.push(' ');
        for (text, s) in &legend_items {
            line.push(' ');
            line.push_str(&legend_item(text, *s, color));
        }
    }
    if let (Some(note), Some(_)) = (note, with_note) {
        line.push_str("  ");
        line.push_str(&note);
    }
    line.push('\n');
    line
}

/// A legend item in its phase's colour (idle time has none).
fn legend_item(text: &str, span: Option<&PhaseSpan>, color: bool) -> String {
    match span {
        Some(s) => paint(text, span_color(s), color),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Verdict;
    use crate::report::test_support::*;

    /// The cells of a row's bar: the phase glyphs and idle time (blank cells left out).
    fn bar_of(row: &str) -> String {
        row.chars()
            .filter(|c| matches!(*c, '░' | '▒' | '▓' | '█' | '▞' | '━' | IDLE))
            .collect()
    }

    #[test]
    fn rows_put_each_phase_on_the_shared_axis_in_its_own_glyph() {
        let text = waterfall_rows(&nla_failure(), 120, false);
        let rows: Vec<&str> = text.lines().collect();
        // Header, four phases, the legend.
        assert_eq!(rows.len(), 6, "{text}");
        assert!(rows[0].contains("phase") && rows[0].trim_end().ends_with("98 ms"));
        assert!(rows[1].starts_with("  tcp_connect") && rows[1].contains("0.04 ms"));
        // Negotiation took three quarters of the connection: the widest bar, from the start.
        let x224 = bar_of(rows[2]);
        assert!(
            x224.starts_with('▒') && x224.chars().all(|c| c == '▒'),
            "{x224}"
        );
        let widest = rows[1..5].iter().map(|r| bar_of(r).chars().count()).max();
        assert_eq!(widest, Some(x224.chars().count()));
        // TLS starts after negotiation's bar has ended: blank under it, then idle time.
        let tls = bar_of(rows[3]);
        assert!(tls.starts_with(IDLE) && tls.ends_with('▓'), "{tls}");
        let tls_start = rows[3].chars().position(|c| c == IDLE).unwrap();
        let x224_end = rows[2].chars().count() - 1;
        assert!(tls_start > x224_end, "{text}");
        assert!(
            rows[4].contains("credssp") && rows[4].contains("█✗ failed: waiting on the server")
        );
        assert!(!rows[3].contains('✗'));
        // One legend for the glyphs the rows use, as the one-line form names them.
        assert_eq!(
            rows[5],
            "  ░ tcp  ▒ x224  ▓ tls  █ credssp  · idle  ✗ failed"
        );
        assert!(rows.iter().all(|r| r.chars().count() <= 120), "{text}");
    }

    #[test]
    fn both_forms_use_the_same_glyph_for_a_phase_and_for_idle_time() {
        let d = nla_failure();
        let line = waterfall_line(&d, 120, false);
        let rows = waterfall_rows(&d, 120, false);
        for (name, glyph) in [("tcp", '░'), ("x224", '▒'), ("tls", '▓'), ("credssp", '█')] {
            assert!(line.contains(&format!("{glyph}{name} ")), "{line}");
            assert!(rows.contains(&format!("{glyph} {name}")), "{rows}");
        }
        // The demo's NLA failure waits 10 ms between negotiation and TLS: idle in both.
        assert!(line.contains("▒·") && line.contains("·idle"), "{line}");
        assert!(rows.contains("· idle"), "{rows}");
        // No long gap: nothing named.
        assert!(!rows.contains("pause"));
    }

    #[test]
    fn a_long_gap_between_phases_is_named_with_who_paused() {
        // 3.3 s between the X.224 Connection Confirm and the ClientHello.
        let d = diagnosed(
            &[
                (PhaseName::TcpConnect, 0.0, 0.5, true),
                (PhaseName::X224Negotiation, 0.6, 4.0, true),
                (PhaseName::TlsHandshake, 3304.0, 3384.0, true),
                (PhaseName::Credssp, 3385.0, 3389.0, true),
            ],
            3400.0,
            Verdict::Ok,
            Vec::new(),
        );
        let notes = gap_notes(&d, 120);
        assert_eq!(notes.lines().count(), 1, "{notes}");
        assert!(
            notes.starts_with("  · 3.30 s client pause before the ClientHello (frames 4 to 5)")
                && notes.trim_end().ends_with("): a prompt?"),
            "{notes}"
        );
        let rows = waterfall_rows(&d, 120, false);
        assert!(
            rows.contains("client pause before the ClientHello"),
            "{rows}"
        );
    }

    #[test]
    fn one_line_form_fits_and_marks_the_stop() {
        let line = waterfall_line(&nla_failure(), 120, false);
        assert_eq!(line.lines().count(), 1);
        assert!(line.chars().count() <= 121, "{line}");
        assert!(line.contains("▒x224 74 ms") && line.contains("█credssp 1.7 ms ✗"));
        assert!(line.contains("98 ms"));
        // The mark comes right after CredSSP's bar, at the end of the axis.
        assert!(line.contains("█✗▏"), "{line}");
        // x224 fills most of the bar.
        let x224_cells = line.chars().filter(|&c| c == '▒').count() - 1;
        let bar_cells = line.split('▕').nth(1).unwrap().split('▏').next().unwrap();
        assert!(x224_cells * 2 > bar_cells.chars().count(), "{line}");
        let narrow = waterfall_line(&nla_failure(), 80, false);
        // At 80 columns the legend may go under the bar: each line keeps to the width.
        assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
        assert!(!narrow.contains("waiting on"), "the note goes first");
    }

    #[test]
    fn colour_only_when_asked() {
        let d = nla_failure();
        assert!(!waterfall_rows(&d, 120, false).contains('\u{1b}'));
        assert!(!waterfall_line(&d, 120, false).contains('\u{1b}'));
        let coloured = waterfall_line(&d, 120, true);
        assert!(coloured.contains("\u{1b}[1;31m✗"));
    }

    #[test]
    fn a_stalled_connection_is_pending_and_one_without_phases_draws_nothing() {
        let d = diagnosed(
            &[(PhaseName::TcpConnect, 0.0, 30_000.0, false)],
            30_000.0,
            Verdict::Stalled,
            Vec::new(),
        );
        assert!(waterfall_rows(&d, 120, false).contains("░… stopped: waiting on the server"));
        assert!(waterfall_line(&d, 120, false).contains("░tcp 30.00 s …"));
        let none = diagnosed(&[], 0.0, Verdict::Incomplete, Vec::new());
        assert!(waterfall_rows(&none, 120, false).is_empty());
        assert!(waterfall_line(&none, 120, false).is_empty());
    }

    #[test]
    fn cells_never_leave_the_bar() {
        assert_eq!(cells_of(0.0, 0.0, 100.0, 50), (0, 1));
        assert_eq!(cells_of(100.0, 100.0, 100.0, 50), (49, 50));
        assert_eq!(cells_of(0.0, 100.0, 100.0, 50), (0, 50));
        assert_eq!(cells_of(5.0, 5.0, 0.0, 50), (0, 1));
    }
}
