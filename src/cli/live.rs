//! `rdpscope live`: the analyze pipeline fed from an interface, with progress lines as
//! phases change, stall alarms on wall-clock time, and the summary on Ctrl-C.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Result;

use rdpscope::capture::live::{list_interfaces, LiveCapture, LiveOptions};
use rdpscope::diagnose::{Diagnosed, Severity};
use rdpscope::pipeline::{LiveEvent, Pipeline};
use rdpscope::report::{json, summary, table};
use rdpscope::timefmt as time_fmt;

use crate::LiveArgs;

pub fn interfaces() -> Result<ExitCode> {
    match list_interfaces() {
        Ok(list) => {
            for (i, (name, desc)) in list.iter().enumerate() {
                println!("{}.{name} {desc}", i + 1);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("rdpscope: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn describe(ev: &LiveEvent) -> String {
    match ev {
        LiveEvent::Phase { meta, phase } => format!(
            "{} #{} {} -> {}: {}",
            clock(meta.last.ts_ns),
            meta.id,
            meta.client,
            meta.server,
            phase.describe()
        ),
        LiveEvent::Stall {
            meta,
            phase,
            waiting_on,
            idle_ms,
        } => format!(
            "{} #{} {} -> {}: ALARM handshake-stalled: no progress for {:.1} s in the {}, waiting on the {}",
            clock(now_ns()),
            meta.id,
            meta.client,
            meta.server,
            idle_ms / 1000.0,
            phase.map(|p| p.describe()).unwrap_or("connection setup"),
            waiting_on.map(|s| s.name()).unwrap_or("other side")
        ),
    }
}

fn clock(ts_ns: i64) -> String {
    time_fmt::clock(ts_ns, true)
}

pub fn run(args: &LiveArgs) -> Result<ExitCode> {
    let opts = LiveOptions {
        interface: args.interface.clone(),
        filter: args.filter.clone(),
        promiscuous: !args.no_promiscuous,
        snaplen: args.snaplen,
        save_to: args.write.clone(),
        buffer_mb: args.buffer_mb,
    };
    let mut cap = match LiveCapture::open(&opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rdpscope: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let running = Arc::new(AtomicBool::new(true));
    {
        let running = running.clone();
        let _ = ctrlc::set_handler(move || running.store(false, Ordering::SeqCst));
    }
    eprintln!("rdpscope: capturing on {} (Ctrl-C to stop)", args.interface);
    let mut config = crate::pipeline_config(&args.thresholds, &args.limits, &args.privacy);
    // Someone is waiting for the verdict: report a closed connection two seconds after its
    // last packet instead of waiting for stragglers as long as a file analysis does.
    config.flow.closed_linger_ns = 2_000_000_000;
    config.keylogs = args.keys.files()?;
    let pipeline = Pipeline::new(config);
    let started = Instant::now();
    let mut collected: Vec<Diagnosed> = Vec::new();
    let finished = std::cell::Cell::new(0u64);
    let mut any_error = false;
    let json_mode = args.json;
    let color = crate::use_color(args.no_color);
    let on_conn = |d: Diagnosed| {
        finished.set(finished.get() + 1);
        any_error |= d.findings.iter().any(|f| f.severity == Severity::Error);
        let mut out = std::io::stdout().lock();
        if json_mode {
            let _ = writeln!(out, "{}", json::to_line(&d));
        } else {
            let block = table::findings_block(&d, Severity::Warning, 120, false);
            let _ = writeln!(
                out,
                "{} #{} {} -> {}: finished, {}",
                clock(d.meta.last.ts_ns),
                d.meta.id,
                d.meta.client,
                d.meta.server,
                d.verdict.name()
            );
            let _ = write!(out, "{block}");
            collected.push(d);
        }
        let _ = out.flush();
    };
    let on_event = |ev: LiveEvent| {
        let line = describe(&ev);
        if json_mode {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    // Packets and timer ticks both drive the pipeline, from this one thread.
    let state = std::cell::RefCell::new((pipeline, on_conn, on_event));
    let read = cap.run(
        &running,
        Duration::from_millis(200),
        |raw| {
            let (pipeline, on_conn, on_event) = &mut *state.borrow_mut();
            pipeline.packet_live(raw, on_conn, on_event)
        },
        || {
            let (pipeline, on_conn, on_event) = &mut *state.borrow_mut();
            pipeline.tick(now_ns(), on_conn, on_event);
            let timed_out = args.duration.is_some_and(|d| started.elapsed() >= d);
            let enough = args.count.is_some_and(|c| finished.get() >= c);
            !timed_out && !enough && running.load(Ordering::SeqCst)
        },
    );
    let read_error = read.err();
    let (mut pipeline, mut on_conn, _) = state.into_inner();
    let summary = pipeline.finish(&mut on_conn);
    let stats = cap.stats();
    if !json_mode && !collected.is_empty() {
        table::table_order(&mut collected);
        println!(
            "{}",
            table::summary_table(&collected, color, crate::terminal_width())
        );
        println!("{}", table::footer(&collected));
    }
    if json_mode {
        if let Some(line) = json::summary_line(&summary) {
            println!("{line}");
        }
    } else {
        print!(
            "{}",
            summary::capture_notes(&summary, &args.limits.limits(), 120)
        );
    }
    eprintln!(
        "rdpscope: {} packets received, {} dropped by the kernel, {} dropped by the interface",
        stats.received, stats.dropped, stats.if_dropped
    );
    if stats.dropped > 0 || stats.if_dropped > 0 {
        eprintln!("rdpscope: warning: packets were dropped: some connections may be incomplete");
    }
    Ok(crate::exit_code(read_error, any_error))
}
