//! The modules depend on each other one way (see ../shared/DESIGN.md and README "How it
//! works"): each source file's `crate::…` paths (in `use` lines and in code) and `super::`
//! paths that climb out of its module are read, and every reference must point at a module
//! ranked strictly lower. Ranked but absent modules (keys/, tls/) are the slots round 2 fills;
//! a module that is in src/ but not in the ranking fails, so a new one gets placed on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first. A module may use the modules of lower tiers only, so no cycle is possible.
const RANKING: &[&[&str]] = &[
    // Utilities: no dependencies inside the crate.
    &["limits", "timefmt", "ports", "workers", "output_file"],
    &["capture"],
    &["flow"],
    // Pure parsers: bytes in, typed values out.
    &["proto"],
    // Round 2: key store (DSB lines, key logs), TLS record layer and decryption.
    &["keys"],
    &["tls"],
    &["session"],
    &["correlate"],
    &["diagnose"],
    &["redact"],
    &["report"],
    &["pipeline"],
    // The binary: src/main.rs and src/cli/.
    &["cli"],
];

const BINARY: &str = "cli";

fn rank(module: &str) -> Option<usize> {
    RANKING.iter().position(|tier| tier.contains(&module))
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `tests.rs` / `*_tests.rs`: unit-test modules kept in their own file (declared under
/// `#[cfg(test)]`); like inline test modules they may use any layer.
fn is_test_module_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "tests.rs" || n.ends_with("_tests.rs"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") && !is_test_module_file(&path) {
            out.push(path);
        }
    }
}

/// The module path of a file under src/: `src/flow/tcp.rs` → [flow, tcp],
/// `src/proto/tls/mod.rs` → [proto, tls]; src/main.rs and src/cli/ are the binary's.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["main"] {
        return vec![BINARY.to_string()];
    }
    parts
}

/// The source without `//` comments (doc comments included: prose may name any module).
/// A `//` inside a string literal cuts its line short, which can only hide a reference.
fn without_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The source without its `#[cfg(test)]` modules: unit tests may use any layer (a renderer
/// to check what redaction hands it, say); the order binds the code that ships.
fn without_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let item = after.trim_start();
        let is_mod = item.starts_with("mod ") || item.starts_with("pub(crate) mod ");
        let open = item.find(['{', ';']);
        match (is_mod, open) {
            (true, Some(o)) if item[o..].starts_with('{') => {
                let mut depth = 0usize;
                let mut end = item.len();
                for (i, c) in item[o..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = o + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &item[end..];
            }
            _ => {
                out.push_str("#[cfg(test)]");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn ident_at(s: &str) -> Option<&str> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| &s[..end])
}

/// The first identifier of each item of a `{a::b, c, d::{e, f}}` group after `crate::`.
fn group_heads(s: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut item_start = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => {
                depth += 1;
                item_start = depth == 1;
            }
            '}' => {
                if depth <= 1 {
                    break;
                }
                depth -= 1;
            }
            ',' if depth == 1 => item_start = true,
            c if c.is_whitespace() => {}
            _ if depth == 1 && item_start => {
                if let Some(id) = ident_at(&s[i..]) {
                    heads.push(id.to_string());
                }
                item_start = false;
            }
            _ => {}
        }
    }
    heads
}

/// Top-level modules a file refers to through `crate::` (and `super::` climbing to the root).
fn references(source: &str, own_path: &[String]) -> BTreeSet<String> {
    let code = without_test_modules(&without_comments(source));
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        let rest = rest.trim_start();
        if rest.starts_with('{') {
            found.extend(group_heads(rest));
        } else if let Some(id) = ident_at(rest) {
            found.insert(id.to_string());
        }
    }
    // `super::super::x` from src/a/b.rs reaches the crate root: x is a top-level module.
    // Inline modules (`mod tests`) shift the count by one, so only ranked names count.
    let depth = own_path.len();
    for (at, _) in code.match_indices("super::") {
        if code[..at].ends_with("super::") {
            continue;
        }
        let mut rest = &code[at..];
        let mut climbs = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            climbs += 1;
            rest = r;
        }
        if climbs >= depth {
            if let Some(id) = ident_at(rest.trim_start()).filter(|id| rank(id).is_some()) {
                found.insert(id.to_string());
            }
        }
    }
    found
}

