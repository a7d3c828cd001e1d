//! The listing on its own thread: the details request, then the pages back to back, each part
//! sent to the caller's thread as it is listed. The caller's thread keeps hashing and returning
//! verdicts while a page is in flight, and it alone calls the log sink: the listing's lines are
//! relayed to it through the same channel, in order (the header's contract: callbacks run on
//! the thread that calls vault_parts_verify_next).

use super::plan::Remote;
use super::session;
use super::Ended;
use crate::cancel::Interrupt;
use crate::error::{Error, ErrorKind};
use crate::listing::Listing;
use crate::log::{Level, Log};
use crate::net::SLICE;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

/// What the listing thread sends, in the order it happens.
pub(super) enum Msg {
    /// A log line of the listing, already redacted and capped by the listing's log.
    Log(Level, String),
    /// The session's declared size is the file's: the file may be read from now on.
    Checked,
    Part(u32, Remote),
    /// The last message: Ok once every page is listed, or the listing's error (kept by it).
    End(Result<(), Error>),
}

/// What the listing had seen at its last request, for http_status and stats while it is away.
#[derive(Default)]
struct Seen {
    ended: Ended,
    at: Option<Instant>,
}

pub(super) struct Lister {
    /// None once stopped; dropping it unblocks a thread waiting to send.
    from: Option<Receiver<Msg>>,
    /// None once joined; the thread hands the listing back.
    thread: Option<JoinHandle<Listing>>,
    seen: Arc<Mutex<Seen>>,
    interrupt: Interrupt,
}

impl Lister {
    /// Starts the thread on `listing` for a file of `size` bytes, and hands back the user's log
    /// sink, for the caller's thread to emit the relayed lines with. At most `capacity` messages
    /// wait for the caller: beyond that the listing waits rather than memory growing. On
    /// failure the listing comes back, its sink in place, with the error.
    // Taken once per verifier, on a path that gives the listing back: no box needed.
    #[allow(clippy::result_large_err)]
    pub fn start(mut listing: Listing, size: u64, capacity: usize) -> Result<(Lister, Log), (Listing, Error)> {
        let (to, from) = sync_channel(capacity);
        let relay = to.clone();
        let sink = listing.replace_log(Some(Box::new(move |level, line: &str| {
            // A caller that stopped the listing wants no more lines.
            let _ = relay.send(Msg::Log(level, line.to_owned()));
        })));
        let mut log = Log::new(listing.redactor().clone());
        let seen = Arc::new(Mutex::new(Seen { ended: Ended::of(&listing), at: None }));
        let interrupt = listing.interrupter();
        // A spawn failure drops the closure: the listing waits in this slot until it runs.
        let slot = Arc::new(Mutex::new(Some(listing)));
        let (thread_slot, thread_seen) = (Arc::clone(&slot), Arc::clone(&seen));
        let spawned = std::thread::Builder::new().name("vault-parts-list".into()).spawn(move || {
            let mut listing = lock(&thread_slot).take().expect("the listing is handed over once");
            drop(thread_slot);
            let result =
                catch_unwind(AssertUnwindSafe(|| list(&mut listing, size, &to, &thread_seen))).unwrap_or_else(|_| {
                    Err(listing.fail(Error::new(
                        ErrorKind::Internal,
                        "internal error (a bug in libvault_parts): the listing thread panicked",
                    )))
                });
            note(&thread_seen, &listing, false);
            let _ = to.send(Msg::End(result));
            listing
        });
        match spawned {
            Ok(thread) => {
                log.set_sink(sink);
                Ok((Lister { from: Some(from), thread: Some(thread), seen, interrupt }, log))
            }
            Err(e) => {
                let mut listing = lock(&slot).take().expect("an unspawned thread took nothing");
                listing.replace_log(sink);
                Err((listing, Error::new(ErrorKind::Internal, format!("cannot start the listing thread: {e}"))))
            }
        }
    }

    /// A message that is in, without waiting.
    pub fn try_next(&mut self) -> Result<Option<Msg>, Error> {
        let Some(from) = &self.from else { return Ok(None) };
        match from.try_recv() {
            Ok(msg) => Ok(Some(msg)),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(gone()),
        }
    }

    /// The next message, waiting for it; looks at `interrupt` every [`SLICE`].
    pub fn next(&mut self, interrupt: &Interrupt) -> Result<Msg, Error> {
        let Some(from) = &self.from else { return Err(gone()) };
        loop {
            interrupt.check().map_err(crate::transport::stop_error)?;
            match from.recv_timeout(SLICE) {
                Ok(msg) => return Ok(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(gone()),
            }
        }
    }

    /// The listing back, once its thread has sent [`Msg::End`] (it returns right after).
    pub fn finish(mut self) -> Listing {
        self.join()
    }

    /// Stops the thread wherever it is (the listing's interrupt ends its waits and requests)
    /// and takes the listing back; what it did after being stopped is left unread.
    pub fn stop(mut self) -> Listing {
        self.interrupt.interrupt();
        self.from = None;
        self.join()
    }

    fn join(&mut self) -> Listing {
        let thread = self.thread.take().expect("joined once");
        // The thread catches its panics, so a failed join is a panic in the catching itself.
        thread.join().unwrap_or_else(|_| Listing::failed(gone()))
    }

    /// The listing's HTTP status and statistics as of its last request; the elapsed time runs on.
    pub fn seen(&self) -> Ended {
        let seen = lock(&self.seen);
        let mut ended = seen.ended;
        if let Some(at) = seen.at {
            ended.stats.elapsed += at.elapsed();
        }
        ended
    }
}

impl Drop for Lister {
    /// Stops and joins a thread still running: nothing outlives the verifier.
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.interrupt.interrupt();
            self.from = None;
            drop(self.join());
        }
    }
}

/// The thread's work: the details request, then every part. A caller gone ends it.
fn list(listing: &mut Listing, size: u64, to: &SyncSender<Msg>, seen: &Mutex<Seen>) -> Result<(), Error> {
    let send = |msg| to.send(msg).map_err(|_| gone());
    let checked = session::check_declared_size(listing, size).map_err(|e| listing.fail(e));
    note(seen, listing, checked.is_ok());
    checked?;
    send(Msg::Checked)?;
    loop {
        let part = listing.next_part();
        note(seen, listing, matches!(part, Ok(Some(_))));
        match part? {
            Some(p) => send(Msg::Part(p.part_number, Remote { size: p.size, md5: p.md5 }))?,
            None => return Ok(()),
        }
    }
}

/// Records what `listing` has seen; while it is `running`, its elapsed time goes on from now.
fn note(seen: &Mutex<Seen>, listing: &Listing, running: bool) {
    *lock(seen) = Seen { ended: Ended::of(listing), at: running.then(Instant::now) };
}

fn gone() -> Error {
    Error::new(ErrorKind::Internal, "internal error (a bug in libvault_parts): the listing thread stopped")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
