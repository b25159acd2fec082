//! Options and help as a person types and reads them: enumerated values in any case, man pages,
//! help headings, time-zone flags, input selection, and README's code table against `explain`.

use super::*;

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