/// Each file under src/ (but lib.rs), with its module path and the modules it refers to.
fn dependencies() -> Vec<(PathBuf, Vec<String>, BTreeSet<String>)> {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .filter(|f| f.file_name().is_some_and(|n| n != "lib.rs"))
        .map(|f| {
            let rel = f.strip_prefix(&src).expect("under src").to_path_buf();
            let path = module_path(&rel);
            let source = std::fs::read_to_string(&f).expect("readable source");
            let refs = references(&source, &path);
            (rel, path, refs)
        })
        .collect()
}

/// Backward references, as "file: module (tier) -> module (tier)" lines.
fn violations() -> Vec<String> {
    let mut bad = Vec::new();
    for (rel, path, refs) in dependencies() {
        let own = path[0].as_str();
        let own_rank = rank(own).unwrap_or(usize::MAX);
        for r in refs.iter().filter(|r| r.as_str() != own) {
            // In the binary, `crate::` is main.rs: cli/ must not reach back into it.
            if own == BINARY {
                if rel.starts_with("cli") && r != BINARY {
                    bad.push(format!(
                        "{}: src/cli uses crate::{r} from main.rs",
                        rel.display()
                    ));
                }
                continue;
            }
            match rank(r) {
                Some(rr) if rr < own_rank => {}
                Some(rr) => bad.push(format!(
                    "{}: {own} (tier {own_rank}) uses {r} (tier {rr}): only lower tiers may be used",
                    rel.display()
                )),
                None => bad.push(format!(
                    "{}: {own} uses crate::{r}, a module missing from the ranking",
                    rel.display()
                )),
            }
        }
    }
    bad
}

#[test]
fn every_module_is_in_the_ranking() {
    let mut modules: BTreeSet<String> = dependencies()
        .into_iter()
        .map(|(_, path, _)| path[0].clone())
        .collect();
    let lib = std::fs::read_to_string(src_dir().join("lib.rs")).expect("lib.rs");
    for line in without_comments(&lib).lines() {
        let line = line.trim();
        if let Some(rest) = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
        {
            modules.insert(rest.trim_end_matches(';').trim().to_string());
        }
    }
    assert!(modules.contains("flow") && modules.contains(BINARY));
    let missing: Vec<&String> = modules.iter().filter(|m| rank(m).is_none()).collect();
    assert!(
        missing.is_empty(),
        "modules missing from the ranking in tests/architecture.rs: {missing:?}"
    );
}

#[test]
fn modules_depend_only_on_lower_tiers() {
    let bad = violations();
    assert!(bad.is_empty(), "backward imports:\n{}", bad.join("\n"));
}

#[test]
fn the_library_never_imports_the_binary() {
    for (rel, path, refs) in dependencies() {
        if path[0] != BINARY {
            assert!(
                !refs.contains(BINARY) && !refs.contains("main"),
                "{}: the library uses the binary's cli",
                rel.display()
            );
        }
    }
}

#[test]
fn proto_imports_nothing_above_it() {
    let proto = rank("proto").expect("proto ranked");
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, path, refs) in dependencies() {
        if path[0] == "proto" {
            for r in refs.into_iter().filter(|r| r != "proto") {
                uses.entry(r).or_default().insert(rel.display().to_string());
            }
        }
    }
    for (module, files) in &uses {
        assert!(
            rank(module).is_some_and(|r| r < proto),
            "proto uses {module} (in {files:?})"
        );
    }
}

#[test]
fn the_reader_sees_grouped_super_and_prose_references_right() {
    let source = "use crate::{flow::Side, session::{Connection, phases}};\n\
                  // crate::report is only named in prose\n\
                  let x = crate::limits::Limits::default();\n\
                  macro_rules! m { () => { $crate::ports::RDP_TCP } }\n\
                  use super::super::capture::RawPacket;\n\
                  use super::table;\n";
    let refs = references(source, &["report".to_string(), "terminal".to_string()]);
    let expected: BTreeSet<String> = ["flow", "session", "limits", "capture"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(refs, expected);
}
