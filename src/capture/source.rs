//! Reading capture files, one or several at once in time order: with the native reader
//! (`pcap-parser`, the default) or libpcap (feature `live`).

use std::cell::Cell;
use std::fs::File;
use std::io::Read;

use super::native::{NativeReader, ReadFailure, Record};
use super::prefetch::{read_ahead_with_secrets, Producer};
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

/// A pcapng Decryption Secrets Block as read (draft-ietf-opsawg-pcapng 4.7), in file order
/// with the packets around it.
#[derive(Debug, Clone, Copy)]
pub struct SecretsBlock<'a> {
    pub file: usize,
    /// The frame read just before it (0: before any packet).
    pub after_frame: u64,
    /// `SECRETS_TYPE_TLS` for an NSS key log; other kinds are handed on as they are.
    pub secrets_type: u32,
    pub data: &'a [u8],
}

/// Secrets type of a TLS key log in NSS format ("TLSK").
pub const SECRETS_TYPE_TLS: u32 = 0x544c_534b;

/// Which library reads capture files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileReader {
    /// `pcap-parser` in Rust: no native library, and pcapng secrets are read.
    #[default]
    Native,
    /// libpcap (feature `live`): kept to compare the two.
    #[cfg(feature = "live")]
    Libpcap,
}

enum Reader {
    Native(NativeReader),
    #[cfg(feature = "live")]
    Libpcap(super::libpcap_file::LibpcapFile),
}

struct OpenFile {
    path: String,
    reader: Reader,
    linktype: i32,
    frame: u64,
    /// The next packet of this file, copied out, when several files are merged.
    pending: Option<OwnedPacket>,
    done: bool,
    /// Odd frames, counted to be reported once per file when it ends.
    oddities: Oddities,
    /// Secrets read while opening (before the first interface of a pcapng).
    early_secrets: Vec<(u32, Vec<u8>)>,
}

/// Frames that the reader accepts but that are not what a capture should hold: each kind is
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
    linktype: i32,
    data: Vec<u8>,
}

pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The input of `path` ("-" is standard input), decompressed when it starts with the gzip
/// magic. Reads its first bytes to tell, and keeps them: a FIFO can be read only once.
fn open_input(path: &str) -> Result<(Box<dyn Read + Send>, bool), String> {
    let mut raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(File::open(path).map_err(|e| e.to_string())?)
    };
    let mut head = [0u8; 2];
    let n = read_up_to(&mut raw, &mut head).map_err(|e| e.to_string())?;
    let head = head.get(..n).unwrap_or_default().to_vec();
    let gzip = head == GZIP_MAGIC;
    let chained = std::io::Cursor::new(head).chain(raw);
    if gzip {
        Ok((Box::new(flate2::read::MultiGzDecoder::new(chained)), true))
    } else {
        Ok((Box::new(chained), false))
    }
}

/// Opens `path` ("-" is standard input). Compressed input is recognised by its magic bytes.
fn open_one(path: &str, kind: FileReader) -> Result<OpenFile, CaptureError> {
    let open_err = |reason: String| CaptureError::Open {
        path: path.to_string(),
        reason,
    };
    let mut plain = false;
    if path != "-" {
        let meta = std::fs::metadata(path).map_err(|e| open_err(e.to_string()))?;
        if meta.is_dir() {
            return Err(open_err("is a directory, not a capture file".into()));
        }
        if meta.is_file() && meta.len() == 0 {
            return Err(open_err("empty file, not a capture".into()));
        }
        plain = meta.is_file();
    }
    let (input, gzip) = open_input(path).map_err(open_err)?;
    let mut early_secrets = Vec::new();
    let reader = match kind {
        FileReader::Native => {
            let mut r = NativeReader::open(input).map_err(open_err)?;
            r.first_interface(&mut |t, d| early_secrets.push((t, d.to_vec())))
                .map_err(open_err)?;
            Reader::Native(r)
        }
        #[cfg(feature = "live")]
        FileReader::Libpcap => {
            let streamed = (!plain || gzip).then_some(input);
            Reader::Libpcap(
                super::libpcap_file::LibpcapFile::open(path, streamed).map_err(open_err)?,
            )
        }
    };
    let _ = (plain, gzip);
    let linktype = match &reader {
        Reader::Native(r) => r.linktype(),
        #[cfg(feature = "live")]
        Reader::Libpcap(r) => r.linktype(),
    };
    if !linktype_supported(linktype) {
        return Err(CaptureError::UnsupportedLinkType {
            path: path.to_string(),
            linktype,
            name: linktype_name(linktype),
        });
    }
    Ok(OpenFile {
        path: path.to_string(),
        reader,
        linktype,
        frame: 0,
        pending: None,
        done: false,
        oddities: Oddities::default(),
        early_secrets,
    })
}

