//! One value per side of a connection, indexed by the side (or by `Side::index()`), without
//! the out-of-bounds panic that indexing a plain `[T; 2]` by a computed number could have.

use std::ops::{Deref, DerefMut, Index, IndexMut};

use super::Side;

/// `[client, server]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Sides<T>(pub [T; 2]);

impl<T> Sides<T> {
    pub fn get(&self, side: Side) -> &T {
        let [client, server] = &self.0;
        match side {
            Side::Client => client,
            Side::Server => server,
        }
    }

    pub fn get_mut(&mut self, side: Side) -> &mut T {
        let [client, server] = &mut self.0;
        match side {
            Side::Client => client,
            Side::Server => server,
        }
    }
}

/// `Side::index()`: 0 is the client; any other number is the server (only 1 is ever made).
fn side_of(index: usize) -> Side {
    if index == 0 {
        Side::Client
    } else {
        Side::Server
    }
}

impl<T> Index<Side> for Sides<T> {
    type Output = T;
    fn index(&self, side: Side) -> &T {
        self.get(side)
    }
}

impl<T> IndexMut<Side> for Sides<T> {
    fn index_mut(&mut self, side: Side) -> &mut T {
        self.get_mut(side)
    }
}

impl<T> Index<usize> for Sides<T> {
    type Output = T;
    fn index(&self, index: usize) -> &T {
        self.get(side_of(index))
    }
}

impl<T> IndexMut<usize> for Sides<T> {
    fn index_mut(&mut self, index: usize) -> &mut T {
        self.get_mut(side_of(index))
    }
}

impl<T> Deref for Sides<T> {
    type Target = [T; 2];
    fn deref(&self) -> &[T; 2] {
        &self.0
    }
}

impl<T> DerefMut for Sides<T> {
    fn deref_mut(&mut self) -> &mut [T; 2] {
        &mut self.0
    }
}

impl<T: PartialEq> PartialEq<[T; 2]> for Sides<T> {
    fn eq(&self, other: &[T; 2]) -> bool {
        self.0 == *other
    }
}

impl<T> From<[T; 2]> for Sides<T> {
    fn from(v: [T; 2]) -> Self {
        Sides(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexed_by_side_or_its_number() {
        let mut s = Sides([1u32, 2]);
        s[Side::Server] += 10;
        s[Side::Client.index()] += 5;
        assert_eq!(s.0, [6, 12]);
        assert_eq!(s[Side::Server.index()], 12);
    }
}
