//! Issue 15 acceptance: what rdpscope reads inside TLS with a capture's own secrets equals
//! what tshark decrypts from the same file (CredSSP version and errorCode, the NTLM
//! AUTHENTICATE's user, domain and workstation), on the real Windows captures of
//! ../shared/captures/awakecoding_wireshark-rdp and the lab's keyed NLA fixtures. Every TLS
//! connection of those files is decrypted; secrets never appear in any output; `--redact`
//! hides the names read inside.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// The keyed captures with a CredSSP exchange: the shared Windows ones, then the lab's.
fn keyed_nla_captures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    match shared_captures() {
        Some(dir) => {
            for name in [
                "rdp-nla-ntlm-rejected1.pcapng",
                "rdp-nla-kerberos-auth2.pcapng",
            ] {
                let p = dir.join("awakecoding_wireshark-rdp").join(name);
                if p.is_file() {
                    out.push(p);
                }
            }
        }
        None => eprintln!("../shared/captures absent: the Windows captures are skipped"),
    }
    for name in [
        "keys_nla_ok",
        "keys_nla_tls12_ok",
        "keys_nla_wrong_password",
        "keys_nla_unknown_user",
    ] {
        out.push(repo_root().join(format!("fixtures/lab/{name}.pcapng")));
    }
    out
}

/// The CredSSP fields tshark decrypts, over the whole file.
#[derive(Debug, Default, PartialEq, Eq)]
struct CredsspFields {
    versions: BTreeSet<u32>,
    errors: BTreeSet<String>,
    /// (user, domain, workstation) of each NTLM AUTHENTICATE.
    identities: BTreeSet<(String, String, String)>,
}

fn tshark_fields(file: &Path) -> CredsspFields {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-d", "tcp.port==3389,tls", "-Y", "credssp", "-T", "fields"])
        .args(["-e", "credssp.version", "-e", "credssp.errorCode"])
        .args(["-e", "ntlmssp.auth.username", "-e", "ntlmssp.auth.domain"])
        .args(["-e", "ntlmssp.auth.hostname"])
        .output()
        .expect("run tshark");
    let mut f = CredsspFields::default();
    // tshark prints an empty NTLM string as NULL.
    let name = |s: &str| {
        if s == "NULL" {
            String::new()
        } else {
            s.to_string()
        }
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let col = |i: usize| cols.get(i).copied().unwrap_or("");
        // Several TSRequests in one frame: comma-separated; each is the same connection's.
        for v in col(0).split(',').filter(|v| !v.is_empty()) {
            f.versions.insert(v.parse().unwrap());
        }
        for e in col(1).split(',').filter(|e| !e.is_empty()) {
            let code: i64 = e.parse().unwrap();
            f.errors.insert(format!("0x{:08X}", code as u32));
        }
        if !col(2).is_empty() {
            f.identities
                .insert((name(col(2)), name(col(3)), name(col(4))));
        }
    }
    f
}

fn rdpscope_fields(conns: &[serde_json::Value]) -> CredsspFields {
    let mut f = CredsspFields::default();
    for c in conns.iter().filter(|c| !c["credssp"].is_null()) {
        let cs = &c["credssp"];
        if let Some(v) = cs["version"].as_u64() {
            f.versions.insert(v as u32);
        }
        if let Some(e) = cs["error"]["code"].as_str() {
            f.errors.insert(e.to_string());
        }
        if !cs["ntlm"].is_null() {
            let s = |k: &str| cs["ntlm"][k].as_str().unwrap_or("?").to_string();
            f.identities
                .insert((s("user"), s("domain"), s("workstation")));
        }
    }
    f
}

