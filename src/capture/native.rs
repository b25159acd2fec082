//! Reading pcap and pcapng files without libpcap, with the `pcap-parser` crate (rusticata):
//! the default file reader. It also yields pcapng Decryption Secrets Blocks, which libpcap
//! skips.
//!
//! Formats: pcap (tcpdump.org "pcap savefile format": µs and ns magic, either byte order,
//! the "modified" Kuznetzov variant) and pcapng (draft-ietf-opsawg-pcapng: SHB 4.1, IDB 4.2,
//! EPB 4.3, SPB 4.4, obsolete Packet Block, DSB 4.7, several sections and interfaces).
//! One read buffer is reused for the whole file: packets are borrowed from it, so reading
//! allocates nothing per packet.

use std::io::{ErrorKind, Read};

use pcap_parser::pcapng::{Block, InterfaceDescriptionBlock};
use pcap_parser::{
    parse_block_be, parse_block_le, parse_pcap_frame, parse_pcap_frame_be,
    parse_pcap_frame_modified, parse_pcap_header, parse_sectionheaderblock, PcapHeader,
};

/// What the reader found next in the file.
#[derive(Debug)]
pub enum Record<'a> {
    Packet {
        ts_ns: i64,
        /// Bytes captured as recorded (after cutting to the snaplen, as libpcap does).
        caplen: u32,
        len: u32,
        linktype: i32,
        data: &'a [u8],
    },
    /// A pcapng Decryption Secrets Block (draft-ietf-opsawg-pcapng 4.7).
    Secrets { secrets_type: u32, data: &'a [u8] },
}

/// Why reading stopped before the end of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadFailure {
    /// The input ends inside a record: what came before is good.
    Truncated(String),
    /// The input could not be read further (a broken gzip stream): a warning, not fatal.
    Input(String),
    /// A record is malformed: reading cannot go on.
    Malformed(String),
}

/// pcapng block types (draft-ietf-opsawg-pcapng 11.1).
const BLOCK_SHB: u32 = 0x0A0D_0D0A;
const BLOCK_IDB: u32 = 0x0000_0001;
const BLOCK_OBSOLETE_PACKET: u32 = 0x0000_0002;
const BLOCK_SPB: u32 = 0x0000_0003;
const BLOCK_EPB: u32 = 0x0000_0006;
const BLOCK_DSB: u32 = 0x0000_000A;

/// Largest pcapng block accepted: libpcap's limit (16 MiB), so both readers agree.
const MAX_BLOCK: usize = 16 * 1024 * 1024;
/// libpcap's largest capture length for the link types we read (MAXIMUM_SNAPLEN).
const MAX_SNAPLEN: u32 = 262_144;
/// Bytes asked of the input at a time.
const READ_CHUNK: usize = 1 << 20;

