//! One part of the local file as a request body: its bytes read from the open file by
//! positioned reads, again for every attempt (nothing depends on a consumed buffer), failing
//! with E_IO when the file changed or a read comes up short.

use super::file::LocalFile;
use super::geometry::Geometry;
use crate::error::Error;
use crate::transport::Body;
use std::io::{self, Read};
use std::sync::Arc;

/// Part `number` of the file: `len` bytes from `offset`. Cheap to clone; every
/// [`LocalPart::reader`] reads the file again.
#[derive(Clone, Debug)]
pub struct LocalPart {
    file: Arc<LocalFile>,
    number: u32,
    offset: u64,
    len: u64,
}

impl LocalPart {
    /// Part `number` of `file` as `geometry` cuts it (empty past the file's end).
    pub fn new(file: Arc<LocalFile>, geometry: &Geometry, number: u32) -> LocalPart {
        LocalPart { file, number, offset: geometry.offset(number), len: geometry.local_size(number) }
    }

    pub fn number(&self) -> u32 {
        self.number
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A reader of the part from its first byte, once the file is checked unchanged.
    pub fn reader(&self) -> Result<PartBytes, Error> {
        self.check_unchanged()?;
        Ok(PartBytes { part: self.clone(), read: 0 })
    }

    /// E_IO when the file's size, modification time or identity (the path naming another
    /// file) differ from when it was opened.
    pub fn check_unchanged(&self) -> Result<(), Error> {
        self.file.check_path()
    }
}

/// What a PUT streams: read from the file for every attempt.
impl Body for LocalPart {
    fn len(&self) -> u64 {
        self.len
    }

    fn reader(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(LocalPart::reader(self).map_err(io::Error::other)?))
    }
}

/// One pass over a part's bytes. Its errors are io::Errors wrapping the E_IO [`Error`]
/// ([`PartBytes::error`] recovers it). The last read also checks the file unchanged, so bytes
/// rewritten while they were being read are not passed off as the part.
#[derive(Debug)]
pub struct PartBytes {
    part: LocalPart,
    read: u64,
}

impl PartBytes {
    /// The [`Error`] inside an io::Error this reader returned.
    pub fn error(e: &io::Error) -> Option<&Error> {
        e.get_ref().and_then(|inner| inner.downcast_ref::<Error>())
    }

    /// As [`LocalPart::check_unchanged`].
    pub fn check_unchanged(&self) -> Result<(), Error> {
        self.part.check_unchanged()
    }
}

impl Read for PartBytes {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.part.len - self.read;
        let n = usize::try_from(left).map_or(buf.len(), |left| left.min(buf.len()));
        if n == 0 {
            return Ok(0);
        }
        let at = self.part.offset + self.read;
        self.part.file.read_exact_at(&mut buf[..n], at).map_err(io::Error::other)?;
        self.read += n as u64;
        if self.read == self.part.len {
            self.check_unchanged().map_err(io::Error::other)?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::local::test_file::TempFile as Temp;
    use crate::local::Purpose;
    use std::io::Write;

    fn open(t: &Temp) -> (Arc<LocalFile>, Geometry) {
        let file = Arc::new(LocalFile::open(&t.0, Purpose::Upload).unwrap());
        let g = Geometry::new(file.size(), 4).unwrap();
        (file, g)
    }

    fn read_all(r: &mut impl Read, chunk: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            match r.read(&mut buf)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    #[test]
    fn each_reader_yields_exactly_the_parts_bytes_again_and_again() {
        let t = Temp::new("part-bytes", b"0123456789");
        let (file, g) = open(&t);
        let parts: Vec<LocalPart> = (1..=4).map(|n| LocalPart::new(Arc::clone(&file), &g, n)).collect();
        assert_eq!(
            parts.iter().map(|p| (p.number(), p.offset(), p.len())).collect::<Vec<_>>(),
            [(1, 0, 4), (2, 4, 4), (3, 8, 2), (4, 12, 0)]
        );
        for chunk in [1, 3, 64] {
            assert_eq!(read_all(&mut parts[1].reader().unwrap(), chunk).unwrap(), b"4567");
            assert_eq!(read_all(&mut parts[2].reader().unwrap(), chunk).unwrap(), b"89");
        }
        // As the transport reads a Body: a fresh reader per attempt.
        let body: &dyn Body = &parts[0];
        assert_eq!(body.len(), 4);
        for _attempt in 0..2 {
            assert_eq!(read_all(&mut body.reader().unwrap(), 2).unwrap(), b"0123");
        }
        assert!(parts[3].is_empty());
        assert_eq!(read_all(&mut parts[3].reader().unwrap(), 8).unwrap(), b"");
    }

    #[test]
    fn a_truncated_file_is_a_short_read_and_e_io() {
        let t = Temp::new("part-short", b"0123456789");
        let (file, g) = open(&t);
        let part = LocalPart::new(file, &g, 3);
        let mut reader = part.reader().unwrap();
        std::fs::OpenOptions::new().write(true).open(&t.0).unwrap().set_len(9).unwrap();
        let e = read_all(&mut reader, 8).unwrap_err();
        let inner = PartBytes::error(&e).unwrap();
        assert_eq!(inner.kind(), ErrorKind::Io);
        assert_eq!(inner.message(), format!("{}: changed while uploading (it became shorter)", t.0));
        let e = part.reader().unwrap_err();
        assert_eq!(e.message(), format!("{}: changed while uploading (its size went from 10 to 9 bytes)", t.0));
        let e = Body::reader(&part).err().unwrap();
        assert_eq!(e.to_string(), format!("{}: changed while uploading (its size went from 10 to 9 bytes)", t.0));
    }

    /// A rewrite in place (same size) while a part is read fails its last read: the bytes
    /// sent may mix old and new.
    #[test]
    fn a_rewrite_during_the_read_fails_the_last_read() {
        let t = Temp::new("part-rewrite", b"0123456789");
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        std::fs::File::options().write(true).open(&t.0).unwrap().set_modified(old).unwrap();
        let (file, g) = open(&t);
        let part = LocalPart::new(file, &g, 1);
        let mut reader = part.reader().unwrap();
        let mut two = [0u8; 2];
        assert_eq!(reader.read(&mut two).unwrap(), 2);
        std::fs::File::options().write(true).open(&t.0).unwrap().write_all(b"X").unwrap();
        let e = reader.read(&mut two).unwrap_err();
        let inner = PartBytes::error(&e).unwrap();
        assert_eq!(inner.message(), format!("{}: changed while uploading (its modification time changed)", t.0));
        assert_eq!(reader.check_unchanged().unwrap_err().kind(), ErrorKind::Io);
    }

    #[test]
    fn a_file_renamed_over_is_another_file() {
        let t = Temp::new("part-renamed", b"0123456789");
        let (file, g) = open(&t);
        let part = LocalPart::new(file, &g, 1);
        let other = Temp::new("part-renamed-new", b"0123456789");
        std::fs::rename(&other.0, &t.0).unwrap();
        let e = part.check_unchanged().unwrap_err();
        assert_eq!(e.message(), format!("{}: changed while uploading (the path now names another file)", t.0));
    }
}
