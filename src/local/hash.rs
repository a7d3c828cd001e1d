//! Hashing several parts at once: one SIMD lane per part (md5-many picks AVX-512, AVX2, SSE
//! or scalar at run time), reading each part in fixed chunks so memory stays bounded however
//! large the parts are.

use super::file::LocalFile;
use crate::error::{Error, ErrorKind};
use md5_many::{Md5Many, Md5State};
use std::sync::atomic::{AtomicBool, Ordering};

/// Bytes read per part per round. With [`LANES`] parts a batch holds LANES x CHUNK bytes.
pub(crate) const CHUNK: usize = 256 * 1024;
/// Parts hashed together: md5-many's dual-chain AVX2 width (two 8-lane groups interleaved),
/// which also fills one AVX-512 group.
pub(crate) const LANES: usize = 16;

/// Read-ahead window per part: each window is requested once, one window before it is read.
/// 8 MiB (a whole 5 MiB part at once) doubled cold-cache throughput over 2 MiB (docs/benchmarks.md).
const AHEAD: u64 = 8 * 1024 * 1024;

/// What hashing reads from: the local file, or a stand-in in tests.
pub trait ReadAt {
    /// Fills `buf` from `offset`, or fails (a short read is an error).
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<(), Error>;
    /// A hint that `len` bytes from `offset` are read soon.
    fn will_need(&self, offset: u64, len: u64);
}

impl ReadAt for LocalFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<(), Error> {
        LocalFile::read_exact_at(self, buf, offset)
    }

    fn will_need(&self, offset: u64, len: u64) {
        LocalFile::will_need(self, offset, len)
    }
}

/// One part to hash: `len` bytes of the file from `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    pub part: u32,
    pub offset: u64,
    pub len: u64,
}

/// Reads and hashes up to [`LANES`] jobs in lockstep, reusing `buf` (grown to jobs x CHUNK
/// once). Returns one digest per job, in the jobs' order; stops with an error when `cancel` is
/// set, looking at it before every read, so a stopped thread finishes at most the one
/// [`CHUNK`] read in progress (as the header promises), not a round of LANES reads.
pub fn hash_batch(
    engine: Md5Many,
    file: &(impl ReadAt + ?Sized),
    jobs: &[Job],
    buf: &mut Vec<u8>,
    cancel: &AtomicBool,
) -> Result<Vec<[u8; 16]>, Error> {
    buf.resize(jobs.len() * CHUNK, 0);
    let mut states = vec![Md5State::new(); jobs.len()];
    let longest = jobs.iter().map(|j| j.len).max().unwrap_or(0);
    let mut done = 0u64;
    while done < longest {
        let mut lens = [0usize; LANES];
        for ((job, chunk), len) in jobs.iter().zip(buf.chunks_mut(CHUNK)).zip(&mut lens) {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::new(ErrorKind::Internal, "hashing cancelled"));
            }
            if done.is_multiple_of(AHEAD) {
                let from = if done == 0 { 0 } else { done + AHEAD };
                let to = (done + 2 * AHEAD).min(job.len);
                if from < to {
                    file.will_need(job.offset + from, to - from);
                }
            }
            // Bounded by CHUNK, so the cast cannot truncate.
            *len = job.len.saturating_sub(done).min(CHUNK as u64) as usize;
            file.read_exact_at(&mut chunk[..*len], job.offset + done)?;
        }
        let inputs: Vec<&[u8]> = buf.chunks(CHUNK).zip(lens).map(|(c, len)| &c[..len]).collect();
        engine.update_many(&mut states, &inputs);
        done += CHUNK as u64;
    }
    let mut digests = vec![[0u8; 16]; jobs.len()];
    engine.finalize_many(&states, &mut digests);
    Ok(digests)
}