/// A byte window over the input, refilled as records are consumed.
struct InputBuffer {
    src: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

impl InputBuffer {
    fn new(src: Box<dyn Read + Send>) -> Self {
        InputBuffer {
            src,
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Makes `n` bytes available; false when the input ends first.
    fn fill(&mut self, n: usize) -> std::io::Result<bool> {
        while self.end - self.start < n {
            if self.eof {
                return Ok(false);
            }
            if self.buf.len() - self.start < n || self.end == self.buf.len() {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
                if self.buf.len() < n {
                    self.buf.resize(n.next_power_of_two(), 0);
                }
            }
            let space = self.buf.get_mut(self.end..).unwrap_or_default();
            match self.src.read(space) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// One interface of a pcapng section.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: i32,
    /// Timestamp units per second (if_tsresol).
    units_per_sec: u64,
    /// Seconds added to every timestamp (if_tsoffset).
    offset_sec: i64,
    snaplen: u32,
}

enum Format {
    Pcap {
        header: PcapHeader,
        snaplen: u32,
    },
    PcapNg {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

pub struct NativeReader {
    input: InputBuffer,
    format: Format,
    /// Bytes of the record handed out last, consumed when the next one is asked for.
    pending_consume: usize,
    /// Link type of the file (pcap) or of its first interface (pcapng).
    linktype: i32,
}

fn u32_at(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    })
}

fn io_failure(e: std::io::Error) -> ReadFailure {
    ReadFailure::Input(format!("compressed data ends early or is corrupt: {e}"))
}

impl NativeReader {
    /// Reads the file header (and, for pcapng, the blocks up to the first interface).
    /// Errors name what is wrong for the person who gave the file.
    pub fn open(src: Box<dyn Read + Send>) -> Result<NativeReader, String> {
        let mut input = InputBuffer::new(src);
        input.fill(4).map_err(|e| e.to_string())?;
        let head = input.data();
        if head.is_empty() {
            return Err("empty file, not a capture".into());
        }
        let is_ng = u32_at(head, 0, false) == Some(BLOCK_SHB);
        let format = if is_ng {
            Format::PcapNg {
                big_endian: false,
                interfaces: Vec::new(),
            }
        } else {
            input.fill(24).map_err(|e| e.to_string())?;
            match parse_pcap_header(input.data()) {
                Ok((_, header)) => {
                    input.consume(24);
                    let snaplen = match header.snaplen {
                        0 => MAX_SNAPLEN,
                        s => s.min(MAX_SNAPLEN),
                    };
                    Format::Pcap { header, snaplen }
                }
                Err(nom::Err::Incomplete(_)) if looks_like_pcap_magic(input.data()) => {
                    return Err(format!(
                        "truncated file header: {} of 24 bytes",
                        input.data().len()
                    ))
                }
                Err(_) => return Err("not a pcap or pcapng capture (unknown file format)".into()),
            }
        };
        let linktype = match &format {
            Format::Pcap { header, .. } => header.network.0,
            Format::PcapNg { .. } => 0,
        };
        let mut reader = NativeReader {
            input,
            format,
            pending_consume: 0,
            linktype,
        };
        if is_ng {
            reader.read_section_header()?;
        }
        Ok(reader)
    }

    pub fn linktype(&self) -> i32 {
        self.linktype
    }

    /// pcapng: the link type of the first interface, once the blocks before it are read.
    /// Secrets found on the way are handed to `secrets`.
    pub fn first_interface(&mut self, secrets: &mut dyn FnMut(u32, &[u8])) -> Result<(), String> {
        loop {
            if let Format::PcapNg { interfaces, .. } = &self.format {
                if let Some(first) = interfaces.first() {
                    self.linktype = first.linktype;
                    return Ok(());
                }
            } else {
                return Ok(());
            }
            let big_endian = self.big_endian();
            let Some(kind) = self.peek_block_type().map_err(describe)? else {
                return Err("pcapng file without an interface description".into());
            };
            match kind {
                BLOCK_EPB | BLOCK_SPB | BLOCK_OBSOLETE_PACKET => {
                    return Err("pcapng packet before any interface description".into())
                }
                _ => {
                    let len = self.whole_block(big_endian).map_err(describe)?;
                    self.control_block(kind, len, secrets).map_err(describe)?;
                    self.input.consume(len);
                }
            }
        }
    }

    fn big_endian(&self) -> bool {
        matches!(
            self.format,
            Format::PcapNg {
                big_endian: true,
                ..
            }
        )
    }

    fn read_section_header(&mut self) -> Result<(), String> {
        self.input.fill(28).map_err(|e| e.to_string())?;
        let big_endian = match parse_sectionheaderblock(self.input.data()) {
            Ok((_, shb)) => shb.big_endian(),
            Err(nom::Err::Incomplete(_)) => {
                // The block may be longer than what is buffered: read its stated length.
                let order = self
                    .input
                    .data()
                    .get(8..12)
                    .map(|m| m == [0x1a, 0x2b, 0x3c, 0x4d]);
                match order {
                    Some(big) => big,
                    None => return Err("truncated file header (pcapng section header)".into()),
                }
            }
            Err(_) => return Err("not a pcap or pcapng capture (unknown file format)".into()),
        };
        if let Format::PcapNg {
            big_endian: be,
            interfaces,
        } = &mut self.format
        {
            *be = big_endian;
            interfaces.clear();
        }
        let len = self.whole_block(big_endian).map_err(describe)?;
        self.input.consume(len);
        Ok(())
    }

    /// The type of the next pcapng block, or None at the end of the input.
    fn peek_block_type(&mut self) -> Result<Option<u32>, ReadFailure> {
        if !self.input.fill(8).map_err(io_failure)? {
            if self.input.data().is_empty() {
                return Ok(None);
            }
            return Err(ReadFailure::Truncated(
                "the file ends inside a block header".into(),
            ));
        }
        // A section header's type reads the same in both byte orders.
        Ok(u32_at(self.input.data(), 0, self.big_endian()))
    }

    /// Buffers the whole next pcapng block and returns its length.
    fn whole_block(&mut self, big_endian: bool) -> Result<usize, ReadFailure> {
        if !self.input.fill(12).map_err(io_failure)? {
            return Err(ReadFailure::Truncated(
                "the file ends inside a block".into(),
            ));
        }
        let data = self.input.data();
        let len = if u32_at(data, 0, false) == Some(BLOCK_SHB) {
            // The section's own byte order says how to read its length.
            let be = data.get(8..12) == Some(&[0x1a, 0x2b, 0x3c, 0x4d]);
            u32_at(data, 4, be)
        } else {
            u32_at(data, 4, big_endian)
        }
        .unwrap_or(0) as usize;
        if len < 12 || !len.is_multiple_of(4) || len > MAX_BLOCK {
            return Err(ReadFailure::Malformed(format!(
                "invalid pcapng block length {len} (a multiple of 4 from 12 to {MAX_BLOCK})"
            )));
        }
        if !self.input.fill(len).map_err(io_failure)? {
            return Err(ReadFailure::Truncated(format!(
                "the file ends inside a {len}-byte block"
            )));
        }
        Ok(len)
    }

    /// The next packet or secrets block; None at the end of the file.
    pub fn next(&mut self) -> Result<Option<Record<'_>>, ReadFailure> {
        self.input
            .consume(std::mem::take(&mut self.pending_consume));
        match &self.format {
            Format::Pcap { .. } => self.next_pcap(),
            Format::PcapNg { .. } => self.next_pcapng(),
        }
    }

    fn next_pcap(&mut self) -> Result<Option<Record<'_>>, ReadFailure> {
        let Format::Pcap { header, snaplen } = &self.format else {
            return Ok(None);
        };
        let (big, modified, nanos, snaplen) = (
            header.is_bigendian(),
            header.is_modified_format(),
            header.is_nanosecond_precision(),
            *snaplen,
        );
        let record_header = if modified { 24 } else { 16 };
        if !self.input.fill(record_header).map_err(io_failure)? {
            if self.input.data().is_empty() {
                return Ok(None);
            }
            return Err(ReadFailure::Truncated(
                "the file ends inside a packet header".into(),
            ));
        }
        let caplen = u32_at(self.input.data(), 8, big).unwrap_or(0);
        if caplen > MAX_SNAPLEN {
            return Err(ReadFailure::Malformed(format!(
                "invalid packet capture length {caplen}, bigger than the maximum of {MAX_SNAPLEN}"
            )));
        }
        let total = record_header + caplen as usize;
        if !self.input.fill(total).map_err(io_failure)? {
            return Err(ReadFailure::Truncated(format!(
                "the file ends inside a packet: {} of {caplen} captured bytes",
                self.input.data().len().saturating_sub(record_header)
            )));
        }
        let parsed = match (modified, big) {
            (true, _) => parse_pcap_frame_modified(self.input.data()),
            (false, true) => parse_pcap_frame_be(self.input.data()),
            (false, false) => parse_pcap_frame(self.input.data()),
        };
        let frame = parsed
            .map_err(|e| ReadFailure::Malformed(format!("bad packet record: {e:?}")))?
            .1;
        self.pending_consume = total;
        let sub = if nanos { 1 } else { 1000 };
        let ts_ns = i64::from(frame.ts_sec)
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::from(frame.ts_usec).saturating_mul(sub));
        // libpcap hands out at most the file's snaplen bytes of a longer record.
        let kept = caplen.min(snaplen);
        Ok(Some(Record::Packet {
            ts_ns,
            caplen: kept,
            len: frame.origlen,
            linktype: header.network.0,
            data: frame.data.get(..kept as usize).unwrap_or_default(),
        }))
    }

    fn next_pcapng(&mut self) -> Result<Option<Record<'_>>, ReadFailure> {
        loop {
            let Some(kind) = self.peek_block_type()? else {
                return Ok(None);
            };
            if kind == BLOCK_SHB {
                self.read_section_header().map_err(ReadFailure::Malformed)?;
                continue;
            }
            let big_endian = self.big_endian();
            let len = self.whole_block(big_endian)?;
            match kind {
                BLOCK_EPB | BLOCK_SPB | BLOCK_OBSOLETE_PACKET => {
                    self.pending_consume = len;
                    return self.packet_block(kind, len);
                }
                BLOCK_DSB => {
                    self.pending_consume = len;
                    let block = self.input.data().get(..len).unwrap_or_default();
                    let secrets_type = u32_at(block, 8, big_endian).unwrap_or(0);
                    let secrets_len = u32_at(block, 12, big_endian).unwrap_or(0) as usize;
                    let data = block
                        .get(16..16usize.saturating_add(secrets_len))
                        .ok_or_else(|| {
                            ReadFailure::Malformed(format!(
                                "decryption secrets length {secrets_len} exceeds its block"
                            ))
                        })?;
                    return Ok(Some(Record::Secrets { secrets_type, data }));
                }
                _ => {
                    self.control_block(kind, len, &mut |_, _| {})?;
                    self.input.consume(len);
                }
            }
        }
    }

