//! Rendering diagnosed connections: terminal tables and JSON for scripts.

pub mod json;
pub mod ndjson_stream;
pub mod table;
