//! Rendering on several threads with the output in input order (`-j N`).
//!
//! Items are grouped in batches; batch k goes to worker `k % n`, and the writer takes the
//! rendered batches back in the same round: worker `k % n` for batch k. Each worker handles
//! its batches first in, first out, so the bytes come out in the order the items were pushed
//! without a re-ordering buffer, whatever the number of workers and however the threads are
//! scheduled. Every channel is bounded: at most `n * (DEPTH + 2) + 2` batches are in flight,
//! so memory does not grow with the input. One wake-up per batch, not per item.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Condvar, Mutex};
use std::thread::JoinHandle;

/// Items per batch handed to a worker.
const BATCH: usize = 16;
/// Batches queued for each worker (and rendered ones waiting for the writer).
const DEPTH: usize = 2;

/// Turns one item into its bytes, appended to the buffer.
pub type Render<I> = fn(&mut Vec<u8>, &I);

/// A batch on its way: `seq` is its place in the output (checked by the writer).
struct Batch<I> {
    seq: u64,
    items: Vec<I>,
}

/// A rendered batch: its bytes, and the emptied items vector to hand back for reuse.
struct Rendered<I> {
    seq: u64,
    bytes: Vec<u8>,
    items: Vec<I>,
}

/// `n` render threads and one writer; `push` from one thread (the analysis), `finish` at the end.
pub struct OrderedPool<I: Send + 'static> {
    pending: Vec<I>,
    seq: u64,
    /// One input queue per worker; `None` once the output stopped (a write error).
    inputs: Option<Vec<SyncSender<Batch<I>>>>,
    /// Emptied batches handed back by the writer, reused instead of allocated.
    recycled: Receiver<Vec<I>>,
    workers: Vec<JoinHandle<()>>,
    writer: Option<JoinHandle<io::Result<()>>>,
}

impl<I: Send + 'static> OrderedPool<I> {
    /// Starts `workers` render threads (at least one) and the writer writing to `out`.
    pub fn spawn<W: Write + Send + 'static>(workers: usize, out: W, render: Render<I>) -> Self {
        let n = workers.max(1);
        let mut inputs = Vec::with_capacity(n);
        let mut outputs = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            let (tx, rx) = mpsc::sync_channel::<Batch<I>>(DEPTH);
            let (done_tx, done_rx) = mpsc::sync_channel::<Rendered<I>>(DEPTH);
            inputs.push(tx);
            outputs.push(done_rx);
            handles.push(std::thread::spawn(move || render_loop(rx, done_tx, render)));
        }
        let (give_back, recycled) = mpsc::sync_channel::<Vec<I>>(n * (DEPTH + 2) + 2);
        let writer = std::thread::spawn(move || write_loop(outputs, out, give_back));
        OrderedPool {
            pending: Vec::with_capacity(BATCH),
            seq: 0,
            inputs: Some(inputs),
            recycled,
            workers: handles,
            writer: Some(writer),
        }
    }

    pub fn push(&mut self, item: I) {
        self.pending.push(item);
        if self.pending.len() >= BATCH {
            self.send();
        }
    }

    fn send(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let spare = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let items = std::mem::replace(&mut self.pending, spare);
        let seq = self.seq;
        let Some(inputs) = &self.inputs else {
            return;
        };
        let target = inputs.get(worker_of(seq, inputs.len()));
        if target.is_none_or(|tx| tx.send(Batch { seq, items }).is_err()) {
            // The writer stopped (write error, closed reader): `finish` reports it.
            self.inputs = None;
            return;
        }
        self.seq += 1;
    }

    /// Renders and writes what is left, waits for every thread; returns the first error.
    pub fn finish(mut self) -> io::Result<()> {
        self.close()
    }

    fn close(&mut self) -> io::Result<()> {
        self.send();
        // Closing the inputs ends the workers once their queues are empty, then the writer.
        self.inputs = None;
        let mut panicked = false;
        for w in self.workers.drain(..) {
            panicked |= w.join().is_err();
        }
        let written = match self.writer.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the output writer thread failed")),
            None => Ok(()),
        };
        if panicked && written.is_ok() {
            return Err(io::Error::other("a render worker thread failed"));
        }
        written
    }
}

