//! Parsing NSS key log lines, and following a key log file that grows (live capture).

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use super::{ClientRandom, Secret};

/// Which secret a line carries (the NSS key log format's labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// TLS <= 1.2: the 48-byte master secret (RFC 5246 8.1).
    ClientRandom,
    /// TLS 1.3 (RFC 8446 7.1): client_handshake_traffic_secret.
    ClientHandshakeTraffic,
    ServerHandshakeTraffic,
    /// TLS 1.3: client_application_traffic_secret_0.
    ClientTraffic0,
    ServerTraffic0,
}

impl LineKind {
    fn from_label(label: &str) -> Option<Result<LineKind, ()>> {
        Some(Ok(match label {
            "CLIENT_RANDOM" => LineKind::ClientRandom,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => LineKind::ClientHandshakeTraffic,
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => LineKind::ServerHandshakeTraffic,
            "CLIENT_TRAFFIC_SECRET_0" => LineKind::ClientTraffic0,
            "SERVER_TRAFFIC_SECRET_0" => LineKind::ServerTraffic0,
            // Known labels that decryption of a capture does not need.
            "EXPORTER_SECRET" | "CLIENT_EARLY_TRAFFIC_SECRET" | "EARLY_EXPORTER_SECRET" | "RSA" => {
                return Some(Err(()))
            }
            _ => return None,
        }))
    }
}

/// One useful line of a key log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedLine {
    pub kind: LineKind,
    pub client_random: ClientRandom,
    pub secret: Secret,
}

/// What became of the lines of a key log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyLogStats {
    /// Lines holding a secret the store keeps.
    pub accepted: u64,
    /// Lines with a known label that decryption does not use (EXPORTER_SECRET, RSA, ...).
    pub ignored: u64,
    /// Lines that are not key log lines (unknown label, bad hex, wrong lengths).
    pub bad: u64,
    /// Comments and blank lines.
    pub comments: u64,
}

impl KeyLogStats {
    pub fn add(&mut self, other: KeyLogStats) {
        self.accepted += other.accepted;
        self.ignored += other.ignored;
        self.bad += other.bad;
        self.comments += other.comments;
    }
}

/// The result of reading one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Secret(ParsedLine),
    Ignored,
    Comment,
    Bad,
}

fn hex_into(hex: &str, out: &mut [u8]) -> Option<usize> {
    let hex = hex.as_bytes();
    if !hex.len().is_multiple_of(2) || hex.len() / 2 > out.len() {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        let (&[hi, lo], Some(slot)) = (pair, out.get_mut(i)) else {
            return None;
        };
        *slot = (nibble(hi)? << 4) | nibble(lo)?;
    }
    Some(hex.len() / 2)
}

/// Reads one key log line (without its line end). Never fails: a line that is not a key
/// log line is `Line::Bad`.
pub fn parse_line(line: &[u8]) -> Line {
    let Ok(text) = std::str::from_utf8(line) else {
        return Line::Bad;
    };
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return Line::Comment;
    }
    let mut fields = text.split_ascii_whitespace();
    let (Some(label), Some(random), Some(secret), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Line::Bad;
    };
    let kind = match LineKind::from_label(label) {
        Some(Ok(kind)) => kind,
        Some(Err(())) => return Line::Ignored,
        None => return Line::Bad,
    };
    let mut cr = [0u8; 32];
    if hex_into(random, &mut cr) != Some(32) {
        return Line::Bad;
    }
    let mut buf = [0u8; Secret::MAX_LEN];
    let Some(n) = hex_into(secret, &mut buf) else {
        return Line::Bad;
    };
    let valid_len = match kind {
        LineKind::ClientRandom => n == 48,
        _ => n == 32 || n == 48,
    };
    match (valid_len, Secret::new(buf.get(..n).unwrap_or_default())) {
        (true, Some(secret)) => Line::Secret(ParsedLine {
            kind,
            client_random: ClientRandom(cr),
            secret,
        }),
        _ => Line::Bad,
    }
}

/// Calls `f` for each line of `text` ("\n" or "\r\n" ends a line) and counts them.
pub fn parse_lines(text: &[u8], mut f: impl FnMut(ParsedLine)) -> KeyLogStats {
    let mut stats = KeyLogStats::default();
    for line in text.split(|&b| b == b'\n') {
        match parse_line(line) {
            Line::Secret(p) => {
                stats.accepted += 1;
                f(p);
            }
            Line::Ignored => stats.ignored += 1,
            Line::Comment => stats.comments += 1,
            Line::Bad => stats.bad += 1,
        }
    }
    stats
}

