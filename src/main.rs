//! rdpscope command line: argument parsing and output only; the work is in the library.
#![forbid(unsafe_code)]

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use rdpscope::capture::writer::{write_connections, ConnectionSpan};
use rdpscope::diagnose::{catalog, DiagnoseConfig, Diagnosed, Severity, Verdict};
use rdpscope::pipeline::PipelineConfig;
use rdpscope::report::ndjson_stream::NdjsonStream;
use rdpscope::report::{self, html, json, summary, table, waterfall};

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
    /// Show times in the terminal in local time (JSON is always RFC 3339 UTC).
    #[arg(long, global = true, conflicts_with = "utc")]
    local: bool,
    /// Show times in the terminal in UTC (the default).
    #[arg(long, global = true)]
    utc: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse capture files (pcap, pcapng, gzip; '-' for standard input) as one capture.
    Analyze(AnalyzeArgs),
    /// Write one self-contained HTML report (summary, phase waterfalls, findings) of captures.
    Report(ReportArgs),
    /// Capture live on an interface and report connections as they happen.
    Live(LiveArgs),
    /// List the interfaces rdpscope can capture on (as tcpdump -D).
    Interfaces,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff) generated from these options.
    Man,
    /// Explain a finding code (its causes and fixes); without a code, list them all.
    Explain { code: Option<String> },
}

/// The captures to read, shared by analyze and report.
#[derive(Args)]
struct InputArgs {
    /// Capture files; several are read as one capture in time order.
    #[arg(required = true)]
    files: Vec<String>,
    /// Only packets matching this BPF filter (as tcpdump).
    #[arg(short = 'f', long = "filter")]
    filter: Option<String>,
    /// Capture file reader: native (pcap-parser) or libpcap (to compare the two).
    #[arg(long, hide = true, default_value = "native", value_parser = ["native", "libpcap"])]
    reader: String,
}

impl InputArgs {
    fn file_reader(&self) -> Result<rdpscope::capture::FileReader> {
        match self.reader.as_str() {
            #[cfg(feature = "live")]
            "libpcap" => Ok(rdpscope::capture::FileReader::Libpcap),
            "native" => Ok(rdpscope::capture::FileReader::Native),
            other => Err(anyhow::anyhow!(
                "file reader {other:?} is not in this build (cargo feature `live`)"
            )),
        }
    }
}

/// Which connections to show, shared by analyze and report.
#[derive(Args)]
struct Selection {
    /// Only these connections (by the # of the summary; repeatable).
    #[arg(long = "connection", value_name = "ID")]
    connections: Vec<u64>,
    /// Only connections with these verdicts (ok, failed, stalled, slow, incomplete).
    #[arg(long = "verdict", value_delimiter = ',', value_name = "VERDICT")]
    verdicts: Vec<String>,
    /// Only connections to or from this address.
    #[arg(long = "host", value_name = "IP")]
    hosts: Vec<std::net::IpAddr>,
}

#[derive(Args)]
struct AnalyzeArgs {
    #[command(flatten)]
    input: InputArgs,
    /// One JSON object per connection per line (NDJSON).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    selection: Selection,
    /// Write the packets of the failing connections (or of the selected ones) to a pcap.
    #[arg(short = 'w', long = "write", value_name = "FILE", conflicts_with_all = ["redact", "redact_key"])]
    write: Option<String>,
    /// Print each connection's phase waterfall (a row per phase) and full event timeline.
    #[arg(long)]
    timeline: bool,
    /// Show the phase waterfall and findings block for healthy connections too.
    #[arg(long)]
    all: bool,
    /// No colours (also when NO_COLOR is set or stdout is not a terminal).
    #[arg(long)]
    no_color: bool,
    #[command(flatten)]
    thresholds: Thresholds,
    #[command(flatten)]
    limits: options::LimitArgs,
    #[command(flatten)]
    keys: options::KeyArgs,
    #[command(flatten)]
    privacy: options::RedactArgs,
}

