//! Reading capture files through libpcap, one or several at once in time order.

use std::cell::Cell;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use pcap::{Capture, Linktype, Offline, Precision};

use super::prefetch::{read_ahead, Producer};
use thiserror::Error;

/// Link types we can decode (LINKTYPE_* values from the pcap registry).
pub const LINKTYPE_NULL: i32 = 0;
pub const LINKTYPE_ETHERNET: i32 = 1;
pub const LINKTYPE_RAW: i32 = 101;
pub const LINKTYPE_LOOP: i32 = 108;
pub const LINKTYPE_LINUX_SLL: i32 = 113;
pub const LINKTYPE_IPV4: i32 = 228;
pub const LINKTYPE_IPV6: i32 = 229;
pub const LINKTYPE_LINUX_SLL2: i32 = 276;
/// OpenBSD's DLT_RAW value, which libpcap maps to LINKTYPE_RAW on write but may report as is.
pub const LINKTYPE_RAW_OPENBSD: i32 = 14;
pub const LINKTYPE_RAW_ALT: i32 = 12;

pub fn linktype_supported(linktype: i32) -> bool {
    matches!(
        linktype,
        LINKTYPE_NULL
            | LINKTYPE_ETHERNET
            | LINKTYPE_RAW
            | LINKTYPE_RAW_ALT
            | LINKTYPE_RAW_OPENBSD
            | LINKTYPE_LOOP
            | LINKTYPE_LINUX_SLL
            | LINKTYPE_IPV4
            | LINKTYPE_IPV6
            | LINKTYPE_LINUX_SLL2
    )
}

#[derive(Debug, Error)]
pub enum CaptureError {
    #[error("{path}: {reason}")]
    Open { path: String, reason: String },
    #[error("{path}: unsupported link type {name} ({linktype}); rdpscope reads Ethernet, Linux cooked (SLL/SLL2), raw IP and BSD loopback captures")]
    UnsupportedLinkType {
        path: String,
        linktype: i32,
        name: String,
    },
    #[error("{path}: frame {frame}: {reason}")]
    Read {
        path: String,
        frame: u64,
        reason: String,
    },
    #[error("invalid capture filter {filter:?}: {reason}")]
    Filter { filter: String, reason: String },
}

/// One captured packet, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    /// Index of the input file this packet came from (0 for a single file).
    pub file: usize,
    /// 1-based frame number within its file, as Wireshark counts it.
    pub frame: u64,
    /// Capture time in nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// Length of the packet on the wire (may exceed `data.len()` under a snaplen).
    pub orig_len: u32,
    pub linktype: i32,
    pub data: &'a [u8],
}

/// A warning that does not stop the analysis (a truncated file, a broken gzip tail).
#[derive(Debug, Clone)]
pub struct CaptureWarning {
    pub path: String,
    pub message: String,
}

/// Streams bytes from a reader into a pipe that libpcap opens by path: this is how
/// gzip-compressed captures and standard input reach libpcap without unsafe code.
struct PipeFeeder {
    _reader: std::io::PipeReader,
    thread: Option<JoinHandle<Result<(), String>>>,
}

struct OpenFile {
    path: String,
    cap: Capture<Offline>,
    linktype: i32,
    frame: u64,
    feeder: Option<PipeFeeder>,
    /// The next packet of this file, copied out, when several files are merged.
    pending: Option<OwnedPacket>,
    done: bool,
    /// Odd frames, counted to be reported once per file when it ends.
    oddities: Oddities,
}

/// Frames that libpcap accepts but that are not what a capture should hold: each kind is
/// reported once per file (first frame and count), so a broken file does not flood stderr.
#[derive(Debug, Default)]
struct Oddities {
    last_ts_ns: Option<i64>,
    /// Frames whose time is before the previous frame's (first frame, count).
    backwards: Option<(u64, u64)>,
    /// Frames with more captured bytes than the length on the wire (first frame, count).
    caplen_over_len: Option<(u64, u64)>,
    /// Frames captured short of their length on the wire (first frame, caplen, len, count).
    cut: Option<(u64, u32, u32, u64)>,
}

