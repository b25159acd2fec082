//! Issue 3 acceptance: the fields rdpscope decodes equal what tshark decodes on the same
//! frames, on every public capture and lab fixture. tshark does not switch RDP to TLS by
//! itself, so it dissects twice: once as RDP, once with `-d tcp.port==3389,tls`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use rdpscope::proto::nego::FailureCode;
use rdpscope::proto::tls::{alert_description_name, cipher_suite_name, version_name};
use serde_json::Value;

fn tshark_rows(file: &Path, extra: &[&str], filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(file).args(extra).args([
        "-Y",
        filter,
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('|').map(str::to_string).collect())
        .collect()
}

/// First frame of every TCP stream, to line tshark's streams up with rdpscope's connections.
fn stream_first_frames(file: &Path) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for r in tshark_rows(file, &[], "tcp", &["tcp.stream", "frame.number"]) {
        if let (Some(s), Some(f)) = (r.first(), r.get(1).and_then(|f| f.parse::<u64>().ok())) {
            m.entry(s.clone()).or_insert(f);
        }
    }
    m
}

fn protocol_bits(names: &Value) -> Option<u32> {
    let mut bits = 0;
    for n in names.as_array()? {
        bits |= match n.as_str()? {
            "rdp" => 0,
            "ssl" => 1,
            "hybrid" => 2,
            "rdstls" => 4,
            "hybrid_ex" => 8,
            "rdsaad" => 16,
            other => u32::from_str_radix(other.trim_start_matches("0x"), 16).ok()?,
        };
    }
    Some(bits)
}

