//! `rdpscope explain [CODE]`: a finding code's causes and fix, or the list of codes.

use std::process::ExitCode;

use anyhow::Result;

use rdpscope::diagnose::catalog;

pub fn run(codes: &[String]) -> Result<ExitCode> {
    match codes {
        [] => {
            for c in catalog::all() {
                println!("{:<32} {:<8} {}", c.code, c.severity.name(), c.summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        [code] => explain_finding(code),
        [code, extra] => {
            eprintln!("rdpscope: {code:?} {extra:?}: two codes are a client error code and its extended code (e.g. 0x904 0x7)");
            Ok(ExitCode::from(2))
        }
        _ => unreachable_codes(),
    }
}

fn unreachable_codes() -> Result<ExitCode> {
    eprintln!(
        "rdpscope: explain takes a finding code, or a client error code and its extended code"
    );
    Ok(ExitCode::from(2))
}

/// A finding code in any case (`NLA-FAILED` is `nla-failed`).
fn explain_finding(code: &str) -> Result<ExitCode> {
    match catalog::lookup(&code.to_ascii_lowercase()) {
        Some(c) => {
            println!(
                "{} ({})\n\n{}\n\n{}\n\nFix: {}",
                c.code,
                c.severity.name(),
                c.summary,
                c.explanation,
                c.fix
            );
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let names: Vec<String> = catalog::all().map(|c| c.code.to_string()).collect();
            eprintln!(
                "rdpscope: unknown finding code {code:?}\n  [possible values: {}]\n  \
                 (or a client error code: 0x904, 0x904 0x7, 2308)",
                names.join(", ")
            );
            Ok(ExitCode::from(2))
        }
    }
}
