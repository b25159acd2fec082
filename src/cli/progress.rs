//! The progress bar of a long file analysis: on stderr, only when stderr is a terminal and the
//! input is big plain files whose size is known (not standard input, a FIFO or gzip). The
//! library reports packets and bytes read; this draws them.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use rdpscope::capture::source::{input_size, ReadCount};
use rdpscope::diagnose::Diagnosed;
use rdpscope::pipeline::{
    analyze_files_with_progress, AnalysisProgress, PipelineConfig, RunSummary,
};

/// Smaller inputs are read in about a second: a bar would only flicker.
const MIN_BYTES: u64 = 50 * 1024 * 1024;

fn bar_for(paths: &[String]) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let total = input_size(paths).filter(|&n| n > MIN_BYTES)?;
    let style =
        ProgressStyle::with_template("{bar:32.cyan/blue} {bytes}/{total_bytes} {msg} ETA {eta}")
            .ok()?
            .progress_chars("█▓░");
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4))
        .with_style(style);
    Some(bar)
}

/// "1,234,567 packets/s, 321 connections".
fn rate_message(count: ReadCount, elapsed: Duration, connections: u64) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        count.packets as f64 / secs
    } else {
        0.0
    };
    format!("{rate:.0} packets/s, {connections} connections")
}

/// `analyze_files`, with a progress bar on stderr when the input is big enough to wait for.
pub fn analyze_with_bar(
    paths: &[String],
    bpf: Option<&str>,
    config: PipelineConfig,
    out: &mut dyn FnMut(Diagnosed),
) -> RunSummary {
    let bar = bar_for(paths);
    let mut report = |p: AnalysisProgress| {
        if let Some(bar) = &bar {
            bar.set_position(p.read.bytes.min(bar.length().unwrap_or(u64::MAX)));
            bar.set_message(rate_message(p.read, bar.elapsed(), p.connections));
        }
    };
    let result = analyze_files_with_progress(paths, bpf, config, out, &mut report);
    // Cleared before the report is printed, so the bar never mixes with it on a terminal.
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_packets_over_elapsed_time() {
        let count = ReadCount {
            packets: 131_072,
            bytes: 100_000_000,
        };
        assert_eq!(
            rate_message(count, Duration::from_millis(500), 12),
            "262144 packets/s, 12 connections"
        );
        assert_eq!(
            rate_message(count, Duration::ZERO, 0),
            "0 packets/s, 0 connections"
        );
    }
}
