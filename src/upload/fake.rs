//! A [`Vault`] for the state machine's unit tests: it answers from a script, holds the parts
//! it was sent as a session would, and records every call.

use super::vault::{Sent, Vault};
use crate::cancel::{Deadline, Interrupt, Stops};
use crate::error::{Error, ErrorKind, Redactor};
use crate::local::LocalPart;
use crate::log::Level;
use crate::page::Part;
use crate::transport::Body;
use crate::vault_api::JobStatus;
use md5::{Digest, Md5};
use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::time::Instant;

/// One call the machine made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Create {
        size: u64,
    },
    Details,
    /// One part read off the listing (or its end).
    Listed,
    /// One PUT attempt: the bytes the body produced, and their MD5.
    Put {
        part: u32,
        attempt: u32,
        len: u64,
        md5: [u8; 32],
    },
    Commit,
    Job {
        job: u64,
    },
}

/// What a PUT attempt answers.
#[derive(Clone, Debug)]
pub enum Answer {
    /// The size and MD5 of the bytes received.
    Echo,
    /// Those bytes stored, but an MD5 of other bytes echoed.
    WrongMd5,
    /// A failure the retry rules pass on (a 503, a reset).
    Transient(Error),
    /// A failure they do not (INVALID_SESSION_ID).
    Fatal(Error),
}

/// A PUT attempt's script: (part, attempt) -> answer; Echo when it returns None.
pub type PutScript = Box<dyn FnMut(u32, u32) -> Option<Answer> + Send>;

pub struct Fake {
    pub id: Option<String>,
    pub declared: u64,
    pub listing: VecDeque<Part>,
    /// The listing fails with this once its parts are out.
    pub listing_error: Option<Error>,
    pub max_attempts: u32,
    pub put: PutScript,
    /// Called before each PUT attempt reads its body (to change the file mid-upload).
    pub before_put: Box<dyn FnMut(u32, u32) + Send>,
    pub job_id: u64,
    /// Job statuses answered in turn; the last one repeats.
    pub jobs: VecDeque<JobStatus>,
    pub deadline: Deadline,
    pub interrupt: Interrupt,
    pub calls: Vec<Call>,
    /// When each job status request came.
    pub polled: Vec<Instant>,
    /// The parts stored, as a session holds them: number -> MD5 of the bytes.
    pub stored: BTreeMap<u32, [u8; 32]>,
    pub logged: Vec<(Level, String)>,
    pub failed: Option<Error>,
    redactor: Redactor,
}

impl Fake {
    /// A fake for a new session: create makes the ID "new-id".
    pub fn new_session() -> Fake {
        Fake {
            id: None,
            declared: 0,
            listing: VecDeque::new(),
            listing_error: None,
            max_attempts: 3,
            put: Box::new(|_, _| None),
            before_put: Box::new(|_, _| {}),
            job_id: 4242,
            jobs: VecDeque::from([JobStatus::Succeeded]),
            deadline: Deadline::NONE,
            interrupt: Interrupt::new(),
            calls: Vec::new(),
            polled: Vec::new(),
            stored: BTreeMap::new(),
            logged: Vec::new(),
            failed: None,
            redactor: Redactor::new("fake-session-secret"),
        }
    }

    /// A fake for the existing session "up1", declared `declared` bytes, listing `parts`.
    pub fn resumed(declared: u64, parts: &[Part]) -> Fake {
        Fake { id: Some("up1".to_owned()), declared, listing: parts.iter().copied().collect(), ..Fake::new_session() }
    }

    pub fn puts(&self) -> Vec<(u32, u32)> {
        self.calls
            .iter()
            .filter_map(|c| if let Call::Put { part, attempt, .. } = c { Some((*part, *attempt)) } else { None })
            .collect()
    }

    pub fn count(&self, want: fn(&Call) -> bool) -> usize {
        self.calls.iter().filter(|c| want(c)).count()
    }
}

pub fn md5_hex(bytes: &[u8]) -> [u8; 32] {
    crate::local::hex(&Md5::digest(bytes).into())
}

impl Vault for Fake {
    fn upload_id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn create(&mut self, size: u64) -> Result<(), Error> {
        self.calls.push(Call::Create { size });
        self.declared = size;
        self.id = Some("new-id".to_owned());
        Ok(())
    }

    fn declared_size(&mut self) -> Result<u64, Error> {
        self.calls.push(Call::Details);
        Ok(self.declared)
    }

    fn next_listed(&mut self) -> Result<Option<Part>, Error> {
        self.calls.push(Call::Listed);
        match (self.listing.pop_front(), self.listing_error.take()) {
            (Some(part), error) => {
                self.listing_error = error;
                Ok(Some(part))
            }
            (None, Some(e)) => Err(e),
            (None, None) => Ok(None),
        }
    }

    /// Retries as the retry loop does, and checks the echo as core's part upload does.
    fn put_part(&mut self, body: &LocalPart, md5: &[u8; 32], sent: &mut Sent) -> Result<(), Error> {
        let part = body.number();
        let mut last = Error::new(ErrorKind::Internal, "no attempt made");
        for attempt in 1..=self.max_attempts {
            self.interrupt.check().map_err(crate::transport::stop_error)?;
            (self.before_put)(part, attempt);
            let mut bytes = Vec::new();
            let read = Body::reader(body).and_then(|mut r| r.read_to_end(&mut bytes));
            sent.requests += 1;
            sent.bytes += bytes.len() as u64;
            let stored = md5_hex(&bytes);
            self.calls.push(Call::Put { part, attempt, len: bytes.len() as u64, md5: stored });
            if let Err(e) = read {
                return Err(Error::new(ErrorKind::Io, format!("the body failed: {e}")));
            }
            let echoed = match (self.put)(part, attempt).unwrap_or(Answer::Echo) {
                Answer::Echo => stored,
                Answer::WrongMd5 => md5_hex(b"other bytes"),
                Answer::Transient(e) => {
                    last = e;
                    continue;
                }
                Answer::Fatal(e) => return Err(e),
            };
            self.stored.insert(part, stored);
            if (bytes.len() as u64, &echoed) == (body.len(), md5) {
                return Ok(());
            }
            last = Error::new(
                ErrorKind::Integrity,
                format!("Vault stored part {part} with MD5 {}", String::from_utf8_lossy(&echoed)),
            );
        }
        Err(last.context(format!("part {part} (after {} attempts)", self.max_attempts)))
    }

    fn commit(&mut self) -> Result<u64, Error> {
        self.calls.push(Call::Commit);
        Ok(self.job_id)
    }

    fn job_status(&mut self, job: u64) -> Result<JobStatus, Error> {
        self.calls.push(Call::Job { job });
        self.polled.push(Instant::now());
        let status = if self.jobs.len() > 1 { self.jobs.pop_front() } else { self.jobs.front().cloned() };
        Ok(status.expect("a job status scripted"))
    }

    fn interrupter(&self) -> Interrupt {
        self.interrupt.clone()
    }

    fn stops(&mut self) -> Result<Stops, Error> {
        Ok(Stops { interrupt: self.interrupt.clone(), deadline: self.deadline })
    }

    fn fail(&mut self, error: Error) -> Error {
        if let Some(first) = &self.failed {
            return first.clone();
        }
        let error = error.shown(&self.redactor);
        self.logged.push((Level::Error, error.message().to_owned()));
        self.failed = Some(error.clone());
        error
    }

    fn log(&mut self, level: Level, line: &dyn Fn() -> String) {
        self.logged.push((level, line()));
    }

    fn http_status(&self) -> u16 {
        200
    }
}
