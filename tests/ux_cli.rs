//! The command line as a person meets it: `-w` never destroys an input, enumerated options are
//! checked (any case, valid values in the error), every man page exists and renders, and the
//! README's code table lists exactly the codes `explain` knows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::path::{Path, PathBuf};

use common::{have_tool, rdpscope, repo_root, shared_captures};

fn demo() -> PathBuf {
    repo_root().join("fixtures/demo/demo.pcap")
}

/// A private copy of the demo fixture in a fresh directory (the fixture itself is never the
/// target of `-w`).
fn demo_copy(dir_name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("rdpscope-ux-{dir_name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("demo.pcap");
    std::fs::copy(demo(), &copy).unwrap();
    (dir, copy)
}

fn assert_refused_and_intact(out: &Path, input: &Path, original: &[u8]) {
    let o = rdpscope(&[
        "analyze",
        "-w",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("would overwrite the input"),
        "stderr: {stderr}"
    );
    assert_eq!(
        std::fs::read(input).unwrap(),
        original,
        "the input was modified"
    );
}

#[test]
fn write_onto_an_input_is_refused_by_name_symlink_and_hard_link() {
    let (dir, copy) = demo_copy("same");
    let original = std::fs::read(&copy).unwrap();
    assert_eq!(original, std::fs::read(demo()).unwrap());
    assert_refused_and_intact(&copy, &copy, &original);
    let symlink = dir.join("link.pcap");
    std::os::unix::fs::symlink(&copy, &symlink).unwrap();
    assert_refused_and_intact(&symlink, &copy, &original);
    let hard = dir.join("hard.pcap");
    std::fs::hard_link(&copy, &hard).unwrap();
    assert_refused_and_intact(&hard, &copy, &original);
    // `dir/./demo.pcap` is the same file under another spelling.
    assert_refused_and_intact(&dir.join(".").join("demo.pcap"), &copy, &original);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `report -o` is refused like `-w` when it names an input (found writing the page over
/// the capture it was made from).
#[test]
fn report_onto_an_input_is_refused_and_the_input_kept() {
    let (dir, copy) = demo_copy("report");
    let original = std::fs::read(&copy).unwrap();
    let hard = dir.join("hard.pcap");
    std::fs::hard_link(&copy, &hard).unwrap();
    for out in [&copy, &hard] {
        let o = rdpscope(&[
            "report",
            "-o",
            out.to_str().unwrap(),
            copy.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "stderr: {stderr}");
        assert!(
            stderr.contains("would overwrite an input"),
            "stderr: {stderr}"
        );
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            original,
            "the input was modified"
        );
    }
    let page = dir.join("r.html");
    let o = rdpscope(&[
        "report",
        "-o",
        page.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    assert!(o.status.code() == Some(1), "{o:?}");
    assert!(std::fs::read_to_string(&page).unwrap().contains("<html"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn write_goes_through_a_temporary_file_and_leaves_only_the_result() {
    let (dir, copy) = demo_copy("tmp");
    let out = dir.join("failing.pcap");
    let o = rdpscope(&[
        "analyze",
        "-w",
        out.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("wrote 29 packets"), "stderr: {stderr}");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["demo.pcap", "failing.pcap"],
        "no .part file remains"
    );
    // The written file is a capture rdpscope reads back: the two failing connections.
    let again = rdpscope(&["analyze", "--json", out.to_str().unwrap()]);
    let lines = String::from_utf8_lossy(&again.stdout);
    assert_eq!(
        lines.lines().filter(|l| l.contains("\"verdict\"")).count(),
        2
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn verdict_values_are_checked_in_any_case_with_the_valid_values_in_the_error() {
    let demo = demo();
    let demo = demo.to_str().unwrap();
    let bogus = rdpscope(&["analyze", "--verdict", "bogus", demo]);
    let stderr = String::from_utf8_lossy(&bogus.stderr);
    assert_eq!(bogus.status.code(), Some(2));
    assert!(
        stderr.contains("ok, failed, stalled, slow, incomplete"),
        "stderr: {stderr}"
    );
    let upper = rdpscope(&["analyze", "--json", "--verdict", "FAILED,Ok", demo]);
    assert!(upper.status.code() != Some(2), "{:?}", upper);
    let shown = String::from_utf8_lossy(&upper.stdout);
    assert!(shown.lines().count() >= 2, "{shown}");
    assert!(!shown.contains("\"verdict\":\"stalled\""));
}

#[test]
fn explain_takes_finding_codes_in_any_case_and_lists_them_when_unknown() {
    let upper = rdpscope(&["explain", "NLA-FAILED"]);
    assert!(upper.status.success());
    assert!(String::from_utf8_lossy(&upper.stdout).starts_with("nla-failed (error)"));
    let bogus = rdpscope(&["explain", "no-such-code"]);
    assert_eq!(bogus.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bogus.stderr);
    assert!(
        stderr.contains("port-filtered") && stderr.contains("nla-failed"),
        "{stderr}"
    );
}

#[test]
fn completions_shell_is_case_insensitive() {
    let o = rdpscope(&["completions", "BASH"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("_rdpscope"));
}

/// The subcommand names `rdpscope --help` lists.
fn subcommands() -> Vec<String> {
    let help = String::from_utf8(rdpscope(&["--help"]).stdout).unwrap();
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|name| name != "help")
        .collect()
}

#[test]
fn man_dir_writes_every_subcommands_page_and_man_renders_them() {
    let dir = std::env::temp_dir().join(format!("rdpscope-ux-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = rdpscope(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let names = subcommands();
    assert!(names.len() >= 7, "{names:?}");
    let top = std::fs::read_to_string(dir.join("rdpscope.1")).unwrap();
    for name in &names {
        let page = dir.join(format!("rdpscope-{name}.1"));
        assert!(page.exists(), "no page for {name}");
        // The top-level page refers to every page that now exists.
        assert!(
            top.contains(&format!("rdpscope\\-{name}(1)")),
            "{name} not referred to"
        );
        if have_tool("man") {
            let shown = std::process::Command::new("man")
                .arg("-l")
                .arg(&page)
                .env("MANPAGER", "cat")
                .env("PAGER", "cat")
                .env("MANWIDTH", "80")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&shown.stdout);
            assert!(shown.status.success(), "man -l {name}: {shown:?}");
            assert!(
                text.contains("NAME") && text.contains(&format!("rdpscope-{name}")),
                "{text}"
            );
        } else {
            eprintln!("skipping man -l: man is not installed");
        }
    }
    // One page at a time on stdout too.
    let analyze = rdpscope(&["man", "analyze"]);
    assert!(String::from_utf8_lossy(&analyze.stdout).contains("\\-\\-verdict"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The codes in the first column of README's code table (`a` / `b` rows give several).
fn readme_codes() -> Vec<String> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let mut codes = Vec::new();
    let rows = readme
        .lines()
        .skip_while(|l| !l.starts_with("| code | what it means |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'));
    for row in rows {
        let first = row.split('|').nth(1).unwrap_or("");
        codes.extend(first.split('`').skip(1).step_by(2).map(str::to_string));
    }
    codes
}

#[test]
fn readme_code_table_lists_exactly_the_codes_explain_knows() {
    let mut readme = readme_codes();
    readme.sort();
    let before = readme.len();
    readme.dedup();
    assert_eq!(
        before,
        readme.len(),
        "a code appears twice in README's table"
    );
    let mut known: Vec<String> = rdpscope::diagnose::catalog::all()
        .map(|c| c.code.to_string())
        .collect();
    known.sort();
    let missing: Vec<&String> = known.iter().filter(|c| !readme.contains(c)).collect();
    let unknown: Vec<&String> = readme.iter().filter(|c| !known.contains(c)).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "README's code table lacks {missing:?} and has unknown {unknown:?}"
    );
    // `explain` without a code lists the same set.
    let listed = String::from_utf8(rdpscope(&["explain"]).stdout).unwrap();
    let mut listed: Vec<String> = listed
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    listed.sort();
    assert_eq!(listed, known);
}

#[test]
fn read_option_is_repeatable_as_tcpdump_and_adds_to_the_files() {
    let demo = demo();
    let demo = demo.to_str().unwrap();
    let icmp = repo_root().join("fixtures/lab/icmp_reject.pcap");
    let both = rdpscope(&["--json", "-r", demo, "-r", icmp.to_str().unwrap()]);
    let lines = String::from_utf8_lossy(&both.stdout);
    let one = rdpscope(&["--json", "-r", demo]);
    let one = String::from_utf8_lossy(&one.stdout);
    let count = |s: &str| {
        s.lines()
            .filter(|l| l.contains("\"kind\":\"connection\""))
            .count()
    };
    assert_eq!(count(&one), 3, "{one}");
    assert!(count(&lines) > 3, "{lines}");
}

#[test]
fn standard_input_is_read_when_no_file_is_given_and_it_is_not_a_terminal() {
    let file = std::fs::File::open(demo()).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["--json"])
        .stdin(file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("\"kind\":\"connection\""))
            .count(),
        3,
        "{text} {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_missing_file_prints_only_the_error() {
    let o = rdpscope(&["analyze", "/nonexistent/capture.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("No such file"), "{stderr}");
    assert!(!stderr.contains("No RDP connections"), "{stderr}");
}

#[test]
fn sub_millisecond_intervals_read_in_microseconds() {
    let o = rdpscope(&["analyze", "--no-color", demo().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("(RST) 46 µs later"), "{text}");
    assert!(!text.contains("0.0 ms later"));
}

/// The headings (`Input:`, `Output:`, ...) of a `--help` text, in order.
fn help_headings(command: &str) -> Vec<String> {
    let help = String::from_utf8(rdpscope(&[command, "--help"]).stdout).unwrap();
    help.lines()
        .filter(|l| !l.starts_with(' ') && l.ends_with(':') && !l.contains(' '))
        .map(|l| l.trim_end_matches(':').to_string())
        .collect()
}

#[test]
fn options_are_grouped_under_headings_in_every_command_that_has_options() {
    let wanted = ["Input", "Selection", "Thresholds", "Limits", "Output"];
    for command in ["analyze", "report", "live"] {
        let headings = help_headings(command);
        let found: Vec<&String> = headings.iter().filter(|h| *h != "Options").collect();
        assert_eq!(found, wanted, "{command}: {headings:?}");
        // Only -h/--help is left without a heading.
        let help = String::from_utf8(rdpscope(&[command, "-h"]).stdout).unwrap();
        let ungrouped: Vec<&str> = help
            .lines()
            .skip_while(|l| *l != "Options:")
            .skip(1)
            .take_while(|l| l.starts_with(' '))
            .collect();
        assert_eq!(ungrouped.len(), 1, "{command}: {ungrouped:?}");
        assert!(ungrouped[0].contains("--help"), "{command}: {ungrouped:?}");
    }
    // The commands without options have none to group.
    for command in ["interfaces", "completions", "man", "explain"] {
        let headings = help_headings(command);
        assert!(
            headings.iter().all(|h| h == "Options" || h == "Arguments"),
            "{command}: {headings:?}"
        );
    }
}

#[test]
fn time_zone_flags_are_only_on_the_commands_that_print_times() {
    for command in ["interfaces", "completions", "man", "explain"] {
        let help = String::from_utf8(rdpscope(&[command, "--help"]).stdout).unwrap();
        assert!(
            !help.contains("--utc") && !help.contains("--local"),
            "{command}: {help}"
        );
    }
    for command in ["analyze", "report", "live"] {
        let help = String::from_utf8(rdpscope(&[command, "--help"]).stdout).unwrap();
        assert!(
            help.contains("--utc") && help.contains("--local"),
            "{command}"
        );
    }
    let refused = rdpscope(&["interfaces", "--utc"]);
    assert_eq!(refused.status.code(), Some(2));
    // Written before the command (or the file, for the implied `analyze`), they still work.
    let demo = demo();
    let demo = demo.to_str().unwrap();
    for args in [
        vec!["--utc", "analyze", "--json", demo],
        vec!["--local", "--json", demo],
    ] {
        let o = rdpscope(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {o:?}");
        assert_eq!(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| l.contains("\"kind\":\"connection\""))
                .count(),
            3
        );
    }
}

#[test]
fn explain_describes_its_code_argument_and_verdict_completion_offers_the_verdicts() {
    let help = String::from_utf8(rdpscope(&["explain", "--help"]).stdout).unwrap();
    assert!(
        help.contains("[CODE]") && help.contains("finding code") && help.contains("0x904"),
        "{help}"
    );
    let bash = String::from_utf8(rdpscope(&["completions", "bash"]).stdout).unwrap();
    let after = bash.split("--verdict)").nth(1).unwrap();
    let reply = after.lines().nth(1).unwrap();
    assert!(
        reply.contains("ok failed stalled slow incomplete"),
        "{reply}"
    );
    let fish = String::from_utf8(rdpscope(&["completions", "fish"]).stdout).unwrap();
    // fish: `-f` (no file names) and the values listed after `-a`, one per line.
    let verdict = fish.split("-l verdict").nth(1).unwrap();
    let verdict = &verdict[..verdict.find("complete -c").unwrap()];
    assert!(verdict.contains("-r -f -a"), "{verdict}");
    assert!(
        verdict.contains("failed") && verdict.contains("stalled"),
        "{verdict}"
    );
}

/// `frame.comment` of each packet of `file`, as tshark reads it (None without tshark).
fn tshark_comments(file: &Path) -> Option<Vec<String>> {
    if !have_tool("tshark") {
        eprintln!("skipping the tshark read-back: tshark is not installed");
        return None;
    }
    let o = std::process::Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-T", "fields", "-e", "frame.comment"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    Some(
        String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn write_pcapng_comments_each_frame_with_its_origin_and_evidence_with_the_code() {
    let (dir, copy) = demo_copy("pcapng");
    let out = dir.join("failing.pcapng");
    let o = rdpscope(&[
        "analyze",
        "-w",
        out.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("wrote 29 packets"),
        "{o:?}"
    );
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(
        &bytes[..4],
        &[0x0A, 0x0D, 0x0D, 0x0A],
        "a pcapng section header"
    );
    if let Some(comments) = tshark_comments(&out) {
        assert_eq!(comments.len(), 29);
        let origin = format!("{} frame ", copy.display());
        assert!(comments.iter().all(|c| c.contains(&origin)), "{comments:?}");
        // The demo's NLA failure: its evidence frames 92-94 and 96 (the analysis shows
        // "evidence: frames 92, 93, 94, 96"), and the TLS reset's 108 and 109.
        let evidence: Vec<&String> = comments.iter().filter(|c| c.contains("evidence")).collect();
        assert_eq!(evidence.len(), 6, "{evidence:?}");
        assert!(comments.contains(&format!("rdpscope: {origin}92; evidence of nla-failed")));
        assert!(comments.contains(&format!("rdpscope: {origin}95")));
        assert!(comments.contains(&format!(
            "rdpscope: {origin}109; evidence of server-reset-after-client-hello"
        )));
        // Frames 99 and 100 belong to the healthy connection: not written.
        assert!(!comments
            .iter()
            .any(|c| c.ends_with("frame 99") || c.ends_with("frame 100")));
    }
    // rdpscope reads its own pcapng back: the same two failing connections.
    let again = rdpscope(&["analyze", "--json", out.to_str().unwrap()]);
    let lines = String::from_utf8_lossy(&again.stdout);
    assert_eq!(
        lines
            .lines()
            .filter(|l| l.contains("\"verdict\":\"failed\""))
            .count(),
        2
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn write_format_pcap_gives_a_plain_pcap_that_tshark_reads() {
    let (dir, copy) = demo_copy("pcap");
    let out = dir.join("failing.pcap");
    let o = rdpscope(&[
        "analyze",
        "-F",
        "PCAP",
        "-w",
        out.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("wrote 29 packets"),
        "{o:?}"
    );
    let bytes = std::fs::read(&out).unwrap();
    // The nanosecond pcap magic, little-endian.
    assert_eq!(&bytes[..4], &[0x4D, 0x3C, 0xB2, 0xA1]);
    // The header's snaplen is the largest captured length written (not a fixed 262144).
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let (mut at, mut largest, mut records) = (24, 0, 0);
    while at + 16 <= bytes.len() {
        let caplen = u32_at(at + 8);
        largest = largest.max(caplen);
        at += 16 + caplen as usize;
        records += 1;
    }
    assert_eq!((records, at), (29, bytes.len()));
    assert!(largest > 0 && largest < 262_144);
    assert_eq!(u32_at(16), largest);
    if let Some(comments) = tshark_comments(&out) {
        assert_eq!(comments.len(), 29);
        assert!(comments.iter().all(String::is_empty), "{comments:?}");
    }
    // -F alone, without -w, is refused.
    let lone = rdpscope(&["analyze", "-F", "pcap", copy.to_str().unwrap()]);
    assert_eq!(lone.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn evidence_names_each_frame_once_in_the_timeline_and_the_html() {
    // The server's MCS Disconnect Provider Ultimatum in frame 11 is both the last message and
    // the close: one frame, two notes.
    let capture = repo_root().join("fixtures/lab/legacy_cr_refused.pcap");
    let o = rdpscope(&[
        "analyze",
        "--timeline",
        "--no-color",
        capture.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout).replace("\n      ", " ");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("evidence: frame 11"))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(line.matches("frame 11").count(), 1, "{line}");
    assert!(
        line.contains("last message") && line.contains("server closes"),
        "{line}"
    );
    let html = rdpscope(&["report", "-o", "-", capture.to_str().unwrap()]);
    let html = String::from_utf8_lossy(&html.stdout);
    assert_eq!(html.matches("<li>frame 11 at").count(), 1, "{html}");
}

#[test]
fn a_filter_says_how_many_packets_were_read_and_how_many_it_kept() {
    let demo = demo();
    let demo = demo.to_str().unwrap();
    let none = rdpscope(&["analyze", "-f", "port 3390", demo]);
    let text = String::from_utf8_lossy(&none.stdout);
    assert!(text.contains("No RDP connections found."), "{text}");
    assert!(
        text.contains("The filter \"port 3390\" kept 0 of the 109 packets read."),
        "{text}"
    );
    // The demo's 109 frames: the 6 ARP frames are not kept (tshark: `not ip`).
    let some = rdpscope(&["analyze", "-f", "port 3389 and host 10.99.0.2", demo]);
    let text = String::from_utf8_lossy(&some.stdout);
    assert!(text.contains("kept 103 of the 109 packets read"), "{text}");
    let json = rdpscope(&["analyze", "--json", "-f", "port 3390", demo]);
    let line = String::from_utf8(json.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(v["summary"]["filter"]["read"], 109);
    assert_eq!(v["summary"]["filter"]["kept"], 0);
    assert_eq!(v["summary"]["filter"]["expression"], "port 3390");
    // Without a filter nothing is said about one.
    let plain = rdpscope(&["analyze", demo]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("The filter"));
}

#[test]
fn waterfalls_share_one_glyph_mapping_and_name_the_client_pause_before_the_client_hello() {
    let Some(dir) = shared_captures() else {
        eprintln!("skipping: ../shared/captures is absent");
        return;
    };
    // The client waits 3.25 s between the server's X.224 Connection Confirm (frame 5) and its
    // ClientHello (frame 13), as `tshark -r F -Y tls.handshake.type==1` shows.
    let capture = dir.join("awakecoding_wireshark-rdp/rdp-nla-kerberos-auth2.pcapng");
    let capture = capture.to_str().unwrap();
    let note = "· 3.25 s client pause before the ClientHello (frames 5 to 13): a prompt?";
    let all = rdpscope(&["analyze", "--all", "--no-color", capture]);
    let text = String::from_utf8_lossy(&all.stdout);
    assert_eq!(text.matches(note).count(), 1, "{text}");
    let line = text.lines().find(|l| l.starts_with("  ▕")).unwrap();
    assert!(
        line.contains("▒·") && line.contains("·idle") && line.contains("░tcp"),
        "{line}"
    );
    // --timeline: the rows use the same glyphs and legend, and name the pause once.
    let timeline = rdpscope(&["analyze", "--all", "--timeline", "--no-color", capture]);
    let text = String::from_utf8_lossy(&timeline.stdout);
    assert_eq!(text.matches(note).count(), 1, "{text}");
    let tcp_row = text
        .lines()
        .find(|l| l.starts_with("  tcp_connect"))
        .unwrap();
    assert!(tcp_row.trim_end().ends_with('░'), "{tcp_row}");
    let tls_row = text
        .lines()
        .find(|l| l.starts_with("  tls_handshake"))
        .unwrap();
    assert!(
        tls_row.contains("·▓") && !tls_row.contains('░'),
        "{tls_row}"
    );
    assert!(
        text.contains("  ░ tcp  ▒ x224  ▓ tls  █ credssp  ▞ mcs  ━ data  · idle"),
        "{text}"
    );
}
