//! rdpscope command line: argument parsing and output only; the work is in the library.
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use rdpscope::diagnose::{Diagnosed, Severity};
use rdpscope::pipeline::{analyze_files, PipelineConfig};
use rdpscope::report::{json, table};

#[derive(Parser)]
#[command(
    name = "rdpscope",
    version,
    about = "Tells why a Remote Desktop (RDP) connection fails, from packets",
    long_about = "Tells why a Remote Desktop (RDP) connection fails, from packets.\n\n\
        `rdpscope FILE...` is short for `rdpscope analyze FILE...`.\n\n\
        Exit codes: 0 all connections fine, 1 at least one error finding, 2 unusable input."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse capture files (pcap, pcapng, gzip; '-' for standard input) as one capture.
    Analyze(AnalyzeArgs),
}

#[derive(Args)]
struct AnalyzeArgs {
    /// Capture files; several are read as one capture in time order.
    #[arg(required = true)]
    files: Vec<String>,
    /// Only packets matching this BPF filter (as tcpdump).
    #[arg(short = 'f', long = "filter")]
    filter: Option<String>,
    /// One JSON object per connection per line (NDJSON).
    #[arg(long)]
    json: bool,
}

const SUBCOMMANDS: [&str; 3] = ["analyze", "help", "explain"];

/// `rdpscope FILE...` means `rdpscope analyze FILE...`.
fn with_default_subcommand(mut args: Vec<String>) -> Vec<String> {
    if let Some(first) = args.get(1) {
        let is_flag = first.starts_with('-') && first != "-";
        if !is_flag && !SUBCOMMANDS.contains(&first.as_str()) {
            args.insert(1, "analyze".to_string());
        }
    }
    args
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(with_default_subcommand(std::env::args().collect()));
    let result = match cli.command {
        Command::Analyze(a) => run_analyze(&a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rdpscope: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_analyze(args: &AnalyzeArgs) -> Result<ExitCode> {
    let config = PipelineConfig::default();
    let stdout = std::io::stdout();
    let mut collected: Vec<Diagnosed> = Vec::new();
    let mut any_error = false;
    let mut on_conn = |d: Diagnosed| {
        any_error |= d.findings.iter().any(|f| f.severity == Severity::Error);
        if args.json {
            let mut lock = stdout.lock();
            let _ = writeln!(lock, "{}", json::to_line(&d));
        } else {
            collected.push(d);
        }
    };
    let outcome = analyze_files(&args.files, args.filter.as_deref(), config, &mut on_conn);
    let (summary, error) = match outcome {
        Ok(s) => (s, None),
        Err((s, e)) => (s, Some(e)),
    };
    if !args.json {
        collected.sort_by_key(|d| d.meta.id);
        if collected.is_empty() {
            println!(
                "No RDP connections found ({} packets read).",
                summary.packets
            );
        } else {
            println!("{}", table::summary_table(&collected));
        }
    }
    for w in &summary.warnings {
        eprintln!("rdpscope: warning: {}: {}", w.path, w.message);
    }
    if let Some(e) = error {
        eprintln!("rdpscope: {e}");
        return Ok(ExitCode::from(2));
    }
    Ok(if any_error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
