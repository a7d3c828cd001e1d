//! The upload's state machine over any [`Vault`]: one enum whose states carry their data.
//!
//! Ready -> (start) Sending -> one event per local part -> Committing -> Polling -> Done, or
//! Failed from anywhere, for good. Digests are computed ahead on the hashing threads while a
//! part is on the wire, so the next part's digest (which its PUT carries for the echo check)
//! is normally ready when the connection is.

use super::plan::{self, Listed};
use super::vault::{Sent, Vault};
use super::{CommitMode, PartAction, PartEvent, Totals, MAX_POLL, MIN_POLL};
use crate::cancel::{Interrupt, Stop};
use crate::error::{Error, ErrorKind};
use crate::local::{hex, DigestsAhead, Geometry, LocalFile, LocalPart, Lookahead, Pool, Purpose};
use crate::log::Level;
use crate::transport::stop_error;
use crate::vault_api::JobStatus;
use crate::verify::Status;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct Machine<V: Vault> {
    /// The connection and the listing it came from; kept to the end, so the session's ID and
    /// the log outlive every state.
    vault: V,
    state: State,
    options: Options,
    /// What has happened so far: counts, and the commit's job once there is one.
    totals: Totals,
    interrupt: Interrupt,
}

/// Set before the start; read after it.
struct Options {
    commit: CommitMode,
    poll: Duration,
}

enum State {
    Ready(Box<Ready>),
    Sending(Box<Sending>),
    /// Every part is on Vault; the file is checked once more before the commit.
    Committing(Arc<LocalFile>),
    /// The commit's job (in [`Totals::job_id`]) has not ended yet.
    Polling,
    Done,
    Failed(Error),
}

struct Ready {
    path: PathBuf,
    /// 0: read it off the listing, or the library's choice.
    part_size: u64,
}

struct Sending {
    file: Arc<LocalFile>,
    geometry: Geometry,
    /// What a resumed session's listing said of the parts not yet through; empty for a new one.
    listed: Listed,
    /// Every part's digest in order: the part whose event comes next is the next digest's.
    digests: DigestsAhead,
}

/// What one step did.
enum Step {
    Event(PartEvent),
    To(State),
}

impl<V: Vault> Machine<V> {
    pub fn new(vault: V, path: &Path, part_size: u64) -> Machine<V> {
        let ready = Ready { path: path.to_owned(), part_size };
        Machine::with_state(vault, State::Ready(Box::new(ready)))
    }

    /// A machine that failed before it could start, with `error` (or the vault's own).
    pub fn failed(mut vault: V, error: Error) -> Machine<V> {
        let error = vault.fail(error);
        Machine::with_state(vault, State::Failed(error))
    }

    fn with_state(vault: V, state: State) -> Machine<V> {
        let interrupt = vault.interrupter();
        let options = Options { commit: CommitMode::default(), poll: super::DEFAULT_POLL };
        Machine { vault, state, options, totals: Totals::default(), interrupt }
    }

    pub fn vault(&self) -> &V {
        &self.vault
    }

    pub fn set_commit(&mut self, mode: CommitMode) -> Result<(), Error> {
        self.before_start("the commit mode")?;
        self.options.commit = mode;
        Ok(())
    }

    pub fn set_poll_interval(&mut self, every: Duration) -> Result<(), Error> {
        self.before_start("the poll interval")?;
        if !(MIN_POLL..=MAX_POLL).contains(&every) {
            let ms = every.as_millis();
            return Err(self.fail(Error::arg(format!("poll interval {ms} ms is out of range: 100 to 600000 ms"))));
        }
        self.options.poll = every;
        Ok(())
    }

    /// Misuse after the start: refused, nothing changed; a failed machine says its error.
    pub fn before_start(&self, what: &str) -> Result<(), Error> {
        match &self.state {
            State::Ready(_) => Ok(()),
            State::Failed(e) => Err(e.clone()),
            _ => Err(Error::arg(format!("{what} can be set only before the upload starts"))),
        }
    }

    pub fn upload_id(&self) -> Option<&str> {
        self.vault.upload_id()
    }

    pub fn totals(&self) -> Totals {
        self.totals
    }

