//! Subcommands of the binary that need more than a few lines.

#[cfg(feature = "live")]
pub mod live;
pub mod options;
pub mod progress;
