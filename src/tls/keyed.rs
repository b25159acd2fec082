//! A [`TlsDecryptor`] tied to the run's key store: it looks its keys up when it learns its
//! client random, and again whenever the store gains secrets (a later DSB, a key log that
//! grew) while it still has none.

use crate::keys::KeyStore;

use super::decryptor::{Plaintext, RecordIn, ServerHelloInfo, TlsDecryptor};

pub struct KeyedDecryptor {
    pub decryptor: TlsDecryptor,
    store: KeyStore,
    /// The store's generation at the last look-up (None: never looked).
    looked_at: Option<u64>,
}

impl KeyedDecryptor {
    pub fn new(store: KeyStore) -> Self {
        KeyedDecryptor {
            decryptor: TlsDecryptor::new(),
            store,
            looked_at: None,
        }
    }

    pub fn client_hello(&mut self, random: [u8; 32]) {
        self.decryptor.client_hello(random);
    }

    pub fn server_hello(&mut self, hello: ServerHelloInfo, out: &mut dyn FnMut(Plaintext<'_>)) {
        self.decryptor.server_hello(hello);
        self.poll(out);
    }

    pub fn record(&mut self, rec: RecordIn<'_>, out: &mut dyn FnMut(Plaintext<'_>)) {
        self.poll(out);
        self.decryptor.record(rec, out);
    }

    /// Looks the keys up if they are still wanted and the store changed since the last look
    /// (a connection's end calls it too, for secrets that came after its last record).
    pub fn poll(&mut self, out: &mut dyn FnMut(Plaintext<'_>)) {
        let Some(random) = self.decryptor.wants_keys() else {
            return;
        };
        let generation = self.store.generation();
        if self.looked_at == Some(generation) {
            return;
        }
        self.looked_at = Some(generation);
        if let Some(secrets) = self.store.lookup(&random) {
            self.decryptor.offer_keys(&secrets, out);
        }
    }
}
