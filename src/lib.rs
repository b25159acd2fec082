//! rdpscope: tells why a Remote Desktop connection fails, from packets.
//!
//! Packets flow one way through the modules:
//! capture -> flow -> proto -> session -> diagnose -> report.
#![forbid(unsafe_code)]

pub mod capture;
pub mod diagnose;
pub mod flow;
pub mod keys;
pub mod limits;
pub mod pipeline;
pub mod proto;
pub mod redact;
pub mod report;
pub mod session;
pub mod timefmt;
pub mod tls;
