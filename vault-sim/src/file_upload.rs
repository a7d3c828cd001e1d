//! Upload sessions listed part by part: made from a real file (true sizes and MD5s), then
//! damaged per part (wrong MD5 or size, a gap, parts past the end, no MD5, a duplicate), so a
//! verifier has something real to check.

pub use crate::model::SimPart;
use crate::model::{hex, md5_for, SourceFile, Upload};
use md5::{Digest, Md5};
use std::fs::File;
use std::io::{self, Read};

/// A change to one upload's list of parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartFault {
    /// Part N's MD5 is another part's.
    WrongMd5(u32),
    /// Part N is listed one byte larger.
    WrongSize(u32),
    /// Part N is not listed (a gap).
    Missing(u32),
    /// N more full-size parts are listed after the last one.
    Extra(u32),
    /// Part N has no MD5.
    NoMd5(u32),
    /// Part N is listed twice in a row.
    Duplicate(u32),
}

impl PartFault {
    /// Parses `md5=N`, `size=N`, `missing=N`, `extra=N`, `nomd5=N` or `dup=N`.
    pub fn parse(spec: &str) -> Result<PartFault, String> {
        let bad = || format!("part fault {spec:?}: expected md5=N, size=N, missing=N, extra=N, nomd5=N or dup=N");
        let (kind, n) = spec.split_once('=').ok_or_else(bad)?;
        let n: u32 = n.parse().map_err(|_| bad())?;
        Ok(match kind {
            "md5" => PartFault::WrongMd5(n),
            "size" => PartFault::WrongSize(n),
            "missing" => PartFault::Missing(n),
            "extra" => PartFault::Extra(n),
            "nomd5" => PartFault::NoMd5(n),
            "dup" => PartFault::Duplicate(n),
            _ => return Err(bad()),
        })
    }

    /// Applies the fault to `parts` (numbered in order).
    pub fn apply(self, parts: &mut Vec<SimPart>) {
        let find = |parts: &[SimPart], n: u32| parts.iter().position(|p| p.number == n);
        match self {
            PartFault::WrongMd5(n) => {
                if let Some(i) = find(parts, n) {
                    parts[i].md5 = Some(md5_for("wrong", n));
                }
            }
            PartFault::WrongSize(n) => {
                if let Some(i) = find(parts, n) {
                    parts[i].size += 1;
                }
            }
            PartFault::Missing(n) => parts.retain(|p| p.number != n),
            PartFault::Extra(count) => {
                let (last, size) = parts.iter().map(|p| (p.number, p.size)).max().unwrap_or((0, 5 << 20));
                parts.extend((1..=count).map(|k| SimPart { number: last + k, size, md5: Some(md5_for("extra", k)) }));
            }
            PartFault::NoMd5(n) => {
                if let Some(i) = find(parts, n) {
                    parts[i].md5 = None;
                }
            }
            PartFault::Duplicate(n) => {
                if let Some(i) = find(parts, n) {
                    let copy = parts[i].clone();
                    parts.insert(i + 1, copy);
                }
            }
        }
    }
}

impl Upload {
    /// An upload session that lists exactly `parts`, in this order.
    pub fn with_parts(id: &str, owner: &str, parts: Vec<SimPart>) -> Upload {
        let mut upload = Upload::new(id, owner, parts.len() as u32);
        upload.listed = Some(parts);
        upload
    }

    /// Applies `fault` to the parts this upload lists (its synthetic ones made explicit).
    pub fn part_fault(&mut self, fault: PartFault) -> &mut Upload {
        let mut parts = self.described_parts();
        fault.apply(&mut parts);
        self.parts = parts.len() as u32;
        self.listed = Some(parts);
        self
    }
}

/// The first `uploaded` parts of the file at `path` cut into `part_size`-byte parts, with their
/// true sizes and MD5s. Reads one part at a time.
pub fn parts_of_file(path: &str, part_size: u64, uploaded: u32) -> io::Result<Vec<SimPart>> {
    if part_size == 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "part size 0"));
    }
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut parts = Vec::new();
    for number in 1..=uploaded {
        let (mut hasher, mut size) = (Md5::new(), 0u64);
        while size < part_size {
            let want = (part_size - size).min(buf.len() as u64) as usize;
            let got = file.read(&mut buf[..want])?;
            if got == 0 {
                break;
            }
            hasher.update(&buf[..got]);
            size += got as u64;
        }
        if size == 0 {
            break;
        }
        parts.push(SimPart { number, size, md5: Some(hex(&hasher.finalize())) });
    }
    Ok(parts)
}

