//! Retries: consecutive TCP connections from one client to one server, each starting within
//! `RETRY_WINDOW_NS` of the previous one's end while none of them has succeeded yet, form one
//! *attempt* (a refused security protocol then a retry with another; a certificate prompt the
//! user walked away from, then a new connection). An attempt ends at its first success.
//!
//! Streaming: a connection gets its attempt id and position when it finishes (the position
//! is known then; how many tries follow is not), and the attempt's whole story is handed out
//! in the closing summary. Only the open attempt of each (client, server) is kept, dropped
//! once its window passed; closed attempts of two tries or more are kept up to `MAX_STORIES`.

use std::net::IpAddr;

use ahash::AHashMap;

use crate::flow::{Endpoint, FlowMeta};

/// A retry starts at most this long after the previous connection's last packet (a user
/// reading a certificate prompt, then trying again, takes tens of seconds).
pub const RETRY_WINDOW_NS: i64 = 60_000_000_000;
/// Tries kept per attempt.
pub const MAX_TRIES: usize = 32;
/// Attempts (with at least two tries) kept for the closing summary.
pub const MAX_STORIES: usize = 1024;
/// Open attempts kept at once (one per client and server).
const MAX_OPEN: usize = 4096;

/// Where a connection sits in its attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptRef {
    pub id: u64,
    /// 1 for the first connection of the attempt.
    pub position: u32,
}

/// One connection of an attempt, as the story needs it; `O` is the diagnosis's outcome
/// (verdict and main finding), opaque here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Try<O> {
    pub connection: u64,
    /// The connection worked: the attempt ends with it.
    pub succeeded: bool,
    /// The connection ran on Standard RDP Security (no TLS).
    pub standard_security: bool,
    pub outcome: O,
}

/// An attempt's connections, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt<O> {
    pub id: u64,
    pub client: IpAddr,
    pub server: Endpoint,
    pub tries: Vec<Try<O>>,
}

impl<O> Attempt<O> {
    /// The attempt ended with a working connection.
    pub fn succeeded(&self) -> bool {
        self.tries.last().is_some_and(|t| t.succeeded)
    }
}

struct Open<O> {
    last_ns: i64,
    attempt: Attempt<O>,
}

pub struct Attempts<O> {
    open: AHashMap<(IpAddr, Endpoint), Open<O>>,
    stories: Vec<Attempt<O>>,
    next_id: u64,
    pub stories_dropped: u64,
}

impl<O> Default for Attempts<O> {
    fn default() -> Self {
        Attempts {
            open: AHashMap::default(),
            stories: Vec::new(),
            next_id: 0,
            stories_dropped: 0,
        }
    }
}

impl<O> Attempts<O> {
    /// A finished TCP connection: its place in an attempt.
    pub fn assign(&mut self, meta: &FlowMeta, t: Try<O>) -> AttemptRef {
        let key = (meta.client.ip, meta.server);
        let joins = self.open.get(&key).is_some_and(|o| {
            meta.first.ts_ns - o.last_ns <= RETRY_WINDOW_NS && !o.attempt.succeeded()
        });
        if !joins {
            if let Some(o) = self.open.remove(&key) {
                self.close(o.attempt);
            }
            if self.open.len() >= MAX_OPEN {
                self.expire(meta.first.ts_ns);
            }
            if self.open.len() >= MAX_OPEN {
                // A flood of one-off clients: forget attempts that have no retry yet.
                self.open.retain(|_, o| o.attempt.tries.len() > 1);
            }
            self.next_id += 1;
            self.open.insert(
                key,
                Open {
                    last_ns: meta.last.ts_ns,
                    attempt: Attempt {
                        id: self.next_id,
                        client: meta.client.ip,
                        server: meta.server,
                        tries: Vec::new(),
                    },
                },
            );
        }
        let Some(o) = self.open.get_mut(&key) else {
            return AttemptRef {
                id: self.next_id,
                position: 1,
            };
        };
        o.last_ns = o.last_ns.max(meta.last.ts_ns);
        if o.attempt.tries.len() < MAX_TRIES {
            o.attempt.tries.push(t);
        }
        AttemptRef {
            id: o.attempt.id,
            position: o.attempt.tries.len() as u32,
        }
    }

