//! `-w` and `report -o` never destroy an input (by name, symlink or hard link) and write
//! through a temporary file: the tests of the one promise that protects the user's captures.

use super::*;

fn assert_refused_and_intact(out: &Path, input: &Path, original: &[u8]) {
    let o = rdpscope(&[
        "analyze",
        "-w",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("would overwrite the input"),
        "stderr: {stderr}"
    );
    assert_eq!(
        std::fs::read(input).unwrap(),
        original,
        "the input was modified"
    );
}

#[test]
fn write_onto_an_input_is_refused_by_name_symlink_and_hard_link() {
    let (dir, copy) = demo_copy("same");
    let original = std::fs::read(&copy).unwrap();
    assert_eq!(original, std::fs::read(demo()).unwrap());
    assert_refused_and_intact(&copy, &copy, &original);
    let symlink = dir.join("link.pcap");
    std::os::unix::fs::symlink(&copy, &symlink).unwrap();
    assert_refused_and_intact(&symlink, &copy, &original);
    let hard = dir.join("hard.pcap");
    std::fs::hard_link(&copy, &hard).unwrap();
    assert_refused_and_intact(&hard, &copy, &original);
    // `dir/./demo.pcap` is the same file under another spelling.
    assert_refused_and_intact(&dir.join(".").join("demo.pcap"), &copy, &original);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `report -o` is refused like `-w` when it names an input (found writing the page over
/// the capture it was made from).
#[test]
fn report_onto_an_input_is_refused_and_the_input_kept() {
    let (dir, copy) = demo_copy("report");
    let original = std::fs::read(&copy).unwrap();
    let hard = dir.join("hard.pcap");
    std::fs::hard_link(&copy, &hard).unwrap();
    for out in [&copy, &hard] {
        let o = rdpscope(&[
            "report",
            "-o",
            out.to_str().unwrap(),
            copy.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "stderr: {stderr}");
        assert!(
            stderr.contains("would overwrite an input"),
            "stderr: {stderr}"
        );
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            original,
            "the input was modified"
        );
    }
    let page = dir.join("r.html");
    let o = rdpscope(&[
        "report",
        "-o",
        page.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    assert!(o.status.code() == Some(1), "{o:?}");
    assert!(std::fs::read_to_string(&page).unwrap().contains("<html"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn write_goes_through_a_temporary_file_and_leaves_only_the_result() {
    let (dir, copy) = demo_copy("tmp");
    let out = dir.join("failing.pcap");
    let o = rdpscope(&[
        "analyze",
        "-w",
        out.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("wrote 29 packets"), "stderr: {stderr}");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["demo.pcap", "failing.pcap"],
        "no .part file remains"
    );
    // The written file is a capture rdpscope reads back: the two failing connections.
    let again = rdpscope(&["analyze", "--json", out.to_str().unwrap()]);
    let lines = String::from_utf8_lossy(&again.stdout);
    assert_eq!(
        lines.lines().filter(|l| l.contains("\"verdict\"")).count(),
        2
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
