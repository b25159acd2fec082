//! DTLS record headers (RFC 6347 4.1: `type(1) version(2) epoch(2) sequence_number(6)
//! length(2)`, 13 bytes) and the handshake type of a plaintext handshake record (RFC 6347
//! 4.2.2). An RD Gateway's UDP transport on port 3391 runs over DTLS (MS-TSGU 2.2.1,
//! 3.2.5.2): seeing these headers, keyless, tells that transport apart and whether the
//! gateway answered.

use nom::bytes::complete::take;
use nom::number::complete::{be_u16, u8 as byte};
use nom::IResult;

use super::ProtoError;

const LAYER: &str = "dtls";
pub const RECORD_HEADER_LEN: usize = 13;

/// Record content type (RFC 6347 4.1, RFC 5246 6.2.1); unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentType(pub u8);

impl ContentType {
    pub const CHANGE_CIPHER_SPEC: ContentType = ContentType(20);
    pub const ALERT: ContentType = ContentType(21);
    pub const HANDSHAKE: ContentType = ContentType(22);
    pub const APPLICATION_DATA: ContentType = ContentType(23);

    fn known(self) -> bool {
        (20..=24).contains(&self.0)
    }
}

/// Protocol version on the wire (RFC 6347 4.1: 1's complement of the TLS version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtlsVersion(pub u16);

impl DtlsVersion {
    pub const DTLS_1_0: DtlsVersion = DtlsVersion(0xFEFF);
    pub const DTLS_1_2: DtlsVersion = DtlsVersion(0xFEFD);
    pub const DTLS_1_3: DtlsVersion = DtlsVersion(0xFEFC);

    fn known(self) -> bool {
        matches!(self.0, 0xFEFF | 0xFEFD | 0xFEFC)
    }
}

/// Handshake message type (RFC 6347 4.2.2, 4.3.2); unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeType(pub u8);

impl HandshakeType {
    pub const CLIENT_HELLO: HandshakeType = HandshakeType(1);
    pub const SERVER_HELLO: HandshakeType = HandshakeType(2);
    pub const HELLO_VERIFY_REQUEST: HandshakeType = HandshakeType(3);
}

/// One DTLS record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub content_type: ContentType,
    pub version: DtlsVersion,
    pub epoch: u16,
    /// 48-bit record sequence number.
    pub sequence: u64,
    pub length: u16,
    /// For a plaintext (epoch 0) handshake record, the first message's type.
    pub handshake: Option<HandshakeType>,
}

fn header(i: &[u8]) -> IResult<&[u8], (u8, u16, u16, u64, u16)> {
    let (i, content_type) = byte(i)?;
    let (i, version) = be_u16(i)?;
    let (i, epoch) = be_u16(i)?;
    let (i, seq) = take(6usize)(i)?;
    let sequence = seq.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
    let (i, length) = be_u16(i)?;
    Ok((i, (content_type, version, epoch, sequence, length)))
}

/// The record header at the front of a datagram, checked for a known content type and a
/// DTLS version (what tells DTLS apart from RDP-UDP on the same port).
pub fn parse_record_header(datagram: &[u8]) -> Result<RecordHeader, ProtoError> {
    let (body, (content_type, version, epoch, sequence, length)) =
        header(datagram).map_err(|_| ProtoError::truncated(LAYER, "record header", 0))?;
    let content_type = ContentType(content_type);
    if !content_type.known() {
        return Err(ProtoError::invalid(
            LAYER,
            "content type",
            0,
            format!("{}", content_type.0),
        ));
    }
    let version = DtlsVersion(version);
    if !version.known() {
        return Err(ProtoError::invalid(
            LAYER,
            "version",
            1,
            format!("0x{:04x}", version.0),
        ));
    }
    let handshake = (content_type == ContentType::HANDSHAKE && epoch == 0)
        .then(|| body.first().copied().map(HandshakeType))
        .flatten();
    Ok(RecordHeader {
        content_type,
        version,
        epoch,
        sequence,
        length,
        handshake,
    })
}

/// Does `datagram` start with a DTLS record header?
pub fn looks_like_dtls(datagram: &[u8]) -> bool {
    parse_record_header(datagram).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DTLS 1.2 ClientHello record header as Windows sends to a gateway's UDP 3391:
    /// handshake, 0xFEFD, epoch 0, sequence 0, then the handshake header (type 1).
    const SYNTHETIC_CLIENT_HELLO: [u8; 14] = [
        0x16, 0xFE, 0xFD, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x01,
    ];

    #[test]
    fn synthetic_client_hello_header_parses() {
        let h = parse_record_header(&SYNTHETIC_CLIENT_HELLO).unwrap();
        assert_eq!(h.content_type, ContentType::HANDSHAKE);
        assert_eq!(h.version, DtlsVersion::DTLS_1_2);
        assert_eq!(h.length, 0x9C);
        assert_eq!(h.handshake, Some(HandshakeType::CLIENT_HELLO));
    }

    #[test]
    fn synthetic_rdp_udp_syn_and_truncated_bytes_are_not_dtls() {
        // RDP-UDP SYN: snSourceAck 0xFFFFFFFF first.
        assert!(!looks_like_dtls(&[
            0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x40, 0x00, 0x01, 0, 0, 0, 0, 0
        ]));
        assert!(!looks_like_dtls(&SYNTHETIC_CLIENT_HELLO[..12]));
        assert!(!looks_like_dtls(&[
            0x16, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
        ]));
    }

    #[test]
    fn synthetic_sequence_number_is_48_bits() {
        let mut b = SYNTHETIC_CLIENT_HELLO;
        b[5..11].copy_from_slice(&[0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC]);
        b[3..5].copy_from_slice(&[0, 1]);
        let h = parse_record_header(&b).unwrap();
        assert_eq!(h.sequence, 0x1234_5678_9ABC);
        assert_eq!(h.epoch, 1);
        assert_eq!(h.handshake, None);
    }
}
