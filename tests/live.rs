//! `rdpscope live` on a veth pair inside network namespaces this test creates (root only;
//! skipped with the reason otherwise): a lab fixture is replayed onto the link with tcpreplay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test fails by panicking

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

struct Lab {
    a: String,
    b: String,
    va: String,
    vb: String,
}

impl Lab {
    fn new(tag: &str) -> Option<Lab> {
        let id = format!("rs{}{tag}", std::process::id() % 100_000);
        let va = format!("{id}va");
        let vb = format!("{id}vb");
        let lab = Lab {
            a: format!("{id}a"),
            b: format!("{id}b"),
            va: va.clone(),
            vb: vb.clone(),
        };
        let ok = |args: &[&str]| {
            Command::new("ip")
                .args(args)
                .status()
                .is_ok_and(|s| s.success())
        };
        let steps: Vec<Vec<&str>> = vec![
            vec!["netns", "add", &lab.a],
            vec!["netns", "add", &lab.b],
            vec!["link", "add", &va, "type", "veth", "peer", "name", &vb],
            vec!["link", "set", &va, "netns", &lab.a],
            vec!["link", "set", &vb, "netns", &lab.b],
            vec!["-n", &lab.a, "link", "set", &va, "up"],
            vec!["-n", &lab.b, "link", "set", &vb, "up"],
        ];
        for s in steps {
            if !ok(&s) {
                eprintln!("skipped: cannot build the test namespaces (ip {s:?} failed)");
                return None;
            }
        }
        Some(lab)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn can_run() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !root {
        eprintln!("skipped: live capture tests need root (network namespaces, raw sockets)");
        return false;
    }
    have_tool("tcpreplay")
}

/// Starts `rdpscope live` in namespace b and waits (bounded) until it captures.
fn start_live(lab: &Lab, vb: &str, extra: &[&str]) -> Child {
    start_live_logged(lab, vb, extra).0
}

/// As `start_live`, and keeps what rdpscope writes on stderr, for failure messages.
fn start_live_logged(lab: &Lab, vb: &str, extra: &[&str]) -> (Child, Arc<Mutex<String>>) {
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.b,
            env!("CARGO_BIN_EXE_rdpscope"),
            "live",
            "-i",
            vb,
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rdpscope live");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let log = Arc::new(Mutex::new(String::new()));
    let keep = |log: &Mutex<String>, line: &str| {
        if let Ok(mut log) = log.lock() {
            log.push_str(line);
            log.push('\n');
        }
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        match lines.next() {
            Some(Ok(l)) => {
                keep(&log, &l);
                if l.contains("capturing on") {
                    break;
                }
            }
            Some(Err(_)) => continue,
            None => break,
        }
    }
    // Keep draining stderr so the child never blocks on a full pipe.
    let drained = log.clone();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            keep(&drained, &l);
        }
    });
    (child, log)
}

fn replay(lab: &Lab, va: &str, fixture: &str, multiplier: &str) {
    let file = repo_root().join("fixtures/lab").join(fixture);
    let st = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.a,
            "tcpreplay",
            "-q",
            "--multiplier",
            multiplier,
            "-i",
            va,
        ])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("tcpreplay");
    assert!(st.success());
}

fn wait_bounded(child: &mut Child, limit: Duration) -> Option<i32> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn live_json_equals_analyze_of_the_same_packets() {
    if !can_run() {
        return;
    }
    let Some(lab) = Lab::new("j") else { return };
    let (va, vb) = (lab.va.clone(), lab.vb.clone());
    let saved = std::env::temp_dir().join(format!("rdpscope-live-{}.pcap", std::process::id()));
    let mut child = start_live(
        &lab,
        &vb,
        &[
            "--json",
            "-c",
            "1",
            "--duration",
            "20s",
            "-w",
            saved.to_str().unwrap(),
        ],
    );
    replay(&lab, &va, "nla_wrong_password.pcap", "1");
    let code = wait_bounded(&mut child, Duration::from_secs(25));
    let mut streamed = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut streamed).unwrap();
    assert_eq!(code, Some(1), "one failed connection: exit 1");
    let analyzed = rdpscope(&["analyze", "--json", saved.to_str().unwrap()]);
    assert_eq!(
        streamed,
        String::from_utf8_lossy(&analyzed.stdout),
        "live and analyze disagree"
    );
    let (orig, _) = analyze_json(&[repo_root()
        .join("fixtures/lab/nla_wrong_password.pcap")
        .to_str()
        .unwrap()]);
    let (live, _) = analyze_json(&[saved.to_str().unwrap()]);
    assert_eq!(live.len(), orig.len());
    assert_eq!(live[0]["verdict"], orig[0]["verdict"]);
    assert_eq!(live[0]["packets"], orig[0]["packets"]);
    let _ = std::fs::remove_file(saved);
}

