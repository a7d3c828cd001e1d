//! The local file being verified or uploaded: opened once, read with positioned reads (never
//! mapped: a file truncated under a mapping kills the process with SIGBUS), and checked for
//! changes.

use crate::error::{Error, ErrorKind};
use std::fs::{File, Metadata};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// What identifies one version of the file: a rewrite changes the size or the modification
/// time, a replacement (rename over it) changes the inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
}

impl Stamp {
    fn of(m: &Metadata) -> Stamp {
        Stamp { dev: m.dev(), ino: m.ino(), size: m.size(), mtime: (m.mtime(), m.mtime_nsec()) }
    }
}

/// What the file is read for: messages say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Verify,
    Upload,
}

impl Purpose {
    fn verb(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Upload => "upload",
        }
    }

    fn doing(self) -> &'static str {
        match self {
            Purpose::Verify => "verifying",
            Purpose::Upload => "uploading",
        }
    }
}

/// An open regular file with the stamp it had when opened.
#[derive(Debug)]
pub struct LocalFile {
    file: File,
    /// Any bytes but NUL, as POSIX allows: a name need not be UTF-8.
    path: PathBuf,
    /// The path as messages show it (not UTF-8 bytes as U+FFFD): a local path is no secret.
    shown: String,
    stamp: Stamp,
    purpose: Purpose,
}

impl LocalFile {
    /// Opens `path` for reading. A missing file, a directory, anything but a regular file, or
    /// no permission is [`ErrorKind::Io`]; an empty file is [`ErrorKind::Arg`].
    pub fn open(path: impl AsRef<Path>, purpose: Purpose) -> Result<LocalFile, Error> {
        let (path, shown) = (path.as_ref(), path.as_ref().to_string_lossy().into_owned());
        let (file, meta) = open_regular(path).map_err(|refusal| match refusal {
            NotRegular::Io(what, e) => io_error(&shown, what, &e),
            other => Error::new(ErrorKind::Io, format!("{shown} {}", other.is())),
        })?;
        if meta.len() == 0 {
            return Err(Error::arg(format!("{shown} is empty: there is nothing to {}", purpose.verb())));
        }
        Ok(LocalFile { file, path: path.to_owned(), shown, stamp: Stamp::of(&meta), purpose })
    }

    pub fn size(&self) -> u64 {
        self.stamp.size
    }

    /// Fills `buf` from `offset`. Reaching the end early means the file shrank.
    pub fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<(), Error> {
        self.file.read_exact_at(buf, offset).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => self.changed("it became shorter"),
            _ => io_error(&self.shown, &format!("cannot read at offset {offset}"), &e),
        })
    }

    /// Asks the kernel to start reading `len` bytes from `offset` into the page cache now.
    /// Parts are read as many interleaved streams, which the kernel's own read-ahead does not
    /// follow; without this a cold file is read in small requests. Only a hint: errors ignored.
    pub fn will_need(&self, offset: u64, len: u64) {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else { return };
        // SAFETY: the descriptor is open for as long as self; the call only reads its arguments.
        unsafe { libc::posix_fadvise(self.file.as_raw_fd(), offset, len, libc::POSIX_FADV_WILLNEED) };
    }

    /// Fails when the open file's size or modification time differs from when it was opened.
    pub fn check_open_file(&self) -> Result<(), Error> {
        let now = self.file.metadata().map_err(|e| io_error(&self.shown, "cannot stat", &e))?;
        self.compare(Stamp::of(&now))
    }

    /// As [`LocalFile::check_open_file`], and the path must still name the same file.
    pub fn check_path(&self) -> Result<(), Error> {
        self.check_open_file()?;
        match std::fs::metadata(&self.path) {
            Ok(m) => self.compare(Stamp::of(&m)),
            Err(_) => Err(self.changed("the path no longer names it")),
        }
    }

    fn compare(&self, now: Stamp) -> Result<(), Error> {
        let old = self.stamp;
        if (now.dev, now.ino) != (old.dev, old.ino) {
            Err(self.changed("the path now names another file"))
        } else if now.size != old.size {
            Err(self.changed(&format!("its size went from {} to {} bytes", old.size, now.size)))
        } else if now.mtime != old.mtime {
            Err(self.changed("its modification time changed"))
        } else {
            Ok(())
        }
    }

    fn changed(&self, how: &str) -> Error {
        Error::new(ErrorKind::Io, format!("{}: changed while {} ({how})", self.shown, self.purpose.doing()))
    }
}

