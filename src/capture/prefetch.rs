//! Reading ahead on a second thread: libpcap's reads (mostly the kernel copying file pages)
//! run while the analysis works on the packets before them, so a capture is analysed at
//! close to the speed it can be read. Packets travel in batches of reused buffers, so the
//! steady state allocates nothing and memory stays a few batches, whatever the file size.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use super::source::{RawPacket, SecretsBlock};

/// Packets per batch: large enough that the channel is rarely touched, small enough that
/// the analysis starts right away and a batch stays in the CPU cache.
const BATCH_PACKETS: usize = 256;
/// Bytes a batch holds: allocated once, so the reader's memory is the same after a
/// gigabyte as after a megabyte (a growing buffer would keep its largest size).
const BATCH_BYTES: usize = 256 * 1024;
/// Batches in flight between the threads (plus one being filled and one being read) when
/// reading files: the reader only has to stay ahead.
const FILE_DEPTH: usize = 3;
/// When capturing live: the queue absorbs the analysis' pauses (a burst of connections
/// ending, a slow terminal) so the kernel's ring never fills; at most this many batches
/// (32 MB, allocated only as far as the analysis falls behind).
#[cfg_attr(not(feature = "live"), allow(dead_code))]
pub const LIVE_DEPTH: usize = 128;

#[derive(Debug, Clone, Copy)]
struct Header {
    file: usize,
    frame: u64,
    ts_ns: i64,
    orig_len: u32,
    linktype: i32,
    start: usize,
    end: usize,
    /// Some: a pcapng secrets block of this type, not a packet (`frame`: the one before it).
    secrets_type: Option<u32>,
}

/// Packets copied out of libpcap's buffer, back to back.
#[derive(Debug)]
pub struct Batch {
    data: Vec<u8>,
    headers: Vec<Header>,
}

impl Batch {
    fn new() -> Self {
        Batch {
            data: Vec::with_capacity(BATCH_BYTES),
            headers: Vec::with_capacity(BATCH_PACKETS),
        }
    }

    /// Whether `len` more bytes fit without growing the buffer (a packet larger than a
    /// whole batch goes alone into an empty one).
    fn fits(&self, len: usize) -> bool {
        self.headers.is_empty() || self.data.len() + len <= BATCH_BYTES
    }

    fn push(&mut self, p: &RawPacket) {
        let start = self.data.len();
        self.data.extend_from_slice(p.data);
        self.headers.push(Header {
            file: p.file,
            frame: p.frame,
            ts_ns: p.ts_ns,
            orig_len: p.orig_len,
            linktype: p.linktype,
            start,
            end: self.data.len(),
            secrets_type: None,
        });
    }

    fn push_secrets(&mut self, s: &SecretsBlock) {
        let start = self.data.len();
        self.data.extend_from_slice(s.data);
        self.headers.push(Header {
            file: s.file,
            frame: s.after_frame,
            ts_ns: 0,
            orig_len: 0,
            linktype: 0,
            start,
            end: self.data.len(),
            secrets_type: Some(s.secrets_type),
        });
    }

    fn is_full(&self) -> bool {
        self.headers.len() >= BATCH_PACKETS
    }

    fn clear(&mut self) {
        self.data.clear();
        self.headers.clear();
        // A huge packet made it grow: back to the usual size, memory stays flat.
        self.data.shrink_to(BATCH_BYTES);
    }

    fn for_each(&self, f: &mut impl FnMut(&RawPacket), s: &mut impl FnMut(&SecretsBlock)) {
        for h in &self.headers {
            let data = self.data.get(h.start..h.end).unwrap_or_default();
            if let Some(secrets_type) = h.secrets_type {
                s(&SecretsBlock {
                    file: h.file,
                    after_frame: h.frame,
                    secrets_type,
                    data,
                });
                continue;
            }
            f(&RawPacket {
                file: h.file,
                frame: h.frame,
                ts_ns: h.ts_ns,
                orig_len: h.orig_len,
                linktype: h.linktype,
                data,
            });
        }
    }
}

/// The reading side: fills batches and hands them over, taking emptied ones back.
pub struct Producer<'a> {
    full: SyncSender<Batch>,
    empty: Receiver<Batch>,
    current: Batch,
    allocated: usize,
    depth: usize,
    /// Set when the consumer has gone away (it stopped or panicked): reading can stop.
    closed: Cell<bool>,
    consumer_gone: &'a AtomicBool,
}