#[derive(Args)]
struct ReportArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The HTML file to write ('-' for standard output).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: String,
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    thresholds: Thresholds,
    #[command(flatten)]
    limits: options::LimitArgs,
    #[command(flatten)]
    keys: options::KeyArgs,
    #[command(flatten)]
    privacy: options::RedactArgs,
}

#[derive(Args)]
#[cfg_attr(not(feature = "live"), allow(dead_code))]
struct LiveArgs {
    /// Interface to capture on (see `rdpscope interfaces`).
    #[arg(short = 'i', long = "interface")]
    interface: String,
    /// BPF capture filter; replaces the default (TCP/UDP 3389, TCP 443, UDP 3391).
    #[arg(short = 'f', long = "filter")]
    filter: Option<String>,
    /// Do not put the interface into promiscuous mode.
    #[arg(short = 'p', long = "no-promiscuous")]
    no_promiscuous: bool,
    /// Bytes to capture per packet.
    #[arg(short = 's', long = "snaplen", default_value_t = 262_144)]
    snaplen: i32,
    /// Kernel capture buffer in MiB (as tcpdump -B); raise it if drops are reported.
    #[arg(short = 'B', long = "buffer-size", value_name = "MIB", default_value_t = 64,
          value_parser = clap::value_parser!(i32).range(1..=4096))]
    buffer_mb: i32,
    /// Stop after this many connections have finished.
    #[arg(short = 'c', long = "count")]
    count: Option<u64>,
    /// Stop after this long (e.g. 60s, 5m, 1h; plain numbers are seconds).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<std::time::Duration>,
    /// Also save every captured packet to this pcap file.
    #[arg(short = 'w', long = "write", conflicts_with_all = ["redact", "redact_key"])]
    write: Option<String>,
    /// NDJSON, one object per connection as it finishes (progress lines go to stderr).
    #[arg(long)]
    json: bool,
    /// No colours (also when NO_COLOR is set or stdout is not a terminal).
    #[arg(long)]
    no_color: bool,
    #[command(flatten)]
    thresholds: Thresholds,
    #[command(flatten)]
    limits: options::LimitArgs,
    #[command(flatten)]
    keys: options::KeyArgs,
    #[command(flatten)]
    privacy: options::RedactArgs,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: f64 = num.parse().map_err(|_| format!("not a duration: {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {s:?} (use ms, s, m or h)"
            ))
        }
    };
    Ok(std::time::Duration::from_secs_f64(secs))
}

#[derive(Args)]
struct Thresholds {
    /// Seconds without progress before a handshake counts as stalled.
    #[arg(long, default_value_t = 23.0, value_name = "SECONDS")]
    stall_after: f64,
    /// Seconds a completed handshake may take before it counts as slow.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    slow_after: f64,
    /// TCP handshake round-trip time (ms) above which latency is reported.
    #[arg(long, default_value_t = 250.0, value_name = "MS")]
    high_rtt: f64,
    /// Handshake retransmissions tolerated before reporting packet loss.
    #[arg(long, default_value_t = 2, value_name = "N")]
    loss_retransmissions: u32,
    /// RDP-UDP loss (percent of a direction's datagrams) above which it is reported.
    #[arg(long, default_value_t = 2.0, value_name = "PERCENT")]
    udp_loss: f64,
    /// Connections to one server within the flood window that make a connection flood.
    #[arg(long, default_value_t = 100, value_name = "N")]
    flood_connections: u64,
    /// Connection rate (per second) that makes a flood; the window is N / RATE seconds.
    #[arg(long, default_value_t = 10.0, value_name = "PER_SECOND")]
    flood_rate: f64,
}

