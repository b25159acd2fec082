//! Framing of one direction's reassembled bytes into PDUs (TPKT, fast-path, TLS records),
//! with resynchronisation after a gap and without buffering bulk record bodies.

use crate::proto::{fastpath, tls, tpkt, Framing};

/// One unit cut from the byte stream.
#[derive(Debug)]
pub enum Pdu<'a> {
    /// A whole TPKT packet, header included.
    Tpkt(&'a [u8]),
    /// A whole fast-path PDU, header included.
    FastPath(&'a [u8]),
    /// A whole TLS record, header included (handshake, alert, change_cipher_spec, heartbeat).
    TlsRecord(&'a [u8]),
    /// An application_data record: only its header matters, the body is skipped unbuffered.
    TlsAppData { len: usize },
    /// A whole application_data record, header included, for a connection being decrypted.
    TlsAppRecord(&'a [u8]),
    /// Bytes that fit no framing; parsing resyncs after them.
    Unknown {
        len: usize,
        first_byte: u8,
        head: super::event::Head,
    },
}

/// Records and PDUs above this size are never buffered whole (bodies are skipped).
const MAX_PDU: usize = 64 * 1024;
/// An emptied buffer larger than this is given back at once (smaller ones are kept for the
/// next PDU straddling segments, until the connection goes quiet).
const RELEASE_EMPTY: usize = 2048;

#[derive(Debug, Default)]
pub struct StreamFramer {
    buf: Vec<u8>,
    /// Body bytes of the current record still to be skipped.
    skip: usize,
    /// After a gap or garbage: look for a plausible header before trusting the framing.
    resync: bool,
    /// Fast-path is only plausible once the connection uses Standard RDP Security data PDUs.
    pub fastpath_allowed: bool,
    /// The connection is decrypted: application_data records are framed whole (at most
    /// 2^14 + 2048 bytes, RFC 5246 6.2.3), not skipped.
    pub keep_app_data: bool,
    pub unknown_bytes: u64,
}

impl StreamFramer {
    /// Heap bytes of the buffer of bytes waiting for the rest of their PDU.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Gives back the buffer's spare capacity (a quiet connection); waiting bytes stay.
    pub fn compact(&mut self) {
        self.buf.shrink_to_fit();
    }

    pub fn gap(&mut self) {
        self.buf.clear();
        self.skip = 0;
        self.resync = true;
    }

    pub fn push(&mut self, mut data: &[u8], emit: &mut dyn FnMut(Pdu<'_>)) {
        if self.skip > 0 {
            let n = self.skip.min(data.len());
            self.skip -= n;
            data = data.get(n..).unwrap_or_default();
        }
        if data.is_empty() {
            return;
        }
        if self.buf.is_empty() {
            // Common case: frame straight from the segment, buffer only the tail.
            let used = self.frame(data, emit);
            let rest = data.get(used..).unwrap_or_default();
            self.keep(rest);
        } else {
            self.buf.extend_from_slice(data);
            let mut buf = std::mem::take(&mut self.buf);
            let used = self.frame(&buf, emit).min(buf.len());
            // The tail moves to the front of the same allocation.
            buf.drain(..used);
            if self.skip > 0 {
                buf.clear();
            }
            self.buf = buf;
        }
        if self.buf.is_empty() && self.buf.capacity() > RELEASE_EMPTY && !self.keep_app_data {
            // A handshake's long record (a certificate chain) was read whole: the buffer
            // goes back instead of staying with the connection for its lifetime.
            self.buf = Vec::new();
        }
    }

    fn keep(&mut self, rest: &[u8]) {
        if self.skip > 0 {
            return;
        }
        self.buf.extend_from_slice(rest);
    }

    /// Cuts as many whole PDUs from `data` as possible; returns how many bytes were used.
    fn frame(&mut self, data: &[u8], emit: &mut dyn FnMut(Pdu<'_>)) -> usize {
        let mut pos = 0;
        while let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
            if self.resync {
                match self.find_header(rest) {
                    Some(0) => self.resync = false,
                    Some(n) => {
                        self.unknown_bytes += n as u64;
                        pos += n;
                        self.resync = false;
                        continue;
                    }
                    None => {
                        // Keep the tail: a header may straddle the next segment.
                        let dropped = rest.len().saturating_sub(5);
                        self.unknown_bytes += dropped as u64;
                        return pos + dropped;
                    }
                }
            }
            match self.classify(rest) {
                Framing::Complete(n) => {
                    let Some(pdu) = rest.get(..n) else { return pos };
                    self.emit_pdu(pdu, emit);
                    pos += n;
                }
                Framing::NeedMore(more) => {
                    // A record too big to buffer: report it from its header and skip its body.
                    if rest.len() + more > MAX_PDU || (is_app_data(rest) && !self.keep_app_data) {
                        if let Some(len) = tls_record_len(rest) {
                            emit(Pdu::TlsAppData { len });
                            self.skip = more;
                            return data.len();
                        }
                        emit(Pdu::Unknown {
                            len: rest.len() + more,
                            first_byte: rest.first().copied().unwrap_or(0),
                            head: super::event::Head::new(rest),
                        });
                        self.skip = more;
                        return data.len();
                    }
                    return pos;
                }
                Framing::Invalid => {
                    emit(Pdu::Unknown {
                        len: rest.len(),
                        first_byte: rest.first().copied().unwrap_or(0),
                        head: super::event::Head::new(rest),
                    });
                    self.resync = true;
                    self.unknown_bytes += 1;
                    pos += 1;
                }
            }
        }
        pos
    }

    fn classify(&self, b: &[u8]) -> Framing {
        match b.first() {
            Some(0x03) => tpkt::find_size(b),
            Some(0x14..=0x18) => tls::find_record_size(b),
            Some(_) if self.fastpath_allowed => fastpath::find_size(b),
            Some(_) => Framing::Invalid,
            None => Framing::NeedMore(1),
        }
    }

    fn emit_pdu(&self, pdu: &[u8], emit: &mut dyn FnMut(Pdu<'_>)) {
        match pdu.first() {
            Some(0x03) => emit(Pdu::Tpkt(pdu)),
            Some(0x17) if self.keep_app_data => emit(Pdu::TlsAppRecord(pdu)),
            Some(0x17) => emit(Pdu::TlsAppData {
                len: pdu.len().saturating_sub(5),
            }),
            Some(0x14..=0x18) => emit(Pdu::TlsRecord(pdu)),
            _ => emit(Pdu::FastPath(pdu)),
        }
    }

    /// Offset of the first plausible TPKT or TLS record header in `b`.
    fn find_header(&self, b: &[u8]) -> Option<usize> {
        (0..b.len()).find(|&i| b.get(i..).is_some_and(plausible_header))
    }
}

fn is_app_data(b: &[u8]) -> bool {
    matches!(b, [0x17, 0x03, ..])
}

fn tls_record_len(b: &[u8]) -> Option<usize> {
    match b {
        [0x14..=0x18, 0x03, _, hi, lo, ..] => Some(usize::from(u16::from_be_bytes([*hi, *lo]))),
        _ => None,
    }
}

/// Stricter than framing: after a gap, random bytes must not pass for a header.
fn plausible_header(b: &[u8]) -> bool {
    match b {
        [0x03, 0x00, hi, lo, li, code, ..] => {
            let len = u16::from_be_bytes([*hi, *lo]);
            (7..=0x4000).contains(&len)
                && usize::from(*li) + 5 <= usize::from(len)
                && matches!(code & 0xf0, 0xe0 | 0xd0 | 0xf0 | 0x80 | 0x70)
        }
        [0x14..=0x18, 0x03, minor, hi, lo, ..] => {
            let len = u16::from_be_bytes([*hi, *lo]);
            *minor <= 4 && len > 0 && len <= 0x4800
        }
        _ => false,
    }
}

/// Side-flow TCP messages behind a length prefix (DNS, RFC 1035 4.2.2; Kerberos, RFC 4120
/// 7.2.2): `bytes` join what `buf` held, each complete message (prefix of `header` bytes
/// stripped) goes to `on_message`, the unframed tail waits in `buf` (dropped past `max`).
/// Returns how many prefixes could not be framed.
pub(crate) fn length_prefixed(
    buf: &mut Vec<u8>,
    bytes: &[u8],
    max: usize,
    find_size: fn(&[u8]) -> Framing,
    header: usize,
    on_message: &mut dyn FnMut(&[u8]),
) -> u32 {
    buf.extend_from_slice(bytes);
    let mut start = 0;
    let mut invalid = 0;
    loop {
        let rest = buf.get(start..).unwrap_or_default();
        match find_size(rest) {
            Framing::Complete(n) => {
                on_message(rest.get(header..n).unwrap_or_default());
                start += n;
            }
            Framing::NeedMore(_) => break,
            Framing::Invalid => {
                invalid += 1;
                start = buf.len();
                break;
            }
        }
    }
    buf.drain(..start.min(buf.len()));
    if buf.len() > max {
        buf.clear();
    }
    invalid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(framer: &mut StreamFramer, chunks: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        for c in chunks {
            framer.push(c, &mut |p| out.push(format!("{p:?}")));
        }
        out
    }

    // X.224 Connection Confirm with RDP_NEG_RSP (HYBRID), as in FACTS 1.4.
    const CC: [u8; 19] = [
        0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x01, 0x08, 0x00,
        0x02, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn frames_a_tpkt_split_across_segments() {
        let mut f = StreamFramer::default();
        let out = collect(&mut f, &[&CC[..3], &CC[3..10], &CC[10..]]);
        assert_eq!(out.len(), 1);
        assert!(out[0].starts_with("Tpkt("));
    }

    #[test]
    fn skips_application_data_bodies_without_buffering() {
        let mut f = StreamFramer::default();
        let mut rec = vec![0x17, 0x03, 0x03, 0x10, 0x00];
        rec.extend(std::iter::repeat_n(0xaa, 100));
        let out = collect(&mut f, &[&rec, &[0xbb; 3000], &[0xcc; 996], &CC]);
        assert_eq!(
            out,
            vec![
                "TlsAppData { len: 4096 }".to_string(),
                format!("{:?}", Pdu::Tpkt(&CC))
            ]
        );
        assert!(f.buf.is_empty());
    }

    #[test]
    fn resyncs_at_the_next_header_after_a_gap() {
        let mut f = StreamFramer::default();
        f.gap();
        let mut chunk = vec![0x42; 37];
        chunk.extend_from_slice(&CC);
        let out = collect(&mut f, &[&chunk]);
        assert_eq!(out, vec![format!("{:?}", Pdu::Tpkt(&CC))]);
        assert_eq!(f.unknown_bytes, 37);
    }
}
