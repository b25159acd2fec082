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

/// TLS secrets to decrypt with (NSS key log format), besides those a pcapng carries.
#[derive(Args, Debug, Clone)]
pub struct KeyArgs {
    /// NSS key log file of TLS secrets (CLIENT_RANDOM, TLS 1.3 traffic secrets); repeatable.
    /// SSLKEYLOGFILE is read too when set. Live capture re-reads them as they grow.
    #[arg(long = "keylog", value_name = "FILE")]
    pub keylog: Vec<std::path::PathBuf>,
}

impl KeyArgs {
    /// The key log files to read: every --keylog (each must be readable now) and
    /// SSLKEYLOGFILE (which may appear later).
    pub fn files(&self) -> anyhow::Result<Vec<std::path::PathBuf>> {
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
}
