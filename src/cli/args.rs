//! The options of the commands that analyse: their inputs, selection, thresholds and output.

use clap::{Args, ValueEnum};

use rdpscope::diagnose::client_error::{ClientError, DisconnectReason};
use rdpscope::diagnose::{DiagnoseConfig, Verdict};
use rdpscope::proto::rdp_pdu::ErrInfo;
use rdpscope::report::collect::Selection;

use super::options;

/// The help headings every command groups its options under.
pub mod heading {
    pub const INPUT: &str = "Input";
    pub const SELECTION: &str = "Selection";
    pub const THRESHOLDS: &str = "Thresholds";
    pub const LIMITS: &str = "Limits";
    pub const OUTPUT: &str = "Output";
}

/// The captures to read, shared by analyze and report.
#[derive(Args)]
#[command(next_help_heading = heading::INPUT)]
pub struct InputArgs {
    /// Capture files; several are read as one capture in time order (with --each: each on
    /// its own) ('-' or none with a pipe on standard input: standard input).
    #[arg(value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub files: Vec<String>,
    /// Each FILE is a capture of its own: analysed on its own (up to -j N files at once),
    /// each with its own table and summary (JSON: a `file` key on every line, a summary line
    /// per file; report: -o is a directory, one page per file and an index.html), printed in
    /// the order given. Exit status: the worst of the files'.
    #[arg(long)]
    pub each: bool,
    /// A capture file to read, as tcpdump -r (repeatable; adds to the FILE arguments).
    #[arg(short = 'r', long = "read", value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub read: Vec<String>,
    /// Only packets matching this BPF filter (as tcpdump).
    #[arg(short = 'f', long = "filter")]
    pub filter: Option<String>,
    /// Capture file reader: native (pcap-parser) or libpcap (to compare the two).
    #[arg(long, hide = true, default_value = "native", value_parser = ["native", "libpcap"])]
    pub reader: String,
}

impl InputArgs {
    /// The `--reader` asked for, if this build has it.
    pub fn file_reader(&self) -> anyhow::Result<rdpscope::capture::FileReader> {
        match self.reader.as_str() {
            #[cfg(feature = "live")]
            "libpcap" => Ok(rdpscope::capture::FileReader::Libpcap),
            "native" => Ok(rdpscope::capture::FileReader::Native),
            other => Err(anyhow::anyhow!(
                "file reader {other:?} is not in this build (cargo feature `live`)"
            )),
        }
    }

    /// The captures to read: the FILE arguments and every `-r`; standard input when none is
    /// given and standard input is not a terminal.
    pub fn paths(&self) -> anyhow::Result<Vec<String>> {
        use std::io::IsTerminal;
        let mut paths = self.files.clone();
        paths.extend(self.read.iter().cloned());
        if paths.is_empty() {
            if std::io::stdin().is_terminal() {
                anyhow::bail!(
                    "no capture given: name files (or -r FILE), or pipe one into standard input"
                );
            }
            paths.push("-".to_string());
        }
        Ok(paths)
    }
}

/// Which connections to show, shared by analyze, report and live.
#[derive(Args)]
#[command(next_help_heading = heading::SELECTION)]
pub struct SelectionArgs {
    /// Only these connections (by the # of the summary; repeatable).
    #[arg(long = "connection", value_name = "ID")]
    pub connections: Vec<u64>,
    /// Only connections with these verdicts (comma-separated or repeated).
    #[arg(
        long = "verdict",
        value_delimiter = ',',
        value_name = "VERDICT",
        value_enum,
        ignore_case = true
    )]
    pub verdicts: Vec<VerdictArg>,
    /// Only connections to or from this address.
    #[arg(long = "host", value_name = "IP")]
    pub hosts: Vec<std::net::IpAddr>,
    /// The error code the client showed (0x904, 0x904/0x7, 2308): the connections that would
    /// show it come first.
    #[arg(long = "client-error", value_name = "CODE[/EXTENDED]", value_parser = parse_client_error)]
    pub client_error: Option<ClientError>,
}

/// "0x904", "0x904/0x7", "2308/7": the client's error code and optional extended code.
fn parse_client_error(s: &str) -> Result<ClientError, String> {
    let (code, extended) = match s.split_once('/') {
        Some((c, x)) => (c, Some(x)),
        None => (s, None),
    };
    let number = |v: &str| {
        super::explain::parse_client_code(v)
            .ok_or_else(|| format!("{v:?} is no error code (hex as 0x904 or decimal as 2308)"))
    };
    Ok(ClientError {
        reason: DisconnectReason(number(code)?),
        extended: extended.map(number).transpose()?.map(ErrInfo),
        inferred: false,
    })
}

