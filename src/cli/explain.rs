//! `rdpscope explain [CODE]`: a finding code's causes and fix, or the list of codes.

use std::process::ExitCode;

use anyhow::Result;

use rdpscope::diagnose::catalog;
use rdpscope::diagnose::client_error::{causes_of, DisconnectReason};
use rdpscope::proto::rdp_pdu::ErrInfo;
use rdpscope::report::codes::client_error::{extended_phrase, phrase};
use rdpscope::report::codes::errinfo::errinfo;

pub fn run(codes: &[String]) -> Result<ExitCode> {
    match codes {
        [] => {
            for c in catalog::all() {
                println!("{:<32} {:<8} {}", c.code, c.severity.name(), c.summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        [code] => match parse_client_code(code) {
            Some(reason) => explain_client_error(reason, None),
            None => explain_finding(code),
        },
        [code, extended, ..] => match (parse_client_code(code), parse_client_code(extended)) {
            (Some(reason), Some(x)) => explain_client_error(reason, Some(x)),
            _ => {
                eprintln!(
                    "rdpscope: {code:?} {extended:?}: two codes are a client error code and its \
                     extended code, hex (0x904 0x7) or decimal (2308 7)"
                );
                Ok(ExitCode::from(2))
            }
        },
    }
}

/// A client error code as the dialog (hex, 0x904) or event 1026 (decimal, 2308) shows it.
pub fn parse_client_code(s: &str) -> Option<u32> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// What the client error `reason` (and `extended`) means and which findings produce it.
fn explain_client_error(reason: u32, extended: Option<u32>) -> Result<ExitCode> {
    let r = DisconnectReason(reason);
    let name = r
        .name()
        .unwrap_or("not a reason the client's public enumeration names");
    let what = phrase(r).unwrap_or("no meaning is known for this code");
    println!("client error 0x{reason:X} ({reason}): {name}\n\n{what}.");
    if let Some(x) = extended.map(ErrInfo) {
        let name = x
            .name()
            .unwrap_or("not an ERRINFO value MS-RDPBCGR 2.2.5.1.1 names");
        println!(
            "\nextended code 0x{:X} ({}): {name} ({})",
            x.0,
            x.0,
            extended_phrase(x)
        );
        if let Some(m) = errinfo(x) {
            println!("{}\nFix: {}", m.meaning, m.fix);
        }
        println!(
            "The extended code is the server's Set Error Info value; inside TLS it is \
             encrypted, so a capture shows it only when decrypted."
        );
    }
    let causes = causes_of(r);
    if causes.is_empty() {
        println!("\nNo finding of rdpscope is known to produce this code.");
    } else {
        println!("\nIn a capture, these findings produce it (`rdpscope explain CODE` for each):");
        for c in causes.into_iter().map(catalog::info) {
            println!("  {:<32} {}", c.code, c.summary);
        }
        println!(
            "\n`rdpscope analyze --client-error 0x{reason:X} FILE` lists the matching \
             connections first."
        );
    }
    Ok(ExitCode::SUCCESS)
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
