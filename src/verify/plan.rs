//! The verdict rules, free of I/O: where each local part lies, what the listing must say for
//! it to be hashed, and what a listed (or unlisted) part's verdict is.

use super::hash::{hex, Job};
use crate::error::Error;

/// A verdict, as the C API numbers them (VAULT_PARTS_PART_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Sizes and MD5s equal.
    Ok = 0,
    /// Not uploaded.
    Missing = 1,
    /// Sizes differ (not hashed).
    SizeMismatch = 2,
    /// Sizes equal, MD5s differ.
    Md5Mismatch = 3,
    /// Sizes equal, Vault sent no MD5 (not hashed).
    Unverified = 4,
    /// Listed, but past the local file's last part.
    Extra = 5,
}

impl Status {
    pub(crate) const COUNT: usize = 6;

    /// Whether uploading this part again (or for the first time) is needed.
    pub fn needs_upload(self) -> bool {
        matches!(self, Status::Missing | Status::SizeMismatch | Status::Md5Mismatch)
    }
}

/// What Vault lists for a part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Remote {
    pub size: u64,
    pub md5: Option<[u8; 32]>,
}

/// The verdict for one part number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub part_number: u32,
    pub status: Status,
    /// First byte of the part in the local file (where it would be, for EXTRA parts).
    pub offset: u64,
    /// Bytes of the local file in the part, 0 past its end.
    pub local_size: u64,
    /// 0 when not listed.
    pub remote_size: u64,
    /// Lowercase hex, when the local bytes were hashed.
    pub local_md5: Option<[u8; 32]>,
    pub remote_md5: Option<[u8; 32]>,
}

/// The local file cut into parts of `part_size` bytes (the last one may be shorter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub file_size: u64,
    pub part_size: u64,
}

impl Geometry {
    /// Refuses a part size that cuts the file into more parts than part numbers exist.
    pub fn new(file_size: u64, part_size: u64) -> Result<Geometry, Error> {
        let g = Geometry { file_size, part_size };
        if part_size == 0 || g.parts() > u64::from(u32::MAX) {
            return Err(Error::arg(format!(
                "part_size {part_size} cuts the {file_size}-byte file into more than {} parts",
                u32::MAX
            )));
        }
        Ok(g)
    }

    /// How many parts the local file has.
    pub fn parts(&self) -> u64 {
        self.file_size.div_ceil(self.part_size)
    }

    pub fn offset(&self, n: u32) -> u64 {
        u64::from(n - 1).saturating_mul(self.part_size)
    }

    /// Bytes of the local file in part `n`, 0 past its end.
    pub fn local_size(&self, n: u32) -> u64 {
        self.file_size.saturating_sub(self.offset(n)).min(self.part_size)
    }

    /// The hashing `n` needs, when its sizes match and Vault has an MD5 to compare with.
    pub fn job(&self, n: u32, remote: &Remote) -> Option<Job> {
        let len = self.local_size(n);
        (len > 0 && len == remote.size && remote.md5.is_some()).then_some(Job { part: n, offset: self.offset(n), len })
    }

    /// The verdict for part `n`: `remote` is what the listing says (None: not listed),
    /// `digest` the local MD5 when [`Geometry::job`] asked for one.
    pub fn verdict(&self, n: u32, remote: Option<&Remote>, digest: Option<&[u8; 16]>) -> Verdict {
        let local_size = self.local_size(n);
        let local_md5 = digest.map(hex);
        let status = match remote {
            None => Status::Missing,
            Some(_) if local_size == 0 => Status::Extra,
            Some(r) if r.size != local_size => Status::SizeMismatch,
            Some(Remote { md5: None, .. }) => Status::Unverified,
            Some(Remote { md5: Some(theirs), .. }) if Some(*theirs) == local_md5 => Status::Ok,
            Some(_) => Status::Md5Mismatch,
        };
        Verdict {
            part_number: n,
            status,
            offset: self.offset(n),
            local_size,
            remote_size: remote.map_or(0, |r| r.size),
            local_md5,
            remote_md5: remote.and_then(|r| r.md5),
        }
    }
}

