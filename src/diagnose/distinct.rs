//! Counting distinct client addresses in fixed memory: exactly while there are few, then
//! with a HyperLogLog sketch (Flajolet et al., 2007) of 4096 one-byte registers, about 1.6 %
//! standard error. A flood from 10^6 spoofed addresses costs the same 4 KiB as one from 10^3,
//! so memory follows the servers being tracked, never the length of the capture.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::net::IpAddr;

/// Addresses kept as they are before the sketch takes over.
const EXACT_MAX: usize = 64;
/// log2 of the number of registers.
const PRECISION: u32 = 12;
const REGISTERS: usize = 1 << PRECISION;

#[derive(Debug, Clone)]
enum Repr {
    Exact(Vec<IpAddr>),
    Sketch(Box<[u8; REGISTERS]>),
}

#[derive(Debug, Clone)]
pub struct DistinctCounter {
    repr: Repr,
}

impl Default for DistinctCounter {
    fn default() -> Self {
        DistinctCounter {
            repr: Repr::Exact(Vec::new()),
        }
    }
}

/// A fixed hasher, so the same addresses give the same estimate in every run.
fn hash(ip: IpAddr) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(ip)
}

fn add_to_sketch(registers: &mut [u8; REGISTERS], ip: IpAddr) {
    let h = hash(ip);
    let index = (h >> (64 - PRECISION)) as usize;
    // The rank of the first 1 bit in the remaining bits; the guard bit bounds it.
    let rest = (h << PRECISION) | (1 << (PRECISION - 1));
    let rank = rest.leading_zeros() as u8 + 1;
    if let Some(r) = registers.get_mut(index) {
        *r = (*r).max(rank);
    }
}

impl DistinctCounter {
    pub fn insert(&mut self, ip: IpAddr) {
        match &mut self.repr {
            Repr::Exact(seen) => {
                if seen.contains(&ip) {
                    return;
                }
                if seen.len() < EXACT_MAX {
                    seen.push(ip);
                    return;
                }
                let mut registers = Box::new([0u8; REGISTERS]);
                for &old in seen.iter() {
                    add_to_sketch(&mut registers, old);
                }
                add_to_sketch(&mut registers, ip);
                self.repr = Repr::Sketch(registers);
            }
            Repr::Sketch(registers) => add_to_sketch(registers, ip),
        }
    }

    /// Whether `count` is an estimate (there were too many addresses to keep).
    pub fn is_estimate(&self) -> bool {
        matches!(self.repr, Repr::Sketch(_))
    }

    pub fn count(&self) -> u64 {
        match &self.repr {
            Repr::Exact(seen) => seen.len() as u64,
            Repr::Sketch(registers) => estimate(registers),
        }
    }
}

fn estimate(registers: &[u8; REGISTERS]) -> u64 {
    let m = REGISTERS as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let sum: f64 = registers.iter().map(|&r| 2f64.powi(-i32::from(r))).sum();
    let zeros = registers.iter().filter(|&&r| r == 0).count();
    let raw = alpha * m * m / sum;
    // Small ranges: linear counting over the empty registers is the better estimate.
    let e = if raw <= 2.5 * m && zeros > 0 {
        m * (m / zeros as f64).ln()
    } else {
        raw
    };
    e.round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    #[test]
    fn few_addresses_are_counted_exactly_and_repeats_once() {
        let mut c = DistinctCounter::default();
        for n in 0..50 {
            c.insert(ip(n));
            c.insert(ip(n));
        }
        assert_eq!(c.count(), 50);
        assert!(!c.is_estimate());
    }

    #[test]
    fn many_addresses_are_estimated_within_a_few_percent_in_fixed_memory() {
        for &n in &[100u32, 1_000, 10_000, 100_000, 1_000_000] {
            let mut c = DistinctCounter::default();
            for i in 0..n {
                // Spread like spoofed sources, each seen twice.
                let a = ip(0x0a00_0000u32.wrapping_add(i.wrapping_mul(2_654_435_761)));
                c.insert(a);
                c.insert(a);
            }
            let got = c.count() as f64;
            let error = (got - f64::from(n)).abs() / f64::from(n);
            assert!(error < 0.05, "{n} addresses estimated as {got}");
            assert_eq!(c.is_estimate(), n as usize > EXACT_MAX);
        }
    }
}
