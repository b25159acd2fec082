//! `--each`: several files, each its own capture with its own output. What differs from one
//! capture: a heading before each file's terminal report, the `file` key on each JSON line,
//! one HTML page per file and an index page linking them.

use std::fmt::Write as _;

use super::html::{escape, STYLE};
use super::json;
use crate::diagnose::Diagnosed;

/// One file of an `--each` run: its name as given and its place among the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EachFile {
    pub path: String,
    /// 0-based place in the order the files were given.
    pub index: usize,
    pub count: usize,
}

impl EachFile {
    /// `=== FILE (file 2 of 3) ===`, the line before the file's table (after a blank line
    /// but for the first file).
    pub fn heading(&self) -> String {
        format!(
            "{}=== {} (file {} of {}) ===\n",
            if self.index == 0 { "" } else { "\n" },
            self.path,
            self.index + 1,
            self.count
        )
    }

    /// The file name as a JSON string, quoted and escaped.
    pub fn json_name(&self) -> String {
        serde_json::to_string(&self.path).unwrap_or_else(|_| "\"?\"".to_string())
    }
}

/// A connection's NDJSON line with `"file": NAME` added as its last key; `name` is the file
/// name as a JSON string (`EachFile::json_name`).
pub fn push_line_in_file(buf: &mut Vec<u8>, d: &Diagnosed, name: &str) {
    json::push_line(buf, d);
    // The line is one object and a newline: the key goes before the closing brace.
    if buf.ends_with(b"}\n") {
        buf.truncate(buf.len().saturating_sub(2));
        buf.extend_from_slice(b",\"file\":");
        buf.extend_from_slice(name.as_bytes());
        buf.extend_from_slice(b"}\n");
    }
}

/// The page name of each file in `report --each -o DIR`: its file name with `.html`, made
/// unique by `-2`, `-3`, ... when two files share a name (`-`, standard input, is `stdin`).
pub fn page_names(files: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(files.len());
    for f in files {
        let base: String = if f == "-" {
            "stdin".to_string()
        } else {
            std::path::Path::new(f).file_name().map_or_else(
                || "capture".to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        }
        .chars()
        // Safe in a link and on any file system: no escaping needed in the index's href.
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
        let mut name = format!("{base}.html");
        let mut n = 2;
        // Bounded: each loop finds a name none of the (fewer) earlier ones has.
        while n <= files.len() + 2 && (names.contains(&name) || name == INDEX) {
            name = format!("{base}-{n}.html");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// The name of the page linking the others.
pub const INDEX: &str = "index.html";

/// One file's line in the index page.
#[derive(Debug, Clone)]
pub struct IndexEntry {
    pub file: String,
    /// The page's name in the same directory.
    pub page: String,
    pub packets: u64,
    /// Connections shown (the selection's).
    pub connections: u64,
    /// "2 failed, 5 ok"; empty without connections.
    pub verdicts: String,
    /// Why the file could not be read (to its end).
    pub error: Option<String>,
    /// The file's exit status: 0, 1 (a failed or stalled connection), 2 (unusable).
    pub status: u8,
}

/// The index page of `report --each`: a row per file, in the order given, each linking its page.
pub fn index_page(entries: &[IndexEntry]) -> String {
    let mut out = String::with_capacity(4096 + entries.len() * 512);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>rdpscope reports: {} files</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>RDP connection reports</h1>\n<p class=\"meta\">{} capture files, each analysed \
         on its own; made by rdpscope {}.</p>\n",
        entries.len(),
        entries.len(),
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(
        "<table class=\"summary\">\n<thead><tr><th>#</th><th>file</th><th>packets</th>\
         <th>connections</th><th>verdicts</th><th>status</th></tr></thead>\n<tbody>\n",
    );
    for (i, e) in entries.iter().enumerate() {
        let status = match (&e.error, e.status) {
            (Some(err), _) => format!("unusable: {}", escape(err)),
            (None, 1) => "a connection failed or stalled".to_string(),
            (None, _) => "no failure".to_string(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"mono\"><a href=\"{}\">{}</a></td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{status}</td></tr>",
            i + 1,
            escape(&e.page),
            escape(&e.file),
            e.packets,
            e.connections,
            escape(&e.verdicts)
        );
    }
    out.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_page_names_are_unique_and_never_the_index() {
        let files = [
            "a/x.pcap".to_string(),
            "b/x.pcap".to_string(),
            "-".to_string(),
            "c/index".to_string(),
            "x.pcap".to_string(),
            "d/a b#1.pcap".to_string(),
        ];
        assert_eq!(
            page_names(&files),
            [
                "x.pcap.html",
                "x.pcap-2.html",
                "stdin.html",
                "index-2.html",
                "x.pcap-3.html",
                "a_b_1.pcap.html"
            ]
        );
    }

    #[test]
    fn synthetic_heading_counts_from_one() {
        let f = EachFile {
            path: "a.pcap".into(),
            index: 1,
            count: 3,
        };
        assert_eq!(f.heading(), "\n=== a.pcap (file 2 of 3) ===\n");
        assert_eq!(f.json_name(), "\"a.pcap\"");
    }
}
