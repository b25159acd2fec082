//! Hello extensions (RFC 8446 4.2): what the ClientHello offers (SNI, versions, groups,
//! signature algorithms, ALPN) and the two ServerHello extensions the decryptor needs
//! (supported_versions, encrypt_then_mac). Apart from the message parsing because the
//! extension list is its own TLV format with its own registry.

use nom::multi::{length_data, many0};
use nom::number::complete::be_u16;
use nom::sequence::pair;
use nom::IResult;
use tls_parser::TlsExtension;

use super::{is_grease, ClientHelloInfo, MAX_LIST};

pub(super) fn client_extensions(info: &mut ClientHelloInfo, exts: &[TlsExtension]) {
    for e in exts {
        match e {
            TlsExtension::SNI(names) => {
                info.sni = names
                    .first()
                    .map(|(_, n)| String::from_utf8_lossy(n).into_owned());
            }
            TlsExtension::SupportedVersions(v) => {
                info.supported_versions = v
                    .iter()
                    .map(|x| x.0)
                    .filter(|x| !is_grease(*x))
                    .take(MAX_LIST)
                    .collect();
            }
            TlsExtension::EllipticCurves(g) => {
                info.supported_groups = g
                    .iter()
                    .map(|x| x.0)
                    .filter(|x| !is_grease(*x))
                    .take(MAX_LIST)
                    .collect();
            }
            TlsExtension::SignatureAlgorithms(s) => {
                info.signature_algorithms = s.iter().copied().take(MAX_LIST).collect();
            }
            TlsExtension::ALPN(p) => {
                info.alpn = p
                    .iter()
                    .take(32)
                    .map(|x| String::from_utf8_lossy(x).into_owned())
                    .collect();
            }
            _ => {}
        }
    }
}

/// supported_versions (RFC 8446 4.2).
const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// One extension (RFC 8446 4.2): type, then a u16-length-prefixed body.
fn extension(i: &[u8]) -> IResult<&[u8], (u16, &[u8])> {
    pair(be_u16, length_data(be_u16))(i)
}

/// TLS extension type of encrypt_then_mac (RFC 7366 2).
const EXT_ENCRYPT_THEN_MAC: u16 = 22;

/// The encrypt_then_mac extension in a ServerHello.
pub(super) fn server_encrypt_then_mac(ext: &[u8]) -> bool {
    many0(extension)(ext)
        .ok()
        .is_some_and(|(_, exts)| exts.iter().any(|(kind, _)| *kind == EXT_ENCRYPT_THEN_MAC))
}

/// The supported_versions extension of a ServerHello holds the one chosen version
/// (RFC 8446 4.2.1); a list that cannot be framed has no answer.
pub(super) fn server_supported_version(ext: &[u8]) -> Option<u16> {
    let (_, extensions) = many0(extension)(ext).ok()?;
    extensions.into_iter().find_map(|(kind, data)| match data {
        &[hi, lo] if kind == EXT_SUPPORTED_VERSIONS => Some(u16::from_be_bytes([hi, lo])),
        _ => None,
    })
}
