//! The commands of the binary: each turns its options into a pipeline configuration and a
//! `Collector` (the library's one output side), feeds it, and returns the exit status.

pub mod analyze;
pub mod args;
pub mod each;
pub mod explain;
#[cfg(feature = "live")]
pub mod live;
pub mod man;
pub mod options;
pub mod progress;
pub mod report;

use std::io::IsTerminal;

use rdpscope::pipeline::PipelineConfig;
use rdpscope::report::terminal::TerminalStyle;

use args::Thresholds;

/// The pipeline settings every command that analyses takes from its options.
pub fn pipeline_config(
    thresholds: &Thresholds,
    limits: &options::LimitArgs,
    privacy: &options::RedactArgs,
) -> PipelineConfig {
    PipelineConfig {
        diagnose: thresholds.config(),
        limits: limits.limits(),
        redact: privacy.redactor(),
        ..PipelineConfig::default()
    }
}

/// Colours unless `--no-color`, NO_COLOR, or stdout is not a terminal.
pub fn use_color(no_color: bool) -> bool {
    !no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}

/// The width to lay out for: COLUMNS, else the terminal's own width when stdout is one,
/// else 120 (a file or pipe).
pub fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or_else(|| {
            if std::io::stdout().is_terminal() {
                // comfy-table asks the terminal; text blocks then wrap at the same width.
                comfy_table::Table::new().width()
            } else {
                None
            }
        })
        .or(Some(120))
}

/// How terminal output looks, from the flags and the terminal.
pub fn terminal_style(all: bool, timeline: bool, no_color: bool) -> TerminalStyle {
    TerminalStyle {
        all,
        timeline,
        color: use_color(no_color),
        width: terminal_width(),
    }
}