    pub fn error(&self) -> Option<&Error> {
        match &self.state {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }

    pub fn interrupter(&self) -> Interrupt {
        self.interrupt.clone()
    }

    pub fn http_status(&self) -> u16 {
        self.vault.http_status()
    }

    pub fn fail(&mut self, error: Error) -> Error {
        if let State::Failed(first) = &self.state {
            return first.clone();
        }
        let error = self.vault.fail(error);
        self.state = State::Failed(error.clone());
        error
    }

    pub fn start(&mut self) -> Result<(), Error> {
        match &self.state {
            State::Ready(_) => {}
            State::Failed(e) => return Err(e.clone()),
            _ => return Ok(()),
        }
        if self.interrupt.is_raised() {
            return Err(self.fail(stop_error(Stop::Cancelled)));
        }
        let State::Ready(ready) = std::mem::replace(&mut self.state, State::Done) else {
            unreachable!("checked above")
        };
        match self.begin(&ready) {
            Ok(sending) => {
                self.state = State::Sending(Box::new(sending));
                Ok(())
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Opens the file, settles the part size, and creates or checks the session.
    fn begin(&mut self, ready: &Ready) -> Result<Sending, Error> {
        let file = Arc::new(LocalFile::open(&ready.path, Purpose::Upload)?);
        let size = file.size();
        let (geometry, listed, digests) = match self.vault.upload_id() {
            None => {
                let geometry = plan::new_geometry(ready.part_size, size)?;
                // Hashing starts before the create, so part 1's digest is near when the session is.
                let digests = digests_ahead(&file, geometry)?;
                self.vault.create(size)?;
                (geometry, Listed::default(), digests)
            }
            Some(_) => {
                let (geometry, listed) = self.resume(size, ready.part_size)?;
                (geometry, listed, digests_ahead(&file, geometry)?)
            }
        };
        // At most MAX_PART_NUMBER parts (Geometry::new).
        self.totals.parts = geometry.parts() as u32;
        let id = self.vault.upload_id().unwrap_or_default().to_owned();
        self.vault.log(Level::Info, &|| {
            let g = &geometry;
            format!("upload session {id}: {} bytes in {} parts of {} bytes", g.file_size, g.parts(), g.part_size)
        });
        Ok(Sending { file, geometry, listed, digests })
    }

    /// A resumed session: its declared size must be the file's, and its whole listing must
    /// fit the file, before anything is sent.
    fn resume(&mut self, size: u64, given: u64) -> Result<(Geometry, Listed), Error> {
        if given != 0 {
            // A part size Vault would refuse is refused before any request.
            crate::local::check_upload_part_size(size, given)?;
        }
        let declared = self.vault.declared_size()?;
        if declared != size {
            return Err(crate::verify::size_conflict(declared, size));
        }
        let mut listed = Listed::default();
        while let Some(part) = self.vault.next_listed()? {
            listed.add(part)?;
        }
        let geometry = listed.geometry(given, size)?;
        listed.check_fits(&geometry)?;
        Ok((geometry, listed))
    }

    pub fn next_event(&mut self) -> Result<Option<PartEvent>, Error> {
        self.start()?;
        loop {
            if self.interrupt.is_raised() && !matches!(self.state, State::Done | State::Failed(_)) {
                return Err(self.fail(stop_error(Stop::Cancelled)));
            }
            let step = match &mut self.state {
                State::Failed(e) => return Err(e.clone()),
                State::Done => return Ok(None),
                State::Ready(_) => Err(Error::new(ErrorKind::Internal, "next_event before the start")),
                State::Sending(s) => s.step(&mut self.vault, &mut self.totals, &self.interrupt),
                State::Committing(file) => commit(&mut self.vault, file, &mut self.totals, self.options.commit),
                State::Polling => self.poll(),
            };
            match step {
                Ok(Step::Event(event)) => return Ok(Some(event)),
                Ok(Step::To(state)) => self.state = state,
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// One request for the job's status, then (not yet ended) the poll interval's wait.
    fn poll(&mut self) -> Result<Step, Error> {
        let job = self.totals.job_id;
        match self.vault.job_status(job)? {
            JobStatus::Succeeded => {
                self.vault.log(Level::Info, &|| format!("job {job}: SUCCESS: the file is on staging"));
                Ok(Step::To(State::Done))
            }
            JobStatus::Ended(status) => Err(plan::job_ended(job, &status)),
            JobStatus::Pending(status) => {
                let wait = self.options.poll;
                let line = || format!("job {job}: {status}; next poll in {} ms", wait.as_millis());
                self.vault.log(Level::Info, &line);
                self.vault.stops()?.pause(wait, || {}).map_err(|stop| poll_stopped(stop, job, wait, &status))?;
                Ok(Step::To(State::Polling))
            }
        }
    }
}

/// Why the wait before the next poll did not happen: an interrupt, or a wait that would end
/// past the deadline (not started).
fn poll_stopped(stop: Stop, job: u64, wait: Duration, status: &str) -> Error {
    match stop {
        Stop::OperationDeadline => Error::new(
            ErrorKind::Timeout,
            format!(
                "the deadline was reached: the wait of {} ms before polling job {job} again would end past it \
                 (vault_parts_set_deadline_ms); the job was {status}",
                wait.as_millis()
            ),
        ),
        other => stop_error(other),
    }
}

/// Every part's digest, hashed ahead on one hashing thread per core (at most
/// [`crate::verify::MAX_THREADS`]).
fn digests_ahead(file: &Arc<LocalFile>, geometry: Geometry) -> Result<DigestsAhead, Error> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(crate::verify::MAX_THREADS as usize);
    let pool = Pool::start(Arc::clone(file), threads, md5_many::Md5Many::new())?;
    let last = u32::try_from(geometry.parts()).unwrap_or(u32::MAX);
    Ok(DigestsAhead::new(pool, geometry, 1..=last, Lookahead::default()))
}

/// The commit step: the file once more (no commit of a file that changed), then one POST.
fn commit(vault: &mut impl Vault, file: &LocalFile, totals: &mut Totals, mode: CommitMode) -> Result<Step, Error> {
    file.check_path()?;
    if mode == CommitMode::None {
        return Ok(Step::To(State::Done));
    }
    let job = vault.commit()?;
    totals.job_id = job;
    totals.committed = true;
    vault.log(Level::Info, &|| format!("committed: job {job}"));
    Ok(Step::To(if mode == CommitMode::Wait { State::Polling } else { State::Done }))
}

impl Sending {
    /// The next part's event, or the move to the commit step after the last.
    fn step(&mut self, vault: &mut impl Vault, totals: &mut Totals, interrupt: &Interrupt) -> Result<Step, Error> {
        let Some((n, digest)) = self.digests.next(interrupt)? else {
            return Ok(Step::To(State::Committing(Arc::clone(&self.file))));
        };
        let g = self.geometry;
        let remote = self.listed.take(n);
        totals.bytes_hashed += g.local_size(n);
        let verdict = plan::status(&g, n, remote.as_ref(), &digest);
        let md5 = hex(&digest);
        let (action, attempts) = match verdict {
            Status::Ok => {
                totals.kept += 1;
                vault.log(Level::Debug, &|| format!("part {n}: kept (Vault holds it intact)"));
                (PartAction::Kept, 0)
            }
            _ => {
                let sent = self.send(vault, n, &md5, totals)?;
                totals.sent += 1;
                vault.log(Level::Debug, &|| format!("part {n}: sent ({verdict:?}) in {} requests", sent.requests));
                (PartAction::Sent, sent.requests)
            }
        };
        Ok(Step::Event(PartEvent {
            part_number: n,
            verdict,
            action,
            offset: g.offset(n),
            size: g.local_size(n),
            md5,
            attempts,
        }))
    }

    /// PUTs part `n` until Vault's echo is the local part's. A file that changed meanwhile is
    /// E_IO, whatever the PUT's outcome (a short read shows as a failed body).
    fn send(&mut self, vault: &mut impl Vault, n: u32, md5: &[u8; 32], totals: &mut Totals) -> Result<Sent, Error> {
        let body = LocalPart::new(Arc::clone(&self.file), &self.geometry, n);
        let mut sent = Sent::default();
        let result = vault.put_part(&body, md5, &mut sent);
        totals.bytes_sent += sent.bytes;
        self.file.check_open_file()?;
        result.map(|()| sent)
    }
}
