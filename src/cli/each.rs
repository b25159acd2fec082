//! `--each`: every file is its own capture, analysed on its own thread (at most `-j N` at
//! once). Each file's stdout goes to a buffer; the files are printed in the order given, so
//! the bytes do not depend on N. The exit status is the worst of the files'.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use rdpscope::capture::writer::check_output_not_input;
use rdpscope::keys::KeyStore;
use rdpscope::pipeline::{analyze_files, PipelineConfig, RunSummary};
use rdpscope::report::collect::{CollectOptions, Collected, Collector};
use rdpscope::report::each::{self, EachFile, IndexEntry};
use rdpscope::report::{html, summary};

/// One file's analysis, handed back to the main thread.
struct FileDone<R> {
    file: EachFile,
    run: RunSummary,
    done: Collected,
    /// What the command made of it on the worker thread (the HTML page).
    extra: R,
}

/// Analyses each file on its own and hands the results to `emit` in file order; `extra`
/// runs on the worker thread once a file is collected.
fn run_each<R: Send>(
    files: &[String],
    bpf: Option<&str>,
    config: &PipelineConfig,
    options: &CollectOptions,
    jobs: usize,
    extra: &(dyn Fn(&EachFile, &RunSummary, &Collected) -> R + Sync),
    emit: &mut dyn FnMut(FileDone<R>),
) {
    let count = files.len();
    rdpscope::workers::in_order(
        files.to_vec(),
        jobs,
        |index, path| {
            let file = EachFile { path, index, count };
            let mut config = config.clone();
            // A store of its own: secrets one file carries must not reach another file's
            // connections, or the result would depend on which thread ran first.
            config.keys = KeyStore::default();
            let mut collector = Collector::new(CollectOptions {
                each: Some(file.clone()),
                ..options.clone()
            });
            let run = analyze_files(std::slice::from_ref(&file.path), bpf, config, &mut |d| {
                collector.add(d)
            });
            let done = collector.finish(&run);
            let extra = extra(&file, &run, &done);
            FileDone {
                file,
                run,
                done,
                extra,
            }
        },
        |_, result| emit(result),
    );
}

/// Prints one file's output on stdout, its warnings and error on stderr (each naming the
/// file); returns its exit status.
fn print_file<R>(f: &FileDone<R>) -> u8 {
    let mut out = std::io::stdout().lock();
    // A reader that went away (`| head`) is not an error of the analysis.
    let _ = out.write_all(&f.done.output).and_then(|()| out.flush());
    drop(out);
    for w in &f.done.warnings {
        eprintln!("rdpscope: warning: {w}");
    }
    if let Some(message) = error_text(&f.file, &f.run) {
        eprintln!("rdpscope: {message}");
    }
    f.done.status(f.run.error.is_some())
}

/// The file's error, naming the file (most errors do already).
fn error_text(file: &EachFile, run: &RunSummary) -> Option<String> {
    let e = run.error.as_ref()?.to_string();
    Some(if e.starts_with(&file.path) {
        e
    } else {
        format!("{}: {e}", file.path)
    })
}

/// `analyze --each`.
pub fn analyze(
    files: &[String],
    bpf: Option<&str>,
    config: &PipelineConfig,
    options: &CollectOptions,
    jobs: usize,
) -> ExitCode {
    let mut worst = 0;
    run_each(files, bpf, config, options, jobs, &|_, _, _| (), &mut |f| {
        worst = worst.max(print_file(&f));
    });
    ExitCode::from(worst)
}

/// `report --each -o DIR`: one page per file and an index.html linking them.
pub fn report(
    files: &[String],
    bpf: Option<&str>,
    config: &PipelineConfig,
    options: &CollectOptions,
    jobs: usize,
    all: bool,
    dir: &str,
) -> ExitCode {
    let names = each::page_names(files);
    if let Err(message) = prepare_dir(dir, files, &names) {
        eprintln!("rdpscope: {message}");
        return ExitCode::from(2);
    }
    let grouped = options.selection.groups(all);
    let limits = options.limits;
    let page = |file: &EachFile, run: &RunSummary, done: &Collected| {
        // The page says what went wrong with the input too: it may be read far from here.
        let mut warnings = done.warnings.clone();
        warnings.extend(error_text(file, run));
        html::render(&html::ReportInput {
            files: std::slice::from_ref(&file.path),
            connections: &done.rows,
            packets: run.packets,
            omitted: done.omitted.clone(),
            notes: &summary::capture_notes(run, &limits, 100),
            warnings: &warnings,
            grouped,
        })
    };
    let mut worst = 0;
    let mut entries = Vec::with_capacity(files.len());
    run_each(files, bpf, config, options, jobs, &page, &mut |f| {
        let mut status = print_file(&f);
        let name = names.get(f.file.index).cloned().unwrap_or_default();
        let path = Path::new(dir).join(&name);
        if let Err(e) = rdpscope::output_file::write_replacing(&path, f.extra.as_bytes()) {
            eprintln!("rdpscope: cannot write {}: {e}", path.display());
            status = 2;
        }
        worst = worst.max(status);
        entries.push(IndexEntry {
            file: f.file.path.clone(),
            page: name,
            packets: f.run.packets,
            connections: f.done.shown,
            verdicts: f.done.verdict_counts(),
            error: error_text(&f.file, &f.run),
            status,
        });
    });
    let index = Path::new(dir).join(each::INDEX);
    if let Err(e) =
        rdpscope::output_file::write_replacing(&index, each::index_page(&entries).as_bytes())
    {
        eprintln!("rdpscope: cannot write {}: {e}", index.display());
        return ExitCode::from(2);
    }
    eprintln!(
        "rdpscope: wrote the reports of {} file(s) and {} to {dir}",
        entries.len(),
        each::INDEX
    );
    ExitCode::from(worst)
}

/// Makes the directory of `report --each` (if needed), refusing one that is a file (an
/// input, say) and page names that are inputs: nothing written may destroy an input.
fn prepare_dir(dir: &str, files: &[String], names: &[String]) -> Result<(), String> {
    if dir == "-" {
        return Err(
            "with --each, -o names a directory (one page per file and an index.html), \
                    not standard output"
                .to_string(),
        );
    }
    let refuse = |out: &str| {
        check_output_not_input(out, files)
            .map_err(|_| format!("-o {dir} would overwrite the input {out}; write elsewhere"))
    };
    refuse(dir)?;
    let path = Path::new(dir);
    if path.exists() && !path.is_dir() {
        return Err(format!(
            "{dir} is a file; with --each, -o names a directory (one page per file and an \
             index.html)"
        ));
    }
    for name in names.iter().map(String::as_str).chain([each::INDEX]) {
        let page = path.join(name);
        refuse(&page.to_string_lossy())?;
    }
    std::fs::create_dir_all(path).map_err(|e| format!("cannot create the directory {dir}: {e}"))
}
