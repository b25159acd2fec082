//! A pcapng writer for `-w`: one Section Header Block, one Interface Description Block per
//! link type met, and one Enhanced Packet Block per packet with an optional comment
//! (`opt_comment`, which Wireshark shows as `frame.comment`).
//!
//! Block layouts: draft-ietf-opsawg-pcapng (the pcapng specification), section 4.1 (Section
//! Header Block), 4.2 (Interface Description Block, `if_tsresol` option code 9), 4.3 (Enhanced
//! Packet Block) and 3.5 (options, `opt_comment` code 1, `opt_endofopt` code 0). Little-endian,
//! as the byte-order magic of the section says.

use std::io::Write;

/// Block type of a Section Header Block (pcapng 4.1).
const SECTION_HEADER: u32 = 0x0A0D_0D0A;
/// Block type of an Interface Description Block (pcapng 4.2).
const INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
/// Block type of an Enhanced Packet Block (pcapng 4.3).
const ENHANCED_PACKET: u32 = 0x0000_0006;
/// Written in the byte order of the section; a reader learns the order from it.
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// `opt_endofopt` (pcapng 3.5).
const OPT_END: u16 = 0;
/// `opt_comment` (pcapng 3.5): UTF-8 text.
const OPT_COMMENT: u16 = 1;
/// `shb_userappl` (pcapng 4.1): the application that wrote the section.
const SHB_USERAPPL: u16 = 4;
/// `if_tsresol` (pcapng 4.2): timestamp units as a power of ten.
const IF_TSRESOL: u16 = 9;
/// Nanosecond timestamps: 10^-9 s.
const NANOSECONDS: u8 = 9;
/// Longest option value (its length is a 16-bit field).
const MAX_OPTION: usize = u16::MAX as usize;

/// Why a pcapng file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PcapngWriteError {
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
    #[error("link type {0} does not fit pcapng's 16-bit link type field")]
    LinkType(i32),
    #[error("a packet of {0} bytes does not fit pcapng's 32-bit length field")]
    PacketTooLong(usize),
}

/// Writes pcapng blocks to `W`; interfaces are declared on first use of a link type.
pub struct PcapngWriter<W: Write> {
    out: W,
    /// Link type of each interface, in the order declared (the index is the interface id).
    interfaces: Vec<i32>,
}