    /// An Interface Description Block is remembered; other non-packet blocks are skipped.
    fn control_block(
        &mut self,
        kind: u32,
        len: usize,
        secrets: &mut dyn FnMut(u32, &[u8]),
    ) -> Result<(), ReadFailure> {
        let big_endian = self.big_endian();
        let block = self.input.data().get(..len).unwrap_or_default();
        match kind {
            BLOCK_IDB => {
                let parsed = if big_endian {
                    parse_block_be(block)
                } else {
                    parse_block_le(block)
                };
                let Ok((_, Block::InterfaceDescription(idb))) = parsed else {
                    return Err(ReadFailure::Malformed(
                        "malformed interface description block".into(),
                    ));
                };
                let iface = interface_of(&idb);
                if let Format::PcapNg { interfaces, .. } = &mut self.format {
                    // Bounded by the file: each costs a block of at least 20 bytes.
                    interfaces.push(iface);
                }
            }
            BLOCK_DSB => {
                let secrets_type = u32_at(block, 8, big_endian).unwrap_or(0);
                let secrets_len = u32_at(block, 12, big_endian).unwrap_or(0) as usize;
                if let Some(data) = block.get(16..16usize.saturating_add(secrets_len)) {
                    secrets(secrets_type, data);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// EPB, SPB or the obsolete Packet Block. Their fixed fields are read here rather than
    /// through `parse_block_*`, which collects a packet's options into a new Vec.
    fn packet_block(&self, kind: u32, len: usize) -> Result<Option<Record<'_>>, ReadFailure> {
        let Format::PcapNg {
            big_endian,
            interfaces,
        } = &self.format
        else {
            return Ok(None);
        };
        let be = *big_endian;
        let block = self.input.data().get(..len).unwrap_or_default();
        let field = |at: usize| u32_at(block, at, be).unwrap_or(0);
        let (if_id, ts, caplen, origlen, data_at) = match kind {
            BLOCK_EPB => (
                field(8),
                (u64::from(field(12)) << 32) | u64::from(field(16)),
                field(20),
                field(24),
                28,
            ),
            BLOCK_OBSOLETE_PACKET => {
                let if_id = u32_at(block, 8, be).unwrap_or(0);
                let if_id = if be { if_id >> 16 } else { if_id & 0xffff };
                (
                    if_id,
                    (u64::from(field(12)) << 32) | u64::from(field(16)),
                    field(20),
                    field(24),
                    28,
                )
            }
            _ => {
                // SPB: no timestamp, no captured length (the block holds min(len, snaplen)).
                let origlen = field(8);
                let room = u32::try_from(len.saturating_sub(16)).unwrap_or(u32::MAX);
                let snap = interfaces.first().map_or(u32::MAX, |i| i.snaplen);
                (0, 0, origlen.min(room).min(snap), origlen, 12)
            }
        };
        let iface = interfaces.get(if_id as usize).ok_or_else(|| {
            ReadFailure::Malformed(format!(
                "packet on interface {if_id}, which is not described"
            ))
        })?;
        let end = data_at + caplen as usize;
        let data = block
            .get(data_at..end)
            .filter(|_| end <= len.saturating_sub(4))
            .ok_or_else(|| {
                ReadFailure::Malformed(format!(
                    "invalid packet capture length {caplen}, bigger than its {len}-byte block"
                ))
            })?;
        Ok(Some(Record::Packet {
            ts_ns: iface.ts_ns(ts),
            caplen,
            len: origlen,
            linktype: iface.linktype,
            data,
        }))
    }
}

fn describe(f: ReadFailure) -> String {
    match f {
        ReadFailure::Truncated(s) => format!("truncated: {s}"),
        ReadFailure::Input(s) | ReadFailure::Malformed(s) => s,
    }
}

fn looks_like_pcap_magic(b: &[u8]) -> bool {
    const MAGICS: [u32; 4] = [0xa1b2_c3d4, 0xa1b2_3c4d, 0xa1b2_cd34, 0x0a0d_0d0a];
    let Some(m) = u32_at(b, 0, false) else {
        return false;
    };
    MAGICS.contains(&m) || MAGICS.contains(&m.swap_bytes())
}

fn interface_of(idb: &InterfaceDescriptionBlock) -> Interface {
    Interface {
        linktype: idb.linktype.0,
        units_per_sec: idb.ts_resolution().unwrap_or(1_000_000).max(1),
        offset_sec: idb.ts_offset(),
        snaplen: match idb.snaplen {
            0 => u32::MAX,
            s => s,
        },
    }
}

impl Interface {
    /// Nanoseconds since the epoch of a timestamp in this interface's units.
    fn ts_ns(&self, ts: u64) -> i64 {
        let units = u128::from(self.units_per_sec);
        let ts = u128::from(ts);
        let ns = (ts / units) * 1_000_000_000 + (ts % units) * 1_000_000_000 / units;
        i64::try_from(ns)
            .unwrap_or(i64::MAX)
            .saturating_add(self.offset_sec.saturating_mul(1_000_000_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: Vec<u8>) -> Result<NativeReader, String> {
        NativeReader::open(Box::new(std::io::Cursor::new(bytes)))
    }

    #[test]
    fn synthetic_interface_resolutions_give_nanoseconds() {
        let micro = Interface {
            linktype: 1,
            units_per_sec: 1_000_000,
            offset_sec: 0,
            snaplen: 0,
        };
        assert_eq!(micro.ts_ns(1_500_000), 1_500_000_000);
        let binary = Interface {
            units_per_sec: 1 << 10,
            offset_sec: 2,
            ..micro
        };
        assert_eq!(binary.ts_ns(512), 2_500_000_000);
    }

    #[test]
    fn synthetic_garbage_short_and_empty_inputs_are_named() {
        assert!(reader(vec![]).err().unwrap().contains("empty"));
        assert!(reader(b"hello, world, this is text".to_vec())
            .err()
            .unwrap()
            .contains("unknown file format"));
        let short = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
        let e = reader(short).err().unwrap();
        assert!(e.contains("truncated") && e.contains("file header"), "{e}");
    }

    #[cfg(not(feature = "live"))]
    #[test]
    fn without_libpcap_a_filter_is_a_clear_error() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/lab/nla_ok.pcap").to_string();
        let e = crate::capture::FileSet::open(&[path], Some("tcp port 3389"))
            .err()
            .expect("refused");
        assert!(e.to_string().contains("built without it"), "{e}");
    }
}
