#![no_main]
//! A whole capture file through the pipeline, as the binary reads it (libpcap opens a path,
//! so the input is written to a scratch file first), and every report rendered: JSON, the
//! terminal table, findings and waterfalls, the HTML page, the capture notes.
use libfuzzer_sys::fuzz_target;
use rdpscope::diagnose::Severity;
use rdpscope::limits::Limits;
use rdpscope::pipeline::{analyze_files, PipelineConfig};
use rdpscope::report::{html, json, summary, table, waterfall};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("rdpscope-fuzz-{}.pcap", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let paths = [path.to_string_lossy().into_owned()];
    let mut all = Vec::new();
    let run = analyze_files(&paths, None, PipelineConfig::default(), &mut |d| {
        let _ = json::to_line(&d);
        all.push(d);
    });
    let _ = json::summary_line(&run);
    let _ = summary::capture_notes(&run, &Limits::default(), 100);
    let _ = table::summary_table(&all, false, Some(100)).to_string();
    let _ = table::footer(&all);
    for d in &all {
        let _ = table::findings_block(d, Severity::Info, 100, true);
        let _ = waterfall::waterfall_line(d, 100, true);
        let _ = waterfall::waterfall_rows(d, 100, false);
    }
    let _ = html::render(&html::ReportInput {
        files: &paths,
        connections: &all,
        packets: run.packets,
        omitted: None,
        notes: &summary::capture_notes(&run, &Limits::default(), 100),
        warnings: &[],
    });
});
