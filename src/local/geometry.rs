//! Where each part of the local file lies, and every rule about the part size: the one the
//! caller gives, the one a listing implies, and the one the library chooses for a new upload.
//! Free of I/O; verify and upload both cut the file here.

use crate::error::Error;

pub(crate) const MIB: u64 = 1 << 20;
/// Vault's smallest part but the last ("Parts must be at least 5MB in size, except for the
/// last part uploaded in a session").
pub(crate) const MIN_PART_SIZE: u64 = 5 * MIB;
/// Vault's largest part ("each part can be up to 50MB"; v26.2 allows 52 MB: 50 MiB fits every
/// version).
pub(crate) const MAX_PART_SIZE: u64 = 50 * MIB;
/// Parts per session up to Vault v25.x.
pub(crate) const MAX_PARTS_BEFORE_V26: u64 = 2_000;
/// Parts per session from Vault v26.2 (part numbers 1 to 9,616).
pub(crate) const MAX_PARTS: u64 = 9_616;
/// The largest file a session may declare ("at most 500 GB").
pub(crate) const MAX_FILE_SIZE: u64 = 500_000_000_000;
/// The smallest part size the library chooses: fewer requests than Vault's minimum allows.
const MIN_CHOSEN_PART_SIZE: u64 = 8 * MIB;
/// The highest part number, listed or local. Vault allows 9,616 parts per session (v26.2);
/// the margin is for later versions. Without a cap a hostile listing made memory grow without
/// bound (every listed number is kept until its verdict: 2.9 million parts in 12 pages held
/// 320 MB before the first verdict) and a tiny part size asked for millions of verdicts.
pub(crate) const MAX_PART_NUMBER: u32 = 100_000;

/// The local file cut into parts of `part_size` bytes (the last one may be shorter), at most
/// [`MAX_PART_NUMBER`] of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub file_size: u64,
    pub part_size: u64,
}

impl Geometry {
    /// The caller's part size: any size that cuts the file into 1 to [`MAX_PART_NUMBER`]
    /// parts, else E_ARG.
    pub fn new(file_size: u64, part_size: u64) -> Result<Geometry, Error> {
        let g = Geometry { file_size, part_size };
        if part_size == 0 {
            return Err(Error::arg("part_size is 0: a part holds at least 1 byte"));
        }
        if g.parts() > u64::from(MAX_PART_NUMBER) {
            return Err(Error::arg(format!(
                "part_size {part_size} cuts the {file_size}-byte file into {} parts: at most {MAX_PART_NUMBER} (Vault allows {MAX_PARTS})",
                g.parts()
            )));
        }
        Ok(g)
    }

    /// A part size a listing implies: below Vault's minimum it is the server's error
    /// (E_PROTOCOL) unless the whole file is one part; otherwise as [`Geometry::new`].
    pub fn inferred(file_size: u64, part_size: u64) -> Result<Geometry, Error> {
        let g = Geometry { file_size, part_size };
        if part_size < MIN_PART_SIZE && g.parts_or_max() > 1 {
            return Err(Error::protocol(format!(
                "the listing implies a part size of {part_size} bytes, below Vault's minimum of {MIN_PART_SIZE} for every part but the last (the {file_size}-byte file would be {} parts)",
                g.parts_or_max()
            )));
        }
        Geometry::new(file_size, part_size)
    }

    /// How many parts the local file has.
    pub fn parts(&self) -> u64 {
        self.file_size.div_ceil(self.part_size)
    }

    /// [`Geometry::parts`], u64::MAX for part size 0.
    fn parts_or_max(&self) -> u64 {
        self.file_size.checked_div(self.part_size).map_or(u64::MAX, |_| self.parts())
    }

    pub fn offset(&self, n: u32) -> u64 {
        u64::from(n - 1).saturating_mul(self.part_size)
    }

    /// Bytes of the local file in part `n`, 0 past its end.
    pub fn local_size(&self, n: u32) -> u64 {
        self.file_size.saturating_sub(self.offset(n)).min(self.part_size)
    }
}

/// The part size of a new upload session: the smallest multiple of 1 MiB, at least 8 MiB, that
/// keeps the part count within 2,000 (Vault's limit up to v25); a file too large for 2,000
/// parts of 50 MiB uses 50 MiB parts (up to 9,616, v26.2). A file over 500 GB is E_ARG.
pub fn choose_part_size(file_size: u64) -> Result<u64, Error> {
    let size =
        file_size.div_ceil(MAX_PARTS_BEFORE_V26).next_multiple_of(MIB).clamp(MIN_CHOSEN_PART_SIZE, MAX_PART_SIZE);
    check_fits(file_size, size)?;
    Ok(size)
}

