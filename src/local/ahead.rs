//! Digests ahead: the MD5s of the coming parts, hashed on the pool's threads in multi-buffer
//! lanes while the caller does something else with the parts before them (an upload sends
//! part k while parts k+1.. are hashed), and delivered in part order. How far hashing runs
//! ahead is bounded in parts and in bytes: hashed bytes must still be in the page cache when
//! the caller reads them again, or a huge file is read from disk twice.

use super::geometry::Geometry;
use super::hash::{Job, LANES};
use super::pool::Pool;
use crate::cancel::Interrupt;
use crate::error::Error;
use std::collections::BTreeMap;

/// How far hashing may run ahead of the digests taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lookahead {
    /// Parts hashed or being hashed, not yet taken; at least 1.
    pub parts: u32,
    /// Their bytes; one part is always allowed, however large.
    pub bytes: u64,
}

impl Default for Lookahead {
    /// Two full rounds of lanes, within 256 MiB: 8 MiB parts fill every lane; 50 MiB parts
    /// still hash five at a time.
    fn default() -> Self {
        Lookahead { parts: 2 * LANES as u32, bytes: 256 << 20 }
    }
}

/// The digests of chosen parts of a file, in part order.
pub struct DigestsAhead {
    pool: Pool,
    geometry: Geometry,
    limit: Lookahead,
    /// The parts to hash, ascending.
    parts: Vec<u32>,
    /// How many of `parts` were handed to the pool.
    submitted: usize,
    /// How many of `parts` the caller took.
    taken: usize,
    /// Digests in, waiting for their turn.
    done: BTreeMap<u32, [u8; 16]>,
}

impl DigestsAhead {
    /// Starts hashing `parts` of `geometry` on `pool` (whose file it must be): an upload
    /// passes the parts it sends. They are taken in ascending order, each once; numbers past
    /// the file's last part are left out.
    pub fn new(pool: Pool, geometry: Geometry, parts: impl IntoIterator<Item = u32>, limit: Lookahead) -> DigestsAhead {
        let mut parts: Vec<u32> = parts.into_iter().filter(|&n| n >= 1 && u64::from(n) <= geometry.parts()).collect();
        parts.sort_unstable();
        parts.dedup();
        let limit = Lookahead { parts: limit.parts.max(1), ..limit };
        let mut ahead = DigestsAhead { pool, geometry, limit, parts, submitted: 0, taken: 0, done: BTreeMap::new() };
        ahead.fill();
        ahead
    }

    /// Every digest has been taken.
    pub fn is_finished(&self) -> bool {
        self.taken == self.parts.len()
    }

    /// The next part's digest if it is in, without waiting; Ok(None) when it is not yet (or
    /// every digest was taken: see [`DigestsAhead::is_finished`]). After an error, drop it.
    pub fn try_next(&mut self) -> Result<Option<(u32, [u8; 16])>, Error> {
        while let Some(hashed) = self.pool.try_next() {
            let (n, digest) = hashed?;
            self.done.insert(n, digest);
        }
        Ok(self.take())
    }

    /// The next part's digest, waiting for it; Ok(None) once every digest was taken. An
    /// interrupt ends the wait within [`crate::net::SLICE`] with E_CANCELLED.
    pub fn next(&mut self, interrupt: &Interrupt) -> Result<Option<(u32, [u8; 16])>, Error> {
        loop {
            if self.is_finished() {
                return Ok(None);
            }
            if let Some(next) = self.try_next()? {
                return Ok(Some(next));
            }
            let (n, digest) = self.pool.wait(interrupt)?;
            self.done.insert(n, digest);
        }
    }

    fn take(&mut self) -> Option<(u32, [u8; 16])> {
        let n = *self.parts.get(self.taken)?;
        let digest = self.done.remove(&n)?;
        self.taken += 1;
        self.fill();
        Some((n, digest))
    }