/// Why a path did not open as a regular file.
#[derive(Debug)]
pub enum NotRegular {
    /// The open or the stat failed: "cannot open" or "cannot stat", and why.
    Io(&'static str, std::io::Error),
    Directory,
    /// A FIFO, a device, a socket.
    Other,
}

impl NotRegular {
    /// "is a directory" or "is not a regular file" (Io is reported by the caller its way).
    pub fn is(&self) -> &'static str {
        match self {
            NotRegular::Directory => "is a directory",
            _ => "is not a regular file",
        }
    }
}

/// Opens `path` for reading if it is a regular file, with its metadata. Every file the
/// library reads (local files, CA files) opens here. Non-blocking, so a FIFO's open returns
/// at once (and is refused) instead of waiting forever for a writer, and a device such as
/// /dev/zero is refused before a byte is read; for a regular file the flag changes nothing.
pub fn open_regular(path: &Path) -> Result<(File, Metadata), NotRegular> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| NotRegular::Io("cannot open", e))?;
    let meta = file.metadata().map_err(|e| NotRegular::Io("cannot stat", e))?;
    if meta.is_file() {
        Ok((file, meta))
    } else if meta.is_dir() {
        Err(NotRegular::Directory)
    } else {
        Err(NotRegular::Other)
    }
}

fn io_error(path: &str, what: &str, e: &std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("{path}: {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp(name: &str, bytes: &[u8]) -> String {
        let dir = std::env::temp_dir().join(format!("vp-file-{}-{name}", std::process::id()));
        std::fs::write(&dir, bytes).unwrap();
        dir.to_string_lossy().into_owned()
    }

    #[test]
    fn open_refuses_missing_directories_and_empty_files() {
        let e = LocalFile::open("/nonexistent/vp-file", Purpose::Verify).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(e.message().starts_with("/nonexistent/vp-file: cannot open: No such file"), "{e}");
        let e = LocalFile::open("/tmp", Purpose::Verify).unwrap_err();
        assert_eq!((e.kind(), e.message()), (ErrorKind::Io, "/tmp is a directory"));
        let empty = temp("empty", b"");
        let e = LocalFile::open(&empty, Purpose::Verify).unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::Arg, format!("{empty} is empty: there is nothing to verify").as_str())
        );
        let e = LocalFile::open(&empty, Purpose::Upload).unwrap_err();
        assert_eq!(e.message(), format!("{empty} is empty: there is nothing to upload"));
        std::fs::remove_file(empty).unwrap();
    }

    /// A FIFO is refused at once: opening one without O_NONBLOCK waits for a writer forever.
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let path = std::env::temp_dir().join(format!("vp-file-{}-fifo", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let p = path.to_string_lossy().into_owned();
        let (send, recv) = std::sync::mpsc::channel();
        let opener = std::thread::spawn(move || send.send(LocalFile::open(&p, Purpose::Verify).map(|_| ())).unwrap());
        let got = recv.recv_timeout(std::time::Duration::from_secs(10));
        if got.is_err() {
            // Unblock the stuck open so the test ends.
            let _ = std::fs::OpenOptions::new().write(true).open(&path);
        }
        opener.join().unwrap();
        std::fs::remove_file(&path).unwrap();
        let e = got.expect("open returned within 10 s").unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::Io, format!("{} is not a regular file", path.display()).as_str())
        );
    }

    #[test]
    fn a_short_read_and_an_append_are_changes() {
        let path = temp("short", b"0123456789");
        let f = LocalFile::open(&path, Purpose::Verify).unwrap();
        let mut buf = [0u8; 4];
        f.read_exact_at(&mut buf, 6).unwrap();
        assert_eq!(&buf, b"6789");
        let e = f.read_exact_at(&mut buf, 8).unwrap_err();
        assert_eq!(e.message(), format!("{path}: changed while verifying (it became shorter)"));
        f.check_path().unwrap();
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"x").unwrap();
        let e = f.check_open_file().unwrap_err();
        assert!(e.message().ends_with("changed while verifying (its size went from 10 to 11 bytes)"), "{e}");
        std::fs::remove_file(&path).unwrap();
        assert!(f.check_path().unwrap_err().message().contains("changed while verifying"));
        let up = temp("short-up", b"0123456789");
        let f = LocalFile::open(&up, Purpose::Upload).unwrap();
        let e = f.read_exact_at(&mut buf, 8).unwrap_err();
        assert_eq!(e.message(), format!("{up}: changed while uploading (it became shorter)"));
        std::fs::remove_file(&up).unwrap();
    }
}