impl Oddities {
    /// Notes a frame's oddities and returns the time to analyse it at: a frame earlier than
    /// the one before is taken as at that time, so durations never run backwards.
    fn note(&mut self, frame: u64, ts_ns: i64, caplen: u32, len: u32) -> i64 {
        let bump = |slot: &mut Option<(u64, u64)>| match slot {
            Some((_, n)) => *n += 1,
            None => *slot = Some((frame, 1)),
        };
        if caplen > len {
            bump(&mut self.caplen_over_len);
        } else if caplen < len {
            match &mut self.cut {
                Some((.., n)) => *n += 1,
                None => self.cut = Some((frame, caplen, len, 1)),
            }
        }
        let ts = match self.last_ts_ns {
            Some(last) if ts_ns < last => {
                bump(&mut self.backwards);
                last
            }
            _ => ts_ns,
        };
        self.last_ts_ns = Some(ts);
        ts
    }

    fn report(&self, path: &str, warnings: &mut Vec<CaptureWarning>) {
        let mut warn = |message: String| {
            warnings.push(CaptureWarning {
                path: path.to_string(),
                message,
            })
        };
        if let Some((frame, n)) = self.backwards {
            warn(format!(
                "frame {frame}: time goes backwards ({n} frame(s) in all); each such frame is \
                 taken as at the time of the frame before it"
            ));
        }
        if let Some((frame, n)) = self.caplen_over_len {
            warn(format!(
                "frame {frame}: more bytes captured than the length on the wire ({n} frame(s) \
                 in all); the file is inconsistent, the captured bytes are used"
            ));
        }
        if let Some((frame, caplen, len, n)) = self.cut {
            warn(format!(
                "frame {frame}: only {caplen} of {len} bytes captured (snaplen; {n} frame(s) cut \
                 in all); what was cut off is not analysed"
            ));
        }
    }
}

