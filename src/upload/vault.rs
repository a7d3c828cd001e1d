//! What the upload needs of Vault, as one narrow trait: the state machine is written against
//! it, tested with a fake (fake.rs) and run with the real calls (vault_calls.rs).

use super::interim::PartBytes;
use crate::cancel::{Deadline, Interrupt};
use crate::error::Error;
use crate::log::Level;
use crate::page::Part;

/// What Vault answered a part upload with: the size and MD5 of the bytes it stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Echo {
    pub part_number: u32,
    pub size: u64,
    /// Lowercase hex; None when the answer carried none.
    pub md5: Option<[u8; 32]>,
}

/// The upload's judgement of one answered attempt.
#[derive(Debug)]
// INTERIM: read only by the fake until vault_calls.rs sends parts.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Judged {
    /// The echo is the local part's: the part is on Vault.
    Accept,
    /// The echo differs: send the part again if an attempt is left, else fail with this.
    Resend(Error),
    /// Something local failed (the file changed, the hashing stopped): no further attempt.
    Stop(Error),
}

/// What the attempts at one part cost, counted whatever their outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Sent {
    /// PUT requests made.
    pub requests: u32,
    /// Request-body bytes handed to the connection.
    pub bytes: u64,
}

/// The calls, each with the listing's retry rules, timeouts, deadline and interrupt; every
/// error passes the listing's redactor.
pub(crate) trait Vault: Send {
    /// The upload session's ID: None for a new session until [`Vault::create`].
    fn upload_id(&self) -> Option<&str>;

    /// Creates the session for a file of `size` bytes (from then on it has an ID).
    fn create(&mut self, size: u64) -> Result<(), Error>;

    /// The size the session was created for.
    fn declared_size(&mut self) -> Result<u64, Error>;

    /// The next part the session's listing names; Ok(None) after the last.
    fn next_listed(&mut self) -> Result<Option<Part>, Error>;

    /// Sends part `body.part()`, its bytes produced again from the file for every attempt,
    /// until `judge` accepts an answer's echo or the attempts run out; `sent` counts every
    /// attempt.
    fn put_part(
        &mut self,
        body: &PartBytes,
        judge: &mut dyn FnMut(&Echo) -> Judged,
        sent: &mut Sent,
    ) -> Result<(), Error>;

    /// Commits the session; returns the job that assembles the file.
    fn commit(&mut self) -> Result<u64, Error>;

    /// The status of job `job`, as Vault spells it ("RUNNING", "SUCCESS", ...).
    fn job_status(&mut self, job: u64) -> Result<String, Error>;

    /// The end of the whole operation (the listing's deadline setting).
    fn deadline(&self) -> Deadline;

    /// The interrupt every call obeys.
    fn interrupter(&self) -> Interrupt;

    /// Records `error` as the connection's own (first wins), redacted and logged; returns the
    /// error kept.
    fn fail(&mut self, error: Error) -> Error;

    /// A line for the caller's log, formatted only when somebody listens.
    fn log(&mut self, level: Level, line: &dyn Fn() -> String);

    /// The status of the last HTTP response, 0 before any.
    fn http_status(&self) -> u16;
}
