//! Options shared by `analyze` and `live` (flattened into both): resource limits, redaction.

use clap::Args;

use rdpscope::limits::Limits;
use rdpscope::redact::Redactor;

/// Resource limits: memory stays bounded whatever the capture holds.
#[derive(Args, Debug, Clone)]
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
pub struct JobsArgs {
    /// Threads to use (default: the number of CPUs). Beside the analysis, `--json` renders
    /// its lines on N - 1 threads; the output is the same bytes for every N. `-j 1`: one
    /// writer thread.
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = at_least_one)]
    pub jobs: Option<usize>,
}

impl JobsArgs {
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
