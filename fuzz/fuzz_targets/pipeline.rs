#![no_main]
//! A whole capture file through the pipeline, as the binary reads it (libpcap opens a path,
//! so the input is written to a scratch file first), and the reports rendered.
use libfuzzer_sys::fuzz_target;
use rdpscope::diagnose::Severity;
use rdpscope::pipeline::{analyze_files, PipelineConfig};
use rdpscope::report::{json, table};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("rdpscope-fuzz-{}.pcap", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let paths = [path.to_string_lossy().into_owned()];
    let mut all = Vec::new();
    let _ = analyze_files(&paths, None, PipelineConfig::default(), &mut |d| {
        let _ = json::to_line(&d);
        all.push(d);
    });
    let _ = table::summary_table(&all, false, Some(100)).to_string();
    let _ = table::footer(&all);
    for d in &all {
        let _ = table::findings_block(d, Severity::Info);
    }
});
