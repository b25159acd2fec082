//! What a named protocol code means for the person whose connection failed, and what to do.

use serde::Serialize;

/// One sentence each: what happened, and the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Meaning {
    pub meaning: &'static str,
    pub fix: &'static str,
}

pub(crate) const fn m(meaning: &'static str, fix: &'static str) -> Meaning {
    Meaning { meaning, fix }
}
