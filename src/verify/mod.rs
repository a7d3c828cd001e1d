//! Verifying a local file against the parts listed for its upload session: which parts are
//! uploaded intact, which must be (re)uploaded, and whether the session can still be completed.
//!
//! The listing runs on its own thread (the details request, then the pages back to back); the
//! caller's thread takes each part as it is listed, hands those whose size matches to the
//! hashing threads, emits the listing's log lines (so callbacks stay on it) and returns verdicts
//! in part order as soon as each is known, while later pages are still being fetched and later
//! parts hashed.

mod hashing;
mod lister;
mod plan;
mod session;

pub use plan::{Remote, Status, Verdict};
// The upload decides KEPT or SENT by the same rules.
pub(crate) use plan::verdict;
// The upload asks for the declared size the same way.
pub(crate) use session::{declared_size, size_conflict};

use crate::cancel::Interrupt;
use crate::error::{Error, ErrorKind, Redactor};
use crate::listing::{Listing, Stats};
use crate::local::{choose_part_size, Geometry, Inference, LocalFile, Purpose, MAX_PART_NUMBER};
use crate::log::{Level, Log};
use hashing::Hashing;
use lister::{Lister, Msg};
use md5_many::Md5Many;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// At most this many hashing threads.
pub(crate) const MAX_THREADS: u32 = 16;
/// Listed parts not yet turned into verdicts, at most, while the next verdict waits only for
/// hashing: bounds how far the listing runs ahead of slow hashing. As many more may wait in the
/// listing thread's channel, where the listing then waits.
const MAX_AHEAD: usize = 1024;

/// Counts per verdict and what they add up to. Valid at any time; complete after the last
/// verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Verdicts so far, indexed by [`Status`].
    pub count: [u32; Status::COUNT],
    /// Local bytes hashed so far.
    pub bytes_hashed: u64,
    /// The lowest part that is MISSING, SIZE_MISMATCH or MD5_MISMATCH; 0 when none.
    pub first_to_upload: u32,
    /// Every verdict is in and none is EXTRA: uploading the parts that need it completes the
    /// session.
    pub resumable: bool,
}

/// Verifies one local file against one listing. Nothing is read or fetched before the first
/// [`Verifier::next_verdict`]; the first error is kept and returned by every later call.
pub struct Verifier {
    state: State,
    totals: Totals,
    /// The listing's interrupt: it stops the listing, the wait for digests, and (by ending
    /// the run) the hashing threads.
    interrupt: Interrupt,
    /// What the listing had seen when it was let go (at DONE or the error), so the status and
    /// the statistics stay readable on a finished or failed verifier.
    ended: Ended,
}

/// The listing's HTTP status and statistics, kept once the listing itself is dropped.
#[derive(Clone, Copy, Debug, Default)]
struct Ended {
    http_status: u16,
    stats: Stats,
}

impl Ended {
    fn of(listing: &Listing) -> Ended {
        Ended { http_status: listing.http_status(), stats: listing.stats() }
    }
}

enum State {
    Ready(Box<Start>),
    Running(Box<Run>),
    Done,
    Failed(Error),
}

struct Start {
    listing: Listing,
    path: std::path::PathBuf,
    /// 0: read it off the listing.
    part_size: u64,
    threads: u32,
    engine: Md5Many,
    /// Hash every local part, not only the listed ones that can match.
    hash_all: bool,
    /// The session has no parts (just created): nothing is listed.
    no_remote_parts: bool,
}

