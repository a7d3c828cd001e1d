//! The upload's rules, free of I/O: what a resumed session's listing must say for this file to
//! complete it, which part size applies, which parts are kept, and whether an echo is the
//! local part's.

use super::interim;
use super::vault::{Echo, Judged};
use crate::error::{Error, ErrorKind};
use crate::local::Geometry;
use crate::page::Part;
use crate::verify::{Remote, Status, MAX_LISTED_PART};
use std::collections::BTreeMap;

/// The parts a resumed session's listing names, read whole before anything is sent.
#[derive(Debug, Default)]
pub(crate) struct Listed {
    parts: BTreeMap<u32, Remote>,
}

impl Listed {
    /// Adds one listed part. Numbers are checked as verify checks them: a part 0, a number
    /// above [`MAX_LISTED_PART`] (which bounds this map) or a number listed twice is E_PROTOCOL.
    pub fn add(&mut self, part: Part) -> Result<(), Error> {
        let n = part.part_number;
        if n == 0 {
            return Err(Error::protocol("the listing has a part number 0 (parts are numbered from 1)"));
        }
        if n > MAX_LISTED_PART {
            return Err(Error::protocol(format!(
                "the listing has part {n}: Vault sessions have at most {MAX_LISTED_PART} parts"
            )));
        }
        if self.parts.insert(n, Remote { size: part.size, md5: part.md5 }).is_some() {
            return Err(Error::protocol(format!("the listing has part {n} twice")));
        }
        Ok(())
    }

    /// The part size of a resumed upload: `given` (checked), else read off the listing, else
    /// (no part listed) the library's choice for the file.
    pub fn part_size(&self, given: u64, file_size: u64) -> Result<u64, Error> {
        if given != 0 {
            return Ok(given);
        }
        if self.parts.is_empty() {
            return interim::choose_part_size(file_size);
        }
        let mut inference = crate::local::Inference::default();
        for (&n, remote) in &self.parts {
            inference.add(n, remote.size);
        }
        let first = self.parts.first_key_value().map(|(&n, r)| (n, r.size));
        interim::infer_part_size(&inference, first, file_size)
    }

    /// Refuses a session this file cannot complete (E_CONFLICT, before anything is sent): a
    /// part listed past the file's last part, or a listed part before the last whose size is
    /// not the part size (every part but a session's last has the part size, and the declared
    /// size is the file's, so such a part was cut with another part size or from another file).
    pub fn check_fits(&self, g: &Geometry) -> Result<(), Error> {
        let parts = g.parts();
        if let Some((&n, _)) = self.parts.last_key_value().filter(|(&n, _)| u64::from(n) > parts) {
            return Err(conflict(format!(
                "Vault lists part {n}, past the file's last part {parts} at part size {}: the session \
                 was uploaded from another file or with another part size",
                g.part_size
            )));
        }
        let short = self.parts.iter().find(|(&n, r)| u64::from(n) < parts && r.size != g.part_size);
        if let Some((n, r)) = short {
            return Err(conflict(format!(
                "Vault lists part {n} with {} bytes, but every part before the last has the part size \
                 {}: the session was uploaded with another part size or from another file",
                r.size, g.part_size
            )));
        }
        Ok(())
    }

    /// What the listing says of part `n`, handed over once (the map shrinks as parts go out).
    pub fn take(&mut self, n: u32) -> Option<Remote> {
        self.parts.remove(&n)
    }
}

fn conflict(why: String) -> Error {
    Error::new(interim::CONFLICT, format!("this file cannot complete this session: {why}; nothing was sent"))
}

/// A part size the caller gave (0: none) must be one Vault accepts for this file: E_ARG
/// otherwise, before any request.
pub(crate) fn check_given(given: u64, file_size: u64) -> Result<(), Error> {
    match given {
        0 => Ok(()),
        _ => interim::check_part_size(given, file_size),
    }
}

/// The part size of a new session: `given` (checked) or the library's choice.
pub(crate) fn new_part_size(given: u64, file_size: u64) -> Result<u64, Error> {
    check_given(given, file_size)?;
    match given {
        0 => interim::choose_part_size(file_size),
        _ => Ok(given),
    }
}

/// Whether part `n` may be kept: the listing names it with the local size and an MD5, so its
/// verdict waits for the local digest. Every other part is sent without waiting for one.
pub(crate) fn may_keep(g: &Geometry, n: u32, remote: Option<&Remote>) -> bool {
    remote.is_some_and(|r| crate::verify::job(g, n, r).is_some())
}

/// Verify's verdict for part `n`; `digest` is needed only when [`may_keep`] says so.
pub(crate) fn status(g: &Geometry, n: u32, remote: Option<&Remote>, digest: Option<&[u8; 16]>) -> Status {
    crate::verify::verdict(g, n, remote, digest).status
}

/// Whether Vault's answer to a PUT of part `n` (`size` bytes of MD5 `md5`) says it stored
/// exactly those bytes; otherwise the part is sent again, and after the last attempt the
/// upload fails with E_INTEGRITY.
pub(crate) fn judge(n: u32, size: u64, md5: &[u8; 32], echo: &Echo) -> Judged {
    if echo.part_number == n && echo.size == size && echo.md5.as_ref() == Some(md5) {
        return Judged::Accept;
    }
    let theirs = echo.md5.as_ref().map_or("no MD5".to_owned(), |m| format!("MD5 {}", String::from_utf8_lossy(m)));
    Judged::Resend(Error::new(
        interim::INTEGRITY,
        format!(
            "part {n}: Vault answered part {} with {} bytes and {theirs} for the {size} bytes of MD5 {} sent",
            echo.part_number,
            echo.size,
            String::from_utf8_lossy(md5)
        ),
    ))
}

/// What a job's status means (Vault: "SCHEDULED, QUEUED, RUNNING, SUCCESS, ERRORS_ENCOUNTERED,
/// QUEUEING, CANCELLED, TIMEOUT, ..."; the list may grow).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JobState {
    NotYet,
    Succeeded,
    /// Ended without the file: E_VAULT naming the status.
    Ended(Error),
}

pub(crate) fn job_state(job: u64, status: &str) -> JobState {
    match status {
        "SCHEDULED" | "QUEUED" | "QUEUEING" | "RUNNING" => JobState::NotYet,
        "SUCCESS" => JobState::Succeeded,
        other => JobState::Ended(
            Error::new(
                ErrorKind::Vault,
                format!(
                    "the commit's job {job} ended with status {}: the file is not on staging",
                    crate::error::quote(other)
                ),
            )
            .with_vault_type(other),
        ),
    }
}