#[derive(Debug, Default, Clone)]
struct OwnedPacket {
    frame: u64,
    ts_ns: i64,
    orig_len: u32,
    data: Vec<u8>,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens `path` ("-" is standard input). Compressed input is recognised by its magic bytes.
fn open_one(path: &str) -> Result<OpenFile, CaptureError> {
    let open_err = |reason: String| CaptureError::Open {
        path: path.to_string(),
        reason,
    };
    let (cap, feeder) = if path == "-" {
        let (reader, feeder) = feed_through_pipe(Box::new(std::io::stdin()), path)?;
        (open_pcap_path(&reader, path)?, Some(feeder))
    } else {
        let meta = std::fs::metadata(path).map_err(|e| open_err(e.to_string()))?;
        if meta.is_dir() {
            return Err(open_err("is a directory, not a capture file".into()));
        }
        if !meta.is_file() {
            // A FIFO or a device can be read only once: stream it instead of sniffing its
            // magic and reopening it (the reopen would lose the bytes read, or block).
            let file = File::open(path).map_err(|e| open_err(e.to_string()))?;
            let (reader, feeder) = feed_through_pipe(Box::new(file), path)?;
            let cap = open_pcap_path(&reader, path)?;
            return finish_open(path, cap, Some(feeder));
        }
        let mut file = File::open(path).map_err(|e| open_err(e.to_string()))?;
        let mut magic = [0u8; 2];
        let n = read_up_to(&mut file, &mut magic).map_err(|e| open_err(e.to_string()))?;
        if n == 0 {
            return Err(open_err("empty file, not a capture".into()));
        }
        if n == 2 && magic == GZIP_MAGIC {
            let file = File::open(path).map_err(|e| open_err(e.to_string()))?;
            let (reader, feeder) = feed_through_pipe(Box::new(file), path)?;
            (open_pcap_path(&reader, path)?, Some(feeder))
        } else {
            let cap = Capture::from_file_with_precision(path, Precision::Nano)
                .map_err(|e| open_err(describe_open_error(&e.to_string())))?;
            (cap, None)
        }
    };
    finish_open(path, cap, feeder)
}

fn finish_open(
    path: &str,
    cap: Capture<Offline>,
    feeder: Option<PipeFeeder>,
) -> Result<OpenFile, CaptureError> {
    let linktype = cap.get_datalink().0;
    if !linktype_supported(linktype) {
        let name = Linktype(linktype)
            .get_name()
            .unwrap_or_else(|_| format!("LINKTYPE_{linktype}"));
        return Err(CaptureError::UnsupportedLinkType {
            path: path.to_string(),
            linktype,
            name,
        });
    }
    Ok(OpenFile {
        path: path.to_string(),
        cap,
        linktype,
        frame: 0,
        feeder,
        pending: None,
        done: false,
        oddities: Oddities::default(),
    })
}

fn describe_open_error(libpcap: &str) -> String {
    if libpcap.contains("unknown file format") {
        "not a pcap or pcapng capture (unknown file format)".to_string()
    } else {
        libpcap.to_string()
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(buf.get_mut(filled..).unwrap_or_default())? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Copies `input` (decompressing it when it starts with the gzip magic) into a pipe
/// from a background thread, and returns the reading end.
fn feed_through_pipe(
    mut input: Box<dyn Read + Send>,
    path: &str,
) -> Result<(std::io::PipeReader, PipeFeeder), CaptureError> {
    let (reader, mut writer) = std::io::pipe().map_err(|e| CaptureError::Open {
        path: path.to_string(),
        reason: format!("cannot create a pipe: {e}"),
    })?;
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
        _reader: reader.try_clone().map_err(|e| CaptureError::Open {
            path: path.to_string(),
            reason: e.to_string(),
        })?,
        thread: Some(thread),
    };
    Ok((reader, feeder))
}

fn open_pcap_path(
    reader: &std::io::PipeReader,
    path: &str,
) -> Result<Capture<Offline>, CaptureError> {
    use std::os::fd::AsRawFd;
    let fd_path = PathBuf::from(format!("/proc/self/fd/{}", reader.as_raw_fd()));
    Capture::from_file_with_precision(Path::new(&fd_path), Precision::Nano).map_err(|e| {
        CaptureError::Open {
            path: path.to_string(),
            reason: describe_open_error(&e.to_string()),
        }
    })
}

/// Outcome of reading one packet from a file.
enum Step {
    Packet,
    End,
}

impl OpenFile {
    /// Reads the next packet and hands it to `f`; errors become warnings or a fatal error.
    fn step<F: FnMut(&RawPacket)>(
        &mut self,
        file_index: usize,
        warnings: &mut Vec<CaptureWarning>,
        f: Option<&mut F>,
    ) -> Result<Step, CaptureError> {
        if self.done {
            return Ok(Step::End);
        }
        match self.cap.next_packet() {
            Ok(p) => {
                self.frame += 1;
                let ts = p.header.ts;
                let ts_ns = ts
                    .tv_sec
                    .saturating_mul(1_000_000_000)
                    .saturating_add(ts.tv_usec);
                let ts_ns = self
                    .oddities
                    .note(self.frame, ts_ns, p.header.caplen, p.header.len);
                let raw = RawPacket {
                    file: file_index,
                    frame: self.frame,
                    ts_ns,
                    orig_len: p.header.len,
                    linktype: self.linktype,
                    data: p.data,
                };
                match f {
                    Some(f) => f(&raw),
                    None => {
                        let slot = self.pending.get_or_insert_with(OwnedPacket::default);
                        slot.frame = raw.frame;
                        slot.ts_ns = raw.ts_ns;
                        slot.orig_len = raw.orig_len;
                        slot.data.clear();
                        slot.data.extend_from_slice(raw.data);
                    }
                }
                Ok(Step::Packet)
            }
            Err(pcap::Error::NoMorePackets) => {
                self.finish(warnings, true);
                Ok(Step::End)
            }
            Err(e) => {
                let reason = e.to_string();
                // libpcap says "truncated" when the input ended: the feeder (if any) is done.
                let at_end = reason.contains("truncated");
                self.finish(warnings, at_end);
                // A header and not one complete packet: nothing to analyse, unusable input.
                if at_end && self.frame > 0 {
                    warnings.push(CaptureWarning {
                        path: self.path.clone(),
                        message: format!(
                            "capture is truncated after frame {} ({reason}); analysed what is there",
                            self.frame
                        ),
                    });
                    Ok(Step::End)
                } else {
                    Err(CaptureError::Read {
                        path: self.path.clone(),
                        frame: self.frame + 1,
                        reason,
                    })
                }
            }
        }
    }

    /// Marks the file done and reports its warnings. `at_end`: libpcap read the input to its
    /// end. Otherwise it stopped in the middle, and a feeder thread may be blocked writing
    /// into the pipe that nobody reads any more: it is not waited for (it ends when the pipe
    /// is closed, with this file), unless it has already finished.
    fn finish(&mut self, warnings: &mut Vec<CaptureWarning>, at_end: bool) {
        self.done = true;
        self.oddities.report(&self.path, warnings);
        if let Some(mut feeder) = self.feeder.take() {
            if let Some(t) = feeder.thread.take().filter(|t| at_end || t.is_finished()) {
                match t.join() {
                    Ok(Err(message)) => warnings.push(CaptureWarning {
                        path: self.path.clone(),
                        message,
                    }),
                    Ok(Ok(())) => {}
                    Err(_) => warnings.push(CaptureWarning {
                        path: self.path.clone(),
                        message: "decompression thread failed".into(),
                    }),
                }
            }
        }
    }
}

/// Packets and bytes read so far, filtered out or not: how far through its input a reading is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCount {
    pub packets: u64,
    /// Record headers and captured bytes: an estimate of the offset reached in the files
    /// (exact for pcap, a little short for pcapng, whose blocks are bigger).
    pub bytes: u64,
}

/// The size of a pcap record header, counted with each packet's captured bytes.
const RECORD_HEADER_BYTES: u64 = 16;

/// The total size of the inputs, when they can be measured before reading: plain files only
/// (standard input, FIFOs and gzip-compressed files are not).
pub fn input_size(paths: &[String]) -> Option<u64> {
    let mut total = 0u64;
    for path in paths {
        if path == "-" {
            return None;
        }
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() {
            return None;
        }
        let mut magic = [0u8; 2];
        let n = read_up_to(&mut File::open(path).ok()?, &mut magic).ok()?;
        if n == 2 && magic == GZIP_MAGIC {
            return None;
        }
        total = total.saturating_add(meta.len());
    }
    Some(total)
}

/// A set of capture files read as one capture, in time order.
pub struct FileSet {
    files: Vec<OpenFile>,
    filter: Option<pcap::BpfProgram>,
    pub warnings: Vec<CaptureWarning>,
    /// Packets read by the last `for_each_counted`, the ones the filter dropped included.
    pub read: ReadCount,
}

impl FileSet {
    /// Opens every file; `bpf` is applied in user space so frame numbers stay those of the file.
    pub fn open(paths: &[String], bpf: Option<&str>) -> Result<FileSet, CaptureError> {
        let mut files = Vec::with_capacity(paths.len());
        for p in paths {
            files.push(open_one(p)?);
        }
        let filter = match bpf {
            Some(expr) => {
                let linktype = files
                    .first()
                    .map(|f| f.linktype)
                    .unwrap_or(LINKTYPE_ETHERNET);
                if files.iter().any(|f| f.linktype != linktype) {
                    return Err(CaptureError::Filter {
                        filter: expr.to_string(),
                        reason: "the input files have different link types".into(),
                    });
                }
                let dead = Capture::dead(Linktype(linktype)).map_err(|e| CaptureError::Filter {
                    filter: expr.to_string(),
                    reason: e.to_string(),
                })?;
                Some(dead.compile(expr, true).map_err(|e| CaptureError::Filter {
                    filter: expr.to_string(),
                    reason: e.to_string(),
                })?)
            }
            None => None,
        };
        Ok(FileSet {
            files,
            filter,
            warnings: Vec::new(),
            read: ReadCount::default(),
        })
    }

