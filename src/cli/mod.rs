//! Subcommands of the binary that need more than a few lines.

pub mod live;
pub mod options;
pub mod progress;
