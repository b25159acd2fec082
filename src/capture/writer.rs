//! Writing the packets of chosen connections back out, for Wireshark: pcapng with a comment
//! on each packet (where it came from, what it shows), or plain pcap.

use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::decode::{decode_packet, Transport};
use super::pcapng_out::PcapngWriter;
use super::source::{CaptureError, FileSet, RawPacket};

/// The format of a `-w` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteFormat {
    /// pcapng, each packet with the comment the caller gives it.
    #[default]
    Pcapng,
    /// Classic libpcap format (one link type, no comments).
    Pcap,
}

/// Where a packet being written came from: the index of its connection in the spans given,
/// and its input file (index into the paths) and 1-based frame number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketOrigin {
    pub connection: usize,
    pub file: usize,
    pub frame: u64,
}

/// The comment to write on a packet (pcapng only), made by the caller from its origin.
pub type CommentFn<'a> = dyn FnMut(&PacketOrigin) -> Option<String> + 'a;

/// One connection to extract: its two endpoints (either order), protocol and time span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionSpan {
    pub a: (IpAddr, u16),
    pub b: (IpAddr, u16),
    pub tcp: bool,
    pub first_ns: i64,
    pub last_ns: i64,
}

impl ConnectionSpan {
    fn matches(&self, src: (IpAddr, u16), dst: (IpAddr, u16), tcp: bool, ts: i64) -> bool {
        self.tcp == tcp
            && ts >= self.first_ns
            && ts <= self.last_ns
            && ((src == self.a && dst == self.b) || (src == self.b && dst == self.a))
    }
}

/// Refuses an output path that is one of the inputs: the same name, or another name (a link,
/// a hard link, `./x`) of the same file, which writing would destroy before it was read.
pub fn check_output_not_input(out: &str, inputs: &[String]) -> Result<(), CaptureError> {
    let Ok(out_meta) = std::fs::metadata(out) else {
        // An output that does not exist yet cannot be an input that exists.
        return Ok(());
    };
    for input in inputs.iter().filter(|p| p.as_str() != "-") {
        let Ok(in_meta) = std::fs::metadata(input) else {
            continue;
        };
        if in_meta.dev() == out_meta.dev() && in_meta.ino() == out_meta.ino() {
            return Err(CaptureError::Open {
                path: out.to_string(),
                reason: format!(
                    "-w would overwrite the input {input} (the same file); write elsewhere"
                ),
            });
        }
    }
    Ok(())
}