/// A key log file read from where it was left: a live capture re-reads it as the client
/// appends the secrets of new connections.
#[derive(Debug)]
pub struct KeyLogFile {
    path: PathBuf,
    offset: u64,
    /// An unfinished last line, completed by the next read.
    partial: Vec<u8>,
}

/// Longest line kept while waiting for its end: a real line is under 200 bytes.
const MAX_LINE: usize = 1024;
/// Most bytes read from a key log at once.
const MAX_READ: u64 = 64 * 1024 * 1024;

impl KeyLogFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        KeyLogFile {
            path: path.into(),
            offset: 0,
            partial: Vec::new(),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Reads what was appended since the last call and hands each whole line's secret to
    /// `f`. A file that became shorter (rewritten) is read again from its start.
    pub fn read_new(&mut self, mut f: impl FnMut(ParsedLine)) -> std::io::Result<KeyLogStats> {
        let mut file = std::fs::File::open(&self.path)?;
        let len = file.metadata()?.len();
        if len < self.offset {
            self.offset = 0;
            self.partial.clear();
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut fresh = Vec::new();
        file.take(MAX_READ).read_to_end(&mut fresh)?;
        self.offset += fresh.len() as u64;
        let mut text = std::mem::take(&mut self.partial);
        text.extend_from_slice(&fresh);
        let whole = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let (lines, rest) = text.split_at(whole);
        let stats = parse_lines(lines, &mut f);
        if rest.len() <= MAX_LINE {
            self.partial = rest.to_vec();
        }
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CR: &str = "b6b6ff6a3c58ca1a5e1e6b3c17da23f0f1a2b3c4d5e6f708192a3b4c5d6e7f80";

    #[test]
    fn synthetic_lines_of_every_kind_are_told_apart() {
        let master = "ab".repeat(48);
        let good = format!("CLIENT_RANDOM {CR} {master}");
        let Line::Secret(p) = parse_line(good.as_bytes()) else {
            panic!("a CLIENT_RANDOM line");
        };
        assert_eq!(p.kind, LineKind::ClientRandom);
        assert_eq!(p.secret.as_bytes(), [0xab; 48]);
        assert_eq!(p.client_random.0[0], 0xb6);
        let t13 = format!("SERVER_TRAFFIC_SECRET_0 {CR} {}", "01".repeat(32));
        assert!(
            matches!(parse_line(t13.as_bytes()), Line::Secret(p) if p.kind == LineKind::ServerTraffic0)
        );
        let exporter = format!("EXPORTER_SECRET {CR} {}", "01".repeat(32));
        assert_eq!(parse_line(exporter.as_bytes()), Line::Ignored);
        assert_eq!(parse_line(b"# comment"), Line::Comment);
        assert_eq!(parse_line(b"   "), Line::Comment);
        for bad in [
            format!("CLIENT_RANDOM {CR}"),
            format!("CLIENT_RANDOM {CR} {}", "ab".repeat(32)),
            format!("CLIENT_RANDOM {} {master}", &CR[2..]),
            format!("CLIENT_RANDOM {CR} {master} extra"),
            format!("NOT_A_LABEL {CR} {master}"),
            format!("CLIENT_RANDOM {CR} {}zz", "ab".repeat(47)),
        ] {
            assert_eq!(parse_line(bad.as_bytes()), Line::Bad, "{bad}");
        }
        assert_eq!(parse_line(&[0xff, 0xfe, 0x20]), Line::Bad);
    }

    #[test]
    fn synthetic_secrets_hide_in_debug_output() {
        let s = Secret::new(&[0x42; 32]).unwrap();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("42") || shown.contains("32 bytes"),
            "{shown}"
        );
        assert!(!shown.contains("4242"));
    }

    #[test]
    fn synthetic_appended_file_is_read_from_where_it_was_left() {
        let dir = std::env::temp_dir().join(format!("rdpscope-keylog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.log");
        let line = |n: u8| format!("CLIENT_RANDOM {:064x} {}\n", n, "cd".repeat(48));
        std::fs::write(&path, format!("{}{}", line(1), &line(2)[..40])).unwrap();
        let mut f = KeyLogFile::new(&path);
        let mut seen = Vec::new();
        let s = f.read_new(|p| seen.push(p.client_random.0[31])).unwrap();
        assert_eq!((s.accepted, s.bad), (1, 0));
        let mut all = line(1);
        all.push_str(&line(2));
        all.push_str("garbage\n");
        std::fs::write(&path, all).unwrap();
        let s = f.read_new(|p| seen.push(p.client_random.0[31])).unwrap();
        assert_eq!((s.accepted, s.bad), (1, 1));
        assert_eq!(seen, [1, 2]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
