//! The fast JSON writer against serde_json, byte for byte.

use super::*;
use serde::Serialize;
use std::collections::BTreeMap;

fn both<T: Serialize>(v: &T) -> (String, String) {
    let mut fast = Vec::new();
    append(&mut fast, v).unwrap();
    (
        String::from_utf8(fast).unwrap(),
        serde_json::to_string(v).unwrap(),
    )
}

#[derive(Serialize)]
enum Kind {
    Unit,
    New(u8),
    Tuple(u8, i8),
    Struct { a: bool },
}

#[derive(Serialize)]
struct Sample<'a> {
    text: &'a str,
    n: i64,
    u: u64,
    f: f64,
    g: f32,
    none: Option<u8>,
    list: Vec<Kind>,
    map: BTreeMap<u16, &'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<u8>,
    empty: Vec<u8>,
    unit: (),
    c: char,
}

#[test]
fn synthetic_every_shape_matches_serde_json() {
    let map = BTreeMap::from([(3u16, "x\"y"), (10, "")]);
    for (text, f) in [
        ("plain ascii, longer than eight bytes", 0.1),
        ("quote \" backslash \\ newline \n tab \t cr \r", -0.0),
        ("\u{0}\u{1}\u{8}\u{b}\u{c}\u{1f}\u{7f} é ü 日本 🦀", 1e300),
        ("", f64::NAN),
        ("12345678\"", f64::INFINITY),
        ("1234567\\", 123456.789),
    ] {
        let s = Sample {
            text,
            n: i64::MIN,
            u: u64::MAX,
            f,
            g: 1.5e-7,
            none: None,
            list: vec![
                Kind::Unit,
                Kind::New(7),
                Kind::Tuple(1, -1),
                Kind::Struct { a: true },
            ],
            map: map.clone(),
            skipped: None,
            empty: Vec::new(),
            unit: (),
            c: '"',
        };
        let (fast, reference) = both(&s);
        assert_eq!(fast, reference);
    }
}

#[test]
fn synthetic_every_byte_value_escapes_as_serde_json_does() {
    for b in 0u8..0x80 {
        let s = format!("ab{}cdefghij{}", char::from(b), char::from(b));
        let (fast, reference) = both(&s);
        assert_eq!(fast, reference, "byte {b:#x}");
    }
}

#[test]
fn synthetic_an_escape_is_found_at_every_offset_and_length() {
    // Short strings and word tails: the escaped byte at each place of each length to 20.
    for len in 1..20 {
        for at in 0..len {
            for b in [0u8, 0x1f, b'"', b'\\', b'\n'] {
                let mut text = vec![b'x'; len];
                if let Some(slot) = text.get_mut(at) {
                    *slot = b;
                }
                let s = String::from_utf8(text).unwrap_or_default();
                let (fast, reference) = both(&s);
                assert_eq!(fast, reference, "len {len} at {at} byte {b:#x}");
            }
        }
        let plain = "y".repeat(len);
        let (fast, reference) = both(&plain);
        assert_eq!(fast, reference, "len {len} plain");
    }
}

#[test]
fn synthetic_a_map_key_json_cannot_hold_is_an_error() {
    let m = BTreeMap::from([((1u8, 2u8), 3u8)]);
    assert!(append(&mut Vec::new(), &m).is_err());
}
