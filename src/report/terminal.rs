//! The terminal report of `analyze`: the summary table, then each connection worth a look
//! with its phase waterfall and findings (and with `--timeline` its full timeline).

use std::fmt::Write as _;

use super::{table, waterfall, worth_a_waterfall};
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

/// The whole report of `rows` (already in table order).
pub fn report(rows: &[Diagnosed], style: &TerminalStyle, packets: u64) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        let _ = writeln!(out, "No RDP connections found ({packets} packets read).");
        return out;
    }
    let color = style.color;
    let _ = writeln!(out, "{}", table::summary_table(rows, color, style.width));
    let _ = writeln!(out, "{}{}", table::footer(rows), table::span_text(rows));
    let min = if style.all {
        Severity::Info
    } else {
        Severity::Warning
    };
    let width = style.wrap();
    for d in rows {
        let block = table::findings_block(d, min, width, style.timeline || style.all);
        let phases = if style.all || worth_a_waterfall(d) {
            waterfall::waterfall_line(d, width, color)
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
                    .map(|l| format!(" [{l}]"))
                    .unwrap_or_default()
            );
            out.push_str(&phases);
            if let Some(e) = crate::diagnose::client_error::expected(d) {
                let line = format!(
                    "The client would show error {}{}",
                    super::codes::client_error::label(&e),
                    if e.inferred { " (inferred)" } else { "" }
                );
                out.push_str(&table::wrap(&line, width, "  "));
            }
            out.push_str(&block);
        }
        if style.timeline {
            let _ = writeln!(out, "\n#{} timeline", d.meta.id);
            out.push_str(&waterfall::waterfall_rows(d, width, color));
            let _ = writeln!(out, "{}", table::timeline_table(d, color));
        }
    }
    out
}
