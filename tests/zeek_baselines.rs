//! Issue 3 acceptance: where the public captures hold Zeek's expected rdp.log, rdpscope's
//! values agree with it field by field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::path::Path;

use common::*;

/// Zeek names client builds (scripts/base/protocols/rdp/consts.zeek).
fn zeek_build(name: &str) -> Option<u64> {
    Some(match name {
        "RDP 5.1" => 2600,
        "RDP 5.2" => 3790,
        "RDP 6.0" => 6000,
        "RDP 6.1" => 6001,
        "RDP 6.2" => 6002,
        "RDP 7.0" => 7600,
        "RDP 7.1" => 7601,
        "RDP 8.0" => 9200,
        "RDP 8.1" => 9600,
        _ => return None,
    })
}

/// "English - United States" or "Thai (Best Guess for 263198)" as an LCID.
fn zeek_keyboard(name: &str) -> Option<u32> {
    if let Some(n) = name.strip_prefix_between("(Best Guess for ", ")") {
        return n.parse().ok();
    }
    match name {
        "English - United States" => Some(0x409),
        _ => None,
    }
}

trait Between {
    fn strip_prefix_between(&self, open: &str, close: &str) -> Option<&str>;
}

impl Between for str {
    fn strip_prefix_between(&self, open: &str, close: &str) -> Option<&str> {
        let start = self.find(open)? + open.len();
        let end = self[start..].find(close)? + start;
        Some(&self[start..end])
    }
}

fn rows(log: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(log).unwrap();
    let fields: Vec<String> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            fields
                .iter()
                .cloned()
                .zip(l.split('\t').map(str::to_string))
                .collect()
        })
        .collect()
}

#[test]
fn rdpscope_agrees_with_zeek_rdp_logs() {
    let Some(dir) = shared_captures() else { return };
    let mut compared = 0;
    let mut mismatches = Vec::new();
    let logs: Vec<_> = std::fs::read_dir(dir.join("zeek_zeek"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".rdp.log"))
        .collect();
    for log in logs {
        let base = log
            .file_name()
            .unwrap()
            .to_string_lossy()
            .split(".zeek-baseline")
            .next()
            .unwrap()
            .to_string();
        let pcap = dir.join("zeek_zeek").join(format!("{base}.pcap"));
        let (conns, _) = analyze_json(&[pcap.to_str().unwrap()]);
        for row in rows(&log) {
            let port: u64 = row["id.orig_p"].parse().unwrap();
            let Some(c) = conns
                .iter()
                .find(|c| c["client"].as_str().unwrap().ends_with(&format!(":{port}")))
            else {
                mismatches.push(format!("{base}: no connection from port {port}"));
                continue;
            };
            let core = &c["mcs"]["client"]["core"];
            let sec = &c["mcs"]["server"]["security"];
            let mut check = |field: &str, ours: Option<String>, zeek: &str| {
                if zeek == "-" || zeek == "(empty)" {
                    return;
                }
                compared += 1;
                if ours.as_deref() != Some(zeek) {
                    mismatches.push(format!(
                        "{base} port {port} {field}: rdpscope {ours:?}, zeek {zeek:?}"
                    ));
                }
            };
            check(
                "cookie",
                c["x224"]["cookie"]
                    .as_str()
                    .map(|s| s.replace('\\', "\\\\")),
                &row["cookie"],
            );
            check(
                "security_protocol",
                c["x224"]["selected_protocol"]
                    .as_str()
                    .map(|s| s.to_uppercase()),
                &row["security_protocol"],
            );
            if row["result"].contains("_BY_SERVER") || row["result"].contains("NOT_ON_SERVER") {
                check(
                    "result",
                    c["x224"]["failure_code"].as_str().map(str::to_string),
                    &row["result"],
                );
            }
            check(
                "client_channels",
                c["mcs"]["client"]["channels"].as_array().map(|a| {
                    a.iter()
                        .map(|ch| ch["name"].as_str().unwrap_or("").to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                }),
                &row["client_channels"],
            );
            check(
                "keyboard_layout",
                core["keyboard_layout"].as_str().map(str::to_string),
                &zeek_keyboard(&row["keyboard_layout"])
                    .map(|k| format!("0x{k:08x}"))
                    .unwrap_or_else(|| "-".into()),
            );
            check(
                "client_build",
                core["client_build"].as_u64().map(|b| b.to_string()),
                &zeek_build(&row["client_build"])
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "-".into()),
            );
            check(
                "client_name",
                core["client_name"].as_str().map(str::to_string),
                &row["client_name"],
            );
            check(
                "desktop_width",
                core["desktop_width"].as_u64().map(|b| b.to_string()),
                &row["desktop_width"],
            );
            check(
                "desktop_height",
                core["desktop_height"].as_u64().map(|b| b.to_string()),
                &row["desktop_height"],
            );
            let cert = &sec["certificate"];
            check(
                "cert_type",
                cert["type"].as_str().map(|t| {
                    if t == "proprietary" {
                        "RSA".to_string()
                    } else {
                        "X.509".to_string()
                    }
                }),
                &row["cert_type"],
            );
            if row["cert_type"] != "-" {
                check(
                    "cert_count",
                    Some(match cert["type"].as_str() {
                        Some("x509") => cert["chain_len"].as_u64().unwrap_or(0).to_string(),
                        Some(_) => "1".to_string(),
                        None => "0".to_string(),
                    }),
                    &row["cert_count"],
                );
                check(
                    "cert_permanent",
                    cert["temporary"]
                        .as_bool()
                        .map(|t| if t { "F".into() } else { "T".into() }),
                    &row["cert_permanent"],
                );
            }
            check(
                "encryption_level",
                sec["encryption_level"].as_str().map(|l| match l {
                    "client_compatible" => "Client compatible".to_string(),
                    other => {
                        let mut c = other.chars();
                        c.next()
                            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                            .unwrap_or_default()
                    }
                }),
                &row["encryption_level"],
            );
            check(
                "encryption_method",
                sec["encryption_method"].as_str().map(str::to_string),
                &row["encryption_method"],
            );
        }
    }
    eprintln!("{compared} Zeek fields compared");
    assert!(compared >= 30, "compared only {compared}");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
