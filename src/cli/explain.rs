//! `rdpscope explain [CODE]`: a finding code's causes and fix, or the list of codes.

use std::process::ExitCode;

use anyhow::Result;

use rdpscope::diagnose::catalog;

pub fn run(code: Option<&str>) -> Result<ExitCode> {
    match code {
        None => {
            for c in catalog::all() {
                println!("{:<32} {:<8} {}", c.code, c.severity.name(), c.summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(code) => match catalog::lookup(code) {
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
                eprintln!("rdpscope: unknown finding code {code:?}; `rdpscope explain` lists them");
                Ok(ExitCode::from(2))
            }
        },
    }
}