#[test]
fn decrypted_credssp_fields_equal_tsharks() {
    if !have_tool("tshark") {
        eprintln!("tshark absent: skipped");
        return;
    }
    let mut compared = 0;
    for file in keyed_nla_captures() {
        let (conns, _) = analyze_json(&[file.to_str().unwrap()]);
        let tls: Vec<_> = conns
            .iter()
            .filter(|c| !c["decryption"].is_null())
            .collect();
        assert!(!tls.is_empty(), "{}: no TLS connection", file.display());
        for c in &tls {
            assert_eq!(
                c["decryption"]["state"],
                "decrypted",
                "{}: connection {}",
                file.display(),
                c["id"]
            );
            assert_eq!(c["decryption"]["source"], "pcapng");
            assert!(c["decryption"]["records"].as_u64().unwrap() > 0);
        }
        let ours = rdpscope_fields(&conns);
        let theirs = tshark_fields(&file);
        assert!(
            !theirs.versions.is_empty(),
            "{}: tshark saw no CredSSP",
            file.display()
        );
        assert_eq!(ours, theirs, "{}", file.display());
        eprintln!("{}: {ours:?}", file.display());
        compared += 1;
    }
    assert!(compared >= 4);
}

/// The Windows capture's real errorCode is named, with the fix's finding code.
#[test]
fn the_windows_ntlm_refusal_is_named() {
    let Some(dir) = shared_captures() else {
        eprintln!("../shared/captures absent: skipped");
        return;
    };
    let file = dir.join("awakecoding_wireshark-rdp/rdp-nla-ntlm-rejected1.pcapng");
    let (conns, out) = analyze_json(&[file.to_str().unwrap()]);
    let c = conns
        .iter()
        .find(|c| !c["credssp"].is_null())
        .expect("a CredSSP connection");
    assert_eq!(c["credssp"]["error"]["name"], "SEC_E_UNSUPPORTED_FUNCTION");
    assert_eq!(c["credssp"]["mechanism"], "ntlm");
    let codes: Vec<&str> = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"ntlm-fallback-refused"), "{codes:?}");
    assert_eq!(out.status.code(), Some(1));
}

/// The lab's keyed fixtures with the NSS key log lines of their .keys files.
fn keyed_fixtures() -> Vec<(PathBuf, PathBuf)> {
    let dir = repo_root().join("fixtures/lab");
    let mut out: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "keys"))
        .map(|k| (k.with_extension("pcap"), k))
        .filter(|(p, _)| p.is_file())
        .collect();
    out.sort();
    out
}

/// Every secret of a key log, as the hex its file spells (either case).
fn secrets_of(keys: &Path) -> Vec<String> {
    std::fs::read_to_string(keys)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_ascii_lowercase)
        .collect()
}

#[test]
fn secrets_never_appear_in_any_output() {
    let fixtures = keyed_fixtures();
    assert!(fixtures.len() >= 8, "{fixtures:?}");
    for (pcap, keys) in fixtures {
        let secrets = secrets_of(&keys);
        assert!(!secrets.is_empty());
        let pcapng = pcap.with_extension("pcapng");
        let (p, k, n) = (
            pcap.to_str().unwrap(),
            keys.to_str().unwrap(),
            pcapng.to_str().unwrap(),
        );
        let runs: [&[&str]; 4] = [
            &["analyze", "--json", "--keylog", k, p],
            &["analyze", "--all", "--timeline", "--keylog", k, p],
            &["analyze", "--json", n],
            &["analyze", "--all", "--timeline", n],
        ];
        for args in runs {
            let out = rdpscope(args);
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .to_ascii_lowercase();
            assert!(text.len() > 100, "{args:?}: {text}");
            for s in &secrets {
                // Any 16 hex digits of a secret would be a leak, not only the whole of it.
                for chunk in s.as_bytes().chunks(16).filter(|c| c.len() == 16) {
                    let chunk = std::str::from_utf8(chunk).unwrap();
                    assert!(!text.contains(chunk), "{args:?} shows part of a secret");
                }
            }
        }
    }
}

#[test]
fn redact_hides_the_names_read_inside() {
    let file = repo_root().join("fixtures/lab/keys_nla_wrong_password.pcapng");
    let f = file.to_str().unwrap();
    let (plain, _) = analyze_json(&[f]);
    let user = plain
        .iter()
        .find_map(|c| c["credssp"]["ntlm"]["user"].as_str().map(str::to_string))
        .expect("the NTLM user read inside");
    assert_eq!(user, "labuser");
    for args in [
        vec!["analyze", "--json", "--redact", f],
        vec!["analyze", "--all", "--timeline", "--redact", f],
    ] {
        let out = rdpscope(&args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.is_empty());
        // The workstation "vm" is too short to grep for; the user name is not.
        assert!(!text.contains("labuser"), "{args:?}: {text}");
    }
}

