//! One read cursor over untrusted bytes, built on nom's `complete` parsers: every read either
//! returns a value or an error naming the layer, the field and the offset where it was cut.

use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u64, le_u16, le_u32, u8 as byte};
use nom::IResult;

use super::ProtoError;

#[derive(Debug, Clone)]
pub struct ByteCursor<'a> {
    layer: &'static str,
    len: usize,
    rest: &'a [u8],
}

impl<'a> ByteCursor<'a> {
    pub fn new(layer: &'static str, input: &'a [u8]) -> Self {
        ByteCursor {
            layer,
            len: input.len(),
            rest: input,
        }
    }

    /// Bytes read so far.
    pub fn offset(&self) -> usize {
        self.len - self.rest.len()
    }

    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// What is left, without consuming it.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn run<T>(
        &mut self,
        field: &'static str,
        parser: impl FnOnce(&'a [u8]) -> IResult<&'a [u8], T>,
    ) -> Result<T, ProtoError> {
        let at = self.offset();
        match parser(self.rest) {
            Ok((rest, value)) => {
                self.rest = rest;
                Ok(value)
            }
            Err(_) => Err(ProtoError::truncated(self.layer, field, at)),
        }
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, ProtoError> {
        self.run(field, byte)
    }

    pub fn le_u16(&mut self, field: &'static str) -> Result<u16, ProtoError> {
        self.run(field, le_u16)
    }

    pub fn le_u32(&mut self, field: &'static str) -> Result<u32, ProtoError> {
        self.run(field, le_u32)
    }

    pub fn be_u16(&mut self, field: &'static str) -> Result<u16, ProtoError> {
        self.run(field, be_u16)
    }

    pub fn be_u32(&mut self, field: &'static str) -> Result<u32, ProtoError> {
        self.run(field, be_u32)
    }

    pub fn be_u64(&mut self, field: &'static str) -> Result<u64, ProtoError> {
        self.run(field, be_u64)
    }

    /// The next `n` bytes, borrowed; an error when fewer are left.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ProtoError> {
        self.run(field, |i| take(n)(i))
    }

    /// Skips `n` bytes (padding, fields that are never shown such as passwords).
    pub fn skip(&mut self, n: usize, field: &'static str) -> Result<(), ProtoError> {
        self.take(n, field).map(|_| ())
    }

    /// An error about the field just read, at the offset where it started.
    pub fn invalid(
        &self,
        field: &'static str,
        back: usize,
        reason: impl Into<String>,
    ) -> ProtoError {
        ProtoError::invalid(
            self.layer,
            field,
            self.offset().saturating_sub(back),
            reason,
        )
    }
}

/// UTF-16LE text up to its first NUL, at most `max_chars` characters; unpaired surrogates
/// become U+FFFD. The length is bounded by the caller's slice, never by a length field.
pub fn utf16le_text(bytes: &[u8], max_chars: usize) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .take_while(|u| *u != 0)
        .take(max_chars);
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Latin-1/ASCII text up to its first NUL, at most `max_chars` characters.
pub fn ascii_text(bytes: &[u8], max_chars: usize) -> String {
    bytes
        .iter()
        .take_while(|b| **b != 0)
        .take(max_chars)
        .map(|b| char::from(*b))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_reports_where_it_was_cut() {
        let mut c = ByteCursor::new("t", &[1, 2, 0, 3]);
        assert_eq!(c.u8("a").unwrap(), 1);
        assert_eq!(c.le_u16("b").unwrap(), 2);
        assert_eq!(c.le_u16("c"), Err(ProtoError::truncated("t", "c", 3)));
        assert_eq!(c.remaining(), 1);
    }

    #[test]
    fn decodes_text_to_the_first_nul() {
        assert_eq!(utf16le_text(&[0x41, 0, 0x42, 0, 0, 0, 0x43, 0], 10), "AB");
        assert_eq!(utf16le_text(&[0x41, 0, 0x42], 10), "A");
        assert_eq!(utf16le_text(&[0x00, 0xd8, 0x41, 0], 10), "\u{fffd}A");
        assert_eq!(ascii_text(b"RDP\0x", 10), "RDP");
    }
}
