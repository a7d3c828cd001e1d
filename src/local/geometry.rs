//! Where each part of the local file lies, and the part size read off a listing: the rules
//! verify and upload share, free of I/O.

use crate::error::Error;

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

    #[test]
    fn geometry_cuts_the_last_part_short() {
        assert_eq!(G.parts(), 3);
        assert_eq!((G.offset(3), G.local_size(3), G.local_size(4)), (20, 5, 0));
        assert_eq!(Geometry { file_size: 30, part_size: 10 }.parts(), 3);
        let big = Geometry { file_size: 5 << 30, part_size: 5 << 20 };
        assert_eq!((big.parts(), big.offset(1024), big.local_size(1024)), (1024, (5 << 30) - (5 << 20), 5 << 20));
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
