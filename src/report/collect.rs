//! The output side of every command: what happens to each finished connection. One
//! `Collector` selects (`--connection`, `--verdict`, `--host`), counts verdicts, keeps the
//! rows a table shows (capped), streams NDJSON, notes the spans `-w` writes, and at the end
//! prints the closing output, the input's warnings, and gives the exit status. `analyze`,
//! `report` and `live` differ only in their `Output`.

use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;

use super::each::{self, EachFile};
use super::frame_comments::EvidenceMarks;
use super::ndjson_stream::NdjsonStream;
use super::terminal::{self, TerminalStyle};
use super::{group, json, live, summary, table};
use crate::capture::writer::ConnectionSpan;
use crate::capture::CaptureError;
use crate::diagnose::client_error::{self, ClientError};
use crate::diagnose::run::RunSummary;
use crate::diagnose::{Diagnosed, Severity, Verdict};
use crate::flow::{FlowMeta, TransportKind};
use crate::limits::Limits;
use crate::redact::Redactor;
use crate::session::Connection;
use crate::workers::OrderedPool;

/// A table shows at most this many connections (the first ones): memory stays bounded on a
/// capture of a flood, and `--json` streams them all.
pub const TABLE_LIMIT: usize = 1_000;

/// The closing table of `live` is a reminder (each connection was printed as it finished),
/// and a capture can run for days: it keeps fewer rows, so memory stays flat early.
pub const LIVE_TABLE_LIMIT: usize = 100;

/// Which connections to show. Empty lists select everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub connections: Vec<u64>,
    pub verdicts: Vec<Verdict>,
    /// Addresses as given; `shown_as` maps them to pseudonyms under `--redact`.
    pub hosts: Vec<IpAddr>,
    /// The client error the user saw (`--client-error`): consistent connections come first.
    pub client_error: Option<ClientError>,
}

impl Selection {
    pub fn is_narrowed(&self) -> bool {
        !self.connections.is_empty() || !self.verdicts.is_empty() || !self.hosts.is_empty()
    }

    /// The selection of connections as they are shown: `--host` addresses become their
    /// pseudonyms under `--redact`, since connections are redacted before they get here.
    pub fn shown_as(mut self, redact: Option<&Redactor>) -> Self {
        if let Some(r) = redact {
            self.hosts = self.hosts.iter().map(|h| r.ip(*h)).collect();
        }
        self
    }

    /// Whether the report merges connections that repeat into one row (see `group`): not
    /// when each connection was asked for, by `each` (`--all`, `--timeline`) or by id.
    pub fn groups(&self, each: bool) -> bool {
        !each && self.connections.is_empty()
    }

    /// The connection may still be selected once finished (its id and hosts match).
    pub fn may_select(&self, m: &FlowMeta) -> bool {
        (self.connections.is_empty() || self.connections.contains(&m.id))
            && (self.hosts.is_empty()
                || self
                    .hosts
                    .iter()
                    .any(|h| *h == m.client.ip || *h == m.server.ip))
    }

    pub fn selects(&self, d: &Diagnosed) -> bool {
        self.may_select(&d.meta) && (self.verdicts.is_empty() || self.verdicts.contains(&d.verdict))
    }
}

/// What a command does with the connections it is handed.
#[derive(Debug, Clone, Copy)]
pub enum Output {
    /// `analyze`: the table and each connection's block once the input is read.
    Terminal(TerminalStyle),
    /// `live`: each connection's line and block as it finishes, the table at the end.
    LiveTerminal(TerminalStyle),
    /// NDJSON on standard output. `immediate` (live): each line written and flushed as its
    /// connection finishes, instead of in batches from a writer thread (files).
    Json { immediate: bool },
    /// `report`: the rows are kept for the caller (the HTML page); nothing is printed.
    Rows,
}