fn hex_u32(s: &str) -> Option<u32> {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

#[derive(Default)]
struct Tally {
    compared: usize,
    mismatches: Vec<String>,
}

impl Tally {
    fn check(&mut self, what: &str, ours: Option<String>, theirs: Option<String>) {
        let Some(theirs) = theirs.filter(|t| !t.is_empty()) else {
            return;
        };
        self.compared += 1;
        if ours.as_deref() != Some(theirs.as_str()) {
            self.mismatches
                .push(format!("{what}: rdpscope {ours:?}, tshark {theirs:?}"));
        }
    }
}

fn compare_file(file: &Path, tally: &mut Tally) {
    let (conns, _) = analyze_json(&[file.to_str().unwrap()]);
    let by_first: BTreeMap<u64, &Value> = conns
        .iter()
        .filter(|c| c["kind"] == "connection")
        .map(|c| (c["first_frame"].as_u64().unwrap(), c))
        .collect();
    let streams = stream_first_frames(file);
    let conn_of = |stream: &str| streams.get(stream).and_then(|f| by_first.get(f)).copied();
    let name = file.file_name().unwrap().to_string_lossy().to_string();

    let rdp_fields = [
        "tcp.stream",
        "rdp.rt_cookie",
        "rdp.negReq.requestedProtocols",
        "rdp.negReq.selectedProtocol",
        "rdp.negFailure.failureCode",
        "rdp.client.name",
        "rdp.client.build",
        "rdp.keyboardLayout",
        "rdp.desktop.width",
        "rdp.desktop.height",
    ];
    let mut seen: BTreeMap<(String, usize), ()> = BTreeMap::new();
    for row in tshark_rows(file, &[], "rdp", &rdp_fields) {
        let Some(c) = row.first().and_then(|s| conn_of(s)) else {
            continue;
        };
        let stream = row[0].clone();
        for (i, v) in row.iter().enumerate().skip(1) {
            // Only the first occurrence per stream: that is the one rdpscope reports.
            if v.is_empty() || seen.insert((stream.clone(), i), ()).is_some() {
                continue;
            }
            let v = v.split(',').next().unwrap_or("").to_string();
            let x = &c["x224"];
            let core = &c["mcs"]["client"]["core"];
            let what = format!("{name} stream {stream} {}", rdp_fields[i]);
            match i {
                1 => tally.check(
                    &what,
                    x["cookie"]
                        .as_str()
                        .map(|k| format!("Cookie: mstshash={k}"))
                        .or_else(|| x["routing_token"].as_str().map(str::to_string)),
                    Some(v),
                ),
                2 => tally.check(
                    &what,
                    protocol_bits(&x["requested_protocols"]).map(|b| b.to_string()),
                    hex_u32(&v).map(|b| b.to_string()),
                ),
                3 => tally.check(
                    &what,
                    x["selected_protocol"]
                        .as_str()
                        .and_then(|s| {
                            protocol_bits(&Value::Array(
                                s.split('|').map(|p| Value::String(p.into())).collect(),
                            ))
                        })
                        .map(|b| b.to_string()),
                    hex_u32(&v).map(|b| b.to_string()),
                ),
                4 => tally.check(
                    &what,
                    x["failure_code"].as_str().map(str::to_string),
                    hex_u32(&v).map(|n| FailureCode(n).name()),
                ),
                5 => tally.check(
                    &what,
                    core["client_name"].as_str().map(str::to_string),
                    Some(v),
                ),
                6 => tally.check(
                    &what,
                    core["client_build"].as_u64().map(|b| b.to_string()),
                    Some(v),
                ),
                7 => tally.check(
                    &what,
                    core["keyboard_layout"].as_str().map(str::to_string),
                    v.parse::<u32>().ok().map(|k| format!("0x{k:08x}")),
                ),
                8 => tally.check(
                    &what,
                    core["desktop_width"].as_u64().map(|b| b.to_string()),
                    Some(v),
                ),
                9 => tally.check(
                    &what,
                    core["desktop_height"].as_u64().map(|b| b.to_string()),
                    Some(v),
                ),
                _ => {}
            }
        }
    }

    let tls = ["-d", "tcp.port==3389,tls"];
    let hello = tshark_rows(
        file,
        &tls,
        "tls.handshake.type == 1",
        &[
            "tcp.stream",
            "tls.record.version",
            "tls.handshake.version",
            "tls.handshake.ciphersuite",
            "tls.handshake.extensions_server_name",
        ],
    );
    let mut done = BTreeMap::new();
    for row in hello {
        let Some(c) = row.first().and_then(|s| conn_of(s)) else {
            continue;
        };
        if done.insert(row[0].clone(), ()).is_some() {
            continue;
        }
        let t = &c["tls"];
        let what = format!("{name} stream {} ClientHello", row[0]);
        let first = |s: &str| s.split(',').next().unwrap_or("").to_string();
        tally.check(
            &format!("{what} record version"),
            t["record_version"].as_str().map(str::to_string),
            hex_u32(&first(&row[1])).map(|v| version_name(v as u16)),
        );
        tally.check(
            &format!("{what} version"),
            t["client_hello_version"].as_str().map(str::to_string),
            hex_u32(&first(&row[2])).map(|v| version_name(v as u16)),
        );
        let suites: Vec<String> = row[3]
            .split(',')
            .filter_map(hex_u32)
            .map(|v| cipher_suite_name(v as u16))
            .collect();
        let ours: Vec<String> = t["client_cipher_suites"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        tally.check(
            &format!("{what} cipher suites"),
            Some(ours.join(",")),
            Some(suites.join(",")),
        );
        tally.check(
            &format!("{what} SNI"),
            t["sni"].as_str().map(str::to_string),
            Some(row[4].clone()),
        );
    }
    let server = tshark_rows(
        file,
        &tls,
        "tls.handshake.type == 2",
        &[
            "tcp.stream",
            "tls.handshake.type",
            "tls.handshake.ciphersuite",
        ],
    );
    let mut done = BTreeMap::new();
    for row in server {
        let Some(c) = row.first().and_then(|s| conn_of(s)) else {
            continue;
        };
        if done.insert(row[0].clone(), ()).is_some() {
            continue;
        }
        let types: Vec<&str> = row[1].split(',').collect();
        let suites: Vec<&str> = row[2].split(',').collect();
        // The ServerHello's suite is the one beside handshake type 2.
        let pos = types.iter().position(|t| *t == "2").unwrap_or(0);
        let chosen = suites
            .get(pos)
            .or(suites.first())
            .and_then(|s| hex_u32(s))
            .map(|v| cipher_suite_name(v as u16));
        tally.check(
            &format!("{name} stream {} chosen suite", row[0]),
            c["tls"]["cipher_suite"].as_str().map(str::to_string),
            chosen,
        );
    }
    let alerts = tshark_rows(
        file,
        &tls,
        "tls.alert_message.desc",
        &["tcp.stream", "tls.alert_message.desc"],
    );
    let mut done = BTreeMap::new();
    for row in alerts {
        let Some(c) = row.first().and_then(|s| conn_of(s)) else {
            continue;
        };
        if done.insert(row[0].clone(), ()).is_some() {
            continue;
        }
        let desc = row[1]
            .split(',')
            .next()
            .and_then(|d| d.parse::<u8>().ok())
            .map(alert_description_name);
        tally.check(
            &format!("{name} stream {} alert", row[0]),
            c["tls"]["alert"]["description"]
                .as_str()
                .map(str::to_string),
            desc,
        );
    }
    let certs = tshark_rows(
        file,
        &tls,
        "tls.handshake.type == 11",
        &[
            "tcp.stream",
            "x509sat.printableString",
            "x509sat.uTF8String",
        ],
    );
    let mut done = BTreeMap::new();
    for row in certs {
        let Some(c) = row.first().and_then(|s| conn_of(s)) else {
            continue;
        };
        if done.insert(row[0].clone(), ()).is_some() {
            continue;
        }
        let Some(subject) = c["tls"]["certificate"]["subject"].as_str() else {
            tally.check(
                &format!("{name} stream {} certificate", row[0]),
                None,
                Some("a certificate".into()),
            );
            continue;
        };
        let cn = subject
            .split(", ")
            .find_map(|p| p.strip_prefix("CN="))
            .unwrap_or("")
            .to_string();
        let strings: Vec<&str> = row[1]
            .split(',')
            .chain(row[2].split(','))
            .filter(|s| !s.is_empty())
            .collect();
        if strings.is_empty() {
            continue;
        }
        let found = strings.contains(&cn.as_str());
        tally.check(
            &format!("{name} stream {} certificate CN", row[0]),
            Some(found.to_string()),
            Some("true".into()),
        );
    }
}

fn all_captures() -> Vec<PathBuf> {
    let mut files = captures_under(&repo_root().join("fixtures/lab"));
    // A lab pcapng with a NAME.keys beside it embeds those TLS secrets (a Decryption
    // Secrets Block): tshark decrypts it and shows fields rdpscope cannot see without
    // keys yet. Its keyless twin NAME.pcap is compared; the decrypted view is issue 15's.
    files.retain(|f| {
        let embeds_secrets =
            f.extension().is_some_and(|x| x == "pcapng") && f.with_extension("keys").exists();
        if embeds_secrets {
            eprintln!("{}: skipped, embeds TLS secrets (issue 15)", f.display());
        }
        !embeds_secrets
    });
    if let Some(dir) = shared_captures() {
        files.extend(captures_under(&dir));
    }
    files
}

#[test]
fn decoded_fields_equal_tshark() {
    if !have_tool("tshark") {
        return;
    }
    let mut tally = Tally::default();
    for file in all_captures() {
        let before = (tally.compared, tally.mismatches.len());
        compare_file(&file, &mut tally);
        eprintln!(
            "{}: {} field(s) compared, {} mismatch(es)",
            file.display(),
            tally.compared - before.0,
            tally.mismatches.len() - before.1
        );
    }
    eprintln!("total: {} fields compared", tally.compared);
    assert!(
        tally.compared > 100,
        "only {} fields compared",
        tally.compared
    );
    assert!(
        tally.mismatches.is_empty(),
        "{}",
        tally.mismatches.join("\n")
    );
}
