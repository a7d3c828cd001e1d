//! The verdict rules, free of I/O: what the listing must say for a local part to be hashed,
//! and what a listed (or unlisted) part's verdict is.

use crate::local::{hex, Geometry, Job};

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

/// The hashing part `n` of `g` needs, when its sizes match and Vault has an MD5 to compare
/// with.
pub fn job(g: &Geometry, n: u32, remote: &Remote) -> Option<Job> {
    let len = g.local_size(n);
    (len > 0 && len == remote.size && remote.md5.is_some()).then_some(Job { part: n, offset: g.offset(n), len })
}

/// The verdict for part `n` of `g`: `remote` is what the listing says (None: not listed),
/// `digest` the local MD5 when [`job`] asked for one.
pub fn verdict(g: &Geometry, n: u32, remote: Option<&Remote>, digest: Option<&[u8; 16]>) -> Verdict {
    let local_size = g.local_size(n);
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
        offset: g.offset(n),
        local_size,
        remote_size: remote.map_or(0, |r| r.size),
        local_md5,
        remote_md5: remote.and_then(|r| r.md5),
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
    fn every_verdict() {
        let v = |n, r: Option<Remote>, d: Option<&[u8; 16]>| verdict(&G, n, r.as_ref(), d).status;
        assert_eq!(v(1, None, None), Status::Missing);
        assert_eq!(v(4, Some(remote(10, Some(MD5))), None), Status::Extra);
        assert_eq!(v(3, Some(remote(10, Some(MD5))), None), Status::SizeMismatch);
        assert_eq!(v(3, Some(remote(5, None)), None), Status::Unverified);
        assert_eq!(v(1, Some(remote(10, Some(MD5))), Some(&EMPTY)), Status::Ok);
        assert_eq!(v(1, Some(remote(10, Some(MD5))), Some(&[0; 16])), Status::Md5Mismatch);
        let full = verdict(&G, 3, Some(&remote(5, Some(MD5))), Some(&EMPTY));
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
        assert_eq!(job(&G, 3, &remote(5, Some(MD5))), Some(Job { part: 3, offset: 20, len: 5 }));
        assert_eq!(job(&G, 3, &remote(10, Some(MD5))), None);
        assert_eq!(job(&G, 3, &remote(5, None)), None);
        assert_eq!(job(&G, 4, &remote(0, Some(MD5))), None);
    }
}
