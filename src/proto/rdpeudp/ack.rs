//! MS-RDPEUDP v1 acknowledgement structures: RDPUDP_ACK_VECTOR_HEADER (MS-RDPEUDP 2.2.2.7).

use nom::bytes::complete::take;
use nom::number::complete::be_u16;

use super::MAX_ACK_VECTOR;
use crate::proto::wire::{field, Parsed, WireError};

/// One RDPUDP_ACK_VECTOR_HEADER element: bits 7-6 state, bits 5-0 run length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckRun {
    /// State 0 (DATAGRAM_RECEIVED).
    pub received: bool,
    /// Raw state: 0 received, 3 not yet received, 1/2 reserved.
    pub state: u8,
    /// Run length field; the run covers `length + 1` datagrams.
    pub length: u8,
}

impl AckRun {
    fn from_byte(b: u8) -> Self {
        let state = b >> 6;
        AckRun {
            received: state == 0,
            state,
            length: b & 0x3f,
        }
    }

    /// How many datagrams this run describes.
    pub fn datagrams(&self) -> u32 {
        u32::from(self.length) + 1
    }

    /// State 3 (DATAGRAM_NOT_YET_RECEIVED): the receiver reports a hole.
    pub fn not_received(&self) -> bool {
        self.state == 3
    }
}

/// RDPUDP_ACK_VECTOR_HEADER (runs in wire order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckVector {
    pub size: u16,
    pub runs: Vec<AckRun>,
}

impl AckVector {
    /// Datagrams reported as not yet received (state 3).
    pub fn missing(&self) -> u32 {
        self.runs
            .iter()
            .filter(|r| r.not_received())
            .map(AckRun::datagrams)
            .sum()
    }
}

/// RDPUDP_ACK_VECTOR_HEADER: uAckVectorSize (at most 2048), the elements, DWORD padding.
pub(super) fn ack_vector(i: &[u8]) -> Parsed<'_, AckVector> {
    let start = i;
    let (i, size) = field("uAckVectorSize", be_u16)(i)?;
    if size > MAX_ACK_VECTOR {
        return Err(WireError::invalid(
            start,
            "uAckVectorSize",
            format!("{size} is above {MAX_ACK_VECTOR}"),
        ));
    }
    let (i, bytes) = field("AckVectorElement", take(usize::from(size)))(i)?;
    let runs = bytes.iter().map(|b| AckRun::from_byte(*b)).collect();
    // The header is padded to a DWORD boundary; tshark 4.0 ignores this padding, and it may be
    // cut off at the end of the datagram.
    let used = 2 + usize::from(size);
    let pad = ((4 - used % 4) % 4).min(i.len());
    let (i, _) = take(pad)(i)?;
    Ok((i, AckVector { size, runs }))
}