impl Thresholds {
    fn config(&self) -> DiagnoseConfig {
        DiagnoseConfig {
            stall_after_ms: self.stall_after * 1000.0,
            slow_after_ms: self.slow_after * 1000.0,
            high_rtt_ms: self.high_rtt,
            loss_retransmissions: self.loss_retransmissions,
            udp_loss_pct: self.udp_loss,
            flood_min_connections: self.flood_connections,
            flood_min_rate: self.flood_rate,
        }
    }
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

/// `rdpscope FILE...` means `rdpscope analyze FILE...`.
fn with_default_subcommand(mut args: Vec<String>) -> Vec<String> {
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
    if cli.local && !rdpscope::timefmt::use_local_time() {
        eprintln!("rdpscope: warning: the local time offset is unknown; times are in UTC");
    }
    let result = match cli.command {
        Command::Analyze(a) => run_analyze(&a),
        Command::Report(a) => run_report(&a),
        Command::Explain { code } => explain(code.as_deref()),
        #[cfg(feature = "live")]
        Command::Live(a) => live::run(&a),
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
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map(|_| ExitCode::SUCCESS)
                .map_err(anyhow::Error::from)
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
#[cfg(feature = "live")]
use cli::live;
use cli::{options, progress};

fn explain(code: Option<&str>) -> Result<ExitCode> {
    match code {
        None => {
            for c in catalog::CODES {
                println!("{:<32} {:<8} {}", c.code, c.severity.name(), c.summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(code) => match catalog::lookup(code) {
            Some(c) => {
                println!(
                    "{} ({})\n\n{}\n\n{}\n\nFix: {}",
                    c.code,
                    c.severity.name(),
                    c.summary,
                    c.explanation,
                    c.fix
                );
                Ok(ExitCode::SUCCESS)
            }
            None => {
                eprintln!("rdpscope: unknown finding code {code:?}; `rdpscope explain` lists them");
                Ok(ExitCode::from(2))
            }
        },
    }
}

pub(crate) fn use_color(no_color: bool) -> bool {
    !no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}

impl Selection {
    fn selecting(&self) -> bool {
        !self.connections.is_empty() || !self.verdicts.is_empty() || !self.hosts.is_empty()
    }

    /// The --host addresses as the connections show them: their pseudonyms under --redact.
    fn hosts_as_shown(&self, redact: Option<&rdpscope::redact::Redactor>) -> Vec<std::net::IpAddr> {
        match redact {
            Some(r) => self.hosts.iter().map(|h| r.ip(*h)).collect(),
            None => self.hosts.clone(),
        }
    }

    /// `hosts`: from `hosts_as_shown`.
    fn selects(&self, d: &Diagnosed, hosts: &[std::net::IpAddr]) -> bool {
        let m = &d.meta;
        (self.connections.is_empty() || self.connections.contains(&m.id))
            && (self.verdicts.is_empty() || self.verdicts.iter().any(|v| v == d.verdict.name()))
            && (hosts.is_empty() || hosts.iter().any(|h| *h == m.client.ip || *h == m.server.ip))
    }
}

fn span_of(d: &Diagnosed) -> ConnectionSpan {
    ConnectionSpan {
        a: (d.meta.client.ip, d.meta.client.port),
        b: (d.meta.server.ip, d.meta.server.port),
        tcp: d.meta.transport == rdpscope::flow::TransportKind::Tcp,
        first_ns: d.meta.first.ts_ns,
        last_ns: d.meta.last.ts_ns,
    }
}

/// The pipeline settings every command that analyses takes from its options.
pub(crate) fn pipeline_config(
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

fn run_analyze(args: &AnalyzeArgs) -> Result<ExitCode> {
    let mut config = pipeline_config(&args.thresholds, &args.limits, &args.privacy);
    config.reader = args.input.file_reader()?;
    config.keylogs = args.keys.files()?;
    let hosts = args.selection.hosts_as_shown(config.redact.as_ref());
    let mut collected: Vec<Diagnosed> = Vec::new();
    let mut tally = Tally::default();
    let mut any_error = false;
    let mut spans = Vec::new();
    let mut json_out = args.json.then(|| NdjsonStream::spawn(std::io::stdout()));
    let mut on_conn = |d: Diagnosed| {
        let failing = d.findings.iter().any(|f| f.severity == Severity::Error);
        any_error |= failing;
        if !args.selection.selects(&d, &hosts) {
            return;
        }
        if args.write.is_some() && (args.selection.selecting() || failing) {
            spans.push(span_of(&d));
        }
        if let Some(out) = json_out.as_mut() {
            out.push(d);
        } else {
            tally.add(&d, &mut collected);
            collected.push(d);
        }
    };
    let outcome = progress::analyze_with_bar(
        &args.input.files,
        args.input.filter.as_deref(),
        config,
        &mut on_conn,
    );
    if let Some(out) = json_out {
        // A reader that went away (`| head`) is not an error of the analysis.
        let _ = out.finish();
    }
    let (summary, error) = match outcome {
        Ok(s) => (s, None),
        Err((s, e)) => (s, Some(e)),
    };
    if !args.json {
        keep_table_rows(&mut collected);
        print_report(&collected, args, summary.packets);
        if let Some(note) = tally.omitted(&collected) {
            println!("\n{note}");
        }
        print!(
            "{}",
            summary::capture_notes(&summary, &args.limits.limits(), width_or_default())
        );
    } else if let Some(line) = json::summary_line(&summary) {
        println!("{line}");
    }
    for w in &summary.warnings {
        eprintln!("rdpscope: warning: {}: {}", w.path, w.message);
    }
    if let (Some(out), None) = (&args.write, &error) {
        match write_connections(&args.input.files, args.input.filter.as_deref(), &spans, out) {
            Ok(n) => eprintln!(
                "rdpscope: wrote {n} packets of {} connection(s) to {out}",
                spans.len()
            ),
            Err(e) => {
                eprintln!("rdpscope: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    Ok(exit_code(error, any_error))
}

/// Exit status of analyze and live: 2 unusable input (reported here), 1 an error finding, 0 fine.
pub(crate) fn exit_code(error: Option<impl std::fmt::Display>, any_error: bool) -> ExitCode {
    if let Some(e) = error {
        eprintln!("rdpscope: {e}");
        return ExitCode::from(2);
    }
    if any_error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The table shows at most this many connections (the first ones): memory stays bounded on
/// a capture of a flood, and `--json` streams them all.
const TABLE_LIMIT: usize = 1_000;

/// Verdict counts over every connection, for when the table cannot show them all.
#[derive(Default)]
struct Tally {
    total: u64,
    by_verdict: Vec<(Verdict, u64)>,
}

impl Tally {
    /// Counts `d`, and keeps `kept` to the first `TABLE_LIMIT` connections (amortised).
    fn add(&mut self, d: &Diagnosed, kept: &mut Vec<Diagnosed>) {
        self.total += 1;
        match self.by_verdict.iter_mut().find(|(v, _)| *v == d.verdict) {
            Some((_, n)) => *n += 1,
            None => self.by_verdict.push((d.verdict, 1)),
        }
        if kept.len() >= 2 * TABLE_LIMIT {
            kept.sort_by_key(|d| d.meta.id);
            kept.truncate(TABLE_LIMIT);
        }
    }

    /// What the table leaves out, when it cannot show every connection.
    fn omitted(&self, kept: &[Diagnosed]) -> Option<String> {
        let shown = kept.len() as u64;
        if self.total <= shown {
            return None;
        }
        let parts = table::verdict_counts(|v| {
            self.by_verdict
                .iter()
                .find(|(x, _)| *x == v)
                .map_or(0, |(_, n)| *n)
        });
        Some(format!(
            "{} connections in all: {}; the table above shows the first {shown} \
             (`--json` lists every one).",
            self.total, parts
        ))
    }
}

/// The connections the table shows: the first `TABLE_LIMIT`, in table order.
fn keep_table_rows(collected: &mut Vec<Diagnosed>) {
    collected.sort_by_key(|d| d.meta.id);
    collected.truncate(TABLE_LIMIT);
    table::table_order(collected);
}

fn print_report(collected: &[Diagnosed], args: &AnalyzeArgs, packets: u64) {
    use std::fmt::Write as _;
    let mut out = String::new();
    if collected.is_empty() {
        let _ = writeln!(out, "No RDP connections found ({packets} packets read).");
    } else {
        let color = use_color(args.no_color);
        let _ = writeln!(
            out,
            "{}",
            table::summary_table(collected, color, terminal_width())
        );
        let _ = writeln!(out, "{}", table::footer(collected));
        let min = if args.all {
            Severity::Info
        } else {
            Severity::Warning
        };
        let width = width_or_default();
        for d in collected.iter() {
            let block = table::findings_block(d, min, width, args.timeline || args.all);
            let phases = if args.all || report::worth_a_waterfall(d) {
                waterfall::waterfall_line(d, width, color)
            } else {
                String::new()
            };
            if !block.is_empty() || !phases.is_empty() {
                let _ = writeln!(
                    out,
                    "\n#{} {} -> {}: {}",
                    d.meta.id,
                    d.meta.client,
                    d.meta.server,
                    d.verdict.name()
                );
                out.push_str(&phases);
                out.push_str(&block);
            }
            if args.timeline {
                let _ = writeln!(out, "\n#{} timeline", d.meta.id);
                out.push_str(&waterfall::waterfall_rows(d, width, color));
                let _ = writeln!(out, "{}", table::timeline_table(d, color));
            }
        }
    }
    // A closed pipe (`| head`) is the reader's choice, not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
}

fn width_or_default() -> usize {
    usize::from(terminal_width().unwrap_or(120)).max(60)
}

/// The terminal's width when stdout is one (COLUMNS wins), else none: tables wrap at 120.
pub(crate) fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or(if std::io::stdout().is_terminal() {
            None
        } else {
            Some(120)
        })
}

/// `rdpscope report`: the same analysis and selection as analyze, written as one HTML file.
fn run_report(args: &ReportArgs) -> Result<ExitCode> {
    let mut config = pipeline_config(&args.thresholds, &args.limits, &args.privacy);
    config.reader = args.input.file_reader()?;
    config.keylogs = args.keys.files()?;
    let hosts = args.selection.hosts_as_shown(config.redact.as_ref());
    let mut collected: Vec<Diagnosed> = Vec::new();
    let mut tally = Tally::default();
    let mut any_error = false;
    let mut on_conn = |d: Diagnosed| {
        any_error |= d.findings.iter().any(|f| f.severity == Severity::Error);
        if args.selection.selects(&d, &hosts) {
            tally.add(&d, &mut collected);
            collected.push(d);
        }
    };
    let outcome = progress::analyze_with_bar(
        &args.input.files,
        args.input.filter.as_deref(),
        config,
        &mut on_conn,
    );
    let (summary, error) = match outcome {
        Ok(s) => (s, None),
        Err((s, e)) => (s, Some(e)),
    };
    keep_table_rows(&mut collected);
    // The report says what went wrong with the input too: it may be read far from this terminal.
    let mut warnings: Vec<String> = summary
        .warnings
        .iter()
        .map(|w| format!("{}: {}", w.path, w.message))
        .collect();
    warnings.extend(error.as_ref().map(ToString::to_string));
    let page = html::render(&html::ReportInput {
        files: &args.input.files,
        connections: &collected,
        packets: summary.packets,
        omitted: tally.omitted(&collected),
        notes: &summary::capture_notes(&summary, &args.limits.limits(), 100),
        warnings: &warnings,
    });
    for w in &summary.warnings {
        eprintln!("rdpscope: warning: {}: {}", w.path, w.message);
    }
    let written = if args.output == "-" {
        std::io::stdout().lock().write_all(page.as_bytes())
    } else {
        std::fs::write(&args.output, page.as_bytes())
    };
    if let Err(e) = written {
        eprintln!("rdpscope: cannot write {}: {e}", args.output);
        return Ok(ExitCode::from(2));
    }
    if args.output != "-" {
        eprintln!(
            "rdpscope: wrote the report of {} connection(s) to {}",
            collected.len(),
            args.output
        );
    }
    Ok(exit_code(error, any_error))
}