/// `len` pseudo-random bytes (xorshift from `seed`): file contents for tests and demos that
/// must differ from part to part.
pub fn pseudo_random_bytes(len: u64, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

impl Upload {
    /// An upload session of the file at `path` cut into `part_size`-byte parts, with its first
    /// `uploaded` parts stored (true sizes and MD5s) and the file's size declared, as a
    /// session interrupted after those parts is.
    pub fn from_file(id: &str, owner: &str, path: &str, part_size: u64, uploaded: u32) -> io::Result<Upload> {
        let parts = parts_of_file(path, part_size, uploaded)?;
        let mut upload = Upload::with_parts(id, owner, parts.clone());
        upload.part_size = part_size;
        upload.size = Some(std::fs::metadata(path)?.len());
        upload.source = Some(SourceFile { path: path.into(), part_size, parts });
        Ok(upload)
    }
}

/// Parses `ID:OWNER:PATH:PART_SIZE:UPLOADED` (PATH may not contain ':') into an upload of the
/// file's first UPLOADED parts (see `Upload::from_file`).
pub fn parse_upload_file(spec: &str) -> Result<Upload, String> {
    let bad = || format!("--upload-file {spec:?}: expected ID:OWNER:PATH:PART_SIZE:UPLOADED");
    let f: Vec<&str> = spec.split(':').collect();
    let [id, owner, path, part_size, uploaded] = f.as_slice() else { return Err(bad()) };
    let part_size: u64 = part_size.parse().map_err(|_| bad())?;
    let uploaded: u32 = uploaded.parse().map_err(|_| bad())?;
    Upload::from_file(id, owner, path, part_size, uploaded).map_err(|e| format!("--upload-file {path}: {e}"))
}

/// The parts `upload` lists at positions `from..to` (0-based, in listing order).
pub fn listed(upload: &Upload, from: u32, to: u32) -> Vec<SimPart> {
    let parts = upload.described_parts();
    let end = (to as usize).min(parts.len());
    parts.get(from as usize..end).map_or_else(Vec::new, <[SimPart]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(n: u32) -> Vec<SimPart> {
        (1..=n).map(|number| SimPart { number, size: 10, md5: Some(md5_for("t", number)) }).collect()
    }

    #[test]
    fn a_file_is_cut_into_true_parts() {
        let path = std::env::temp_dir().join(format!("vault-sim-fu-{}", std::process::id()));
        std::fs::write(&path, b"hello world").unwrap();
        let p = parts_of_file(path.to_str().unwrap(), 5, 9).unwrap();
        std::fs::remove_file(&path).unwrap();
        let got: Vec<(u32, u64, &str)> = p.iter().map(|p| (p.number, p.size, p.md5.as_deref().unwrap())).collect();
        assert_eq!(
            got,
            [
                (1, 5, "5d41402abc4b2a76b9719d911017c592"),
                (2, 5, "b81a02d933daa824c9b06de373b77d70"),
                (3, 1, "8277e0910d750195b448797616e091ad")
            ]
        );
    }

    #[test]
    fn faults_change_the_listed_parts() {
        let mut p = parts(4);
        for f in ["md5=1", "size=2", "missing=3", "nomd5=4", "extra=2", "dup=2"] {
            PartFault::parse(f).unwrap().apply(&mut p);
        }
        let numbers: Vec<u32> = p.iter().map(|p| p.number).collect();
        assert_eq!(numbers, [1, 2, 2, 4, 5, 6]);
        assert_ne!(p[0].md5, Some(md5_for("t", 1)));
        assert_eq!((p[1].size, p[3].md5.as_deref()), (11, None));
        assert!(PartFault::parse("boom=1").is_err() && PartFault::parse("md5=x").is_err());
    }

    #[test]
    fn upload_file_flag_parses() {
        assert!(parse_upload_file("a:b:/nonexistent:5:1").unwrap_err().contains("/nonexistent"));
        assert!(parse_upload_file("a:b:/tmp:x:1").is_err());
    }
}
