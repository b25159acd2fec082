//! Files rdpscope writes for the user (`-w`, `report -o`, the `--each` pages) are written
//! under a temporary name beside the final one and renamed into place once complete: an
//! interrupted or failed run leaves the previous file (which may be the user's) as it was,
//! and never a half-written file under the final name.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The temporary name beside `out` that a file is written under until it is complete. Hidden
/// (leading dot) and unique per process, so two runs writing one name do not share it.
pub fn temporary_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_string());
    out.with_file_name(format!(".{name}.rdpscope-{}.part", std::process::id()))
}

/// Moves the complete temporary file onto `out`; on failure the temporary file is removed.
pub fn commit(partial: &Path, out: &Path) -> io::Result<()> {
    std::fs::rename(partial, out).inspect_err(|_| {
        let _ = std::fs::remove_file(partial);
    })
}

/// Writes `bytes` to `out` through a temporary file renamed into place: either the whole new
/// content is there afterwards, or what was there before is left untouched.
pub fn write_replacing(out: &Path, bytes: &[u8]) -> io::Result<()> {
    let partial = temporary_path(out);
    let written = std::fs::File::create(&partial).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_data()
    });
    match written {
        Ok(()) => commit(&partial, out),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rdpscope-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn replaces_the_whole_file_and_leaves_no_temporary_file() {
        let dir = scratch_dir("replace");
        let out = dir.join("report.html");
        std::fs::write(&out, b"an older, longer content").unwrap();
        write_replacing(&out, b"new").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"new");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "only the final file remains: {left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_the_previous_file_untouched() {
        let dir = scratch_dir("keep");
        // The final name is a directory: the rename fails, the directory stays as it was.
        let out = dir.join("taken");
        std::fs::create_dir_all(out.join("inside")).unwrap();
        assert!(write_replacing(&out, b"page").is_err());
        assert!(out.join("inside").is_dir());
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "the temporary file was removed: {left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