impl<I: Send + 'static> Drop for OrderedPool<I> {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// The worker that renders batch `seq` (and that the writer reads it back from).
fn worker_of(seq: u64, workers: usize) -> usize {
    // The remainder is below `workers`, a usize.
    usize::try_from(seq % workers.max(1) as u64).unwrap_or(0)
}

fn render_loop<I>(rx: Receiver<Batch<I>>, done: SyncSender<Rendered<I>>, render: Render<I>) {
    // Buffers come back through the writer only as fast as it writes; a fresh one is made
    // when none is spare. The size of the previous batch is a good first capacity.
    let mut capacity = 16 * 1024;
    for batch in rx {
        let mut bytes = Vec::with_capacity(capacity);
        for item in &batch.items {
            render(&mut bytes, item);
        }
        capacity = capacity.max(bytes.len());
        let mut items = batch.items;
        items.clear();
        let rendered = Rendered {
            seq: batch.seq,
            bytes,
            items,
        };
        if done.send(rendered).is_err() {
            // The writer stopped: dropping `rx` makes the analysis side stop sending.
            return;
        }
    }
}

fn write_loop<I, W: Write>(
    outputs: Vec<Receiver<Rendered<I>>>,
    out: W,
    give_back: SyncSender<Vec<I>>,
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(256 * 1024, out);
    let mut seq = 0u64;
    // Batch k is on worker k % n; when that worker is done with nothing left, so is the
    // input (batches are dealt in turn, so no later batch exists).
    while let Some(Ok(rendered)) = outputs
        .get(worker_of(seq, outputs.len()))
        .map(Receiver::recv)
    {
        if rendered.seq != seq {
            return Err(io::Error::other("render batches came back out of order"));
        }
        out.write_all(&rendered.bytes)?;
        // Full (the analysis has spares) or gone: the vector is simply dropped.
        let _ = give_back.try_send(rendered.items);
        seq += 1;
    }
    out.flush()
}

/// How many results `in_order` may hold beyond the one it waits for, per thread: a slow
/// first file does not let the finished results of all the later ones pile up in memory.
const AHEAD_PER_THREAD: usize = 1;

/// What the `in_order` workers share: the items not started, and how far the output is.
struct Queue<I> {
    items: I,
    /// Index of the next item to start.
    next: usize,
    /// Index of the next result to emit.
    turn: usize,
    /// A worker panicked: the others stop instead of waiting for a turn that never comes.
    stopped: bool,
}

/// Sets `stopped` if its worker unwinds, so the others wake up and leave.
struct StopOnPanic<'a, I>(&'a (Mutex<Queue<I>>, Condvar));

impl<I> Drop for StopOnPanic<'_, I> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Ok(mut q) = self.0 .0.lock() {
                q.stopped = true;
            }
            self.0 .1.notify_all();
        }
    }
}

