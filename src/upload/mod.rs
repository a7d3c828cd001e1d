//! Uploading a local file to a Vault resumable upload session: create the session (or read
//! a resumed one's details and listing), send every part Vault does not already hold intact,
//! one at a time in ascending order, check each answer's echo, commit, and wait for the
//! commit's job.
//!
//! [`Upload`] is the API; the rules live in a state machine ([`machine`]) written against a
//! narrow [`vault::Vault`] trait, so it is tested with a fake that records every call and run
//! with the real calls over the listing's connection.

mod machine;
mod plan;
mod vault;
mod vault_calls;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

use crate::cancel::Interrupt;
use crate::error::Error;
use crate::listing::Listing;
use crate::verify::Status;
use machine::Machine;
use std::path::Path;
use std::time::Duration;
use vault_calls::VaultCalls;

/// What follows the last part (VAULT_PARTS_COMMIT_*).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CommitMode {
    /// Stop once every part is on Vault.
    None = 0,
    /// Then commit: done once Vault accepted it (the job id is in the totals).
    Commit = 1,
    /// Then also poll the commit's job until it ends: done when the file is on staging.
    #[default]
    Wait = 2,
}

/// What the upload did with a part (VAULT_PARTS_KEPT, VAULT_PARTS_SENT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartAction {
    /// Vault already held it intact: left as it was.
    Kept = 0,
    /// Uploaded now.
    Sent = 1,
}

/// One part of the local file, once the upload is through with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartEvent {
    pub part_number: u32,
    /// What verify would say of the part, before anything was sent.
    pub verdict: Status,
    pub action: PartAction,
    /// First byte of the part in the local file.
    pub offset: u64,
    /// Bytes of the part.
    pub size: u64,
    /// MD5 of the local bytes, lowercase hex: what Vault holds for this part now.
    pub md5: [u8; 32],
    /// PUT requests made for this part (0 when kept).
    pub attempts: u32,
}

/// What the upload has done so far; valid at any time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Parts of the local file (0 before the start).
    pub parts: u32,
    pub kept: u32,
    pub sent: u32,
    /// Request-body bytes of every PUT, retries included.
    pub bytes_sent: u64,
    pub bytes_hashed: u64,
    /// The commit's job; 0 before the commit.
    pub job_id: u64,
    /// Vault accepted the commit.
    pub committed: bool,
}

/// The shortest and longest poll interval, and the default (Vault allows one job status
/// request per job every 10 s).
pub(crate) const MIN_POLL: Duration = Duration::from_millis(100);
pub(crate) const MAX_POLL: Duration = Duration::from_secs(600);
pub(crate) const DEFAULT_POLL: Duration = Duration::from_secs(10);

/// Uploads one local file to one upload session. Nothing is read or sent before
/// [`Upload::start`] (which [`Upload::next_event`] runs if needed); the first error is kept
/// and returned by every later call.
pub struct Upload(Machine<VaultCalls>);

impl Upload {
    /// An upload of the file at `path` through `listing`, which it takes over: a listing for
    /// a new session (it is created at the start) or for an existing one (resumed).
    /// `part_size` 0 means: read it off the listing, or the library's choice for a session
    /// with no parts. A failed or started listing makes a failed upload. No I/O.
    pub fn new(mut listing: Listing, path: impl AsRef<Path>, part_size: u64) -> Upload {
        Upload(match vault_calls::refusal(&mut listing) {
            None => Machine::new(VaultCalls::new(listing), path.as_ref(), part_size),
            Some(error) => Machine::failed(VaultCalls::new(listing), error),
        })
    }

    /// An upload that failed before it could be made (a bad argument).
    pub fn failed(error: Error) -> Upload {
        Upload(Machine::failed(VaultCalls::failed(error.clone()), error))
    }

    /// What follows the last part. Only before the start: later it is refused (E_ARG) and
    /// changes nothing.
    pub fn set_commit(&mut self, mode: CommitMode) -> Result<(), Error> {
        self.0.set_commit(mode)
    }

    /// Ok while settings may change (before the start); otherwise the refusal, naming `what`
    /// (a misuse that changes nothing), or the upload's error.
    pub fn before_start(&self, what: &str) -> Result<(), Error> {
        self.0.before_start(what)
    }

    /// How often the commit's job is polled, 100 ms to 600 s (default 10 s). Only before the
    /// start (later refused, nothing changed); a value out of range fails the upload.
    pub fn set_poll_interval(&mut self, every: Duration) -> Result<(), Error> {
        self.0.set_poll_interval(every)
    }

    /// The first I/O: opens the file, creates the session (new) or reads its details and its
    /// whole listing (resume), and decides the part size. A second call does nothing and
    /// returns the same result.
    pub fn start(&mut self) -> Result<(), Error> {
        self.0.start()
    }

    /// The upload session's ID: after the start for a new session, from the open for a
    /// resumed one.
    pub fn upload_id(&self) -> Option<&str> {
        self.0.upload_id()
    }

    /// The next part's event in part order (running the start first if needed); Ok(None)
    /// once every part is through and the commit step the mode asks for is done.
    pub fn next_event(&mut self) -> Result<Option<PartEvent>, Error> {
        self.0.next_event()
    }

    pub fn totals(&self) -> Totals {
        self.0.totals()
    }

    pub fn error(&self) -> Option<&Error> {
        self.0.error()
    }

    /// Records `e` unless there is an error already (the first wins) and returns the error
    /// kept, redacted and logged.
    pub fn fail(&mut self, e: Error) -> Error {
        self.0.fail(e)
    }

    /// A handle on the upload's interrupt, for another thread to raise.
    pub fn interrupter(&self) -> Interrupt {
        self.0.interrupter()
    }

    /// The status of the last HTTP response, 0 before any.
    pub fn http_status(&self) -> u16 {
        self.0.http_status()
    }

    /// Requests, retries, bytes and time of the listing and the upload together
    /// (vault_parts_stats' numbers).
    pub fn stats(&self) -> crate::listing::Stats {
        self.0.vault().stats()
    }

    /// The wait the server asked for on the failure that stopped the upload.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.error().and_then(Error::retry_after)
    }
}

// The C API lets a handle move between threads.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Upload>();
};
