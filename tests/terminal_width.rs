//! The terminal report laid out for the real width, in a pseudo-terminal (`script`): at 80
//! columns no line is wider than the terminal and the finding stays readable (columns are
//! dropped first); at 120 columns every column is there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use common::{have_tool, repo_root};

/// The report of `file` as a terminal of `cols` columns shows it (COLUMNS unset, so the
/// width comes from the terminal itself).
fn in_terminal(cols: u16, file: &str) -> Option<Vec<String>> {
    if !have_tool("script") {
        eprintln!("skipping: script (util-linux) is not installed");
        return None;
    }
    let bin = env!("CARGO_BIN_EXE_rdpscope");
    let command = format!("stty cols {cols} rows 60; {bin} --no-color {file}");
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    Some(text.lines().map(str::to_string).collect())
}

fn demo() -> String {
    repo_root()
        .join("fixtures/demo/demo.pcap")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn at_80_columns_nothing_overflows_and_the_finding_is_readable() {
    let Some(lines) = in_terminal(80, &demo()) else {
        return;
    };
    let too_wide: Vec<&String> = lines.iter().filter(|l| l.chars().count() > 80).collect();
    assert!(too_wide.is_empty(), "wider than 80: {too_wide:#?}");
    let header = lines.iter().find(|l| l.contains("verdict")).unwrap();
    assert!(header.contains("finding"), "{header}");
    // The finding column keeps whole words: its header is on one line.
    assert!(!lines.iter().any(|l| l.ends_with("┆ f │")), "{lines:#?}");
    let table_lines = lines.iter().take_while(|l| !l.starts_with('└')).count();
    assert!(table_lines < 20, "3 connections took {table_lines} lines");
    assert!(lines.iter().any(|l| l.contains("The server dropped the")));
}

#[test]
fn at_120_columns_every_column_is_shown() {
    let Some(lines) = in_terminal(120, &demo()) else {
        return;
    };
    assert!(lines.iter().all(|l| l.chars().count() <= 120));
    let header = lines.iter().find(|l| l.contains("verdict")).unwrap();
    for column in ["start", "client", "server", "phase", "took", "finding"] {
        assert!(header.contains(column), "{header}");
    }
    assert!(
        lines.iter().any(|l| l.contains("10.99.0.2:38714")),
        "client port shown"
    );
}

#[test]
fn start_shows_dates_when_the_capture_spans_days_and_the_summary_line_always() {
    let Some(dir) = common::shared_captures() else {
        eprintln!("skipping: ../shared/captures is absent");
        return;
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .arg("--no-color")
        .arg(dir.join("ntop_nDPI/rdp2.pcap"))
        .env("COLUMNS", "160")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // "incomplete" says why, in the finding column.
    assert!(text.contains("incomplete ┆"), "{text}");
    assert!(
        text.contains("The capture holds only part of this"),
        "{text}"
    );
    let (lines, _) = common::analyze_json(&[dir.join("ntop_nDPI/rdp2.pcap").to_str().unwrap()]);
    for l in lines.iter().filter(|l| l["kind"] == "connection") {
        assert_eq!(
            l["incomplete"].is_string(),
            l["verdict"] == "incomplete",
            "{l}"
        );
    }
    assert!(text.contains("┆ 2021-06-03 12:55:48 ┆"), "{text}");
    assert!(text.contains("┆ 2022-02-01 08:16:59 ┆"), "{text}");
    assert!(
        text.contains(
            "3 connections: 1 incomplete, 2 ok, 2021-06-03 12:55:48 to 2022-02-22 07:53:27 UTC"
        ),
        "{text}"
    );
    // One day: times only in the table, the date once in the summary line.
    let demo = common::rdpscope(&["--no-color", &demo()]);
    let demo = String::from_utf8_lossy(&demo.stdout);
    assert!(demo.contains("┆ 23:12:01 ┆"), "{demo}");
    assert!(
        demo.contains("3 connections: 2 failed, 1 ok, 2026-11-22 23:12:01 to 23:14:29 UTC"),
        "{demo}"
    );
}
