//! rdpscope: tells why a Remote Desktop connection fails, from packets.
//!
//! Packets flow one way through the modules:
//! capture -> flow -> proto -> session -> correlate -> diagnose -> report, with pipeline on
//! top and limits, timefmt, ports and workers below all (tests/architecture.rs keeps it so).
#![forbid(unsafe_code)]

pub mod capture;
pub mod correlate;
pub mod diagnose;
pub mod flow;
pub mod keys;
pub mod limits;
pub mod output_file;
pub mod pipeline;
pub mod ports;
pub mod proto;
pub mod redact;
pub mod report;
pub mod session;
pub mod timefmt;
pub mod tls;
pub mod workers;

/// With `--features mimalloc`, every binary linking this library allocates through mimalloc
/// (bench/run.sh measures whether it pays on the handshake-dense capture).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