#[derive(Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub thresholds: Thresholds,
    #[command(flatten)]
    pub limits: options::LimitArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub jobs: options::JobsArgs,
    #[command(flatten)]
    pub privacy: options::RedactArgs,
    /// One JSON object per connection per line (NDJSON).
    #[arg(long, help_heading = heading::OUTPUT)]
    pub json: bool,
    /// Write the packets of the failing connections (or of the selected ones) to a pcapng,
    /// each packet commented with its original file and frame (and finding code, on evidence).
    #[arg(short = 'w', long = "write", value_name = "FILE", help_heading = heading::OUTPUT,
          value_hint = clap::ValueHint::FilePath, conflicts_with_all = ["redact", "redact_key"])]
    pub write: Option<String>,
    /// The format of the -w file: pcapng (with comments) or pcap (no comments).
    #[arg(short = 'F', long = "write-format", value_name = "FORMAT", value_enum, ignore_case = true,
          default_value = "pcapng", requires = "write", help_heading = heading::OUTPUT)]
    pub write_format: WriteFormatArg,
    /// Print each connection's phase waterfall (a row per phase) and full event timeline.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub timeline: bool,
    /// Show the phase waterfall and findings block for healthy connections too.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub all: bool,
    /// No colours (also when NO_COLOR is set or stdout is not a terminal).
    #[arg(long, help_heading = heading::OUTPUT)]
    pub no_color: bool,
    #[command(flatten)]
    pub time: options::TimeArgs,
}

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// A section for each connection, also those that repeat (grouped without it).
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub thresholds: Thresholds,
    #[command(flatten)]
    pub limits: options::LimitArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub jobs: options::JobsArgs,
    #[command(flatten)]
    pub privacy: options::RedactArgs,
    /// The HTML file to write ('-' for standard output); with --each, the directory that gets
    /// one page per file and an index.html linking them.
    #[arg(short = 'o', long = "output", value_name = "FILE", help_heading = heading::OUTPUT,
          value_hint = clap::ValueHint::FilePath)]
    pub output: String,
    #[command(flatten)]
    pub time: options::TimeArgs,
}

#[derive(Args)]
#[cfg_attr(not(feature = "live"), allow(dead_code))]
pub struct LiveArgs {
    /// Interface to capture on (see `rdpscope interfaces`).
    #[arg(help_heading = heading::INPUT, short = 'i', long = "interface")]
    pub interface: String,
    /// BPF capture filter; replaces the default (TCP/UDP 3389, TCP 443, UDP 3391).
    #[arg(help_heading = heading::INPUT, short = 'f', long = "filter")]
    pub filter: Option<String>,
    /// Do not put the interface into promiscuous mode.
    #[arg(help_heading = heading::INPUT, short = 'p', long = "no-promiscuous")]
    pub no_promiscuous: bool,
    /// Bytes to capture per packet. The default keeps whole frames up to jumbo size (and
    /// offload-merged handshake flights up to 9 KiB) while giving the kernel ring 7x the slots
    /// of 64 KiB; a longer packet is cut, reported as a gap, never parsed as if whole. Raise
    /// it (262144) on a host whose offloads merge bulk data into 64 KiB packets.
    #[arg(help_heading = heading::INPUT, short = 's', long = "snaplen", default_value_t = 9216)]
    pub snaplen: i32,
    /// Kernel capture buffer in MiB (as tcpdump -B); raise it if drops are reported.
    #[arg(help_heading = heading::INPUT, short = 'B', long = "buffer-size", value_name = "MIB", default_value_t = 64,
          value_parser = clap::value_parser!(i32).range(1..=4096))]
    pub buffer_mb: i32,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub thresholds: Thresholds,
    #[command(flatten)]
    pub limits: options::LimitArgs,
    /// Stop after this many connections (of those selected) have finished.
    #[arg(short = 'c', long = "count", help_heading = heading::LIMITS)]
    pub count: Option<u64>,
    /// Stop after this long (e.g. 60s, 5m, 1h; plain numbers are seconds).
    #[arg(long, value_parser = parse_duration, help_heading = heading::LIMITS)]
    pub duration: Option<std::time::Duration>,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub privacy: options::RedactArgs,
    /// Also save every captured packet to this pcap file.
    #[arg(short = 'w', long = "write", help_heading = heading::OUTPUT,
          value_hint = clap::ValueHint::FilePath, conflicts_with_all = ["redact", "redact_key"])]
    pub write: Option<String>,
    /// NDJSON, one object per connection as it finishes (progress lines go to stderr).
    #[arg(long, help_heading = heading::OUTPUT)]
    pub json: bool,
    /// No colours (also when NO_COLOR is set or stdout is not a terminal).
    #[arg(long, help_heading = heading::OUTPUT)]
    pub no_color: bool,
    #[command(flatten)]
    pub time: options::TimeArgs,
}