/// Runs `work` on every item, on at most `threads` threads at once, and hands each result to
/// `emit` on the calling thread in item order, as soon as it and every earlier one are done
/// (`--each`: whole files, one per thread). The output does not depend on `threads` or on
/// how the threads are scheduled. A result that is done before an earlier one waits for it;
/// a worker starts an item only while it is at most `threads * (1 + AHEAD_PER_THREAD)`
/// places after the one being waited for, so at most that many results are held.
pub fn in_order<T, R, F, E>(items: Vec<T>, threads: usize, work: F, mut emit: E)
where
    T: Send,
    R: Send,
    F: Fn(usize, T) -> R + Sync,
    E: FnMut(usize, R),
{
    let count = items.len();
    let threads = threads.clamp(1, count.max(1));
    let window = threads * (1 + AHEAD_PER_THREAD);
    let shared = (
        Mutex::new(Queue {
            items: items.into_iter(),
            next: 0,
            turn: 0,
            stopped: false,
        }),
        Condvar::new(),
    );
    let take = |shared: &(Mutex<Queue<std::vec::IntoIter<T>>>, Condvar)| -> Option<(usize, T)> {
        let (lock, wake) = shared;
        let mut q = lock.lock().ok()?;
        while !q.stopped && q.next >= q.turn + window && q.next < count {
            q = wake.wait(q).ok()?;
        }
        if q.stopped {
            return None;
        }
        let item = q.items.next()?;
        let i = q.next;
        q.next += 1;
        Some((i, item))
    };
    std::thread::scope(|scope| {
        let (done, results) = mpsc::channel::<(usize, R)>();
        for _ in 0..threads {
            let done = done.clone();
            let (take, work, shared) = (&take, &work, &shared);
            scope.spawn(move || {
                let _guard = StopOnPanic(shared);
                while let Some((i, item)) = take(shared) {
                    if done.send((i, work(i, item))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done);
        let mut waiting = std::collections::BTreeMap::new();
        let mut turn = 0;
        // Ends when every worker is done (or one panicked: the scope passes the panic on).
        for (i, r) in results {
            waiting.insert(i, r);
            let before = turn;
            while let Some(r) = waiting.remove(&turn) {
                emit(turn, r);
                turn += 1;
            }
            if turn != before {
                if let Ok(mut q) = shared.0.lock() {
                    q.turn = turn;
                }
                shared.1.notify_all();
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A `Write` the test can read after the pool is done.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn render_number(out: &mut Vec<u8>, n: &u64) {
        // Uneven work, so workers finish out of step.
        let spin = (n * 7919) % 997;
        let mut x = *n;
        for _ in 0..spin {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        out.extend_from_slice(format!("{n}\n").as_bytes());
    }

    #[test]
    fn synthetic_output_keeps_input_order_for_any_worker_count() {
        let expected: String = (0..5_003u64).map(|n| format!("{n}\n")).collect();
        for workers in [1, 2, 3, 7] {
            let sink = Shared::default();
            let mut pool = OrderedPool::spawn(workers, sink.clone(), render_number);
            (0..5_003u64).for_each(|n| pool.push(n));
            pool.finish().unwrap();
            let got = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
            assert_eq!(got, expected, "{workers} workers");
        }
    }

    struct Refusing;

    impl Write for Refusing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn synthetic_a_closed_output_stops_the_pool_with_its_error() {
        let mut pool = OrderedPool::spawn(3, Refusing, render_number);
        // Far more than the bounded queues hold: pushing must not block forever.
        (0..1_000_000u64).for_each(|n| pool.push(n));
        let err = pool.finish().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
    #[test]
    fn synthetic_in_order_hands_results_out_in_item_order_for_any_thread_count() {
        let items: Vec<u64> = (0..40).collect();
        for threads in [1, 2, 3, 8, 100] {
            let mut got = Vec::new();
            in_order(
                items.clone(),
                threads,
                |i, n| {
                    // Later items finish first: the order still follows the items.
                    let mut out = Vec::new();
                    render_number(&mut out, &(n * (40 - n)));
                    (i, out)
                },
                |turn, (i, _)| got.push((turn, i)),
            );
            let expected: Vec<(usize, usize)> = (0..40).map(|i| (i, i)).collect();
            assert_eq!(got, expected, "{threads} threads");
        }
        let mut none = 0;
        in_order(Vec::<u8>::new(), 4, |_, _| (), |_, ()| none += 1);
        assert_eq!(none, 0);
    }

    #[test]
    fn synthetic_in_order_holds_a_bounded_number_of_results_behind_a_slow_first_item() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        for threads in [1, 2, 3] {
            let (started, emitted, most) = (
                AtomicUsize::new(0),
                AtomicUsize::new(0),
                AtomicUsize::new(0),
            );
            in_order(
                (0..60u64).collect(),
                threads,
                |i, _| {
                    let now = started.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now - emitted.load(Ordering::SeqCst), Ordering::SeqCst);
                    if i == 0 {
                        // Gives the other threads time to run ahead, if they could.
                        std::thread::sleep(std::time::Duration::from_millis(30));
                    }
                },
                |_, ()| {
                    emitted.fetch_add(1, Ordering::SeqCst);
                },
            );
            let window = threads * (1 + AHEAD_PER_THREAD);
            assert_eq!(emitted.load(Ordering::SeqCst), 60);
            assert!(most.load(Ordering::SeqCst) <= window, "{threads} threads");
        }
    }

    #[test]
    fn synthetic_in_order_passes_a_workers_panic_on_instead_of_waiting_forever() {
        let run = std::panic::catch_unwind(|| {
            in_order((0..20u64).collect(), 2, |i, _| assert_ne!(i, 0), |_, ()| ());
        });
        assert!(run.is_err());
    }
}
