//! rdpscope command line: the top-level flags and the dispatch to the commands in `cli/`;
//! the work is in the library.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "rdpscope",
    version,
    about = "Tells why a Remote Desktop (RDP) connection fails, from packets",
    long_about = "Tells why a Remote Desktop (RDP) connection fails, from packets.\n\n\
        `rdpscope FILE...` is short for `rdpscope analyze FILE...`.\n\n\
        Exit codes, from the selected connections: 1 when at least one is failed or stalled, \
        else 0; 2 unusable input (also a capture with a header but no complete packet). With \
        --each: the worst over the files."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse capture files (pcap, pcapng, gzip; '-' for standard input) as one capture
    /// (with --each: each file its own capture, with its own table and summary).
    Analyze(AnalyzeArgs),
    /// Write one self-contained HTML report (summary, phase waterfalls, findings) of captures
    /// (with --each: a page per file and an index.html in the -o directory).
    Report(ReportArgs),
    /// Capture live on an interface and report connections as they happen.
    Live(LiveArgs),
    /// List the interfaces rdpscope can capture on (as tcpdump -D).
    Interfaces,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum, ignore_case = true)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff) generated from these options, or write every page to a directory.
    Man(ManArgs),
    /// Explain a finding code, or a client error code (0x904, 0x904 0x7, 2308); without one,
    /// list the finding codes.
    #[command(
        long_about = "Explain a finding code (what it means, its causes, the fix), or a client \
            error code as the Remote Desktop client's dialog or event 1026 shows it (0x904, \
            0x904 0x7, 2308): what it means and which findings in a capture produce it. \
            Without a code, list every finding code with its severity and summary."
    )]
    Explain {
        /// A finding code (nla-failed, any case), or the error code the client showed (hex as
        /// 0x904 or decimal as 2308), optionally followed by its extended code (0x7).
        #[arg(value_name = "CODE", num_args = 0..=2)]
        codes: Vec<String>,
    },
}

#[derive(clap::Args)]
struct ManArgs {
    /// The command whose page to print (analyze, report, ...); the top-level page without one.
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    command: Option<String>,
    /// Write every page (rdpscope.1, rdpscope-analyze.1, ...) into this directory.
    #[arg(long, value_name = "DIR")]
    dir: Option<std::path::PathBuf>,
}

const SUBCOMMANDS: [&str; 8] = [
    "analyze",
    "report",
    "help",
    "explain",
    "live",
    "interfaces",
    "completions",
    "man",
];

/// Flags of the commands that print times, accepted before the command name too
/// (`rdpscope --local analyze F`, `rdpscope --utc F`).
const TIME_FLAGS: [&str; 2] = ["--local", "--utc"];

/// `rdpscope FILE...` means `rdpscope analyze FILE...`; time flags written before the
/// command move after it (they belong to the commands that print times).
fn with_default_subcommand(mut args: Vec<String>) -> Vec<String> {
    let leading = args
        .iter()
        .skip(1)
        .take_while(|a| TIME_FLAGS.contains(&a.as_str()))
        .count();
    let moved: Vec<String> = args.drain(1..1 + leading).collect();
    if !moved.is_empty()
        && args
            .get(1)
            .is_none_or(|a| !SUBCOMMANDS.contains(&a.as_str()))
    {
        args.insert(1, "analyze".to_string());
    }
    let at = args.len().min(2);
    args.splice(at..at, moved);
    if let Some(first) = args.get(1) {
        let top_level_flag = ["-h", "--help", "-V", "--version"].contains(&first.as_str());
        if !top_level_flag && !SUBCOMMANDS.contains(&first.as_str()) {
            args.insert(1, "analyze".to_string());
        }
    }
    args
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(with_default_subcommand(std::env::args().collect()));
    let result = match cli.command {
        Command::Analyze(a) => {
            a.time.apply();
            analyze::run(&a)
        }
        Command::Report(a) => {
            a.time.apply();
            report::run(&a)
        }
        Command::Explain { codes } => explain::run(&codes),
        #[cfg(feature = "live")]
        Command::Live(a) => {
            a.time.apply();
            live::run(&a)
        }
        #[cfg(feature = "live")]
        Command::Interfaces => live::interfaces(),
        #[cfg(not(feature = "live"))]
        Command::Live(_) | Command::Interfaces => Err(anyhow::anyhow!(
            "live capture needs libpcap, and this rdpscope was built without it (cargo feature `live`)"
        )),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "rdpscope",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Man(a) => {
            use clap::CommandFactory;
            man::run(Cli::command(), a.command.as_deref(), a.dir.as_deref())
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rdpscope: {e:#}");
            ExitCode::from(2)
        }
    }
}

mod cli;
use cli::args::{AnalyzeArgs, LiveArgs, ReportArgs};
#[cfg(feature = "live")]
use cli::live;
use cli::{analyze, explain, man, report};