#[test]
fn stall_alarm_comes_before_the_connection_ends() {
    if !can_run() {
        return;
    }
    let Some(lab) = Lab::new("s") else { return };
    let (va, vb) = (lab.va.clone(), lab.vb.clone());
    let mut child = start_live(
        &lab,
        &vb,
        &["--stall-after", "2", "-c", "1", "--duration", "30s"],
    );
    // server_hung: the request is never answered for ~30 s; replayed 4x faster.
    replay(&lab, &va, "server_hung.pcap", "4");
    let _ = wait_bounded(&mut child, Duration::from_secs(35));
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    let alarm = out
        .lines()
        .position(|l| l.contains("ALARM handshake-stalled"));
    let finished = out.lines().position(|l| l.contains(": finished, "));
    assert!(alarm.is_some(), "no alarm in:\n{out}");
    assert!(finished.is_some(), "connection never finished:\n{out}");
    assert!(alarm < finished, "alarm after the end:\n{out}");
}

#[test]
fn unknown_interface_is_a_clear_error() {
    let out = rdpscope(&["live", "-i", "no-such-if0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-if0"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn without_privileges_it_says_how_to_grant_them() {
    if !Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
    {
        // Already unprivileged: run directly.
        let out = rdpscope(&["live", "-i", "lo"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("setcap"));
        return;
    }
    if !have_tool("runuser") && Command::new("runuser").arg("--help").output().is_err() {
        return;
    }
    // The binary may sit under a root-only directory: run a world-readable copy as nobody.
    let copy = std::env::temp_dir().join(format!("rdpscope-nopriv-{}", std::process::id()));
    std::fs::copy(env!("CARGO_BIN_EXE_rdpscope"), &copy).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(&copy)
        .args(["live", "-i", "lo"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&copy);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("permission denied") && err.contains("setcap cap_net_raw,cap_net_admin=eip"),
        "{err}"
    );
}

#[test]
fn live_selection_and_count_apply_to_the_shown_connections() {
    if !can_run() {
        return;
    }
    let Some(lab) = Lab::new("v") else { return };
    let (va, vb) = (lab.va.clone(), lab.vb.clone());
    // Without --json: each selected connection is printed as it finishes, the table at the end.
    let (mut child, log) = start_live_logged(
        &lab,
        &vb,
        &["--verdict", "failed", "-c", "1", "--duration", "20s"],
    );
    replay(&lab, &va, "nla_ok.pcap", "1");
    replay(&lab, &va, "nla_wrong_password.pcap", "1");
    let code = wait_bounded(&mut child, Duration::from_secs(25));
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    let err = log.lock().map(|l| l.clone()).unwrap_or_default();
    assert_eq!(
        code,
        Some(1),
        "the failed connection gives exit 1:\n{out}\nstderr:\n{err}"
    );
    let finished: Vec<&str> = out.lines().filter(|l| l.contains(": finished, ")).collect();
    assert_eq!(
        finished.len(),
        1,
        "only the failed connection is shown:\n{out}"
    );
    assert!(finished[0].ends_with("finished, failed"), "{out}");
    assert!(
        out.lines().any(|l| l == "1 connection: 1 failed"),
        "the closing table holds the selected connection only:\n{out}"
    );
}
