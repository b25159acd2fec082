//! TLS record decryption with the secrets of `keys/` (RFC 5246, RFC 8446): the key
//! schedule, record protection and a per-connection [`TlsDecryptor`] that yields plaintext
//! with its frame references. Pure: no I/O; keys are handed in.

mod cipher;
mod decryptor;
pub mod fuzz_input;
mod keyed;
mod schedule;
mod suite;
#[cfg(test)]
mod trust_tests;

pub use cipher::OpenError;
pub use decryptor::{
    DecryptionState, DecryptionStatus, Failure, Plaintext, RecordIn, ServerHelloInfo, TlsDecryptor,
    CONTENT_ALERT, CONTENT_APPLICATION_DATA, CONTENT_CHANGE_CIPHER_SPEC, CONTENT_HANDSHAKE,
    MAX_HELD_BYTES, MAX_HELD_RECORDS, TRAFFIC_SEARCH_LIMIT,
};
pub use keyed::KeyedDecryptor;
pub use suite::{suite_info, CipherSuiteId, ProtocolVersion, SuiteInfo};