#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    pub selection: Selection,
    pub output: Option<Output>,
    /// `-w`: note the span of each selected connection to write (with no selection, only of
    /// the failing ones).
    pub spans: bool,
    /// The limits of the run, named in the capture notes.
    pub limits: Limits,
    /// `-j N`: threads for the JSON lines (`Output::Json { immediate: false }`): with 2 or
    /// more, `N - 1` render them and one writes them in order; 0 or 1 is one writer thread
    /// that does both. The bytes are the same for every N.
    pub jobs: usize,
    /// `--each`: the input is this one file of several. Nothing is printed: stdout's bytes
    /// (the heading, the table or the JSON lines with their `file`, and the file's summary
    /// line) go to `Collected::output`, and the warnings are left to the caller, who prints
    /// the files in order. `jobs` is then unused (the files share the threads).
    pub each: Option<EachFile>,
}

/// Verdict counts over every shown connection, for when the table cannot show them all.
#[derive(Debug, Default)]
struct Tally {
    total: u64,
    by_verdict: Vec<(Verdict, u64)>,
}

impl Tally {
    fn add(&mut self, verdict: Verdict) {
        self.total += 1;
        match self.by_verdict.iter_mut().find(|(v, _)| *v == verdict) {
            Some((_, n)) => *n += 1,
            None => self.by_verdict.push((verdict, 1)),
        }
    }

    fn count(&self, verdict: Verdict) -> u64 {
        self.by_verdict
            .iter()
            .find(|(v, _)| *v == verdict)
            .map_or(0, |(_, n)| *n)
    }

    /// What the table leaves out, when it cannot show every connection.
    fn omitted(&self, shown: usize) -> Option<String> {
        let shown = shown as u64;
        if self.total <= shown {
            return None;
        }
        let parts = table::verdict_counts(|v| self.count(v));
        Some(format!(
            "{} connections in all: {}; the table above shows the first {shown} \
             (`--json` lists every one).",
            self.total, parts
        ))
    }
}

enum Sink {
    /// Rows for a table: at most twice its limit between trims.
    Rows(Vec<Diagnosed>),
    Ndjson(NdjsonStream),
    /// `-j N`, N >= 2: the lines rendered by a pool, written in the order pushed.
    NdjsonPool(OrderedPool<Diagnosed>),
    Lines,
    /// `--each`: each line rendered at once into the file's output, with the file's name
    /// (as a JSON string) as its last key.
    Buffer {
        name: String,
    },
}

pub struct Collector {
    selection: Selection,
    output: Output,
    limits: Limits,
    sink: Sink,
    tally: Tally,
    /// Most rows the table keeps.
    table_limit: usize,
    spans: Option<Vec<ConnectionSpan>>,
    /// The evidence frames of each span's connection, in the order of `spans`.
    marks: Vec<EvidenceMarks>,
    any_error: bool,
    shown: u64,
    each: Option<EachFile>,
    /// `--each`: what would have been printed on stdout.
    buffer: Vec<u8>,
}

/// What is left once the input is over.
pub struct Collected {
    /// The rows of the table, in table order (at most `TABLE_LIMIT`, live `LIVE_TABLE_LIMIT`).
    pub rows: Vec<Diagnosed>,
    /// The sentence saying what the table leaves out, if it could not show every connection.
    pub omitted: Option<String>,
    /// `-w`: the connections to write.
    pub spans: Vec<ConnectionSpan>,
    /// `-w`: the evidence frames of each connection in `spans` (same order), for the
    /// comments of the pcapng.
    pub marks: Vec<EvidenceMarks>,
    /// The input's warnings, "file: message", as printed on stderr (`--each`: for the
    /// caller to print).
    pub warnings: Vec<String>,
    /// `--each`: the bytes for stdout.
    pub output: Vec<u8>,
    /// Connections selected.
    pub shown: u64,
    tally: Tally,
    any_error: bool,
}