#[cfg(feature = "live")]
fn linktype_name(linktype: i32) -> String {
    super::libpcap_file::linktype_name(linktype).unwrap_or_else(|| format!("LINKTYPE_{linktype}"))
}

#[cfg(not(feature = "live"))]
fn linktype_name(linktype: i32) -> String {
    format!("LINKTYPE_{linktype}")
}

pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(buf.get_mut(filled..).unwrap_or_default())? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Outcome of reading one packet from a file.
enum Step {
    Packet,
    End,
}

/// Where a file's packets and secrets go: straight to the consumer, or (when several files
/// are merged in time order) the packet into the file's pending slot.
enum Sink<'a, F, S> {
    Direct(&'a mut F, &'a mut S),
    Pending(&'a mut S),
}

impl OpenFile {
    /// Reads the next packet and hands it on; secrets blocks met on the way go to the
    /// secrets callback at once. Errors become warnings or a fatal error.
    fn step<F: FnMut(&RawPacket), S: FnMut(&SecretsBlock)>(
        &mut self,
        file_index: usize,
        warnings: &mut Vec<CaptureWarning>,
        mut sink: Sink<'_, F, S>,
    ) -> Result<Step, CaptureError> {
        if self.done {
            return Ok(Step::End);
        }
        for (secrets_type, data) in std::mem::take(&mut self.early_secrets) {
            let block = SecretsBlock {
                file: file_index,
                after_frame: 0,
                secrets_type,
                data: &data,
            };
            match &mut sink {
                Sink::Direct(_, s) | Sink::Pending(s) => s(&block),
            }
        }
        loop {
            let next = match &mut self.reader {
                Reader::Native(r) => r.next(),
                #[cfg(feature = "live")]
                Reader::Libpcap(r) => r.next(),
            };
            match next {
                Ok(Some(Record::Packet {
                    ts_ns,
                    caplen,
                    len,
                    linktype,
                    data,
                })) => {
                    self.frame += 1;
                    let ts_ns = self.oddities.note(self.frame, ts_ns, caplen, len);
                    let raw = RawPacket {
                        file: file_index,
                        frame: self.frame,
                        ts_ns,
                        orig_len: len,
                        linktype,
                        data,
                    };
                    match sink {
                        Sink::Direct(f, _) => f(&raw),
                        Sink::Pending(_) => {
                            let slot = self.pending.get_or_insert_with(OwnedPacket::default);
                            slot.frame = raw.frame;
                            slot.ts_ns = raw.ts_ns;
                            slot.orig_len = raw.orig_len;
                            slot.linktype = raw.linktype;
                            slot.data.clear();
                            slot.data.extend_from_slice(raw.data);
                        }
                    }
                    return Ok(Step::Packet);
                }
                Ok(Some(Record::Secrets { secrets_type, data })) => {
                    let block = SecretsBlock {
                        file: file_index,
                        after_frame: self.frame,
                        secrets_type,
                        data,
                    };
                    match &mut sink {
                        Sink::Direct(_, s) | Sink::Pending(s) => s(&block),
                    }
                }
                Ok(None) => {
                    self.finish(warnings, true);
                    return Ok(Step::End);
                }
                Err(failure) => return self.failed(failure, warnings),
            }
        }
    }