impl<W: Write> PcapngWriter<W> {
    /// Starts a section (its header block names rdpscope as the writing application).
    pub fn new(mut out: W) -> Result<Self, PcapngWriteError> {
        let mut body = Vec::with_capacity(64);
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes()); // major version
        body.extend_from_slice(&0u16.to_le_bytes()); // minor version
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length: not given
        push_option(
            &mut body,
            SHB_USERAPPL,
            concat!("rdpscope ", env!("CARGO_PKG_VERSION")).as_bytes(),
        );
        push_option_end(&mut body);
        write_block(&mut out, SECTION_HEADER, &body)?;
        Ok(PcapngWriter {
            out,
            interfaces: Vec::new(),
        })
    }

    /// The interface id for `linktype`, declaring it (with nanosecond timestamps) first.
    fn interface(&mut self, linktype: i32) -> Result<u32, PcapngWriteError> {
        if let Some(i) = self.interfaces.iter().position(|&l| l == linktype) {
            return u32::try_from(i).map_err(|_| PcapngWriteError::LinkType(linktype));
        }
        let link = u16::try_from(linktype).map_err(|_| PcapngWriteError::LinkType(linktype))?;
        let mut body = Vec::with_capacity(24);
        body.extend_from_slice(&link.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes()); // reserved
        body.extend_from_slice(&0u32.to_le_bytes()); // snaplen: no limit
        push_option(&mut body, IF_TSRESOL, &[NANOSECONDS]);
        push_option_end(&mut body);
        write_block(&mut self.out, INTERFACE_DESCRIPTION, &body)?;
        let id = u32::try_from(self.interfaces.len())
            .map_err(|_| PcapngWriteError::LinkType(linktype))?;
        self.interfaces.push(linktype);
        Ok(id)
    }

    /// Writes one packet (captured bytes `data` of `orig_len` on the wire, at `ts_ns` since
    /// the epoch; times before 1970 are written as 0) with an optional comment, cut to the
    /// 65535 bytes an option holds.
    pub fn packet(
        &mut self,
        linktype: i32,
        ts_ns: i64,
        data: &[u8],
        orig_len: u32,
        comment: Option<&str>,
    ) -> Result<(), PcapngWriteError> {
        let id = self.interface(linktype)?;
        let caplen =
            u32::try_from(data.len()).map_err(|_| PcapngWriteError::PacketTooLong(data.len()))?;
        let ts = u64::try_from(ts_ns).unwrap_or(0);
        let mut body = Vec::with_capacity(32 + data.len() + comment.map_or(0, str::len));
        body.extend_from_slice(&id.to_le_bytes());
        // The 64-bit timestamp as its high and low 32-bit halves (pcapng 4.3).
        let high = u32::try_from(ts >> 32).unwrap_or(u32::MAX);
        let low = u32::try_from(ts & 0xFFFF_FFFF).unwrap_or(0);
        body.extend_from_slice(&high.to_le_bytes());
        body.extend_from_slice(&low.to_le_bytes());
        body.extend_from_slice(&caplen.to_le_bytes());
        body.extend_from_slice(&orig_len.max(caplen).to_le_bytes());
        body.extend_from_slice(data);
        pad_to_4(&mut body);
        if let Some(text) = comment.filter(|t| !t.is_empty()) {
            push_option(
                &mut body,
                OPT_COMMENT,
                cut_at_char(text, MAX_OPTION).as_bytes(),
            );
            push_option_end(&mut body);
        }
        write_block(&mut self.out, ENHANCED_PACKET, &body)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> Result<W, PcapngWriteError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn cut_at_char(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or("")
}

fn pad_to_4(body: &mut Vec<u8>) {
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
}

/// One option: code, length, value padded to 32 bits. `value` is at most `MAX_OPTION` bytes.
fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    let value = value.get(..value.len().min(MAX_OPTION)).unwrap_or(&[]);
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&len.to_le_bytes());
    body.extend_from_slice(value);
    pad_to_4(body);
}

fn push_option_end(body: &mut Vec<u8>) {
    body.extend_from_slice(&OPT_END.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
}

/// A block: type, total length, body (already padded), total length again.
fn write_block<W: Write>(
    out: &mut W,
    block_type: u32,
    body: &[u8],
) -> Result<(), PcapngWriteError> {
    let total = body
        .len()
        .checked_add(12)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or(PcapngWriteError::PacketTooLong(body.len()))?;
    out.write_all(&block_type.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&total.to_le_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn synthetic_blocks_have_matching_lengths_and_the_comment_option() {
        let mut w = PcapngWriter::new(Vec::new()).unwrap();
        w.packet(
            1,
            1_500_000_000_123_456_789,
            &[1, 2, 3, 4, 5],
            60,
            Some("frame 7: nla-failed"),
        )
        .unwrap();
        w.packet(1, 1_500_000_000_223_456_789, &[9; 8], 8, None)
            .unwrap();
        let bytes = w.finish().unwrap();
        // Walk the blocks: each total length is written at both ends.
        let mut at = 0;
        let mut types = Vec::new();
        while at < bytes.len() {
            let len = u32_at(&bytes, at + 4) as usize;
            assert_eq!(len % 4, 0);
            assert_eq!(u32_at(&bytes, at + len - 4) as usize, len);
            types.push(u32_at(&bytes, at));
            at += len;
        }
        assert_eq!(at, bytes.len());
        assert_eq!(
            types,
            [
                SECTION_HEADER,
                INTERFACE_DESCRIPTION,
                ENHANCED_PACKET,
                ENHANCED_PACKET
            ]
        );
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("frame 7: nla-failed"));
        assert_eq!(text.matches("frame 7").count(), 1);
    }

    #[test]
    fn synthetic_comment_is_cut_on_a_character_boundary() {
        let long = "é".repeat(40_000);
        let cut = cut_at_char(&long, MAX_OPTION);
        assert!(cut.len() <= MAX_OPTION && cut.len().is_multiple_of(2));
    }
}