/// TLS secrets to decrypt with (NSS key log format), besides those a pcapng carries.
#[derive(Args, Debug, Clone)]
pub struct KeyArgs {
    /// NSS key log file of TLS secrets (CLIENT_RANDOM, TLS 1.3 traffic secrets); repeatable.
    /// SSLKEYLOGFILE is read too when set. Live capture re-reads them as they grow.
    #[arg(long = "keylog", value_name = "FILE")]
    pub keylog: Vec<std::path::PathBuf>,
    /// Decrypt nothing: ignore --keylog, SSLKEYLOGFILE and the capture's own secrets
    /// (the diagnosis from packet sizes and timing alone).
    #[arg(long = "no-keys", conflicts_with = "keylog")]
    pub no_keys: bool,
}

impl KeyArgs {
    /// The key log files to read: every --keylog (each must be readable now) and
    /// SSLKEYLOGFILE (which may appear later); none under --no-keys.
    pub fn files(&self) -> anyhow::Result<Vec<std::path::PathBuf>> {
        if self.no_keys {
            return Ok(Vec::new());
        }
        for f in &self.keylog {
            std::fs::File::open(f)
                .map_err(|e| anyhow::anyhow!("cannot read the TLS key log {}: {e}", f.display()))?;
        }
        let mut all = self.keylog.clone();
        if let Some(env) = std::env::var_os("SSLKEYLOGFILE").filter(|v| !v.is_empty()) {
            let env = std::path::PathBuf::from(env);
            if !all.contains(&env) {
                all.push(env);
            }
        }
        Ok(all)
    }

    /// Puts the key settings into a pipeline configuration.
    pub fn apply(&self, config: &mut rdpscope::pipeline::PipelineConfig) -> anyhow::Result<()> {
        config.keylogs = self.files()?;
        config.no_keys = self.no_keys;
        Ok(())
    }
}

pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
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
#[command(next_help_heading = heading::THRESHOLDS)]
pub struct Thresholds {
    /// Seconds without progress before a handshake counts as stalled.
    #[arg(long, default_value_t = 23.0, value_name = "SECONDS")]
    pub stall_after: f64,
    /// Seconds a completed handshake may take before it counts as slow.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub slow_after: f64,
    /// TCP handshake round-trip time (ms) above which latency is reported.
    #[arg(long, default_value_t = 250.0, value_name = "MS")]
    pub high_rtt: f64,
    /// Lost handshake segments tolerated before reporting packet loss (a warning; an error
    /// only when the client gives up during the loss). Spurious retransmissions and
    /// duplicate frames do not count.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub loss_retransmissions: u32,
    /// RDP-UDP loss (percent of a direction's datagrams) above which it is reported.
    #[arg(long, default_value_t = 2.0, value_name = "PERCENT")]
    pub udp_loss: f64,
    /// Connections to one server within the flood window that make a connection flood.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub flood_connections: u64,
    /// Connection rate (per second) that makes a flood; the window is N / RATE seconds.
    #[arg(long, default_value_t = 10.0, value_name = "PER_SECOND")]
    pub flood_rate: f64,
}

impl Thresholds {
    pub fn config(&self) -> DiagnoseConfig {
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

/// A verdict as `--verdict` names it; clap checks the value and lists the valid ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerdictArg {
    Ok,
    Failed,
    Stalled,
    Slow,
    Incomplete,
}

impl From<VerdictArg> for Verdict {
    fn from(v: VerdictArg) -> Self {
        match v {
            VerdictArg::Ok => Verdict::Ok,
            VerdictArg::Failed => Verdict::Failed,
            VerdictArg::Stalled => Verdict::Stalled,
            VerdictArg::Slow => Verdict::Slow,
            VerdictArg::Incomplete => Verdict::Incomplete,
        }
    }
}

impl SelectionArgs {
    pub fn selection(&self) -> Selection {
        Selection {
            connections: self.connections.clone(),
            verdicts: self.verdicts.iter().map(|v| Verdict::from(*v)).collect(),
            hosts: self.hosts.clone(),
            client_error: self.client_error,
        }
    }
}

/// The file format `-w` writes (`-F`, as tcpdump/editcap name it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WriteFormatArg {
    /// Each packet carries a comment (original file and frame, finding code).
    Pcapng,
    /// Classic libpcap format: no comments.
    Pcap,
}
