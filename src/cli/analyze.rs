//! `rdpscope analyze`: capture files through the pipeline into the collector; `-w` writes
//! the packets of the failing (or selected) connections afterwards.

use std::process::ExitCode;

use anyhow::Result;

use rdpscope::capture::writer::{check_output_not_input, write_connections, WriteFormat};
use rdpscope::report::collect::{CollectOptions, Collector, Output};
use rdpscope::report::frame_comments::FrameComments;

use super::args::{AnalyzeArgs, WriteFormatArg};
use super::{each, pipeline_config, progress, terminal_style};

pub fn run(args: &AnalyzeArgs) -> Result<ExitCode> {
    let files = args.input.paths()?;
    if args.input.each && args.write.is_some() {
        eprintln!(
            "rdpscope: -w is not available with --each: it writes the packets of one capture; \
             run once per file with -w, or drop --each to write them from all the files"
        );
        return Ok(ExitCode::from(2));
    }
    if let Some(out) = &args.write {
        // Refused before reading: the analysis would be wasted and the input lost.
        if let Err(e) = check_output_not_input(out, &files) {
            eprintln!("rdpscope: {e}");
            return Ok(ExitCode::from(2));
        }
    }
    let mut config = pipeline_config(&args.thresholds, &args.limits, &args.privacy);
    config.reader = args.input.file_reader()?;
    args.keys.apply(&mut config)?;
    let output = if args.json {
        Output::Json { immediate: false }
    } else {
        Output::Terminal(terminal_style(args.all, args.timeline, args.no_color))
    };
    let options = CollectOptions {
        selection: args.selection.selection().shown_as(config.redact.as_ref()),
        output: Some(output),
        spans: args.write.is_some(),
        limits: config.limits,
        jobs: args.jobs.jobs(),
        each: None,
    };
    let filter = args.input.filter.as_deref();
    // One capture's flow table and its diagnosis on two threads (the same bytes as -j 1).
    config.split_analysis = args.jobs.split_analysis() && !args.input.each;
    if args.input.each {
        return Ok(each::analyze(
            &files,
            filter,
            &config,
            &options,
            options.jobs,
        ));
    }
    let mut collector = Collector::new(options);
    let run = progress::analyze_with_bar(&files, filter, config, &mut |d| collector.add(d));
    let done = collector.finish(&run);
    if let (Some(out), None) = (&args.write, &run.error) {
        let format = match args.write_format {
            WriteFormatArg::Pcapng => WriteFormat::Pcapng,
            WriteFormatArg::Pcap => WriteFormat::Pcap,
        };
        let comments = FrameComments {
            paths: &files,
            marks: &done.marks,
        };
        let mut comment = |o: &_| comments.comment(o);
        match write_connections(&files, filter, &done.spans, out, format, &mut comment) {
            Ok(n) => eprintln!(
                "rdpscope: wrote {n} packets of {} connection(s) to {out} ({})",
                done.spans.len(),
                match format {
                    WriteFormat::Pcapng => "pcapng, each frame commented with its origin",
                    WriteFormat::Pcap => "pcap",
                }
            ),
            Err(e) => {
                eprintln!("rdpscope: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    Ok(done.exit_code(run.error.as_ref()))
}
