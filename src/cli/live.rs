//! `rdpscope live`: the analyze pipeline fed from an interface, with progress lines as
//! phases change, stall alarms on wall-clock time, and the summary on Ctrl-C. Finished
//! connections go to the same collector as analyze's, printed as they finish: memory stays
//! bounded by the active connections.

use std::cell::RefCell;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Result;

use rdpscope::capture::live::{list_interfaces, LiveCapture, LiveOptions};
use rdpscope::pipeline::{LiveEvent, Pipeline};
use rdpscope::report::collect::{CollectOptions, Collector, Output};
use rdpscope::report::live::event_line;

use super::args::LiveArgs;
use super::{pipeline_config, terminal_style};

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
    let mut config = pipeline_config(&args.thresholds, &args.limits, &args.privacy);
    // Someone is waiting for the verdict: report a closed connection two seconds after its
    // last packet instead of waiting for stragglers as long as a file analysis does.
    config.flow.closed_linger_ns = 2_000_000_000;
    args.keys.apply(&mut config)?;
    let output = if args.json {
        Output::Json { immediate: true }
    } else {
        Output::LiveTerminal(terminal_style(false, false, args.no_color))
    };
    let collector = RefCell::new(Collector::new(CollectOptions {
        selection: args.selection.selection().shown_as(config.redact.as_ref()),
        output: Some(output),
        spans: false,
        limits: config.limits,
        // Live JSON lines are written as each connection finishes, on this thread.
        jobs: 1,
        each: None,
    }));
    let pipeline = RefCell::new(Pipeline::new(config));
    let json_mode = args.json;
    let on_conn = |d| collector.borrow_mut().add(d);
    let on_event = |ev: LiveEvent| {
        if !collector.borrow().selection().may_select(ev.meta()) {
            return;
        }
        let line = event_line(&ev, now_ns());
        if json_mode {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let started = Instant::now();
    // Packets and timer ticks both drive the pipeline, from this one thread.
    let read = cap.run(
        &running,
        Duration::from_millis(200),
        |raw| {
            pipeline
                .borrow_mut()
                .packet_live(raw, &mut &on_conn, &mut &on_event)
        },
        || {
            pipeline
                .borrow_mut()
                .tick(now_ns(), &mut &on_conn, &mut &on_event);
            let timed_out = args.duration.is_some_and(|d| started.elapsed() >= d);
            let enough = args.count.is_some_and(|c| collector.borrow().shown() >= c);
            !timed_out && !enough && running.load(Ordering::SeqCst)
        },
    );
    let mut run = pipeline.into_inner().finish(&mut &on_conn);
    run.error = read.err();
    let stats = cap.stats();
    let done = collector.into_inner().finish(&run);
    eprintln!(
        "rdpscope: {} packets received, {} dropped by the kernel, {} dropped by the interface",
        stats.received, stats.dropped, stats.if_dropped
    );
    if stats.dropped > 0 || stats.if_dropped > 0 {
        eprintln!("rdpscope: warning: packets were dropped: some connections may be incomplete");
    }
    Ok(done.exit_code(run.error.as_ref()))
}