/// Keys that belong to other connections: the capture is diagnosed as without keys (same
/// verdict, codes and exit status), with decryption-failed or no-keys saying why nothing
/// inside was read.
#[test]
fn wrong_keys_leave_the_keyless_diagnosis() {
    let dir = repo_root().join("fixtures/lab");
    let pcap = dir.join("keys_nla_wrong_password.pcap");
    let wrong = dir.join("keys_nla_ok.keys");
    let p = pcap.to_str().unwrap();
    let (keyless, k_out) = analyze_json(&[p]);
    let (wrong_keys, w_out) = analyze_json(&["--keylog", wrong.to_str().unwrap(), p]);
    assert_eq!(k_out.status.code(), w_out.status.code());
    let codes = |conns: &[serde_json::Value]| -> Vec<(String, String)> {
        conns
            .iter()
            .filter(|c| c["kind"] != "summary")
            .flat_map(|c| c["findings"].as_array().cloned().unwrap_or_default())
            .map(|f| (f["code"].to_string(), f["severity"].to_string()))
            .filter(|(c, _)| c != "\"decryption-failed\"")
            .collect()
    };
    assert_eq!(codes(&keyless), codes(&wrong_keys));
    let c = wrong_keys
        .iter()
        .find(|c| !c["decryption"].is_null())
        .unwrap();
    assert_eq!(c["decryption"]["state"], "no-keys");
    assert!(c["credssp"].is_null());
}

/// The connection's client random with another connection's secrets: records fail to
/// authenticate. decryption-failed (a warning) says so; the keyless findings and the exit
/// status stand.
#[test]
fn mismatched_secrets_are_a_decryption_failed_warning() {
    let dir = repo_root().join("fixtures/lab");
    let pcap = dir.join("keys_nla_wrong_password.pcap");
    let own = std::fs::read_to_string(dir.join("keys_nla_wrong_password.keys")).unwrap();
    let other = std::fs::read_to_string(dir.join("keys_nla_ok.keys")).unwrap();
    let random = own.split_whitespace().nth(1).unwrap().to_string();
    let forged: String = other
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            format!("{} {random} {}\n", f[0], f[2])
        })
        .collect();
    let tmp = std::env::temp_dir().join(format!("rdpscope-forged-{}.keys", std::process::id()));
    std::fs::write(&tmp, forged).unwrap();
    let p = pcap.to_str().unwrap();
    let (keyless, k_out) = analyze_json(&[p]);
    let (forged, f_out) = analyze_json(&["--keylog", tmp.to_str().unwrap(), p]);
    let _ = std::fs::remove_file(&tmp);
    assert_eq!(k_out.status.code(), f_out.status.code());
    let c = forged.iter().find(|c| !c["decryption"].is_null()).unwrap();
    assert_eq!(c["decryption"]["state"], "failed");
    assert_eq!(c["decryption"]["records"], 0);
    let findings = c["findings"].as_array().unwrap();
    let failed = findings
        .iter()
        .find(|f| f["code"] == "decryption-failed")
        .expect("decryption-failed");
    assert_eq!(failed["severity"], "warning");
    assert!(failed["evidence"].as_array().is_some_and(|e| !e.is_empty()));
    let others = |conns: &[serde_json::Value]| -> Vec<String> {
        conns
            .iter()
            .filter(|c| c["kind"] != "summary")
            .flat_map(|c| c["findings"].as_array().cloned().unwrap_or_default())
            .map(|f| f["code"].as_str().unwrap().to_string())
            .filter(|c| c != "decryption-failed")
            .collect()
    };
    assert_eq!(others(&keyless), others(&forged));
    assert_eq!(
        keyless.iter().find(|c| !c["decryption"].is_null()).unwrap()["verdict"],
        c["verdict"]
    );
}
