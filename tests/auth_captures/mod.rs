//! Real bytes for the authentication parser tests, read with tshark from
//! `../shared/captures/awakecoding_wireshark-rdp/`: Kerberos payloads on port 88 and CredSSP
//! TSRequests decrypted with the secrets embedded in the pcapng.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{have_tool, shared_captures};

pub fn capture(name: &str) -> Option<PathBuf> {
    let p = shared_captures()?
        .join("awakecoding_wireshark-rdp")
        .join(name);
    if !p.is_file() {
        eprintln!("skipped: {} is absent", p.display());
        return None;
    }
    have_tool("tshark").then_some(p)
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

pub fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .expect("run tshark");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (frame, TCP or UDP payload) of every Kerberos frame.
pub fn kerberos_payloads(file: &Path) -> Vec<(u32, Vec<u8>)> {
    let fields = [
        "-e",
        "frame.number",
        "-e",
        "tcp.payload",
        "-e",
        "udp.payload",
    ];
    let mut args = vec!["-Y", "kerberos", "-T", "fields"];
    args.extend_from_slice(&fields);
    tshark(file, &args)
        .lines()
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let frame = cols.next()?.parse().ok()?;
            let payload: String = cols.collect();
            Some((frame, unhex(&payload)))
        })
        .collect()
}

/// (frame, decrypted TLS bytes) of every CredSSP frame, from tshark's hex dump.
pub fn decrypted_credssp(file: &Path) -> Vec<(u32, Vec<u8>)> {
    let decode = ["-d", "tcp.port==3389,tls", "-Y", "credssp"];
    let frames: Vec<u32> = tshark(
        file,
        &[&decode[..], &["-T", "fields", "-e", "frame.number"]].concat(),
    )
    .lines()
    .filter_map(|l| l.trim().parse().ok())
    .collect();
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    let mut in_block = false;
    for line in tshark(file, &[&decode[..], &["-x"]].concat()).lines() {
        if line.starts_with("Decrypted TLS") {
            blocks.push(Vec::new());
            in_block = true;
        } else if line.trim().is_empty() || line.ends_with("):") {
            in_block = false;
        } else if in_block {
            // "0000  30 0d a0 03 ...   ascii": the hex sits in columns 6..54.
            let hex: String = line.get(6..54).unwrap_or("").split_whitespace().collect();
            if let Some(b) = blocks.last_mut() {
                b.extend(unhex(&hex));
            }
        }
    }
    assert_eq!(
        frames.len(),
        blocks.len(),
        "one decrypted block per CredSSP frame"
    );
    frames.into_iter().zip(blocks).collect()
}
