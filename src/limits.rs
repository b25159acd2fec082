//! Resource limits: what bounds memory on hostile or huge captures. One struct, carried in
//! `PipelineConfig` and handed down to the flow table and each connection; every field is a
//! command-line option (`--max-flows`, `--max-buffer`, `--max-tls-handshake`,
//! `--max-timeline-events`).

/// Caps on what rdpscope keeps in memory. The defaults fit a busy server's capture in a few
/// tens of MB and a flood of 10^5 connections under 200 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most flows tracked at once; when the table is full the longest idle are finished
    /// early ("evicted", counted and reported). A followed flow costs about 3 KB even before
    /// any payload (its `Connection` and reassembler): 40 000 flows stay under ~150 MB.
    pub max_flows: usize,
    /// Most out-of-order bytes buffered per direction of a TCP connection; past it the
    /// missing bytes are declared a gap and the buffered ones delivered.
    pub max_buffer: usize,
    /// Largest TLS handshake message reassembled (a certificate chain is a few KB); larger
    /// ones are skipped and reported as a decode error.
    pub max_tls_handshake: usize,
    /// Most timeline events kept per connection; the rest are counted (`timeline_dropped`).
    pub max_timeline_events: usize,
}

/// The default `max_tls_handshake`: the TLS parser's own cap (`proto::tls::MAX_HANDSHAKE`,
/// kept equal by a test; the utilities do not import the layers above them).
pub const DEFAULT_MAX_TLS_HANDSHAKE: usize = 64 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_flows: 40_000,
            max_buffer: 256 * 1024,
            max_tls_handshake: DEFAULT_MAX_TLS_HANDSHAKE,
            max_timeline_events: 256,
        }
    }
}

/// Heap bytes of a vector's buffer, by capacity (its elements' own heap not counted): what
/// the footprint measurements of the flow and session state add up.
pub fn vec_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * std::mem::size_of::<T>()
}