impl Collector {
    pub fn new(options: CollectOptions) -> Self {
        let output = options.output.unwrap_or(Output::Rows);
        let sink = match output {
            Output::Json { .. } if options.each.is_some() => Sink::Buffer {
                name: options
                    .each
                    .as_ref()
                    .map(EachFile::json_name)
                    .unwrap_or_default(),
            },
            Output::Json { immediate: false } if options.jobs >= 2 => Sink::NdjsonPool(
                OrderedPool::spawn(options.jobs - 1, std::io::stdout(), json::push_line),
            ),
            Output::Json { immediate: false } => {
                Sink::Ndjson(NdjsonStream::spawn(std::io::stdout()))
            }
            Output::Json { immediate: true } => Sink::Lines,
            _ => Sink::Rows(Vec::new()),
        };
        Collector {
            selection: options.selection,
            output,
            limits: options.limits,
            sink,
            tally: Tally::default(),
            table_limit: match output {
                Output::LiveTerminal(_) => LIVE_TABLE_LIMIT,
                _ => TABLE_LIMIT,
            },
            spans: options.spans.then(Vec::new),
            marks: Vec::new(),
            any_error: false,
            shown: 0,
            each: options.each,
            buffer: Vec::new(),
        }
    }

    /// The selection, for live lines about connections still going.
    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    /// Connections selected so far (`live --count` stops on these).
    pub fn shown(&self) -> u64 {
        self.shown
    }

    /// Takes one finished connection. Only a selected connection counts for the exit
    /// status: exit 1 when one of them failed or stalled (`failing_verdict`).
    pub fn add(&mut self, d: Diagnosed) {
        let failing = d.findings.iter().any(|f| f.severity == Severity::Error);
        if !self.selection.selects(&d) {
            return;
        }
        self.any_error |= failing_verdict(d.verdict);
        self.shown += 1;
        if let Some(spans) = self.spans.as_mut() {
            if self.selection.is_narrowed() || failing {
                spans.push(span_of(&d));
                self.marks.push(EvidenceMarks::of(&d));
            }
        }
        let mut d = d;
        if let Output::LiveTerminal(style) = self.output {
            print_now(live::finished_block(&d, style.wrap()).as_bytes());
            // Printed: the closing table needs only the summary fields, not the session.
            d.connection = Connection::default();
            d.tcp = None;
        }
        match &mut self.sink {
            Sink::Ndjson(out) => out.push(d),
            Sink::NdjsonPool(out) => out.push(d),
            Sink::Lines => {
                let mut line = Vec::with_capacity(4096);
                json::push_line(&mut line, &d);
                print_now(&line);
            }
            Sink::Buffer { name } => {
                self.tally.add(d.verdict);
                each::push_line_in_file(&mut self.buffer, &d, name);
            }
            Sink::Rows(rows) => {
                self.tally.add(d.verdict);
                if rows.len() >= 2 * self.table_limit {
                    rows.sort_by_key(|d| d.meta.id);
                    rows.truncate(self.table_limit);
                }
                rows.push(d);
            }
        }
    }