    /// Submits the parts the lookahead has room for, a batch of lanes at a time; a partial
    /// batch only when nothing is ahead (or it ends the parts), so lanes are not wasted on a
    /// part at a time as each digest is taken. The first part goes alone: in a full batch its
    /// digest would wait for the other lanes' parts (an upload's first PUT waited ~100 ms for
    /// sixteen 8 MiB parts), while later digests are ready ahead of their turn.
    fn fill(&mut self) {
        if self.submitted == 0 && !self.parts.is_empty() {
            self.pool.submit([self.job(self.parts[self.submitted])]);
            self.submitted += 1;
        }
        loop {
            let remaining = self.parts.len() - self.submitted;
            let batch = self.room().min(LANES);
            let idle = self.submitted == self.taken;
            if batch == 0 || (batch < LANES && batch < remaining && !idle) {
                return;
            }
            let jobs = &self.parts[self.submitted..self.submitted + batch];
            self.pool.submit(jobs.iter().map(|&n| self.job(n)));
            self.submitted += batch;
        }
    }

    fn job(&self, n: u32) -> Job {
        Job { part: n, offset: self.geometry.offset(n), len: self.geometry.local_size(n) }
    }

    /// How many more parts may be submitted now: parts and bytes ahead of the caller stay
    /// within the lookahead, except that one part may always be ahead.
    fn room(&self) -> usize {
        let size = |&n: &u32| self.geometry.local_size(n);
        let ahead = self.submitted - self.taken;
        let mut bytes: u64 = self.parts[self.taken..self.submitted].iter().map(size).sum();
        let mut room = 0;
        for n in &self.parts[self.submitted..] {
            bytes = bytes.saturating_add(size(n));
            let full = ahead + room >= self.limit.parts as usize || (bytes > self.limit.bytes && ahead + room > 0);
            if full {
                break;
            }
            room += 1;
        }
        room
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::local::test_file::TempFile;
    use crate::local::{LocalFile, Purpose};
    use md5::{Digest, Md5};
    use md5_many::Md5Many;
    use std::sync::Arc;

    /// A file of `len` pseudo-random bytes, and the bytes.
    struct Temp(TempFile, Vec<u8>);
    impl Temp {
        fn new(name: &str, len: u64) -> Temp {
            let bytes = vault_sim::file_upload::pseudo_random_bytes(len, len ^ 0x5eed);
            Temp(TempFile::new(&format!("ahead-{name}"), &bytes), bytes)
        }

        fn path(&self) -> &str {
            &self.0 .0
        }
    }

    fn ahead(
        t: &Temp,
        part_size: u64,
        parts: impl IntoIterator<Item = u32>,
        limit: Lookahead,
        threads: usize,
    ) -> DigestsAhead {
        let file = Arc::new(LocalFile::open(t.path(), Purpose::Upload).unwrap());
        let g = Geometry::new(file.size(), part_size).unwrap();
        DigestsAhead::new(Pool::start(file, threads, Md5Many::new()).unwrap(), g, parts, limit)
    }

    fn want(t: &Temp, part_size: u64, n: u32) -> [u8; 16] {
        let from = (u64::from(n) - 1) * part_size;
        let to = (from + part_size).min(t.1.len() as u64);
        Md5::digest(&t.1[from as usize..to as usize]).into()
    }

    #[test]
    fn digests_come_in_part_order_and_equal_the_md5_crates() {
        let t = Temp::new("order", 40 * 1000 + 17);
        for (limit, threads) in [
            (Lookahead::default(), 2),
            (Lookahead { parts: 1, bytes: 1 }, 1),
            (Lookahead { parts: 5, bytes: 3000 }, 3),
            (Lookahead { parts: 100, bytes: u64::MAX }, 4),
        ] {
            let mut a = ahead(&t, 1000, 1..=41, limit, threads);
            let interrupt = Interrupt::new();
            let got: Vec<(u32, [u8; 16])> = std::iter::from_fn(|| a.next(&interrupt).unwrap()).collect();
            let expected: Vec<(u32, [u8; 16])> = (1..=41).map(|n| (n, want(&t, 1000, n))).collect();
            assert_eq!(got, expected, "{limit:?}");
            assert!(a.is_finished());
            assert_eq!(a.next(&interrupt), Ok(None), "stays finished");
        }
        // From a later part; past the file's last part nothing is hashed.
        let mut a = ahead(&t, 1000, 39..=1000, Lookahead::default(), 2);
        let got: Vec<u32> = std::iter::from_fn(|| a.next(&Interrupt::new()).unwrap()).map(|(n, _)| n).collect();
        assert_eq!(got, [39, 40, 41]);
        // The parts an upload sends: any set, taken ascending, each once.
        let mut a = ahead(&t, 1000, [41, 7, 3, 0, 7, 20, 99], Lookahead { parts: 2, bytes: u64::MAX }, 2);
        let got: Vec<(u32, [u8; 16])> = std::iter::from_fn(|| a.next(&Interrupt::new()).unwrap()).collect();
        assert_eq!(got, [3, 7, 20, 41].map(|n| (n, want(&t, 1000, n))));
        let mut none = ahead(&t, 1000, [], Lookahead::default(), 1);
        assert!(none.is_finished());
        assert_eq!(none.try_next(), Ok(None));
    }

    /// The lookahead bounds what is submitted: in parts, and in bytes (one part always).
    #[test]
    fn hashing_runs_ahead_only_as_far_as_the_lookahead() {
        let t = Temp::new("bound", 100 * 1000);
        let a = ahead(&t, 1000, 1..=100, Lookahead { parts: 2 * LANES as u32, bytes: u64::MAX }, 2);
        assert_eq!(a.submitted, 1 + LANES, "part 1 alone, one batch; the next waits for room for a whole one");
        let a = ahead(&t, 1000, 1..=100, Lookahead { parts: 1000, bytes: 20_500 }, 2);
        assert_eq!(a.submitted, 17, "part 1 and 16 fit in 20,500 bytes; no part-filled second batch");
        let mut a = ahead(&t, 1000, 1..=100, Lookahead { parts: 1000, bytes: 5_000 }, 2);
        assert_eq!(a.submitted, 1, "part 1 alone; the 4 more the bytes allow wait to go as one batch");
        let interrupt = Interrupt::new();
        for taken in 1..=5u32 {
            assert_eq!(a.next(&interrupt).unwrap().map(|(n, _)| n), Some(taken));
            assert!(a.submitted - a.taken <= 5, "at most 5 parts ahead");
        }
        let a = ahead(&t, 1000, 1..=100, Lookahead { parts: 1000, bytes: 10 }, 2);
        assert_eq!(a.submitted, 1, "a part larger than the byte bound still goes, alone");
    }

    #[test]
    fn a_file_changed_under_hashing_is_an_error() {
        let t = Temp::new("changed", 10 * 1000);
        let mut a = ahead(&t, 1000, 1..=10, Lookahead { parts: 1, bytes: u64::MAX }, 1);
        let interrupt = Interrupt::new();
        assert_eq!(a.next(&interrupt).unwrap().map(|(n, _)| n), Some(1));
        std::fs::OpenOptions::new().write(true).open(t.path()).unwrap().set_len(4500).unwrap();
        let e = loop {
            match a.next(&interrupt) {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("every part hashed though the file shrank"),
                Err(e) => break e,
            }
        };
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(e.message().starts_with(&format!("{}: changed while uploading (", t.path())), "{e}");
    }

    /// A stop ends the wait for a digest not yet in, and dropping stops the threads mid-part.
    #[test]
    fn an_interrupt_ends_the_wait_and_dropping_stops_the_hashing() {
        let path = std::env::temp_dir().join(format!("vp-ahead-{}-interrupt", std::process::id()));
        // Sparse: 1 GiB of holes, far more than can be hashed between submit and wait.
        std::fs::File::create(&path).unwrap().set_len(1 << 30).unwrap();
        let file = Arc::new(LocalFile::open(&path, Purpose::Upload).unwrap());
        let g = Geometry::new(file.size(), 256 << 20).unwrap();
        let pool = Pool::start(file, 1, Md5Many::new()).unwrap();
        let mut a = DigestsAhead::new(pool, g, 1..=4, Lookahead::default());
        let interrupt = Interrupt::new();
        interrupt.interrupt();
        let e = a.next(&interrupt).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled);
        drop(a);
        std::fs::remove_file(&path).unwrap();
    }
}