    pub fn paths(&self) -> Vec<String> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }

    /// Calls `f` for every packet of every file in time order (ties: file order). The files
    /// are read on a second thread while `f` runs on this one.
    pub fn for_each<F: FnMut(&RawPacket)>(&mut self, f: F) -> Result<(), CaptureError> {
        self.for_each_counted(u64::MAX, f, |_| {})
    }

    /// As `for_each`, and calls `progress` after every `every` packets read (counting the
    /// ones a filter drops): a countdown, so the packet loop pays an add and a compare.
    /// Filtering and counting run on this thread, beside `f`.
    pub fn for_each_counted<F: FnMut(&RawPacket), P: FnMut(ReadCount)>(
        &mut self,
        every: u64,
        mut f: F,
        mut progress: P,
    ) -> Result<(), CaptureError> {
        let filter = self.filter.take();
        let every = every.max(1);
        let mut count = ReadCount::default();
        let mut until_report = every;
        let accept = |p: &RawPacket| {
            count.packets += 1;
            count.bytes += RECORD_HEADER_BYTES + p.data.len() as u64;
            until_report -= 1;
            if until_report == 0 {
                until_report = every;
                progress(count);
            }
            if filter.as_ref().is_none_or(|bpf| bpf.filter(p.data)) {
                f(p);
            }
        };
        let result = read_ahead(|producer: &mut Producer| self.read_into(producer), accept);
        self.filter = filter;
        self.read = count;
        result
    }

