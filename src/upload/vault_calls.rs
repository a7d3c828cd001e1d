//! The [`Vault`] the API runs on: the calls over the listing's connection.
//!
//! INTERIM until branch `core` lands its phase 2 (create, details, PUT, commit, job status and
//! a listing opened for a new session): the listing's own pieces are wired (its parts, its
//! interrupt, its error and log), every other call fails with E_INTERNAL saying so.

use super::interim::{JobStatus, PartBytes};
use super::vault::{Sent, Vault};
use crate::cancel::{Interrupt, Stop};
use crate::error::{Error, ErrorKind};
use crate::listing::Listing;
use crate::log::Level;
use crate::page::Part;
use std::time::Duration;

pub(crate) struct VaultCalls {
    listing: Listing,
}

impl VaultCalls {
    pub fn new(listing: Listing) -> VaultCalls {
        VaultCalls { listing }
    }

    pub fn failed(error: Error) -> VaultCalls {
        VaultCalls { listing: Listing::failed(error) }
    }
}

/// Why `listing` cannot be taken over: its own error, or it has started already.
pub(crate) fn refusal(listing: &mut Listing) -> Option<Error> {
    if let Some(e) = listing.error() {
        return Some(e.clone());
    }
    // configure() is refused once the listing has started.
    listing.configure(|_| Ok(())).err().map(|_| {
        Error::arg(
            "the iterator has already started: pass vault_parts_upload_open an iterator whose first vault_parts_next has not run",
        )
    })
}

fn not_yet(call: &str) -> Error {
    Error::new(
        ErrorKind::Internal,
        format!("{call} is not available in this build yet (the upload calls are being wired)"),
    )
}

impl Vault for VaultCalls {
    fn upload_id(&self) -> Option<&str> {
        None
    }

    fn create(&mut self, _size: u64) -> Result<(), Error> {
        Err(not_yet("creating an upload session"))
    }

    fn declared_size(&mut self) -> Result<u64, Error> {
        Err(not_yet("reading an upload session's details"))
    }

    fn next_listed(&mut self) -> Result<Option<Part>, Error> {
        self.listing.next_part()
    }

    fn put_part(&mut self, _body: &PartBytes, _md5: &[u8; 32], _sent: &mut Sent) -> Result<(), Error> {
        Err(not_yet("uploading a part"))
    }

    fn commit(&mut self) -> Result<u64, Error> {
        Err(not_yet("committing an upload session"))
    }

    fn job_status(&mut self, _job: u64) -> Result<JobStatus, Error> {
        Err(not_yet("reading a job's status"))
    }

    fn interrupter(&self) -> Interrupt {
        self.listing.interrupter()
    }

    fn pause(&mut self, _wait: Duration) -> Result<(), Stop> {
        Err(Stop::Cancelled)
    }

    fn fail(&mut self, error: Error) -> Error {
        self.listing.fail(error)
    }

    fn log(&mut self, _level: Level, _line: &dyn Fn() -> String) {}

    fn http_status(&self) -> u16 {
        self.listing.http_status()
    }
}