    /// Ends the output: the closing table (or JSON summary line) and capture notes on
    /// stdout, the input's warnings on stderr.
    pub fn finish(self, run: &RunSummary) -> Collected {
        let mut rows = Vec::new();
        match self.sink {
            Sink::Ndjson(out) => {
                // A reader that went away (`| head`) is not an error of the analysis.
                let _ = out.finish();
            }
            Sink::NdjsonPool(out) => {
                let _ = out.finish();
            }
            Sink::Lines | Sink::Buffer { .. } => {}
            Sink::Rows(kept) => rows = kept,
        }
        rows.sort_by_key(|d| d.meta.id);
        rows.truncate(self.table_limit);
        table::table_order(&mut rows);
        if let Some(seen) = &self.selection.client_error {
            // Stable: the connections consistent with the user's error first, each group in
            // table order.
            rows.sort_by_key(|d| {
                !client_error::expected(d).is_some_and(|e| e.consistent_with(seen))
            });
        }
        let omitted = self.tally.omitted(rows.len());
        let mut text = String::new();
        match self.output {
            Output::Json { .. } if self.each.is_some() => {
                let file = self.each.as_ref().map_or("", |f| f.path.as_str());
                text.push_str(&json::file_summary_line(run, file));
                text.push('\n');
            }
            Output::Json { .. } => {
                if let Some(line) = json::summary_line(run) {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
            // An input that could not be read says so (on stderr) and nothing more.
            Output::Terminal(_) if rows.is_empty() && run.error.is_some() => {}
            Output::Terminal(style) => {
                text = terminal::report(
                    &rows,
                    &style,
                    run,
                    self.selection.groups(style.all || style.timeline),
                );
                if let Some(note) = &omitted {
                    text.push_str(&format!("\n{note}\n"));
                }
                text.push_str(&summary::capture_notes(run, &self.limits, style.wrap()));
            }
            Output::LiveTerminal(style) => {
                if !rows.is_empty() {
                    text.push_str(&format!(
                        "{}\n{}\n",
                        table::group_table(
                            &if self.selection.groups(style.all || style.timeline) {
                                group::group(&rows)
                            } else {
                                group::each(&rows)
                            },
                            style.color,
                            style.width
                        ),
                        table::footer(&rows)
                    ));
                }
                if let Some(note) = &omitted {
                    text.push_str(&format!("\n{note}\n"));
                }
                text.push_str(&summary::capture_notes(run, &self.limits, style.wrap()));
            }
            Output::Rows => {}
        }
        let warnings: Vec<String> = run
            .warnings
            .iter()
            .map(|w| format!("{}: {}", w.path, w.message))
            .collect();
        let mut output = self.buffer;
        match &self.each {
            Some(file) => {
                let mut head = file.heading();
                if let Output::Terminal(_) = self.output {
                    // Before the table; alone with the reason when the file could not be
                    // read, so the section is not just empty (stderr says it too).
                    match &run.error {
                        Some(e) if rows.is_empty() => {
                            head.push_str(&format!("(nothing analysed: {e})\n"));
                        }
                        _ => head.push_str(&text),
                    }
                    text = head;
                }
                output.extend_from_slice(text.as_bytes());
            }
            None => {
                print_now(text.as_bytes());
                for w in &warnings {
                    eprintln!("rdpscope: warning: {w}");
                }
            }
        }
        Collected {
            rows,
            omitted,
            spans: self.spans.unwrap_or_default(),
            marks: self.marks,
            warnings,
            output,
            shown: self.shown,
            tally: self.tally,
            // A side finding that served no connection (a name that never resolved) counts.
            any_error: self.any_error
                || run.servers.iter().flat_map(|s| &s.findings).any(|f| {
                    f.severity == Severity::Error
                        && matches!(f.facts, crate::diagnose::Facts::Side(_))
                }),
        }
    }
}

impl Collected {
    /// A connection (selected or not) had an error finding.
    pub fn any_error(&self) -> bool {
        self.any_error
    }

    /// The exit status: 2 when the input ended on `error` (printed here), 1 when a
    /// connection had an error finding, 0 when all were fine.
    pub fn exit_code(&self, error: Option<&CaptureError>) -> ExitCode {
        if let Some(e) = error {
            eprintln!("rdpscope: {e}");
        }
        ExitCode::from(self.status(error.is_some()))
    }

    /// The exit status as a number (`exit_code`), printing nothing: 2 when the input was
    /// `unusable`, else 1 when a connection had an error finding, else 0.
    pub fn status(&self, unusable: bool) -> u8 {
        if unusable {
            2
        } else {
            u8::from(self.any_error)
        }
    }

    /// The selected connections by verdict, "2 failed, 5 ok" (empty when none).
    pub fn verdict_counts(&self) -> String {
        if self.tally.total == 0 {
            return String::new();
        }
        table::verdict_counts(|v| self.tally.count(v))
    }
}

/// The exit-status rule (README, `--help`): a selected connection whose verdict is failed or
/// stalled makes the exit status 1; ok, slow and incomplete connections leave it 0.
pub fn failing_verdict(v: crate::diagnose::Verdict) -> bool {
    matches!(
        v,
        crate::diagnose::Verdict::Failed | crate::diagnose::Verdict::Stalled
    )
}

/// Writes and flushes at once: live output is read as it comes. A closed pipe (`| head`)
/// is the reader's choice, not an error worth a panic.
fn print_now(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

fn span_of(d: &Diagnosed) -> ConnectionSpan {
    ConnectionSpan {
        a: (d.meta.client.ip, d.meta.client.port),
        b: (d.meta.server.ip, d.meta.server.port),
        tcp: d.meta.transport == TransportKind::Tcp,
        first_ns: d.meta.first.ts_ns,
        last_ns: d.meta.last.ts_ns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{diagnosed, nla_finding};

    fn connection(id: u64, verdict: Verdict) -> Diagnosed {
        let findings = match verdict {
            Verdict::Failed => vec![nla_finding()],
            _ => Vec::new(),
        };
        let mut d = diagnosed(&[], 100.0, verdict, findings);
        d.meta.id = id;
        d.meta.client.ip = IpAddr::from([10, 0, 0, (id % 200) as u8 + 2]);
        d
    }

    fn rows(selection: Selection) -> Collector {
        Collector::new(CollectOptions {
            selection,
            output: Some(Output::Rows),
            spans: true,
            limits: Limits::default(),
            jobs: 1,
            each: None,
        })
    }

    #[test]
    fn synthetic_selection_by_id_verdict_and_host() {
        let by_id = Selection {
            connections: vec![2],
            ..Selection::default()
        };
        assert!(by_id.selects(&connection(2, Verdict::Ok)));
        assert!(!by_id.selects(&connection(3, Verdict::Ok)));
        let by_verdict = Selection {
            verdicts: vec![Verdict::Failed],
            ..Selection::default()
        };
        assert!(by_verdict.selects(&connection(3, Verdict::Failed)));
        assert!(!by_verdict.selects(&connection(3, Verdict::Ok)));
        // A verdict is known only at the end: a live line may still belong to a selected one.
        assert!(by_verdict.may_select(&connection(3, Verdict::Ok).meta));
        let by_host = Selection {
            hosts: vec![IpAddr::from([10, 0, 0, 5])],
            ..Selection::default()
        };
        assert!(by_host.selects(&connection(3, Verdict::Ok)));
        assert!(!by_host.selects(&connection(4, Verdict::Ok)));
    }

    #[test]
    fn synthetic_host_selection_follows_the_pseudonyms_under_redact() {
        let r = Redactor::from_key("k");
        let host = IpAddr::from([10, 0, 0, 5]);
        let shown = Selection {
            hosts: vec![host],
            ..Selection::default()
        }
        .shown_as(Some(&r));
        assert_eq!(shown.hosts, vec![r.ip(host)]);
        assert_ne!(shown.hosts, vec![host]);
    }

    #[test]
    fn synthetic_table_keeps_the_first_rows_and_counts_the_rest() {
        let mut c = rows(Selection::default());
        // Out of order, as connections finish: the table still shows the lowest ids.
        for id in (1..=2_500u64).rev() {
            let verdict = if id % 10 == 0 {
                Verdict::Failed
            } else {
                Verdict::Ok
            };
            c.add(connection(id, verdict));
        }
        assert_eq!(c.shown(), 2_500);
        let done = c.finish(&RunSummary::default());
        assert_eq!(done.rows.len(), TABLE_LIMIT);
        assert_eq!(done.rows.iter().map(|d| d.meta.id).max(), Some(1_000));
        let note = done
            .omitted
            .clone()
            .expect("the table cannot show them all");
        assert!(
            note.starts_with("2500 connections in all: 250 failed, 2250 ok;"),
            "{note}"
        );
        assert!(note.contains("shows the first 1000"), "{note}");
        // Without a selection, -w writes the failing connections only.
        assert_eq!(done.spans.len(), 250);
        assert!(done.any_error());
    }

    #[test]
    fn synthetic_an_unselected_failure_leaves_the_exit_status_alone() {
        let mut c = rows(Selection {
            verdicts: vec![Verdict::Ok],
            ..Selection::default()
        });
        c.add(connection(1, Verdict::Ok));
        c.add(connection(2, Verdict::Failed));
        assert_eq!(c.shown(), 1);
        let done = c.finish(&RunSummary::default());
        assert_eq!(done.rows.len(), 1);
        assert!(done.omitted.is_none());
        // The failed connection was filtered out: the exit status follows what is shown.
        assert!(!done.any_error());
        // A selection writes what it selects with -w, failing or not.
        assert_eq!(done.spans.len(), 1);
    }
}
