//! INTERIM, until branch `local` lands the part reader and digests ahead, and branch `core`
//! its job status: the smallest stand-ins over what src/local/ has today, so the state machine
//! compiles and its tests run. Deleted at those merges; nothing outside src/upload/ uses it.

use crate::cancel::Interrupt;
use crate::error::Error;
use crate::local::{Geometry, Job, LocalFile, Pool, LANES};
use crate::transport::Body;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

// Read only by the fake until vault_calls.rs sends parts.
#[cfg_attr(not(test), allow(dead_code))]
/// Part `part`'s bytes: `len` bytes of the file from `offset`, produced again by every
/// [`PartBytes::reader`].
pub(crate) struct PartBytes {
    file: Arc<LocalFile>,
    part: u32,
    offset: u64,
    len: u64,
}

#[cfg_attr(not(test), allow(dead_code))]
impl PartBytes {
    pub fn new(file: Arc<LocalFile>, part: u32, offset: u64, len: u64) -> PartBytes {
        PartBytes { file, part, offset, len }
    }

    pub fn part(&self) -> u32 {
        self.part
    }
}

impl Body for PartBytes {
    fn len(&self) -> u64 {
        self.len
    }

    fn reader(&self) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(PartReader { bytes: self, done: 0 }))
    }
}

#[cfg_attr(not(test), allow(dead_code))]
struct PartReader<'a> {
    bytes: &'a PartBytes,
    done: u64,
}

impl Read for PartReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.bytes.len - self.done).min(buf.len() as u64) as usize;
        self.bytes.file.read_exact_at(&mut buf[..n], self.bytes.offset + self.done).map_err(std::io::Error::other)?;
        self.done += n as u64;
        Ok(n)
    }
}

/// Digests of every part in order, hashed ahead on the pool (at most 2 x LANES parts ahead).
pub(crate) struct DigestsAhead {
    pool: Pool,
    geometry: Geometry,
    interrupt: Interrupt,
    submitted: u32,
    ready: HashMap<u32, [u8; 16]>,
}

impl DigestsAhead {
    pub fn start(file: Arc<LocalFile>, geometry: Geometry, interrupt: Interrupt) -> Result<DigestsAhead, Error> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(16);
        let pool = Pool::start(file, threads, md5_many::Md5Many::new())?;
        let mut d = DigestsAhead { pool, geometry, interrupt, submitted: 0, ready: HashMap::new() };
        d.top_up(1);
        Ok(d)
    }

    fn top_up(&mut self, next: u32) {
        let last = (u64::from(next) + 2 * LANES as u64 - 1).min(self.geometry.parts()) as u32;
        while self.submitted < last {
            self.submitted += 1;
            let n = self.submitted;
            self.pool.submit(Job { part: n, offset: self.geometry.offset(n), len: self.geometry.local_size(n) });
        }
    }

    pub fn next(&mut self, n: u32) -> Result<[u8; 16], Error> {
        self.top_up(n);
        loop {
            if let Some(d) = self.ready.remove(&n) {
                self.top_up(n + 1);
                return Ok(d);
            }
            let (part, digest) = self.pool.wait(&self.interrupt)?;
            self.ready.insert(part, digest);
        }
    }
}

/// Where a commit's job is (core's vault_api::JobStatus).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum JobStatus {
    /// SCHEDULED, QUEUED, QUEUEING or RUNNING: ask again later.
    Pending(String),
    Succeeded,
    /// Any other status: the job ended without the file.
    Ended(String),
}