    fn read_into(&mut self, producer: &mut Producer) -> Result<(), CaptureError> {
        // Set when the consumer has gone away (it panicked): the rest need not be read.
        let stop = Cell::new(false);
        let mut accept = |p: &RawPacket| {
            producer.push(p);
            stop.set(producer.is_closed());
        };
        if self.files.len() == 1 {
            self.read_single(&mut accept, &stop)
        } else {
            self.read_merged(&mut accept, &stop)
        }
    }

    fn read_single<F: FnMut(&RawPacket)>(
        &mut self,
        f: &mut F,
        stop: &Cell<bool>,
    ) -> Result<(), CaptureError> {
        let Some(file) = self.files.first_mut() else {
            return Ok(());
        };
        while let Step::Packet = file.step(0, &mut self.warnings, Some(&mut *f))? {
            if stop.get() {
                break;
            }
        }
        Ok(())
    }

    fn read_merged<F: FnMut(&RawPacket)>(
        &mut self,
        f: &mut F,
        stop: &Cell<bool>,
    ) -> Result<(), CaptureError> {
        for file in &mut self.files {
            file.step::<F>(0, &mut self.warnings, None)?;
        }
        loop {
            let next = self
                .files
                .iter()
                .enumerate()
                .filter_map(|(i, file)| file.pending.as_ref().map(|p| (p.ts_ns, i)))
                .min();
            let Some((_, index)) = next.filter(|_| !stop.get()) else {
                break;
            };
            let Some(file) = self.files.get_mut(index) else {
                break;
            };
            if let Some(p) = file.pending.take() {
                f(&RawPacket {
                    file: index,
                    frame: p.frame,
                    ts_ns: p.ts_ns,
                    orig_len: p.orig_len,
                    linktype: file.linktype,
                    data: &p.data,
                });
                file.step::<F>(index, &mut self.warnings, None)?;
            }
        }
        Ok(())
    }
}