impl Producer<'_> {
    pub fn push(&mut self, p: &RawPacket) {
        if !self.current.fits(p.data.len()) {
            self.flush();
        }
        self.current.push(p);
        if self.current.is_full() {
            self.flush();
        }
    }

    /// Queues a secrets block in order with the packets around it.
    pub fn push_secrets(&mut self, s: &SecretsBlock) {
        if !self.current.fits(s.data.len()) {
            self.flush();
        }
        self.current.push_secrets(s);
        if self.current.is_full() {
            self.flush();
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.get() || self.consumer_gone.load(Ordering::Relaxed)
    }

    /// Hands over the packets gathered so far (a live capture does when the link is quiet).
    pub fn flush(&mut self) {
        if self.current.headers.is_empty() || self.is_closed() {
            return;
        }
        let next = match self.empty.try_recv() {
            Ok(b) => b,
            Err(_) if self.allocated < self.depth + 2 => {
                self.allocated += 1;
                Batch::new()
            }
            // Every batch is in flight: wait for the consumer to give one back.
            Err(_) => match self.empty.recv() {
                Ok(b) => b,
                Err(_) => {
                    self.closed.set(true);
                    return;
                }
            },
        };
        let full = std::mem::replace(&mut self.current, next);
        if self.full.send(full).is_err() {
            self.closed.set(true);
        }
    }
}

impl Drop for Producer<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Runs `read` on a second thread, feeding it a [`Producer`], and calls `f` here for every
/// packet it produced, in order. Returns what `read` returned.
#[cfg(test)]
pub fn read_ahead<R, T>(read: R, f: impl FnMut(&RawPacket)) -> T
where
    R: FnOnce(&mut Producer) -> T + Send,
    T: Send,
{
    run(FILE_DEPTH, read, f, |_| {}, None, || true)
}

/// As [`read_ahead`], and calls `s` for the secrets blocks `read` produced, in order.
pub fn read_ahead_with_secrets<R, T>(
    read: R,
    f: impl FnMut(&RawPacket),
    s: impl FnMut(&SecretsBlock),
) -> T
where
    R: FnOnce(&mut Producer) -> T + Send,
    T: Send,
{
    run(FILE_DEPTH, read, f, s, None, || true)
}

/// As [`read_ahead`], for a live capture: `tick` also runs about every `every` while no
/// packet comes, and stops the consumer when it returns false; `read` then sees its
/// producer closed.
#[cfg_attr(not(feature = "live"), allow(dead_code))]
pub fn read_ahead_ticking<R, T>(
    read: R,
    f: impl FnMut(&RawPacket),
    every: Duration,
    tick: impl FnMut() -> bool,
) -> T
where
    R: FnOnce(&mut Producer) -> T + Send,
    T: Send,
{
    run(LIVE_DEPTH, read, f, |_| {}, Some(every), tick)
}

/// Sets the flag when dropped, also while unwinding from a panic in the consumer.
struct RaiseOnDrop<'a>(&'a AtomicBool);

