//! Test helpers: real bytes are kept in tests as hex strings copied from tshark.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}
