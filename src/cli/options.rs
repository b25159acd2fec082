//! Options shared by `analyze` and `live` (flattened into both): resource limits, redaction.

use clap::Args;

use rdpscope::limits::Limits;
use rdpscope::redact::Redactor;

/// Resource limits: memory stays bounded whatever the capture holds.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = super::args::heading::LIMITS)]
pub struct LimitArgs {
    /// Most connections tracked at once; when full, the longest idle are finished early
    /// (evicted: counted and reported).
    #[arg(long, default_value_t = Limits::default().max_flows, value_name = "N",
          value_parser = at_least_one)]
    pub max_flows: usize,
    /// Most out-of-order bytes buffered per direction of a TCP connection (past it the
    /// missing bytes count as a gap).
    #[arg(long, default_value_t = Limits::default().max_buffer, value_name = "BYTES")]
    pub max_buffer: usize,
    /// Largest TLS handshake message reassembled (larger ones are skipped and reported).
    #[arg(long, default_value_t = Limits::default().max_tls_handshake, value_name = "BYTES")]
    pub max_tls_handshake: usize,
    /// Most timeline events kept per connection (the rest are counted, `timeline_dropped`).
    #[arg(long, default_value_t = Limits::default().max_timeline_events, value_name = "N")]
    pub max_timeline_events: usize,
}

/// Threads for the work that does not need the capture's order (`analyze`, `report`).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = super::args::heading::LIMITS)]
pub struct JobsArgs {
    /// Threads to use (default: the number of CPUs). Beside the analysis, `--json` renders
    /// its lines on N - 1 threads; from 3, `analyze` also diagnoses on a thread of its own
    /// beside the flow table's. The output is the same bytes for every N. `-j 1`: one
    /// writer thread. With --each: N files analysed at once, output still in file order.
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = at_least_one)]
    pub jobs: Option<usize>,
    /// Keep one capture's analysis on one thread whatever -j says (only the rendering uses
    /// the others): for comparing the two on the same binary (docs/sharding.md).
    #[arg(long = "one-analysis-thread", hide = true)]
    pub one_analysis_thread: bool,
}

/// From this `-j` on, one capture's diagnosis gets a thread of its own. Not from 2: on two
/// cores the extra thread competes with the renderer, and it costs 3-10 % more CPU (steps
/// handed across threads, connections freed on another core), so `-j 2` was slower there
/// (dense-1G: 24-29 s against 20 s, docs/sharding.md).
const SPLIT_ANALYSIS_FROM_JOBS: usize = 3;

impl JobsArgs {
    /// Whether one capture's flow table and its diagnosis go on two threads.
    pub fn split_analysis(&self) -> bool {
        self.jobs() >= SPLIT_ANALYSIS_FROM_JOBS && !self.one_analysis_thread
    }

    pub fn jobs(&self) -> usize {
        self.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        })
    }
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_flows: self.max_flows,
            max_buffer: self.max_buffer,
            max_tls_handshake: self.max_tls_handshake,
            max_timeline_events: self.max_timeline_events,
        }
    }
}

/// Pseudonyms for addresses, user and host names in every output.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = super::args::heading::OUTPUT)]
pub struct RedactArgs {
    /// Replace IP addresses, the mstshash cookie (user name), routing tokens, client names and
    /// TLS host names (SNI, certificate names) with stable pseudonyms in every output. Not
    /// with -w: a pcap holds the packets themselves.
    #[arg(long)]
    pub redact: bool,
    /// Key of the pseudonyms (implies --redact): the same key gives the same pseudonyms in
    /// every run. Without it the key is random for each run.
    #[arg(long, value_name = "KEY")]
    pub redact_key: Option<String>,
}

impl RedactArgs {
    pub fn redactor(&self) -> Option<Redactor> {
        match (&self.redact_key, self.redact) {
            (Some(key), _) => Some(Redactor::from_key(key)),
            (None, true) => Some(Redactor::random()),
            (None, false) => None,
        }
    }
}

/// How the terminal shows times; only on the commands that print times.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = super::args::heading::OUTPUT)]
pub struct TimeArgs {
    /// Show times in the terminal in local time (JSON is always RFC 3339 UTC).
    #[arg(long, conflicts_with = "utc")]
    pub local: bool,
    /// Show times in the terminal in UTC (the default).
    #[arg(long)]
    pub utc: bool,
}

impl TimeArgs {
    /// Switches the terminal to local time when asked; warns when the zone is unknown.
    pub fn apply(&self) {
        if self.local && !rdpscope::timefmt::use_local_time() {
            eprintln!("rdpscope: warning: the local time offset is unknown; times are in UTC");
        }
    }
}
