//! Pure protocol parsers: bytes in, typed values out. No I/O, no global state.
//!
//! Every parser treats its input as hostile: no panics, no unchecked indexing,
//! and no allocation sized by a length field without a cap.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod error;

pub use error::ProtoError;