impl Verifier {
    /// A verifier of the file at `path` against `listing`, which must not have started yet.
    /// A failed listing makes a failed verifier with the listing's error.
    pub fn new(listing: Listing, path: impl AsRef<std::path::Path>, part_size: u64) -> Verifier {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u32).min(MAX_THREADS);
        Self::with_engine(listing, path, part_size, threads, Md5Many::new())
    }

    fn with_engine(
        mut listing: Listing,
        path: impl AsRef<std::path::Path>,
        part_size: u64,
        threads: u32,
        engine: Md5Many,
    ) -> Verifier {
        let interrupt = listing.interrupter();
        let ended = Ended::of(&listing);
        let state = match listing.error() {
            Some(e) => State::Failed(e.clone()),
            // configure() is refused once the listing has started.
            None => match listing.configure(|_| Ok(())) {
                Err(_) => State::Failed(listing.fail(Error::arg(
                    "the iterator has already started: pass vault_parts_verify_open an iterator whose first vault_parts_next has not run",
                ))),
                Ok(()) => State::Ready(Box::new(Start {
                    listing,
                    path: path.as_ref().to_owned(),
                    part_size,
                    threads,
                    engine,
                    hash_all: false,
                    no_remote_parts: false,
                })),
            },
        };
        Verifier { state, totals: Totals::default(), interrupt, ended }
    }

    /// A verifier that failed before it could be made (a bad argument).
    pub fn failed(error: Error) -> Verifier {
        Verifier {
            state: State::Failed(error.shown(&Redactor::default())),
            totals: Totals::default(),
            interrupt: Interrupt::new(),
            ended: Ended::default(),
        }
    }

    /// A handle on the verifier's interrupt, for another thread to raise.
    pub fn interrupter(&self) -> Interrupt {
        self.interrupt.clone()
    }

    pub fn error(&self) -> Option<&Error> {
        match &self.state {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// What the listing has seen so far (as of its last request while its thread runs); after
    /// DONE or the error, what it ended with.
    fn seen(&self) -> Ended {
        match &self.state {
            State::Ready(start) => Ended::of(&start.listing),
            State::Running(run) => run.seen(),
            State::Done | State::Failed(_) => self.ended,
        }
    }

    /// The status of the listing's last HTTP response (the details request's included), 0
    /// before any; after DONE or an error, the last one it saw.
    pub fn http_status(&self) -> u16 {
        self.seen().http_status
    }

    /// The wait the server asked for on the failure that stopped the verifier.
    pub fn retry_after(&self) -> Option<Duration> {
        self.error().and_then(Error::retry_after)
    }

    /// The listing's statistics (its details request included); after DONE or an error,
    /// those it ended with.
    pub fn stats(&self) -> Stats {
        self.seen().stats
    }

    /// Replaces the state, keeping what the listing it held (if any) had seen.
    fn set_state(&mut self, state: State) {
        self.ended = self.seen();
        self.state = state;
    }

    pub fn totals(&self) -> Totals {
        Totals {
            resumable: matches!(self.state, State::Done) && self.totals.count[Status::Extra as usize] == 0,
            ..self.totals
        }
    }

    /// Sets the number of hashing threads, 1 to [`MAX_THREADS`] (0: one per available core,
    /// at most 16). Only before the first verdict: later it is refused and changes nothing;
    /// an out-of-range value before it fails the verifier.
    pub fn set_threads(&mut self, threads: u32) -> Result<(), Error> {
        const WHAT: &str = "the thread count";
        let start = self.before_start(WHAT)?;
        match threads {
            0 => start.threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u32).min(MAX_THREADS),
            1..=MAX_THREADS => start.threads = threads,
            _ => return Err(self.refuse(WHAT, Error::arg(format!("threads is {threads}: at most {MAX_THREADS}")))),
        }
        Ok(())
    }

    /// With `on`, every local part is hashed and its verdict carries the local MD5 (MISSING,
    /// SIZE_MISMATCH and UNVERIFIED parts included), which uploading them needs; by default
    /// only listed parts whose sizes match and that Vault has an MD5 for are hashed. Only
    /// before the first verdict: later it is refused and changes nothing.
    pub fn set_hash_all(&mut self, on: bool) -> Result<(), Error> {
        self.before_start("hash-all")?.hash_all = on;
        Ok(())
    }

    /// The session has no parts (it was just created): nothing is requested (neither its
    /// details, whose declared size is the file's by construction, nor its listing) and every
    /// part is MISSING; a part size of 0 is the one [`choose_part_size`] gives. Only before the
    /// first verdict: later it is refused and changes nothing.
    pub fn set_no_remote_parts(&mut self) -> Result<(), Error> {
        self.before_start("no remote parts")?.no_remote_parts = true;
        Ok(())
    }

    /// A value refused for setting `what`: kept as the verifier's error before the first
    /// verdict; afterwards the call is misuse (E_ARG) and changes nothing.
    pub fn refuse(&mut self, what: &str, error: Error) -> Error {
        match self.before_start(what) {
            Ok(_) => self.fail(error),
            Err(e) => e,
        }
    }

    /// The settings, while they may still change: a setter's misuse afterwards is E_ARG and
    /// changes nothing; a failed verifier answers with its error.
    fn before_start(&mut self, what: &str) -> Result<&mut Start, Error> {
        match &mut self.state {
            State::Failed(e) => Err(e.clone()),
            State::Running(_) | State::Done => {
                Err(Error::arg(format!("{what} can be set only before the first vault_parts_verify_next")))
            }
            State::Ready(start) => Ok(start),
        }
    }

    /// Records `error` (unless there is one already) and returns the error kept. While the
    /// listing is held, the error goes through it: redacted and logged like a listing error,
    /// once (an error the listing raised itself is already its own).
    pub fn fail(&mut self, error: Error) -> Error {
        let error = match &mut self.state {
            State::Failed(first) => return first.clone(),
            State::Ready(start) => start.listing.fail(error),
            State::Running(run) => run.fail(error),
            State::Done => error.shown(&Redactor::default()),
        };
        self.set_state(State::Failed(error.clone()));
        error
    }

    /// The next verdict in part order, Ok(None) after the last, or the verifier's error.
    pub fn next_verdict(&mut self) -> Result<Option<Verdict>, Error> {
        loop {
            if matches!(self.state, State::Ready(_) | State::Running(_)) && self.interrupt.is_raised() {
                return Err(self.fail(crate::transport::stop_error(crate::cancel::Stop::Cancelled)));
            }
            let step = match &mut self.state {
                State::Failed(e) => return Err(e.clone()),
                State::Done => return Ok(None),
                State::Ready(_) => self.start(),
                State::Running(run) => match run.step(&mut self.totals) {
                    Ok(Step::Verdict(v)) => {
                        self.totals.count[v.status as usize] += 1;
                        if v.status.needs_upload() && self.totals.first_to_upload == 0 {
                            self.totals.first_to_upload = v.part_number;
                        }
                        return Ok(Some(v));
                    }
                    Ok(Step::Done) => Ok(State::Done),
                    Ok(Step::Progress) => continue,
                    Err(e) => Err(e),
                },
            };
            match step {
                Ok(state) => self.set_state(state),
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Opens the file, starts the hashing threads and checks the session's declared size
    /// against the file's (see [`Run::begin`]); a failure is the listing's to log.
    fn start(&mut self) -> Result<State, Error> {
        let State::Ready(start) = std::mem::replace(&mut self.state, State::Done) else {
            return Err(Error::new(ErrorKind::Internal, "start outside Ready"));
        };
        let Start { mut listing, path, part_size, threads, engine, hash_all, no_remote_parts } = *start;
        let opened = LocalFile::open(&path, Purpose::Verify).map(Arc::new).and_then(|file| {
            let hashing = Hashing::start(&file, threads as usize, engine, hash_all)?;
            Ok((file, hashing))
        });
        let (file, hashing) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                let e = listing.fail(e);
                self.ended = Ended::of(&listing);
                return Ok(State::Failed(e));
            }
        };
        let mut run = Box::new(Run {
            side: Side::Home(listing),
            log: Log::default(),
            given: None,
            listed_all: false,
            file,
            geometry: None,
            inference: Inference::default(),
            listed: BTreeMap::new(),
            seen: HashSet::new(),
            highest_listed: 0,
            next: 1,
            digests: HashMap::new(),
            hashing,
            interrupt: self.interrupt.clone(),
        });
        Ok(match run.begin(part_size, no_remote_parts) {
            Ok(()) => State::Running(run),
            Err(e) => {
                let e = run.fail(e);
                self.ended = run.seen();
                State::Failed(e)
            }
        })
    }
}

/// What one step of a running verification did.
enum Step {
    Verdict(Verdict),
    Done,
    /// Listed a part or collected a digest; try again.
    Progress,
}

/// Where the listing is.
// One per verifier, inside the boxed Run: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
enum Side {
    /// On the caller's thread: before its thread starts, with no remote parts, and once its
    /// thread has ended. Kept after the last page too: errors of the file go through its log.
    Home(Listing),
    /// On its thread, which has the listing's log relay its lines to [`Run::log`].
    Away(Lister),
}

struct Run {
    side: Side,
    /// The user's log sink while the listing is away (its lines are emitted here, on the
    /// caller's thread); it goes back into the listing when the listing comes home.
    log: Log,
    /// The part size given, applied once the declared size is checked (no byte of the file is
    /// read before that).
    given: Option<Geometry>,
    /// Every page has been listed.
    listed_all: bool,
    file: Arc<LocalFile>,
    /// None until the part size is read off the listing.
    geometry: Option<Geometry>,
    inference: Inference,
    /// Listed parts whose verdict has not been returned yet.
    listed: BTreeMap<u32, Remote>,
    /// Every part number listed so far: a second listing of one is a protocol error.
    seen: HashSet<u32>,
    highest_listed: u32,
    /// The part whose verdict comes next; at most one past MAX_PART_NUMBER.
    next: u32,
    digests: HashMap<u32, [u8; 16]>,
    hashing: Hashing,
    interrupt: Interrupt,
}

impl Run {
    /// Checks a given `part_size` (before any request), then the session's declared size
    /// against the file's (one details request, before the listing; skipped with no remote
    /// parts: a session just created has the file's size by construction), then cuts the file
    /// when `part_size` gives the size; with no remote parts, the listing is complete before it
    /// starts.
    fn begin(&mut self, part_size: u64, no_remote_parts: bool) -> Result<(), Error> {
        let size = self.file.size();
        self.given = match part_size {
            0 => None,
            _ => Some(Geometry::new(size, part_size)?),
        };
        if !no_remote_parts {
            // The details request and the pages are the listing thread's (see [`Msg::Checked`]).
            return self.send_away();
        }
        if let Some(g) = self.given.take() {
            self.set_geometry(g)?;
        }
        self.listing_complete()
    }

    /// Starts the listing thread on the listing.
    fn send_away(&mut self) -> Result<(), Error> {
        let Side::Home(listing) = std::mem::replace(&mut self.side, Side::Home(placeholder())) else {
            return Err(Error::new(ErrorKind::Internal, "the listing is away already"));
        };
        match Lister::start(listing, self.file.size(), MAX_AHEAD) {
            Ok((lister, log)) => {
                self.side = Side::Away(lister);
                self.log = log;
                Ok(())
            }
            Err((listing, e)) => {
                self.side = Side::Home(listing);
                Err(e)
            }
        }
    }

    /// Brings the listing back to the caller's thread with the user's log sink: after its
    /// [`Msg::End`] (`ended`), or stopping it first.
    fn come_home(&mut self, ended: bool) {
        let Side::Away(lister) = std::mem::replace(&mut self.side, Side::Home(placeholder())) else { return };
        let mut listing = if ended { lister.finish() } else { lister.stop() };
        listing.replace_log(self.log.replace_sink(None));
        self.side = Side::Home(listing);
    }

    fn seen(&self) -> Ended {
        match &self.side {
            Side::Home(listing) => Ended::of(listing),
            Side::Away(lister) => lister.seen(),
        }
    }

    /// Keeps `error` as the listing's (see [`Verifier::fail`]). With the listing away, the
    /// lines it already sent are emitted first; an error it already reported comes first too;
    /// else `error` is redacted and logged here, and the listing thread is stopped.
    fn fail(&mut self, error: Error) -> Error {
        let Side::Away(lister) = &mut self.side else { return self.home_listing().fail(error) };
        let mut ended = None;
        while let Ok(Some(msg)) = lister.try_next() {
            match msg {
                Msg::Log(level, line) => self.log.emit(level, || line),
                Msg::End(result) => {
                    ended = Some(result);
                    break;
                }
                Msg::Checked | Msg::Part(..) => {}
            }
        }
        match ended {
            // The listing ended first: its error, if it had one, is the first.
            Some(result) => {
                self.come_home(true);
                self.home_listing().fail(result.err().unwrap_or(error))
            }
            None => {
                let error = error.shown(self.log.redactor());
                self.log.emit(Level::Error, || error.message().to_owned());
                // Its own failure (the stop's E_CANCELLED) is left unread.
                self.come_home(false);
                error
            }
        }
    }

    /// The listing, on the caller's thread (where [`Run::fail`] and the end leave it).
    fn home_listing(&mut self) -> &mut Listing {
        if let Side::Away(_) = self.side {
            self.come_home(false);
        }
        match &mut self.side {
            Side::Home(listing) => listing,
            Side::Away(_) => unreachable!("come_home brings the listing home"),
        }
    }

    fn step(&mut self, totals: &mut Totals) -> Result<Step, Error> {
        while let Some(hashed) = self.hashing.try_next()? {
            self.collect(hashed, totals);
        }
        self.receive(false)?;
        let next = self.next;
        if let Some(v) = self.ready(next) {
            self.listed.remove(&v.part_number);
            self.digests.remove(&v.part_number);
            self.next += 1;
            return Ok(Step::Verdict(v));
        }
        if self.listed_all && self.geometry.is_some() && u64::from(self.next) > self.last() {
            self.file.check_path()?;
            return Ok(Step::Done);
        }
        match !self.listed_all && self.waiting_on_listing() {
            true => self.receive(true)?,
            false => {
                let hashed = self.hashing.wait(&self.interrupt)?;
                self.collect(hashed, totals);
            }
        }
        Ok(Step::Progress)
    }

    /// The next verdict needs more of the listing (the part size, or the part itself).
    fn waiting_on_listing(&self) -> bool {
        self.geometry.is_none() || !self.listed.contains_key(&self.next)
    }

    /// Takes what the listing thread has sent, up to MAX_AHEAD listed parts unless the next
    /// verdict needs more; with `wait`, waits for one message if none is in.
    fn receive(&mut self, mut wait: bool) -> Result<(), Error> {
        loop {
            let full = !self.waiting_on_listing() && self.listed.len() >= MAX_AHEAD;
            let Side::Away(lister) = &mut self.side else {
                return match wait && !self.listed_all {
                    true => Err(Error::new(ErrorKind::Internal, "verification stalled: no listing to wait for")),
                    false => Ok(()),
                };
            };
            if full {
                return Ok(());
            }
            let msg = match lister.try_next()? {
                Some(msg) => msg,
                None => {
                    // Nothing more is in: the held-back jobs would otherwise wait for the next
                    // page, and after the last page they are the tail hashing adds.
                    self.hashing.flush();
                    if !wait {
                        return Ok(());
                    }
                    lister.next(&self.interrupt)?
                }
            };
            wait = false;
            self.take(msg)?;
        }
    }

    fn take(&mut self, msg: Msg) -> Result<(), Error> {
        match msg {
            Msg::Log(level, line) => self.log.emit(level, || line),
            Msg::Checked => {
                if let Some(g) = self.given.take() {
                    self.set_geometry(g)?;
                }
            }
            Msg::Part(n, remote) => self.add(n, remote)?,
            Msg::End(result) => {
                self.come_home(true);
                result?;
                self.listing_complete()?;
            }
        }
        Ok(())
    }

    /// The verdict for part `n`, once everything it depends on is known.
    fn ready(&self, n: u32) -> Option<Verdict> {
        let g = self.geometry?;
        let remote = self.listed.get(&n);
        if remote.is_none() && !(self.listed_all && u64::from(n) <= self.last()) {
            return None;
        }
        match self.hashing.wants(&g, n, remote) {
            true => self.digests.get(&n).map(|d| plan::verdict(&g, n, remote, Some(d))),
            false => Some(plan::verdict(&g, n, remote, None)),
        }
    }

    /// The highest part number a verdict is due for.
    fn last(&self) -> u64 {
        self.geometry.map_or(0, |g| g.parts()).max(u64::from(self.highest_listed))
    }

    fn add(&mut self, n: u32, remote: Remote) -> Result<(), Error> {
        if n == 0 {
            return Err(Error::protocol("the listing has a part number 0 (parts are numbered from 1)"));
        }
        if n > MAX_PART_NUMBER {
            return Err(Error::protocol(format!(
                "the listing has part {n}: Vault sessions have at most {MAX_PART_NUMBER} parts"
            )));
        }
        if !self.seen.insert(n) {
            return Err(Error::protocol(format!("the listing has part {n} twice")));
        }
        self.highest_listed = self.highest_listed.max(n);
        self.listed.insert(n, remote);
        match self.geometry {
            Some(g) => self.hashing.listed(&g, n, &remote),
            None => {
                self.inference.add(n, remote.size);
                if let Some(g) = self.inference.geometry(self.file.size()) {
                    self.set_geometry(g?)?;
                }
            }
        }
        Ok(())
    }

    fn set_geometry(&mut self, g: Geometry) -> Result<(), Error> {
        self.geometry = Some(g);
        self.hashing.cut(&self.file, &g, self.listed.iter())
    }

    fn listing_complete(&mut self) -> Result<(), Error> {
        self.listed_all = true;
        self.hashing.flush();
        match self.geometry {
            Some(_) => Ok(()),
            // A session with no parts yet: cut the file as an upload would.
            None if self.inference.is_empty() => {
                let size = self.file.size();
                self.set_geometry(Geometry::new(size, choose_part_size(size)?)?)
            }
            None => Err(Error::arg(format!(
                "part_size is 0 and the listing cannot tell it ({}): pass the part size",
                self.inference.why_not()
            ))),
        }
    }

    fn collect(&mut self, (n, digest): (u32, [u8; 16]), totals: &mut Totals) {
        if let Some(g) = self.geometry {
            totals.bytes_hashed += g.local_size(n);
        }
        self.digests.insert(n, digest);
    }
}

/// Stands in for the listing while it moves between threads.
fn placeholder() -> Listing {
    Listing::failed(Error::new(ErrorKind::Internal, "the listing is moving between threads"))
}

// The C API lets a handle move between threads.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Verifier>();
};

#[cfg(test)]
mod tests;
