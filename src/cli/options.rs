//! Options shared by `analyze` and `live` (flattened into both): resource limits.

use clap::Args;

use rdpscope::limits::Limits;

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