/// 32 lowercase hex digits.
pub fn hex(digest: &[u8; 16]) -> [u8; 32] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (i, b) in digest.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::test_file::TempFile;
    use crate::local::Purpose;
    use md5::{Digest, Md5};
    use proptest::prelude::*;

    fn engines() -> [Md5Many; 3] {
        use fearless_simd::Level;
        [Md5Many::new(), Md5Many::from_level(Level::baseline()), Md5Many::from_level(Level::fallback())]
    }

    fn bytes(len: usize, seed: u64) -> Vec<u8> {
        vault_sim::file_upload::pseudo_random_bytes(len as u64, seed)
    }

    #[test]
    fn the_scalar_fallback_is_really_scalar_and_agrees() {
        use fearless_simd::Level;
        assert_eq!(Md5Many::from_level(Level::fallback()).lanes(), 1);
        let data = bytes(3 * CHUNK + 17, 7);
        let f = TempFile::new("hash-scalar", &data);
        let file = LocalFile::open(&f.0, Purpose::Verify).unwrap();
        let jobs = [Job { part: 1, offset: 0, len: data.len() as u64 }, Job { part: 2, offset: 5, len: 64 }];
        let got =
            hash_batch(Md5Many::from_level(Level::fallback()), &file, &jobs, &mut Vec::new(), &AtomicBool::new(false))
                .unwrap();
        assert_eq!(got[0], <[u8; 16]>::from(Md5::digest(&data)));
        assert_eq!(got[1], <[u8; 16]>::from(Md5::digest(&data[5..69])));
    }

    #[test]
    fn cancel_stops_a_batch() {
        let f = TempFile::new("hash-cancel", &bytes(2 * CHUNK, 3));
        let file = LocalFile::open(&f.0, Purpose::Verify).unwrap();
        let jobs = [Job { part: 1, offset: 0, len: 2 * CHUNK as u64 }];
        let e = hash_batch(Md5Many::new(), &file, &jobs, &mut Vec::new(), &AtomicBool::new(true)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
    }

    /// Counts reads; raises `cancel` inside read number `stop_at`, as another thread's stop
    /// arriving while that read is in progress.
    struct Counting<'a> {
        reads: std::sync::atomic::AtomicUsize,
        stop_at: usize,
        cancel: &'a AtomicBool,
    }

    impl ReadAt for Counting<'_> {
        fn read_exact_at(&self, buf: &mut [u8], _offset: u64) -> Result<(), Error> {
            if self.reads.fetch_add(1, Ordering::Relaxed) + 1 == self.stop_at {
                self.cancel.store(true, Ordering::Relaxed);
            }
            buf.fill(0);
            Ok(())
        }

        fn will_need(&self, _offset: u64, _len: u64) {}
    }

    /// Issue 15 item 8: the header says a stopped hashing thread finishes at most one 256 KiB
    /// read; the stop was looked at once per round of up to 16 reads (4 MiB).
    #[test]
    fn a_stop_lets_no_read_start_after_the_one_in_progress() {
        let jobs: Vec<Job> = (0..LANES as u32).map(|i| Job { part: i + 1, offset: 0, len: 3 * CHUNK as u64 }).collect();
        // In the first round, mid-round, at a round's last lane, and at the next round's first.
        for stop_at in [1, 5, LANES, LANES + 1, 2 * LANES + 7] {
            let cancel = AtomicBool::new(false);
            let source = Counting { reads: Default::default(), stop_at, cancel: &cancel };
            let e = hash_batch(Md5Many::new(), &source, &jobs, &mut Vec::new(), &cancel).unwrap_err();
            assert_eq!((e.kind(), e.message()), (ErrorKind::Internal, "hashing cancelled"));
            assert_eq!(source.reads.load(Ordering::Relaxed), stop_at, "reads after a stop in read {stop_at}");
        }
        // Never stopped: every chunk of every lane is read once.
        let cancel = AtomicBool::new(false);
        let source = Counting { reads: Default::default(), stop_at: 0, cancel: &cancel };
        hash_batch(Md5Many::new(), &source, &jobs, &mut Vec::new(), &cancel).unwrap();
        assert_eq!(source.reads.load(Ordering::Relaxed), 3 * LANES);
    }

    #[test]
    fn hex_is_lowercase() {
        let d: [u8; 16] = Md5::digest(b"").into();
        assert_eq!(&hex(&d), b"d41d8cd98f00b204e9800998ecf8427e");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        /// Any mix of lanes (1 to LANES), lengths (empty, sub-block, chunk-straddling) and
        /// offsets, on every engine: the digests equal the md-5 crate's.
        #[test]
        fn batches_match_md5_crate(
            seed in any::<u64>(),
            spans in prop::collection::vec((0usize..CHUNK * 2 + 200, prop_oneof![0usize..130, CHUNK - 70..CHUNK + 70, 0usize..3 * CHUNK]), 1..=LANES),
        ) {
            let data = bytes(5 * CHUNK, seed);
            let f = TempFile::new(&format!("hash-prop-{seed}"), &data);
            let file = LocalFile::open(&f.0, Purpose::Verify).unwrap();
            let jobs: Vec<Job> = spans.iter().enumerate().map(|(i, &(off, len))| Job { part: i as u32 + 1, offset: off as u64, len: len as u64 }).collect();
            for engine in engines() {
                let got = hash_batch(engine, &file, &jobs, &mut Vec::new(), &AtomicBool::new(false)).unwrap();
                for (job, digest) in jobs.iter().zip(&got) {
                    let want: [u8; 16] = Md5::digest(&data[job.offset as usize..(job.offset + job.len) as usize]).into();
                    prop_assert_eq!(*digest, want, "job {:?} on {:?}", job, engine);
                }
            }
        }
    }
}
