//! What the upload needs of Vault, as one narrow trait: the state machine is written against
//! it, tested with a fake (fake.rs) and run with the real calls (vault_calls.rs).

use crate::cancel::{Interrupt, Stops};
use crate::error::Error;
use crate::local::LocalPart;
use crate::log::Level;
use crate::page::Part;
use crate::vault_api::JobStatus;

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

    /// Sends part `body.number()`, its bytes produced again from the file for every attempt,
    /// until Vault's answer echoes its size and `md5` (lowercase hex): a wrong echo is sent
    /// again, and after the last attempt it is E_INTEGRITY. `sent` counts every attempt,
    /// whatever the outcome.
    fn put_part(&mut self, body: &LocalPart, md5: &[u8; 32], sent: &mut Sent) -> Result<(), Error>;

    /// Commits the session; returns the job that assembles the file.
    fn commit(&mut self) -> Result<u64, Error>;

    /// Where job `job` is.
    fn job_status(&mut self, job: u64) -> Result<JobStatus, Error>;

    /// The interrupt every call obeys.
    fn interrupter(&self) -> Interrupt;

    /// The interrupt and the operation's deadline, for the waits between job polls.
    fn stops(&mut self) -> Result<Stops, Error>;

    /// Records `error` as the connection's own (first wins), redacted and logged; returns the
    /// error kept.
    fn fail(&mut self, error: Error) -> Error;

    /// A line for the caller's log, formatted only when somebody listens.
    fn log(&mut self, level: Level, line: &dyn Fn() -> String);

    /// The status of the last HTTP response, 0 before any.
    fn http_status(&self) -> u16;
}