    fn failed(
        &mut self,
        failure: ReadFailure,
        warnings: &mut Vec<CaptureWarning>,
    ) -> Result<Step, CaptureError> {
        let at_end = !matches!(failure, ReadFailure::Malformed(_));
        self.finish(warnings, at_end);
        match failure {
            // A header and not one complete packet: nothing to analyse, unusable input.
            ReadFailure::Truncated(reason) if self.frame == 0 => Err(CaptureError::Read {
                path: self.path.clone(),
                frame: 1,
                reason,
            }),
            ReadFailure::Truncated(reason) => {
                warnings.push(CaptureWarning {
                    path: self.path.clone(),
                    message: format!(
                        "capture is truncated after frame {} ({reason}); analysed what is there",
                        self.frame
                    ),
                });
                Ok(Step::End)
            }
            ReadFailure::Input(message) => {
                warnings.push(CaptureWarning {
                    path: self.path.clone(),
                    message,
                });
                Ok(Step::End)
            }
            ReadFailure::Malformed(reason) => Err(CaptureError::Read {
                path: self.path.clone(),
                frame: self.frame + 1,
                reason,
            }),
        }
    }

    /// Marks the file done and reports its warnings. `at_end`: the input was read to its end.
    fn finish(&mut self, warnings: &mut Vec<CaptureWarning>, at_end: bool) {
        self.done = true;
        self.oddities.report(&self.path, warnings);
        let complaint = match &mut self.reader {
            Reader::Native(_) => None,
            #[cfg(feature = "live")]
            Reader::Libpcap(r) => r.finish(at_end),
        };
        let _ = at_end;
        if let Some(message) = complaint {
            warnings.push(CaptureWarning {
                path: self.path.clone(),
                message,
            });
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

/// A capture filter compiled for each link type met (the files and a pcapng's interfaces
/// may differ). Compiling needs libpcap: without the `live` feature a filter is refused.
struct Filter {
    expr: String,
    #[cfg(feature = "live")]
    compiled: Vec<(i32, super::libpcap_file::Bpf)>,
}

impl Filter {
    fn new(expr: &str, linktypes: &[i32]) -> Result<Filter, CaptureError> {
        #[cfg(feature = "live")]
        {
            let mut f = Filter {
                expr: expr.to_string(),
                compiled: Vec::new(),
            };
            for &lt in linktypes {
                f.program(lt)?;
            }
            Ok(f)
        }
        #[cfg(not(feature = "live"))]
        {
            let _ = linktypes;
            Err(CaptureError::Filter {
                filter: expr.to_string(),
                reason: "capture filters need libpcap, and this rdpscope was built without it \
                         (cargo feature `live`)"
                    .into(),
            })
        }
    }

    #[cfg(feature = "live")]
    fn program(&mut self, linktype: i32) -> Result<&super::libpcap_file::Bpf, CaptureError> {
        let at = match self.compiled.iter().position(|(lt, _)| *lt == linktype) {
            Some(at) => at,
            None => {
                let bpf =
                    super::libpcap_file::Bpf::compile(linktype, &self.expr).map_err(|reason| {
                        CaptureError::Filter {
                            filter: self.expr.clone(),
                            reason,
                        }
                    })?;
                self.compiled.push((linktype, bpf));
                self.compiled.len() - 1
            }
        };
        self.compiled
            .get(at)
            .map(|(_, b)| b)
            .ok_or_else(|| CaptureError::Filter {
                filter: self.expr.clone(),
                reason: "internal: compiled filter missing".into(),
            })
    }

    /// Whether the packet passes; a link type the filter cannot be compiled for drops it.
    fn matches(&mut self, p: &RawPacket) -> bool {
        #[cfg(feature = "live")]
        {
            self.program(p.linktype).is_ok_and(|b| b.matches(p.data))
        }
        #[cfg(not(feature = "live"))]
        {
            let _ = (p, &self.expr);
            false
        }
    }
}

/// A set of capture files read as one capture, in time order.
pub struct FileSet {
    files: Vec<OpenFile>,
    filter: Option<Filter>,
    pub warnings: Vec<CaptureWarning>,
    /// Packets read by the last `for_each_counted`, the ones the filter dropped included.
    pub read: ReadCount,
}

impl FileSet {
    /// Opens every file; `bpf` is applied in user space so frame numbers stay those of the file.
    pub fn open(paths: &[String], bpf: Option<&str>) -> Result<FileSet, CaptureError> {
        Self::open_with(paths, bpf, FileReader::default())
    }

    /// As `open`, with the given file reader.
    pub fn open_with(
        paths: &[String],
        bpf: Option<&str>,
        reader: FileReader,
    ) -> Result<FileSet, CaptureError> {
        let mut files = Vec::with_capacity(paths.len());
        for p in paths {
            files.push(open_one(p, reader)?);
        }
        let filter = match bpf {
            Some(expr) => {
                let linktypes: Vec<i32> = files.iter().map(|f| f.linktype).collect();
                Some(Filter::new(expr, &linktypes)?)
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
        f: F,
        progress: P,
    ) -> Result<(), CaptureError> {
        self.for_each_with_secrets(every, f, |_| {}, progress)
    }

    /// As `for_each_counted`, and hands every pcapng Decryption Secrets Block to `secrets`
    /// in file order with the packets (a block comes before the packets read after it).
    pub fn for_each_with_secrets<
        F: FnMut(&RawPacket),
        S: FnMut(&SecretsBlock),
        P: FnMut(ReadCount),
    >(
        &mut self,
        every: u64,
        mut f: F,
        secrets: S,
        mut progress: P,
    ) -> Result<(), CaptureError> {
        let mut filter = self.filter.take();
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
            if filter.as_mut().is_none_or(|bpf| bpf.matches(p)) {
                f(p);
            }
        };
        let result = read_ahead_with_secrets(
            |producer: &mut Producer| self.read_into(producer),
            accept,
            secrets,
        );
        self.filter = filter;
        self.read = count;
        result
    }

    fn read_into(&mut self, producer: &mut Producer) -> Result<(), CaptureError> {
        // Set when the consumer has gone away (it panicked): the rest need not be read.
        let stop = Cell::new(false);
        let producer = std::cell::RefCell::new(producer);
        let mut accept = |p: &RawPacket| {
            let mut producer = producer.borrow_mut();
            producer.push(p);
            stop.set(producer.is_closed());
        };
        let mut secrets = |s: &SecretsBlock| producer.borrow_mut().push_secrets(s);
        if self.files.len() == 1 {
            self.read_single(&mut accept, &mut secrets, &stop)
        } else {
            self.read_merged(&mut accept, &mut secrets, &stop)
        }
    }

    fn read_single<F: FnMut(&RawPacket), S: FnMut(&SecretsBlock)>(
        &mut self,
        f: &mut F,
        s: &mut S,
        stop: &Cell<bool>,
    ) -> Result<(), CaptureError> {
        let Some(file) = self.files.first_mut() else {
            return Ok(());
        };
        while let Step::Packet = file.step(0, &mut self.warnings, Sink::Direct(&mut *f, &mut *s))? {
            if stop.get() {
                break;
            }
        }
        Ok(())
    }

    fn read_merged<F: FnMut(&RawPacket), S: FnMut(&SecretsBlock)>(
        &mut self,
        f: &mut F,
        s: &mut S,
        stop: &Cell<bool>,
    ) -> Result<(), CaptureError> {
        for (i, file) in self.files.iter_mut().enumerate() {
            file.step::<F, S>(i, &mut self.warnings, Sink::Pending(&mut *s))?;
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
                    linktype: p.linktype,
                    data: &p.data,
                });
                file.step::<F, S>(index, &mut self.warnings, Sink::Pending(&mut *s))?;
            }
        }
        Ok(())
    }
}
