//! The hashing threads: they take up to LANES queued parts at a time (lowest part numbers
//! first, so verdicts can stream in order) and send back each digest. Dropping the pool cancels
//! the work in progress and joins every thread before it returns.

use super::file::LocalFile;
use super::hash::{hash_batch, Job, LANES};
use crate::cancel::Interrupt;
use crate::error::{Error, ErrorKind};
use crate::net::SLICE;
use md5_many::Md5Many;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// A finished part: its number and digest, or why it could not be hashed.
pub type Hashed = Result<(u32, [u8; 16]), Error>;

struct Shared {
    queue: Mutex<VecDeque<Job>>,
    wake: Condvar,
    cancel: AtomicBool,
    file: Arc<LocalFile>,
    engine: Md5Many,
}

pub struct Pool {
    shared: Arc<Shared>,
    results: Receiver<Hashed>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts `threads` hashing threads (at least one) over `file`.
    pub fn start(file: Arc<LocalFile>, threads: usize, engine: Md5Many) -> Result<Pool, Error> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            wake: Condvar::new(),
            cancel: AtomicBool::new(false),
            file,
            engine,
        });
        let (send, results) = channel();
        let mut pool = Pool { shared, results, threads: Vec::new() };
        for i in 0..threads.max(1) {
            let (shared, send) = (Arc::clone(&pool.shared), send.clone());
            let spawned =
                std::thread::Builder::new().name(format!("vault-parts-md5-{i}")).spawn(move || work(&shared, &send));
            match spawned {
                Ok(handle) => pool.threads.push(handle),
                // Dropping `pool` joins the threads already started.
                Err(e) => return Err(Error::new(ErrorKind::Internal, format!("cannot start a hashing thread: {e}"))),
            }
        }
        Ok(pool)
    }

    /// Queues `jobs` at once, so a thread that wakes takes them as one batch (up to LANES), not
    /// the first alone.
    pub fn submit(&self, jobs: impl IntoIterator<Item = Job>) {
        let mut queue = lock(&self.shared.queue);
        let before = queue.len();
        queue.extend(jobs);
        let batches = (queue.len() - before).div_ceil(LANES);
        drop(queue);
        for _ in 0..batches {
            self.shared.wake.notify_one();
        }
    }

    /// A finished part if one is ready, without waiting.
    pub fn try_next(&self) -> Option<Hashed> {
        self.results.try_recv().ok()
    }

    /// Waits for the next finished part, looking at `interrupt` every [`SLICE`]: once it is
    /// raised the wait ends with E_CANCELLED (the caller then drops the pool, which stops the
    /// threads). Only call it with work outstanding.
    pub fn wait(&self, interrupt: &Interrupt) -> Hashed {
        loop {
            interrupt.check().map_err(crate::transport::stop_error)?;
            match self.results.recv_timeout(SLICE) {
                Ok(hashed) => return hashed,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::new(ErrorKind::Internal, "every hashing thread stopped"))
                }
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.cancel.store(true, Ordering::Relaxed);
        // Taking the lock orders the flag before any waiting thread's next look at it.
        drop(lock(&self.shared.queue));
        self.shared.wake.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn lock(queue: &Mutex<VecDeque<Job>>) -> std::sync::MutexGuard<'_, VecDeque<Job>> {
    // Nothing panics while holding the lock, but a poisoned queue is still a valid queue.
    queue.lock().unwrap_or_else(|e| e.into_inner())
}

fn work(shared: &Shared, send: &Sender<Hashed>) {
    let mut buf = Vec::new();
    while let Some(batch) = take(shared) {
        let hashed = catch_unwind(AssertUnwindSafe(|| {
            hash_batch(shared.engine, &*shared.file, &batch, &mut buf, &shared.cancel)
                .and_then(|digests| shared.file.check_open_file().map(|()| digests))
        }))
        .unwrap_or_else(|_| {
            Err(Error::new(ErrorKind::Internal, "internal error (a bug in libvault_parts): hashing panicked"))
        });
        let sent = match hashed {
            Ok(digests) => batch.iter().zip(digests).all(|(job, d)| send.send(Ok((job.part, d))).is_ok()),
            Err(e) => send.send(Err(e)).is_ok(),
        };
        if !sent {
            return;
        }
    }
}

/// The next batch, waiting for work; None once the pool is cancelled.
fn take(shared: &Shared) -> Option<Vec<Job>> {
    let mut queue = lock(&shared.queue);
    loop {
        if shared.cancel.load(Ordering::Relaxed) {
            return None;
        }
        if !queue.is_empty() {
            let n = queue.len().min(LANES);
            return Some(queue.drain(..n).collect());
        }
        queue = shared.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::Purpose;
    use std::time::{Duration, Instant};

    /// The wait looks at the interrupt every SLICE (40 ms), so it returns within 100 ms of it.
    /// A loaded machine may deschedule either thread for longer, so the claim is checked on the
    /// best of a few tries: it holds under load, and fails for a wait that polls too rarely.
    #[test]
    fn an_interrupt_ends_the_wait_for_digests_and_dropping_the_pool_stops_its_threads() {
        let path = std::env::temp_dir().join(format!("vp-pool-{}", std::process::id()));
        std::fs::write(&path, [1u8; 4096]).unwrap();
        let file = Arc::new(LocalFile::open(path.to_str().unwrap(), Purpose::Verify).unwrap());
        let (mut best_wait, mut best_drop) = (Duration::MAX, Duration::MAX);
        for _ in 0..5 {
            let pool = Pool::start(Arc::clone(&file), 4, Md5Many::new()).unwrap();
            let interrupt = Interrupt::new();
            let raiser = {
                let interrupt = interrupt.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(150));
                    let raised = Instant::now();
                    interrupt.interrupt();
                    raised
                })
            };
            // No work is outstanding, so only the interrupt can end this wait.
            let error = pool.wait(&interrupt).unwrap_err();
            let returned = Instant::now();
            assert_eq!(error.kind(), ErrorKind::Cancelled);
            best_wait = best_wait.min(returned.saturating_duration_since(raiser.join().unwrap()));
            let dropped = Instant::now();
            drop(pool);
            best_drop = best_drop.min(dropped.elapsed());
            if best_wait < Duration::from_millis(100) && best_drop < Duration::from_millis(100) {
                break;
            }
        }
        assert!(best_wait < Duration::from_millis(100), "returned {best_wait:?} after the interrupt, at best");
        assert!(best_drop < Duration::from_millis(100), "the idle threads stop at once: {best_drop:?} at best");
        std::fs::remove_file(&path).unwrap();
    }
}