    fn expire(&mut self, now_ns: i64) {
        let mut old: Vec<_> = self
            .open
            .iter()
            .filter(|(_, o)| now_ns - o.last_ns > RETRY_WINDOW_NS)
            .map(|(k, o)| (o.attempt.id, *k))
            .collect();
        // Closed in id order, not the hash map's (seeded per process): which stories fit
        // under `MAX_STORIES` must not change from one run to the next.
        old.sort_unstable_by_key(|(id, _)| *id);
        for (_, k) in old {
            if let Some(o) = self.open.remove(&k) {
                self.close(o.attempt);
            }
        }
    }

    fn close(&mut self, a: Attempt<O>) {
        if a.tries.len() < 2 {
            return;
        }
        if self.stories.len() < MAX_STORIES {
            self.stories.push(a);
        } else {
            self.stories_dropped += 1;
        }
    }

    /// End of capture: every attempt of two tries or more, in id order.
    pub fn finish(&mut self) -> Vec<Attempt<O>> {
        let mut open: Vec<_> = self.open.drain().map(|(_, o)| o.attempt).collect();
        open.sort_unstable_by_key(|a| a.id);
        for a in open {
            self.close(a);
        }
        let mut s = std::mem::take(&mut self.stories);
        s.sort_by_key(|a| a.id);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{PacketInfo, TransportKind};

    fn meta(id: u64, client_port: u16, first_s: i64, last_s: i64) -> FlowMeta {
        let at = |s: i64| PacketInfo {
            file: 0,
            frame: id,
            ts_ns: s * 1_000_000_000,
        };
        FlowMeta {
            id,
            transport: TransportKind::Tcp,
            client: Endpoint {
                ip: "10.0.0.2".parse().unwrap(),
                port: client_port,
            },
            server: Endpoint {
                ip: "10.0.0.1".parse().unwrap(),
                port: 3389,
            },
            first: at(first_s),
            last: at(last_s),
            packets: 0,
            bytes: 0,
            packets_by_side: crate::flow::Sides([0, 0]),
        }
    }

    fn try_(id: u64, ok: bool) -> Try<()> {
        Try {
            connection: id,
            succeeded: ok,
            standard_security: false,
            outcome: (),
        }
    }

    #[test]
    fn synthetic_retries_until_success_then_a_new_attempt() {
        let mut a = Attempts::<()>::default();
        let r1 = a.assign(&meta(1, 50_001, 0, 2), try_(1, false));
        let r2 = a.assign(&meta(2, 50_002, 10, 12), try_(2, false));
        let r3 = a.assign(&meta(3, 50_003, 20, 30), try_(3, true));
        // After a success, a new connection is a new attempt, even at once.
        let r4 = a.assign(&meta(4, 50_004, 31, 32), try_(4, false));
        // Past the window: a new attempt.
        let r5 = a.assign(&meta(5, 50_005, 200, 201), try_(5, false));
        assert_eq!((r1.id, r1.position), (1, 1));
        assert_eq!((r2.id, r2.position), (1, 2));
        assert_eq!((r3.id, r3.position), (1, 3));
        assert_eq!((r4.id, r4.position), (2, 1));
        assert_eq!((r5.id, r5.position), (3, 1));
        let stories = a.finish();
        assert_eq!(stories.len(), 1);
        assert!(stories[0].succeeded());
        assert_eq!(stories[0].tries.len(), 3);
    }

    #[test]
    fn synthetic_the_stories_kept_under_the_cap_are_the_first_whatever_the_hash_order() {
        let client = |c: u32| IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + c));
        let mut a = Attempts::<()>::default();
        let mut id = 0;
        let mut connect = |a: &mut Attempts<()>, c: u32, at_s: i64| {
            id += 1;
            let mut m = meta(id, 50_000, at_s, at_s);
            m.client.ip = client(c);
            a.assign(&m, try_(id, false));
        };
        // More two-try attempts than MAX_STORIES, then one-try ones up to MAX_OPEN.
        let retried = MAX_STORIES as u32 + 100;
        for c in 0..retried {
            connect(&mut a, c, 0);
            connect(&mut a, c, 1);
        }
        for c in retried..MAX_OPEN as u32 {
            connect(&mut a, c, 2);
        }
        // A new client past the window: the full table expires every attempt at once.
        connect(&mut a, MAX_OPEN as u32, 1_000);
        let kept: Vec<u64> = a.finish().iter().map(|s| s.id).collect();
        let first: Vec<u64> = (1..=MAX_STORIES as u64).collect();
        assert_eq!(kept, first);
        assert_eq!(a.stories_dropped, 100);
    }
}
