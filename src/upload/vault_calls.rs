//! The [`Vault`] the API runs on: vault_api's calls over the connection of the listing the
//! upload took over, which also keeps the upload's error, log and traffic counts.

use super::vault::{Sent, Vault};
use crate::cancel::{Interrupt, Stops};
use crate::error::Error;
use crate::listing::{Listing, Stats, UploadTarget};
use crate::local::LocalPart;
use crate::log::Level;
use crate::page::Part;
use crate::vault_api::JobStatus;

pub(crate) struct VaultCalls {
    listing: Listing,
    /// The session's ID: the listing's for an existing session, the create's for a new one
    /// (None until then). Kept here because a failed listing no longer says which session it
    /// was for, and the ID must outlive a failure: it is what a caller resumes with.
    id: Option<String>,
}

impl VaultCalls {
    pub fn new(listing: Listing) -> VaultCalls {
        let id = match listing.upload_target() {
            Some(UploadTarget::Existing { upload_session_id }) => Some(upload_session_id.clone()),
            _ => None,
        };
        VaultCalls { listing, id }
    }

    pub fn failed(error: Error) -> VaultCalls {
        VaultCalls::new(Listing::failed(error))
    }

    /// The requests, retries and bytes of the listing and the upload together.
    pub fn stats(&self) -> Stats {
        self.listing.stats()
    }

    fn id(&self) -> Result<String, Error> {
        self.upload_id()
            .map(str::to_owned)
            .ok_or_else(|| Error::new(crate::ErrorKind::Internal, "an upload call before the session exists"))
    }
}

/// Why `listing` cannot be taken over: its own error, or it has started already.
pub(crate) fn refusal(listing: &mut Listing) -> Option<Error> {
    if let Some(e) = listing.error() {
        return Some(e.clone());
    }
    if let Some(UploadTarget::Account) = listing.upload_target() {
        return Some(Error::arg(
            "this iterator lists upload sessions: pass vault_parts_upload_open one from vault_parts_open or vault_parts_open_new",
        ));
    }
    // configure() is refused once the listing has started.
    listing.configure(|_| Ok(())).err().map(|_| {
        Error::arg(
            "the iterator has already started: pass vault_parts_upload_open an iterator whose first vault_parts_next has not run",
        )
    })
}

impl Vault for VaultCalls {
    fn upload_id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn create(&mut self, size: u64) -> Result<(), Error> {
        let Some(UploadTarget::New { staging_path, overwrite }) = self.listing.upload_target().cloned() else {
            return Err(Error::new(crate::ErrorKind::Internal, "create on a listing for an existing session"));
        };
        let session = self.listing.calls()?.create(&staging_path, size, overwrite)?;
        self.id = Some(session.id);
        Ok(())
    }

    fn declared_size(&mut self) -> Result<u64, Error> {
        let id = self.id()?;
        crate::verify::declared_size(&mut self.listing, &id)
    }

    fn next_listed(&mut self) -> Result<Option<Part>, Error> {
        self.listing.next_part()
    }

    fn put_part(&mut self, body: &LocalPart, md5: &[u8; 32], sent: &mut Sent) -> Result<(), Error> {
        let id = self.id()?;
        let mut calls = self.listing.calls()?;
        let before = calls.traffic();
        let result = calls.put_part(&id, body.number(), body, md5);
        let after = calls.traffic();
        // Counted from the traffic, so a part that failed counts its attempts too.
        sent.requests = u32::try_from(after.requests - before.requests).unwrap_or(u32::MAX);
        sent.bytes = after.body_bytes_sent - before.body_bytes_sent;
        result.map(|_stored| ())
    }

    fn commit(&mut self) -> Result<u64, Error> {
        let id = self.id()?;
        self.listing.calls()?.commit(&id)
    }

    fn job_status(&mut self, job: u64) -> Result<JobStatus, Error> {
        self.listing.calls()?.job_status(job)
    }

    fn interrupter(&self) -> Interrupt {
        self.listing.interrupter()
    }

    fn stops(&mut self) -> Result<Stops, Error> {
        Ok(self.listing.calls()?.stops().clone())
    }

    fn fail(&mut self, error: Error) -> Error {
        self.listing.fail(error)
    }

    fn log(&mut self, level: Level, line: &dyn Fn() -> String) {
        if let Ok(mut calls) = self.listing.calls() {
            calls.log().emit(level, line);
        }
    }

    fn http_status(&self) -> u16 {
        self.listing.http_status()
    }
}
