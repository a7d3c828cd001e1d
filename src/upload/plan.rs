//! The upload's rules, free of I/O: what a resumed session's listing must say for this file to
//! complete it, which part size applies, which parts are kept, and what a failed job says.
//! (Whether a PUT's echo is the local part's is vault_api's rule, checked per attempt.)

use crate::error::{Error, ErrorKind};
use crate::local::{check_upload_part_size, choose_part_size, Geometry, Inference, MAX_PART_NUMBER};
use crate::page::Part;
use crate::verify::{Remote, Status};
use std::collections::BTreeMap;

/// The parts a resumed session's listing names, read whole before anything is sent.
#[derive(Debug, Default)]
pub(crate) struct Listed {
    parts: BTreeMap<u32, Remote>,
}

impl Listed {
    /// Adds one listed part. Numbers are checked as verify checks them: a part 0, a number
    /// above [`MAX_PART_NUMBER`] (which bounds this map) or a number listed twice is E_PROTOCOL.
    pub fn add(&mut self, part: Part) -> Result<(), Error> {
        let n = part.part_number;
        if n == 0 {
            return Err(Error::protocol("the listing has a part number 0 (parts are numbered from 1)"));
        }
        if n > MAX_PART_NUMBER {
            return Err(Error::protocol(format!(
                "the listing has part {n}: Vault sessions have at most {MAX_PART_NUMBER} parts"
            )));
        }
        if self.parts.insert(n, Remote { size: part.size, md5: part.md5 }).is_some() {
            return Err(Error::protocol(format!("the listing has part {n} twice")));
        }
        Ok(())
    }

    /// The file cut for a resumed upload: at the part size `given` (checked), else as the
    /// listing tells, else (no part listed) at the library's choice.
    pub fn geometry(&self, given: u64, file_size: u64) -> Result<Geometry, Error> {
        if given != 0 {
            check_upload_part_size(file_size, given)?;
            return Geometry::new(file_size, given);
        }
        if self.parts.is_empty() {
            return Geometry::new(file_size, choose_part_size(file_size)?);
        }
        let mut inference = Inference::default();
        for (&n, remote) in &self.parts {
            inference.add(n, remote.size);
        }
        inference.geometry(file_size).unwrap_or_else(|| {
            Err(Error::arg(format!(
                "part_size is 0 and the listing cannot tell it ({}): pass the part size",
                inference.why_not()
            )))
        })
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
    Error::new(ErrorKind::Conflict, format!("this file cannot complete this session: {why}; nothing was sent"))
}

/// The file cut for a new session: at the part size `given` (checked), else at the library's
/// choice. E_ARG before any request for a size or file Vault would refuse.
pub(crate) fn new_geometry(given: u64, file_size: u64) -> Result<Geometry, Error> {
    let part_size = match given {
        0 => choose_part_size(file_size)?,
        _ => check_upload_part_size(file_size, given).map(|()| given)?,
    };
    Geometry::new(file_size, part_size)
}

/// What verify says of part `n` with its local digest: OK is kept, anything else is sent.
pub(crate) fn status(g: &Geometry, n: u32, remote: Option<&Remote>, digest: &[u8; 16]) -> Status {
    crate::verify::verdict(g, n, remote, Some(digest)).status
}

/// A job that ended without the file: E_VAULT naming its status (also as the error type, for
/// programs to branch on).
pub(crate) fn job_ended(job: u64, status: &str) -> Error {
    Error::new(
        ErrorKind::Vault,
        format!("the commit's job {job} ended with status {}: the file is not on staging", crate::error::quote(status)),
    )
    .with_vault_type(status)
}
