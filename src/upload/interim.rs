//! INTERIM, until branch `local` lands its phase 2 (the part reader, digests ahead, the
//! part-size rules, E_CONFLICT and E_INTEGRITY): the smallest stand-ins over what src/local/
//! has today, so the state machine compiles and its tests run. Deleted at that merge; nothing
//! outside src/upload/ uses it.

use crate::cancel::Interrupt;
use crate::error::{Error, ErrorKind};
use crate::local::{Geometry, Inference, Job, LocalFile, Pool, LANES};
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

/// Stand-ins for ErrorKind::Conflict (14) and ErrorKind::Integrity (15).
pub(crate) const CONFLICT: ErrorKind = ErrorKind::Arg;
pub(crate) const INTEGRITY: ErrorKind = ErrorKind::Protocol;

const MIB: u64 = 1 << 20;
const MIN_PART: u64 = 5 * MIB;
const MAX_PART: u64 = 50 * MIB;
const MAX_PARTS: u64 = 9616;

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

    pub fn reader(&self) -> impl Read + '_ {
        PartReader { bytes: self, done: 0 }
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

pub(crate) fn check_part_size(part_size: u64, file_size: u64) -> Result<(), Error> {
    if !(MIN_PART..=MAX_PART).contains(&part_size) {
        return Err(Error::arg(format!("part_size {part_size} is out of range: Vault accepts 5 MiB to 50 MiB")));
    }
    if file_size.div_ceil(part_size) > MAX_PARTS {
        return Err(Error::arg(format!("part_size {part_size} cuts the file into more than {MAX_PARTS} parts")));
    }
    Ok(())
}

pub(crate) fn choose_part_size(file_size: u64) -> Result<u64, Error> {
    let fit = file_size.div_ceil(2000).div_ceil(MIB) * MIB;
    let size = fit.max(8 * MIB);
    if size <= MAX_PART {
        return Ok(size);
    }
    check_part_size(MAX_PART, file_size).map(|()| MAX_PART)
}

/// The part size a listing tells; part 1 alone tells it too (shorter than the file it is a
/// full part, otherwise the whole file is one part).
pub(crate) fn infer_part_size(inference: &Inference, first: Option<(u32, u64)>, file_size: u64) -> Result<u64, Error> {
    let size = match (inference.part_size(), first) {
        (Some(size), _) => size,
        (None, Some((1, size))) => size,
        _ => {
            return Err(Error::arg(format!("part_size is 0 and the listing cannot tell it ({})", inference.why_not())))
        }
    };
    if size < MIN_PART && size < file_size {
        return Err(Error::protocol(format!("the listing's part size {size} is below Vault's 5 MiB minimum")));
    }
    Ok(size)
}