impl Drop for RaiseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn run<R, T>(
    depth: usize,
    read: R,
    mut f: impl FnMut(&RawPacket),
    mut s: impl FnMut(&SecretsBlock),
    every: Option<Duration>,
    mut tick: impl FnMut() -> bool,
) -> T
where
    R: FnOnce(&mut Producer) -> T + Send,
    T: Send,
{
    let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(depth);
    let (empty_tx, empty_rx) = mpsc::channel::<Batch>();
    let consumer_gone = AtomicBool::new(false);
    std::thread::scope(|scope| {
        // Owned by this closure so that a panic in `f` drops them while unwinding: the
        // reader then sees the channel closed instead of waiting forever for the scope.
        let (full_rx, empty_tx) = (full_rx, empty_tx);
        let gone = &consumer_gone;
        let reader = scope.spawn(move || {
            let mut producer = Producer {
                full: full_tx,
                empty: empty_rx,
                current: Batch::new(),
                allocated: 1,
                depth,
                closed: Cell::new(false),
                consumer_gone: gone,
            };
            read(&mut producer)
            // The producer drops here: its last batch is sent and the channel closes.
        });
        {
            let _gone = RaiseOnDrop(gone);
            let mut next_tick = every.map(|e| Instant::now() + e);
            loop {
                let received = match next_tick {
                    None => full_rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    Some(at) => full_rx.recv_timeout(at.saturating_duration_since(Instant::now())),
                };
                match received {
                    Ok(mut batch) => {
                        batch.for_each(&mut f, &mut s);
                        batch.clear();
                        // The reader may have finished already; then the batch is dropped.
                        let _ = empty_tx.send(batch);
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                if let (Some(at), Some(every)) = (next_tick, every) {
                    if Instant::now() >= at {
                        if !tick() {
                            break;
                        }
                        next_tick = Some(Instant::now() + every);
                    }
                }
            }
        }
        // Batches still queued are dropped with the channel, unread: the consumer stopped.
        // Both ends go, so a reader waiting to send or for an empty batch wakes up.
        drop(full_rx);
        drop(empty_tx);
        match reader.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(frame: u64, data: &[u8]) -> RawPacket<'_> {
        RawPacket {
            file: 0,
            frame,
            ts_ns: frame as i64 * 1000,
            orig_len: crate::capture::decode::len_u32(data),
            linktype: 1,
            data,
        }
    }

    #[test]
    fn every_packet_arrives_in_order_with_its_bytes_across_many_batches() {
        let total = BATCH_PACKETS as u64 * (FILE_DEPTH as u64 + 5) + 17;
        let mut seen = Vec::new();
        let result = read_ahead(
            |p: &mut Producer| {
                for frame in 1..=total {
                    let bytes = frame.to_be_bytes();
                    p.push(&packet(frame, &bytes[..(frame % 8) as usize]));
                }
                "done"
            },
            |p| {
                let expected = p.frame.to_be_bytes();
                assert_eq!(p.data, &expected[..(p.frame % 8) as usize]);
                assert_eq!(p.ts_ns, p.frame as i64 * 1000);
                seen.push(p.frame);
            },
        );
        assert_eq!(result, "done");
        assert_eq!(seen, (1..=total).collect::<Vec<_>>());
    }

    #[test]
    fn large_packets_close_a_batch_before_it_holds_its_packet_count_and_a_huge_one_goes_alone() {
        let big = vec![0xab; BATCH_BYTES / 3 + 1];
        let huge = vec![0xcd; BATCH_BYTES * 2];
        let mut sizes = Vec::new();
        read_ahead(
            |p: &mut Producer| {
                for frame in 1..=10 {
                    p.push(&packet(frame, &big));
                }
                p.push(&packet(11, &huge));
                p.push(&packet(12, &big));
            },
            |p| sizes.push(p.data.len()),
        );
        let mut expected = vec![big.len(); 10];
        expected.extend([huge.len(), big.len()]);
        assert_eq!(sizes, expected);
    }

    #[test]
    fn a_consumer_panic_stops_the_reader_and_reaches_the_caller() {
        let outcome = std::panic::catch_unwind(|| {
            read_ahead(
                |p: &mut Producer| {
                    let mut frame = 0u64;
                    // Bounded: a reader that ignored the closed consumer would stop here.
                    while !p.is_closed() && frame < 10_000_000 {
                        frame += 1;
                        p.push(&packet(frame, b"x"));
                    }
                    frame
                },
                |p| assert!(p.frame < 1000, "consumer gives up"),
            )
        });
        assert!(outcome.is_err());
    }

    #[test]
    fn a_live_consumer_ticks_while_the_link_is_quiet_and_its_stop_reaches_the_reader() {
        let seen = Cell::new(0u64);
        let ticks = Cell::new(0u64);
        let reader_saw_stop = read_ahead_ticking(
            |p: &mut Producer| {
                for frame in 1..=3 {
                    p.push(&packet(frame, b"abc"));
                }
                // A quiet link: the partial batch goes over now, not when it fills.
                p.flush();
                // Bounded wait (10 s) for the consumer to stop us.
                for _ in 0..10_000 {
                    if p.is_closed() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                false
            },
            |_| seen.set(seen.get() + 1),
            Duration::from_millis(1),
            || {
                ticks.set(ticks.get() + 1);
                seen.get() < 3
            },
        );
        assert!(
            reader_saw_stop,
            "the reader learned that the consumer stopped"
        );
        assert_eq!(seen.get(), 3);
        assert!(ticks.get() >= 1);
    }
}