/// A part size the caller gives for an upload: 5 MiB to 50 MiB, cutting the file into at most
/// 9,616 parts, for a file of at most 500 GB; else E_ARG.
pub fn check_upload_part_size(file_size: u64, part_size: u64) -> Result<(), Error> {
    if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&part_size) {
        return Err(Error::arg(format!(
            "part_size {part_size}: Vault takes parts of {MIN_PART_SIZE} to {MAX_PART_SIZE} bytes (5 MiB to 50 MiB); 0 lets the library choose"
        )));
    }
    check_fits(file_size, part_size)
}

/// Whether Vault can hold a file of `file_size` bytes in parts of `part_size`.
fn check_fits(file_size: u64, part_size: u64) -> Result<(), Error> {
    if file_size > MAX_FILE_SIZE {
        return Err(Error::arg(format!(
            "the file is {file_size} bytes: a Vault upload session holds at most {MAX_FILE_SIZE} (500 GB)"
        )));
    }
    let parts = file_size.div_ceil(part_size);
    if parts > MAX_PARTS {
        return Err(Error::arg(format!(
            "part_size {part_size} cuts the {file_size}-byte file into {parts} parts: Vault allows at most {MAX_PARTS}"
        )));
    }
    Ok(())
}

/// The part size read off a listing, for a file of a known size. Every part but the last has
/// it, so a listed part below the highest listed number tells it; so does part 1 alone: it is
/// a full part, or the whole session (then the file is one part whatever the part size).
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

    /// No part listed so far.
    pub fn is_empty(&self) -> bool {
        self.lowest.is_none()
    }

    /// The part size once a listed part is known to be a full part (or the whole file).
    pub fn part_size(&self) -> Option<u64> {
        self.lowest.filter(|&(low, size)| (low == 1 || low < self.highest) && size > 0).map(|(_, size)| size)
    }

    /// The file cut as the listing says, once it tells: [`Geometry::inferred`]'s checks apply.
    pub fn geometry(&self, file_size: u64) -> Option<Result<Geometry, Error>> {
        self.part_size().map(|size| Geometry::inferred(file_size, size))
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
    use crate::error::ErrorKind;

    const G: Geometry = Geometry { file_size: 25, part_size: 10 };

    #[test]
    fn geometry_cuts_the_last_part_short() {
        assert_eq!(G.parts(), 3);
        assert_eq!((G.offset(3), G.local_size(3), G.local_size(4)), (20, 5, 0));
        assert_eq!(Geometry { file_size: 30, part_size: 10 }.parts(), 3);
        let big = Geometry { file_size: 5 << 30, part_size: 5 << 20 };
        assert_eq!((big.parts(), big.offset(1024), big.local_size(1024)), (1024, (5 << 30) - (5 << 20), 5 << 20));
    }

    #[test]
    fn a_given_part_size_may_be_anything_that_keeps_the_count_within_the_cap() {
        assert_eq!(Geometry::new(25, 10), Ok(G));
        assert_eq!(Geometry::new(100_000, 1).map(|g| g.parts()), Ok(100_000));
        assert_eq!(Geometry::new(3, u64::MAX).map(|g| g.parts()), Ok(1));
        let e = Geometry::new(100_001, 1).unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (
                ErrorKind::Arg,
                "part_size 1 cuts the 100001-byte file into 100001 parts: at most 100000 (Vault allows 9616)"
            )
        );
        let e = Geometry::new(1 << 32, 1).unwrap_err();
        assert!(e.message().contains("into 4294967296 parts"), "{e}");
        let e = Geometry::new(7, 0).unwrap_err();
        assert_eq!((e.kind(), e.message()), (ErrorKind::Arg, "part_size is 0: a part holds at least 1 byte"));
    }

    /// Issue 15 item 6: parts 1 and 2 of 1 byte each turned a 20 MB file into 20 million
    /// verdicts.
    #[test]
    fn an_implied_part_size_below_vaults_minimum_is_a_protocol_error_unless_the_file_is_one_part() {
        let e = Geometry::inferred(20_000_000, 1).unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (
                ErrorKind::Protocol,
                "the listing implies a part size of 1 bytes, below Vault's minimum of 5242880 for every part but the last (the 20000000-byte file would be 20000000 parts)"
            )
        );
        assert_eq!(Geometry::inferred(MIN_PART_SIZE + 1, MIN_PART_SIZE - 1).unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(Geometry::inferred(1000, 1000).map(|g| g.parts()), Ok(1), "a one-part file");
        assert_eq!(Geometry::inferred(999, 1000).map(|g| g.parts()), Ok(1));
        assert_eq!(Geometry::inferred(2 * MIN_PART_SIZE, MIN_PART_SIZE).map(|g| g.parts()), Ok(2));
        let huge = Geometry::inferred(u64::MAX, MIN_PART_SIZE).unwrap_err();
        assert_eq!(huge.kind(), ErrorKind::Arg, "a file too large for any session: {huge}");
    }

    #[test]
    fn part_size_needs_a_part_below_the_highest_or_part_1() {
        let mut i = Inference::default();
        assert!(i.is_empty());
        assert_eq!((i.part_size(), i.why_not().as_str()), (None, "the listing has no parts"));
        i.add(3, 7);
        assert_eq!(i.part_size(), None);
        assert_eq!(i.why_not(), "the listing has only part 3, which may be the last");
        i.add(2, 10);
        assert_eq!(i.part_size(), Some(10));
        i.add(9, 1);
        assert_eq!(i.part_size(), Some(10));

        let mut one = Inference::default();
        one.add(1, 6 * MIB);
        assert_eq!(one.part_size(), Some(6 * MIB), "part 1 alone is a full part");
        assert_eq!(one.geometry(20 * MIB).unwrap().map(|g| g.parts()), Ok(4));
        assert_eq!(one.geometry(6 * MIB).unwrap().map(|g| g.parts()), Ok(1), "or the whole file");
        assert_eq!(one.geometry(MIB).unwrap().map(|g| (g.parts(), g.local_size(1))), Ok((1, MIB)));
        let mut small = Inference::default();
        small.add(1, 1);
        assert_eq!(small.geometry(20_000_000).unwrap().unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(small.geometry(1).unwrap().map(|g| g.parts()), Ok(1));
        let mut empty = Inference::default();
        empty.add(1, 0);
        assert_eq!((empty.part_size(), empty.why_not().as_str()), (None, "the first listed part has size 0"));
    }

    #[test]
    fn the_library_chooses_whole_mib_from_8_mib_within_2000_parts_then_50_mib_parts() {
        let choose = |size: u64| choose_part_size(size).unwrap();
        assert_eq!(choose(1), 8 * MIB);
        assert_eq!(choose(2000 * 8 * MIB), 8 * MIB, "exactly 2,000 parts of 8 MiB");
        assert_eq!(choose(2000 * 8 * MIB + 1), 9 * MIB);
        assert_eq!(choose(1 << 30), 8 * MIB, "1 GiB: 128 parts");
        assert_eq!(choose(20_000_000_000), 10 * MIB, "20 GB: 9.54 MiB a part rounds up to 10");
        let size = 20_000_000_000u64;
        assert!(size.div_ceil(10 * MIB) <= 2000 && size.div_ceil(9 * MIB) > 2000);
        assert_eq!(choose(2000 * 50 * MIB), 50 * MIB);
        assert_eq!(choose(2000 * 50 * MIB + 1), 50 * MIB, "past 2,000 parts of 50 MiB: still 50 MiB");
        assert_eq!(choose(MAX_FILE_SIZE), 50 * MIB);
        assert!(MAX_FILE_SIZE.div_ceil(50 * MIB) <= MAX_PARTS);
        let e = choose_part_size(MAX_FILE_SIZE + 1).unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (
                ErrorKind::Arg,
                "the file is 500000000001 bytes: a Vault upload session holds at most 500000000000 (500 GB)"
            )
        );
        assert_eq!(choose_part_size(u64::MAX).unwrap_err().kind(), ErrorKind::Arg);
    }

    #[test]
    fn an_upload_part_size_lies_in_5_to_50_mib_and_fits_vaults_limits() {
        for ok in [MIN_PART_SIZE, 8 * MIB, MAX_PART_SIZE] {
            assert_eq!(check_upload_part_size(1 << 30, ok), Ok(()), "{ok}");
        }
        for bad in [0, 1, MIN_PART_SIZE - 1, MAX_PART_SIZE + 1, u64::MAX] {
            let e = check_upload_part_size(1 << 30, bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Arg);
            assert_eq!(
                e.message(),
                format!("part_size {bad}: Vault takes parts of 5242880 to 52428800 bytes (5 MiB to 50 MiB); 0 lets the library choose")
            );
        }
        assert_eq!(check_upload_part_size(MAX_PARTS * MIN_PART_SIZE, MIN_PART_SIZE), Ok(()));
        let e = check_upload_part_size(MAX_PARTS * MIN_PART_SIZE + 1, MIN_PART_SIZE).unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (
                ErrorKind::Arg,
                "part_size 5242880 cuts the 50415534081-byte file into 9617 parts: Vault allows at most 9616"
            )
        );
        assert_eq!(check_upload_part_size(MAX_FILE_SIZE + 1, MAX_PART_SIZE).unwrap_err().kind(), ErrorKind::Arg);
    }
}
