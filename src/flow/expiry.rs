//! When flows are finished for being quiet: the expiry queue, the sweep and the eviction at
//! the `--max-flows` cap.
//!
//! Every open flow has one live entry in the queue, at a time no later than the soonest it
//! could be finished. A visit that finds a flow not due either compacts it (quiet) and parks
//! it until its idle deadline, or, for a flow that was busy, comes back `closed_linger_ns`
//! later to compact it once it has gone quiet. A packet on a parked flow gives it a fresh
//! entry (it may close, and a closed flow lingers from its last packet), so a flow that is
//! quiet for minutes is looked at twice, not every `closed_linger_ns`.

use std::cmp::Reverse;

use super::*;

impl<H: FlowHandler> FlowTable<H> {
    pub(super) fn maybe_sweep(&mut self, now_ns: i64, done: &mut Vec<FinishedFlow<H>>) {
        let due = self.next_sweep_ns.is_none_or(|t| now_ns >= t);
        if !due && self.flows.len() <= self.limits.max_flows {
            return;
        }
        self.next_sweep_ns = Some(now_ns.saturating_add(1_000_000_000));
        self.sweep(now_ns, done);
    }

    /// Compacts every open flow without a packet since `QUIET_NS` before `now_ns`, as the
    /// expiry queue does when it visits them (for measuring what a quiet flow keeps).
    pub fn compact_quiet(&mut self, now_ns: i64) {
        for f in self.flows.values_mut() {
            if now_ns.saturating_sub(f.meta.last.ts_ns) >= QUIET_NS {
                f.compact();
            }
        }
    }

    /// Finishes flows that have gone quiet, and the longest idle when the table is full.
    pub fn sweep(&mut self, now_ns: i64, done: &mut Vec<FinishedFlow<H>>) {
        let mut expired = self.take_expired(now_ns);
        // In id order, so the output does not depend on the hash table's seed.
        expired.sort_unstable_by_key(|(id, _)| *id);
        for (_, key) in expired {
            if let Some(flow) = self.remove(&key) {
                let last = flow.meta.last;
                finish(flow, &last, done);
            }
        }
        if self.flows.len() > self.limits.max_flows {
            let excess = self.flows.len() - self.limits.max_flows * 9 / 10;
            for key in self.longest_idle(excess) {
                if let Some(flow) = self.remove(&key) {
                    self.evicted += 1;
                    let last = flow.meta.last;
                    let before = done.len();
                    finish(flow, &last, done);
                    if let Some(f) = done.get_mut(before) {
                        f.evicted = true;
                    }
                }
            }
        }
    }

    /// The `n` flows idle the longest, in a total order (last packet time, id, tuple), to be
    /// finished in id order: which flows go and the order they are reported in do not depend
    /// on the hash seed. The cut is found on (time, id) pairs alone, and only the flows at it
    /// are told apart by their tuple: a burst at the cap holds a small vector, not one as long
    /// as the table with every key in it.
    fn longest_idle(&self, n: usize) -> Vec<FlowKey> {
        let Some(last) = n.checked_sub(1) else {
            return Vec::new();
        };
        let age = |f: &Flow<H>| (f.meta.last.ts_ns, f.meta.id);
        let mut ages: Vec<(i64, u64)> = self.flows.values().map(|f| age(f)).collect();
        if last >= ages.len() {
            ages.sort_unstable();
        } else {
            ages.select_nth_unstable(last);
        }
        let Some(&cut) = ages.get(last).or(ages.last()) else {
            return Vec::new();
        };
        let below = ages.iter().filter(|a| **a < cut).count();
        drop(ages);
        let mut chosen: Vec<(u64, FlowKey)> = Vec::with_capacity(n.min(self.flows.len()));
        let mut at_cut: Vec<(u64, FlowKey)> = Vec::new();
        for (k, f) in &self.flows {
            match age(f).cmp(&cut) {
                std::cmp::Ordering::Less => chosen.push((f.meta.id, *k)),
                std::cmp::Ordering::Equal => at_cut.push((f.meta.id, *k)),
                std::cmp::Ordering::Greater => {}
            }
        }
        // At the cut every flow has the same time and id: the tuple decides.
        at_cut.sort_unstable_by_key(|(_, k)| *k);
        at_cut.truncate(n.saturating_sub(below));
        chosen.append(&mut at_cut);
        chosen.sort_unstable();
        chosen.into_iter().map(|(_, k)| k).collect()
    }

