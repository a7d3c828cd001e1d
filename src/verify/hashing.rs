//! Which local parts the verifier hashes: by default the listed parts whose sizes match and
//! that Vault has an MD5 for, as they are listed; with hash-all, every local part in order
//! (so MISSING and mismatched parts come with the local MD5 an upload needs).

use super::plan::{self, Remote};
use crate::cancel::Interrupt;
use crate::error::{Error, ErrorKind};
use crate::local::{DigestsAhead, Geometry, Job, LocalFile, Lookahead, Pool, LANES};
use md5_many::Md5Many;
use std::sync::Arc;

/// How far hash-all runs ahead of the verdicts: as far as the listing may run ahead. The
/// verifier reads each part once, so there is no page cache to keep warm (no byte bound).
const AHEAD: Lookahead = Lookahead { parts: super::MAX_AHEAD as u32, bytes: u64::MAX };

pub(super) enum Hashing {
    Listed(Listed),
    /// Hash-all before the part size is known: the threads start with it.
    AllPending {
        threads: usize,
        engine: Md5Many,
    },
    All(DigestsAhead),
}

pub(super) struct Listed {
    pool: Pool,
    /// Jobs held back until a batch's worth is ready, so the hashing threads fill their lanes.
    unsubmitted: Vec<Job>,
    /// Jobs submitted whose digest has not been collected.
    in_flight: usize,
}

impl Hashing {
    pub fn start(file: &Arc<LocalFile>, threads: usize, engine: Md5Many, all: bool) -> Result<Hashing, Error> {
        Ok(match all {
            false => Hashing::Listed(Listed {
                pool: Pool::start(Arc::clone(file), threads, engine)?,
                unsubmitted: Vec::new(),
                in_flight: 0,
            }),
            true => Hashing::AllPending { threads, engine },
        })
    }

    /// The part size is known: `listed` are the parts listed so far.
    pub fn cut<'a>(
        &mut self,
        file: &Arc<LocalFile>,
        g: &Geometry,
        listed: impl Iterator<Item = (&'a u32, &'a Remote)>,
    ) -> Result<(), Error> {
        match self {
            Hashing::Listed(_) => {
                for (&n, remote) in listed {
                    self.listed(g, n, remote);
                }
            }
            Hashing::AllPending { threads, engine } => {
                let pool = Pool::start(Arc::clone(file), *threads, *engine)?;
                let last = u32::try_from(g.parts()).unwrap_or(u32::MAX);
                *self = Hashing::All(DigestsAhead::new(pool, *g, 1..=last, AHEAD));
            }
            Hashing::All(_) => {}
        }
        Ok(())
    }

    /// Whether part `n`'s verdict waits for its digest.
    pub fn wants(&self, g: &Geometry, n: u32, remote: Option<&Remote>) -> bool {
        match self {
            Hashing::Listed(_) => remote.is_some_and(|r| plan::job(g, n, r).is_some()),
            Hashing::AllPending { .. } | Hashing::All(_) => g.local_size(n) > 0,
        }
    }

    /// Part `n` was listed as `remote` (the part size known).
    pub fn listed(&mut self, g: &Geometry, n: u32, remote: &Remote) {
        if let Hashing::Listed(l) = self {
            l.unsubmitted.extend(plan::job(g, n, remote));
            // Held back until a batch can fill the lanes, unless no thread has work.
            if l.unsubmitted.len() >= LANES || l.in_flight == 0 {
                l.flush();
            }
        }
    }

    /// Hands the held-back jobs to the threads now.
    pub fn flush(&mut self) {
        if let Hashing::Listed(l) = self {
            l.flush();
        }
    }

    /// A digest that is in, without waiting.
    pub fn try_next(&mut self) -> Result<Option<(u32, [u8; 16])>, Error> {
        match self {
            Hashing::Listed(l) => match l.pool.try_next() {
                Some(hashed) => l.collected(hashed).map(Some),
                None => Ok(None),
            },
            Hashing::AllPending { .. } => Ok(None),
            Hashing::All(ahead) => ahead.try_next(),
        }
    }

    /// The next digest, waiting for it (interruptible).
    pub fn wait(&mut self, interrupt: &Interrupt) -> Result<(u32, [u8; 16]), Error> {
        let stalled = || Error::new(ErrorKind::Internal, "verification stalled");
        match self {
            Hashing::Listed(l) => {
                l.flush();
                if l.in_flight == 0 {
                    return Err(stalled());
                }
                let hashed = l.pool.wait(interrupt);
                l.collected(hashed)
            }
            Hashing::AllPending { .. } => Err(stalled()),
            Hashing::All(ahead) => ahead.next(interrupt)?.ok_or_else(stalled),
        }
    }
}

impl Listed {
    fn flush(&mut self) {
        self.in_flight += self.unsubmitted.len();
        self.pool.submit(self.unsubmitted.drain(..));
    }

    fn collected(&mut self, hashed: crate::local::Hashed) -> Result<(u32, [u8; 16]), Error> {
        let digest = hashed?;
        self.in_flight -= 1;
        Ok(digest)
    }
}
