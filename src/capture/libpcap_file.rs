//! The libpcap file reader (feature `live`): kept beside the native reader so a test can
//! show both give the same analysis, and selectable with the hidden `--reader libpcap`.
//! gzip-compressed captures and standard input reach libpcap through a pipe fed by a thread.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use pcap::{Capture, Offline, Precision};

use super::native::{ReadFailure, Record};
use super::source::{read_up_to, GZIP_MAGIC};

/// Streams bytes from a reader into a pipe that libpcap opens by path.
struct PipeFeeder {
    _reader: std::io::PipeReader,
    thread: Option<JoinHandle<Result<(), String>>>,
}

pub struct LibpcapFile {
    cap: Capture<Offline>,
    feeder: Option<PipeFeeder>,
}

fn describe_open_error(libpcap: &str) -> String {
    if libpcap.contains("unknown file format") {
        "not a pcap or pcapng capture (unknown file format)".to_string()
    } else {
        libpcap.to_string()
    }
}

impl LibpcapFile {
    /// `streamed`: standard input, a FIFO or a compressed file, read through a pipe.
    pub fn open(path: &str, input: Option<Box<dyn Read + Send>>) -> Result<Self, String> {
        match input {
            None => {
                let cap = Capture::from_file_with_precision(path, Precision::Nano)
                    .map_err(|e| describe_open_error(&e.to_string()))?;
                Ok(LibpcapFile { cap, feeder: None })
            }
            Some(input) => {
                let (reader, feeder) = feed_through_pipe(input)?;
                use std::os::fd::AsRawFd;
                let fd_path = PathBuf::from(format!("/proc/self/fd/{}", reader.as_raw_fd()));
                let cap = Capture::from_file_with_precision(Path::new(&fd_path), Precision::Nano)
                    .map_err(|e| describe_open_error(&e.to_string()))?;
                Ok(LibpcapFile {
                    cap,
                    feeder: Some(feeder),
                })
            }
        }
    }

    pub fn linktype(&self) -> i32 {
        self.cap.get_datalink().0
    }

    pub fn next(&mut self) -> Result<Option<Record<'_>>, ReadFailure> {
        let linktype = self.linktype();
        match self.cap.next_packet() {
            Ok(p) => {
                let ts = p.header.ts;
                let ts_ns = ts
                    .tv_sec
                    .saturating_mul(1_000_000_000)
                    .saturating_add(ts.tv_usec);
                Ok(Some(Record::Packet {
                    ts_ns,
                    caplen: p.header.caplen,
                    len: p.header.len,
                    linktype,
                    data: p.data,
                }))
            }
            Err(pcap::Error::NoMorePackets) => Ok(None),
            Err(e) => {
                let reason = e.to_string();
                // libpcap says "truncated" when the input ended: the feeder (if any) is done.
                if reason.contains("truncated") {
                    Err(ReadFailure::Truncated(reason))
                } else {
                    Err(ReadFailure::Malformed(reason))
                }
            }
        }
    }

    /// The feeder's complaint, if any. `at_end`: libpcap read the input to its end.
    /// Otherwise it stopped in the middle, and the feeder may be blocked writing into the
    /// pipe nobody reads any more: it is not waited for (it ends when the pipe closes).
    pub fn finish(&mut self, at_end: bool) -> Option<String> {
        let mut feeder = self.feeder.take()?;
        let t = feeder.thread.take().filter(|t| at_end || t.is_finished())?;
        match t.join() {
            Ok(Err(message)) => Some(message),
            Ok(Ok(())) => None,
            Err(_) => Some("decompression thread failed".into()),
        }
    }
}

/// Copies `input` (decompressing it when it starts with the gzip magic) into a pipe
/// from a background thread, and returns the reading end.
fn feed_through_pipe(
    mut input: Box<dyn Read + Send>,
) -> Result<(std::io::PipeReader, PipeFeeder), String> {
    let (reader, mut writer) = std::io::pipe().map_err(|e| format!("cannot create a pipe: {e}"))?;
    let thread = std::thread::spawn(move || -> Result<(), String> {
        let mut head = [0u8; 2];
        let n = read_up_to(&mut input, &mut head).map_err(|e| e.to_string())?;
        let head = head.get(..n).unwrap_or_default().to_vec();
        let chained = std::io::Cursor::new(head.clone()).chain(input);
        let mut source: Box<dyn Read> = if head == GZIP_MAGIC {
            Box::new(flate2::read::MultiGzDecoder::new(chained))
        } else {
            Box::new(chained)
        };
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Err(format!("compressed data ends early or is corrupt: {e}")),
            };
            // A closed reading end means libpcap stopped early: not our error to report.
            if writer.write_all(buf.get(..n).unwrap_or_default()).is_err() {
                break;
            }
        }
        Ok(())
    });
    let feeder = PipeFeeder {
        _reader: reader.try_clone().map_err(|e| e.to_string())?,
        thread: Some(thread),
    };
    Ok((reader, feeder))
}

/// A compiled BPF program for one link type (capture filters need libpcap's compiler).
pub struct Bpf(pcap::BpfProgram);

impl Bpf {
    pub fn compile(linktype: i32, expr: &str) -> Result<Bpf, String> {
        let dead = Capture::dead(pcap::Linktype(linktype)).map_err(|e| e.to_string())?;
        dead.compile(expr, true).map(Bpf).map_err(|e| e.to_string())
    }

    pub fn matches(&self, data: &[u8]) -> bool {
        self.0.filter(data)
    }
}

pub fn linktype_name(linktype: i32) -> Option<String> {
    pcap::Linktype(linktype).get_name().ok()
}