/// The part size read off a listing: every part but the last has it, so any listed part
/// below the highest listed number tells it. Tracks the lowest listed part and the highest.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inference {
    lowest: Option<(u32, u64)>,
    highest: u32,
}

impl Inference {
    pub fn add(&mut self, n: u32, size: u64) {
        if self.lowest.is_none_or(|(low, _)| n < low) {
            self.lowest = Some((n, size));
        }
        self.highest = self.highest.max(n);
    }

    /// The part size once a listed part is known not to be the last one.
    pub fn part_size(&self) -> Option<u64> {
        self.lowest.filter(|&(low, size)| low < self.highest && size > 0).map(|(_, size)| size)
    }

    /// Why the listing could not tell the part size, once it is complete.
    pub fn why_not(&self) -> String {
        match self.lowest {
            None => "the listing has no parts".to_owned(),
            Some((_, 0)) => "the first listed part has size 0".to_owned(),
            Some((n, _)) => format!("the listing has only part {n}, which may be the last"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: Geometry = Geometry { file_size: 25, part_size: 10 };
    const MD5: [u8; 32] = *b"d41d8cd98f00b204e9800998ecf8427e";
    const EMPTY: [u8; 16] =
        [0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e];

    fn remote(size: u64, md5: Option<[u8; 32]>) -> Remote {
        Remote { size, md5 }
    }

    #[test]
    fn geometry_cuts_the_last_part_short() {
        assert_eq!(G.parts(), 3);
        assert_eq!((G.offset(3), G.local_size(3), G.local_size(4)), (20, 5, 0));
        assert_eq!(Geometry { file_size: 30, part_size: 10 }.parts(), 3);
        let big = Geometry { file_size: 5 << 30, part_size: 5 << 20 };
        assert_eq!((big.parts(), big.offset(1024), big.local_size(1024)), (1024, (5 << 30) - (5 << 20), 5 << 20));
    }

    #[test]
    fn every_verdict() {
        let v = |n, r: Option<Remote>, d: Option<&[u8; 16]>| G.verdict(n, r.as_ref(), d).status;
        assert_eq!(v(1, None, None), Status::Missing);
        assert_eq!(v(4, Some(remote(10, Some(MD5))), None), Status::Extra);
        assert_eq!(v(3, Some(remote(10, Some(MD5))), None), Status::SizeMismatch);
        assert_eq!(v(3, Some(remote(5, None)), None), Status::Unverified);
        assert_eq!(v(1, Some(remote(10, Some(MD5))), Some(&EMPTY)), Status::Ok);
        assert_eq!(v(1, Some(remote(10, Some(MD5))), Some(&[0; 16])), Status::Md5Mismatch);
        let full = G.verdict(3, Some(&remote(5, Some(MD5))), Some(&EMPTY));
        assert_eq!(
            full,
            Verdict {
                part_number: 3,
                status: Status::Ok,
                offset: 20,
                local_size: 5,
                remote_size: 5,
                local_md5: Some(MD5),
                remote_md5: Some(MD5)
            }
        );
    }

    #[test]
    fn only_matching_sizes_with_an_md5_are_hashed() {
        assert_eq!(G.job(3, &remote(5, Some(MD5))), Some(Job { part: 3, offset: 20, len: 5 }));
        assert_eq!(G.job(3, &remote(10, Some(MD5))), None);
        assert_eq!(G.job(3, &remote(5, None)), None);
        assert_eq!(G.job(4, &remote(0, Some(MD5))), None);
    }

    #[test]
    fn part_size_needs_a_part_below_the_highest() {
        let mut i = Inference::default();
        assert_eq!((i.part_size(), i.why_not().as_str()), (None, "the listing has no parts"));
        i.add(3, 7);
        assert_eq!(i.part_size(), None);
        assert_eq!(i.why_not(), "the listing has only part 3, which may be the last");
        i.add(2, 10);
        assert_eq!(i.part_size(), Some(10));
        i.add(9, 1);
        assert_eq!(i.part_size(), Some(10));
    }
}
