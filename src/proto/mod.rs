//! Pure protocol parsers: bytes in, typed values out. No I/O, no global state.
//!
//! Every parser treats its input as hostile: no panics, no unchecked indexing,
//! and no allocation sized by a length field without a cap.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::cast_possible_truncation
    )
)]

pub mod byte_cursor;
pub mod credssp;
pub mod der;
pub mod dns;
pub mod dtls;
pub mod error;
pub mod fastpath;
pub mod gcc;
pub mod http;
pub mod http2;
pub mod kerberos;
pub mod kkdcp;
pub mod mcs;
pub mod nego;
pub mod ntlm;
pub mod rdp_pdu;
pub mod rdpeudp;
pub mod spnego;
pub mod tls;
pub mod tpkt;
pub mod tsgu;
pub mod websocket;
pub mod wire;
pub mod x224;

#[cfg(test)]
pub(crate) mod test_util;

pub use error::ProtoError;

/// How much of a byte stream one PDU (TPKT, fast-path, TLS record) occupies,
/// decided from its header alone, without decoding the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// A whole PDU of this many bytes (header included) starts at the front.
    Complete(usize),
    /// The header says the PDU is longer than what is buffered: this many more bytes are needed.
    NeedMore(usize),
    /// The bytes at the front are not a plausible header of this kind.
    Invalid,
}

/// Names of the set bits of a flags field, unknown bits kept as one hex value as wide as the
/// field (`0x0100` for a u16, `0x00000100` for a u32).
pub(crate) fn flag_names<T: Copy + Into<u64>>(value: T, known: &[(T, &str)]) -> Vec<String> {
    let value: u64 = value.into();
    let mut names: Vec<String> = known
        .iter()
        .filter(|(bit, _)| value & (*bit).into() != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    let unknown = known.iter().fold(value, |v, (bit, _)| v & !(*bit).into());
    if unknown != 0 {
        let width = 2 * std::mem::size_of::<T>();
        names.push(format!("0x{unknown:0width$x}"));
    }
    names
}