    /// The flows quiet for longer than their timeout at `now_ns`: idle past
    /// `idle_timeout_ns`, or closed and quiet past `closed_linger_ns`. Only the queue's due
    /// entries are looked at; a flow that is not due yet goes back with its new earliest time.
    fn take_expired(&mut self, now_ns: i64) -> Vec<(u64, FlowKey)> {
        let cfg = &self.config;
        let linger = cfg.closed_linger_ns.min(cfg.idle_timeout_ns);
        let mut expired = Vec::new();
        let mut not_yet = Vec::new();
        while let Some(Reverse(entry)) = self.expiry.peek() {
            if entry.at_ns >= now_ns {
                break;
            }
            let Some(Reverse(entry)) = self.expiry.pop() else {
                break;
            };
            let Some(f) = self
                .flows
                .get_mut(&entry.key)
                .filter(|f| f.timer == entry.timer)
            else {
                continue; // the flow already ended
            };
            let idle = now_ns.saturating_sub(f.meta.last.ts_ns);
            let closed = f.closed();
            if idle > cfg.idle_timeout_ns || (closed && idle > cfg.closed_linger_ns) {
                expired.push((f.meta.id, entry.key));
                continue;
            }
            if idle >= QUIET_NS {
                f.compact();
            }
            let at_ns = if closed {
                // Lingers from its last packet; later packets only move that on.
                f.meta
                    .last
                    .ts_ns
                    .saturating_add(cfg.closed_linger_ns)
                    .min(now_ns.saturating_add(linger))
            } else if idle >= QUIET_NS {
                // Compacted: nothing to do before its idle deadline unless a packet comes,
                // and a packet on a parked flow gives it a new entry.
                f.parked = true;
                f.meta.last.ts_ns.saturating_add(cfg.idle_timeout_ns)
            } else {
                // Busy: back when it may have gone quiet (to compact it), or closed at the
                // earliest (a flow that closes later lingers from then on).
                f.meta
                    .last
                    .ts_ns
                    .saturating_add(cfg.idle_timeout_ns)
                    .min(now_ns.saturating_add(linger))
            };
            not_yet.push(Reverse(Expiry { at_ns, ..entry }));
        }
        self.expiry.extend(not_yet);
        // Entries of flows that ended otherwise (evicted, a reused tuple) wait for their time
        // to come; in a flood that is faster than the linger time they would pile up.
        let live = self.flows.len();
        if self.expiry.len() > live + live / 4 + 1024 {
            let flows = &self.flows;
            self.expiry
                .retain(|Reverse(e)| flows.get(&e.key).is_some_and(|f| f.timer == e.timer));
        }
        expired
    }
}

/// The earliest capture time an open flow could be finished for being quiet. A flow's true
/// expiry only moves later as packets come (or to `closed_linger_ns` after its last packet
/// when it closes, which is no earlier than `closed_linger_ns` after the entry was made), so
/// this is a lower bound the sweep can trust. A parked flow's entry (its idle deadline) is
/// a bound only while no packet comes; the packet path gives it a new one when one does.
#[derive(Debug, Clone, Copy)]
pub(super) struct Expiry {
    pub(super) at_ns: i64,
    pub(super) timer: u64,
    pub(super) key: FlowKey,
}

// Ordered by time, then by timer (unique per entry), so the key need not be ordered.
impl Ord for Expiry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at_ns, self.timer).cmp(&(other.at_ns, other.timer))
    }
}

impl PartialOrd for Expiry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Expiry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Expiry {}