/// Reads the files again and writes every packet of the given connections to `out` (through a
/// temporary file renamed at the end) in `format`; in pcapng each packet carries the comment
/// `comment` gives it. Packets are written as they are read: memory does not grow with the
/// capture. Returns how many packets were written.
pub fn write_connections(
    paths: &[String],
    bpf: Option<&str>,
    spans: &[ConnectionSpan],
    out: &str,
    format: WriteFormat,
    comment: &mut CommentFn<'_>,
) -> Result<u64, CaptureError> {
    check_output_not_input(out, paths)?;
    let partial = crate::output_file::temporary_path(Path::new(out));
    let result = write_to(
        paths,
        bpf,
        spans,
        &partial.to_string_lossy(),
        out,
        format,
        comment,
    );
    match result {
        Ok(written) if partial.exists() => {
            crate::output_file::commit(&partial, Path::new(out)).map_err(|e| {
                CaptureError::Open {
                    path: out.to_string(),
                    reason: e.to_string(),
                }
            })?;
            Ok(written)
        }
        Ok(written) => Ok(written),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// The index of the span `raw` belongs to, if any.
fn span_of_packet(raw: &RawPacket, spans: &[ConnectionSpan]) -> Option<usize> {
    let d = decode_packet(raw.linktype, raw.data, raw.orig_len)?;
    let (sp, dp, tcp) = match d.transport {
        Transport::Tcp(t) => (t.src_port, t.dst_port, true),
        Transport::Udp(u) => (u.src_port, u.dst_port, false),
        Transport::Unreachable(_) => return None,
    };
    spans
        .iter()
        .position(|s| s.matches((d.src, sp), (d.dst, dp), tcp, raw.ts_ns))
}

/// The file being written, opened on the first packet (pcap needs its link type).
enum Saver {
    Pcap(PcapWriter),
    Pcapng(PcapngWriter<std::io::BufWriter<std::fs::File>>),
}

impl Saver {
    fn open(format: WriteFormat, linktype: i32, file: &str) -> Result<Saver, String> {
        match format {
            WriteFormat::Pcap => PcapWriter::create(file, linktype)
                .map(Saver::Pcap)
                .map_err(|e| e.to_string()),
            WriteFormat::Pcapng => {
                let f = std::fs::File::create(file).map_err(|e| e.to_string())?;
                PcapngWriter::new(std::io::BufWriter::new(f))
                    .map(Saver::Pcapng)
                    .map_err(|e| e.to_string())
            }
        }
    }

    fn write(&mut self, raw: &RawPacket, comment: Option<&str>) -> Result<(), String> {
        match self {
            Saver::Pcap(s) => s
                .write(raw.ts_ns, raw.orig_len, raw.data)
                .map_err(|e| e.to_string()),
            Saver::Pcapng(w) => w
                .packet(raw.linktype, raw.ts_ns, raw.data, raw.orig_len, comment)
                .map_err(|e| e.to_string()),
        }
    }

    fn finish(self) -> Result<(), String> {
        match self {
            Saver::Pcap(s) => s.finish().map_err(|e| e.to_string()),
            Saver::Pcapng(w) => w.finish().map(drop).map_err(|e| e.to_string()),
        }
    }
}

fn write_to(
    paths: &[String],
    bpf: Option<&str>,
    spans: &[ConnectionSpan],
    file: &str,
    out: &str,
    format: WriteFormat,
    comment: &mut CommentFn<'_>,
) -> Result<u64, CaptureError> {
    if paths.iter().any(|p| p == "-") {
        return Err(CaptureError::Open {
            path: out.to_string(),
            reason: "-w needs to read the capture twice; it cannot be used with standard input"
                .into(),
        });
    }
    let mut files = FileSet::open(paths, bpf)?;
    let mut saver: Option<Saver> = None;
    let mut written = 0u64;
    let mut error: Option<String> = None;
    files.for_each(|raw| {
        if error.is_some() {
            return;
        }
        let Some(connection) = span_of_packet(raw, spans) else {
            return;
        };
        if saver.is_none() {
            match Saver::open(format, raw.linktype, file) {
                Ok(s) => saver = Some(s),
                Err(e) => {
                    error = Some(e);
                    return;
                }
            }
        }
        let text = match format {
            WriteFormat::Pcapng => comment(&PacketOrigin {
                connection,
                file: raw.file,
                frame: raw.frame,
            }),
            WriteFormat::Pcap => None,
        };
        if let Some(s) = saver.as_mut() {
            match s.write(raw, text.as_deref()) {
                Ok(()) => written += 1,
                Err(e) => error = Some(e),
            }
        }
    })?;
    if let Some(s) = saver {
        if let Err(e) = s.finish() {
            error.get_or_insert(e);
        }
    }
    match error {
        Some(reason) => Err(CaptureError::Open {
            path: out.to_string(),
            reason,
        }),
        None => Ok(written),
    }
}

/// A pcap file with nanosecond timestamps (tcpdump.org pcap savefile format, magic
/// 0xa1b23c4d), written without libpcap.
struct PcapWriter {
    out: std::io::BufWriter<std::fs::File>,
    /// The largest captured length written: the header's snaplen, patched in at the end,
    /// so a capture cut short by its snaplen (live default 9216) says so, and Wireshark
    /// does not read a bigger limit than the packets were taken with.
    largest_caplen: u32,
}

/// Where the snaplen sits in the pcap file header (after magic, versions, thiszone, sigfigs).
const SNAPLEN_OFFSET: u64 = 16;
/// The snaplen of a file with no packet (as libpcap's default).
const EMPTY_FILE_SNAPLEN: u32 = 262_144;

impl PcapWriter {
    fn create(path: &str, linktype: i32) -> std::io::Result<PcapWriter> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&EMPTY_FILE_SNAPLEN.to_le_bytes());
        header.extend_from_slice(&linktype.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter {
            out,
            largest_caplen: 0,
        })
    }

    fn write(&mut self, ts_ns: i64, orig_len: u32, data: &[u8]) -> std::io::Result<()> {
        // The classic pcap header has 32-bit seconds: times outside it are clamped.
        let secs = u32::try_from(ts_ns.div_euclid(1_000_000_000).max(0)).unwrap_or(u32::MAX);
        let nanos = u32::try_from(ts_ns.rem_euclid(1_000_000_000)).unwrap_or(0);
        let caplen = super::decode::len_u32(data);
        self.largest_caplen = self.largest_caplen.max(caplen);
        let mut header = [0u8; 16];
        for (i, v) in [secs, nanos, caplen, orig_len].iter().enumerate() {
            if let Some(slot) = header.get_mut(i * 4..i * 4 + 4) {
                slot.copy_from_slice(&v.to_le_bytes());
            }
        }
        self.out.write_all(&header)?;
        self.out.write_all(data)
    }

    fn finish(mut self) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        self.out.flush()?;
        if self.largest_caplen > 0 {
            let file = self.out.get_mut();
            file.seek(SeekFrom::Start(SNAPLEN_OFFSET))?;
            file.write_all(&self.largest_caplen.to_le_bytes())?;
        }
        Ok(())
    }
}
