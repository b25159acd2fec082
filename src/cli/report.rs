//! `rdpscope report`: the same analysis and selection as analyze, written as one HTML file.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use rdpscope::capture::writer::check_output_not_input;
use rdpscope::report::collect::{CollectOptions, Collector, Output};
use rdpscope::report::{html, summary};

use super::args::ReportArgs;
use super::{each, pipeline_config, progress};

pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    let files = args.input.paths()?;
    let mut config = pipeline_config(&args.thresholds, &args.limits, &args.privacy);
    config.reader = args.input.file_reader()?;
    args.keys.apply(&mut config)?;
    let limits = config.limits;
    let options = CollectOptions {
        selection: args.selection.selection().shown_as(config.redact.as_ref()),
        output: Some(Output::Rows),
        spans: false,
        limits,
        jobs: args.jobs.jobs(),
        each: None,
    };
    let filter = args.input.filter.as_deref();
    if args.input.each {
        let jobs = options.jobs;
        return Ok(each::report(
            &files,
            filter,
            &config,
            &options,
            jobs,
            args.all,
            &args.output,
        ));
    }
    // Refused before reading: writing the page over a capture would destroy it.
    if args.output != "-" && check_output_not_input(&args.output, &files).is_err() {
        eprintln!(
            "rdpscope: -o {} would overwrite an input (the same file); write elsewhere",
            args.output
        );
        return Ok(ExitCode::from(2));
    }
    let mut collector = Collector::new(options);
    let run = progress::analyze_with_bar(&files, filter, config, &mut |d| collector.add(d));
    let grouped = collector.selection().groups(args.all);
    let done = collector.finish(&run);
    // The report says what went wrong with the input too: it may be read far from this terminal.
    let mut warnings = done.warnings.clone();
    warnings.extend(run.error.as_ref().map(ToString::to_string));
    let page = html::render(&html::ReportInput {
        files: &files,
        connections: &done.rows,
        packets: run.packets,
        omitted: done.omitted.clone(),
        notes: &summary::capture_notes(&run, &limits, 100),
        warnings: &warnings,
        grouped,
    });
    let written = if args.output == "-" {
        std::io::stdout().lock().write_all(page.as_bytes())
    } else {
        rdpscope::output_file::write_replacing(std::path::Path::new(&args.output), page.as_bytes())
    };
    if let Err(e) = written {
        eprintln!("rdpscope: cannot write {}: {e}", args.output);
        return Ok(ExitCode::from(2));
    }
    if args.output != "-" {
        eprintln!(
            "rdpscope: wrote the report of {} connection(s) to {}",
            done.rows.len(),
            args.output
        );
    }
    Ok(done.exit_code(run.error.as_ref()))
}
