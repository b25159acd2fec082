//! Rendering diagnosed connections: terminal tables and JSON for scripts.

pub mod json;
pub mod summary;
pub mod table;
