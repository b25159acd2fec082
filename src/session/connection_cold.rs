//! `Cold<T>`: a part of a connection's state that most connections never fill (or fill late),
//! kept behind one pointer until first written. Reading an absent part reads its empty value,
//! so every reader sees what an inline default would have shown.

use std::ops::{Deref, DerefMut};
use std::sync::LazyLock;

/// A part of the state with an empty value to read while it is absent.
pub trait ColdPart: Default + 'static {
    fn empty() -> &'static Self;
}

/// `T` behind a pointer, made (as `T::default()`) on the first mutable access.
#[derive(Debug, Default)]
pub struct Cold<T>(Option<Box<T>>);

impl<T> Cold<T> {
    /// Whether the part was ever written.
    pub fn is_made(&self) -> bool {
        self.0.is_some()
    }

    /// Heap bytes of the part's box (the part's own heap not counted).
    pub fn box_bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |_| std::mem::size_of::<T>())
    }

    /// The part if it was written.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.0.as_deref_mut()
    }
}

impl<T: ColdPart> Deref for Cold<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_deref().unwrap_or_else(|| T::empty())
    }
}

impl<T: ColdPart> DerefMut for Cold<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

macro_rules! cold_part {
    ($($t:ty),*) => {$(
        impl ColdPart for $t {
            fn empty() -> &'static Self {
                static EMPTY: LazyLock<$t> = LazyLock::new(<$t>::default);
                &EMPTY
            }
        }
    )*};
}

cold_part!(
    super::X224State,
    super::TlsState,
    super::McsState,
    crate::flow::Sides<super::stream::StreamFramer>
);

/// The TLS reassembly cap of a connection (`Limits::max_tls_handshake`), given to its TLS
/// state when that is made; by default the parser's own cap, as `TlsState::default` has.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TlsCap(pub usize);

impl Default for TlsCap {
    fn default() -> Self {
        TlsCap(crate::proto::tls::MAX_HANDSHAKE)
    }
}
