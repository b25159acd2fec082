//! NDJSON written on its own thread: serialising a connection costs about as much as
//! analysing its packets, so on a large capture the analysis goes on while the previous
//! connections are turned into JSON. Connections travel in small batches through a bounded
//! channel, so memory stays a few batches however many connections there are.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use crate::diagnose::Diagnosed;
use crate::report::json;

/// Connections per batch handed to the writer thread.
const BATCH: usize = 16;
/// Batches waiting for the writer before the analysis waits for it.
const DEPTH: usize = 4;

pub struct NdjsonStream {
    pending: Vec<Diagnosed>,
    tx: Option<SyncSender<Vec<Diagnosed>>>,
    /// Batches the writer has emptied, handed back: the analysis reuses them instead of
    /// allocating a vector of large elements for every batch.
    recycled: Receiver<Vec<Diagnosed>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl NdjsonStream {
    /// Starts the writer thread; lines go to `out` in the order connections are pushed.
    pub fn spawn<W: Write + Send + 'static>(out: W) -> Self {
        let (tx, rx) = mpsc::sync_channel::<Vec<Diagnosed>>(DEPTH);
        // Never more than the batches in flight: `DEPTH` queued, one written, one filled.
        let (give_back, recycled) = mpsc::sync_channel::<Vec<Diagnosed>>(DEPTH + 2);
        let thread = std::thread::spawn(move || {
            let mut out = io::BufWriter::with_capacity(256 * 1024, out);
            let mut line = Vec::with_capacity(16 * 1024);
            for mut batch in rx {
                for d in &batch {
                    line.clear();
                    json::push_line(&mut line, d);
                    // A closed reader (`| head`) ends the output: returning drops `rx`,
                    // and the analysis side stops sending.
                    out.write_all(&line)?;
                }
                batch.clear();
                // Full (the analysis has spares) or gone: the batch is simply dropped.
                let _ = give_back.try_send(batch);
            }
            out.flush()
        });
        NdjsonStream {
            pending: Vec::with_capacity(BATCH),
            tx: Some(tx),
            recycled,
            thread: Some(thread),
        }
    }

    pub fn push(&mut self, d: Diagnosed) {
        self.pending.push(d);
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
        let batch = std::mem::replace(&mut self.pending, spare);
        if let Some(tx) = &self.tx {
            if tx.send(batch).is_err() {
                // The writer stopped on an error: finish() reports it.
                self.tx = None;
            }
        }
    }

    /// Writes what is left and waits for the writer; returns its first write error.
    pub fn finish(mut self) -> io::Result<()> {
        self.close()
    }

    fn close(&mut self) -> io::Result<()> {
        self.send();
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the JSON writer thread failed")),
            None => Ok(()),
        }
    }
}

impl Drop for NdjsonStream {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
