//! The local file an upload session is for, as verify and upload both read it: opened once,
//! read by positioned reads, checked for changes; cut into parts; hashed many parts at a time
//! on a pool of threads.

mod ahead;
mod file;
pub(crate) mod geometry;
mod hash;
mod part;
mod pool;

pub use ahead::{DigestsAhead, Lookahead};
pub use file::{open_regular, LocalFile, NotRegular, Purpose};
pub(crate) use geometry::MAX_PART_NUMBER;
pub use geometry::{check_upload_part_size, choose_part_size, Geometry, Inference};
pub(crate) use hash::LANES;
pub use hash::{hash_batch, hex, Job, ReadAt};
pub use part::{LocalPart, PartBytes};
pub use pool::{Hashed, Pool};

/// Files for the unit tests of this module.
#[cfg(test)]
mod test_file {
    /// A file in the temporary directory, named for the test and the process, removed on drop.
    pub struct TempFile(pub String);

    impl TempFile {
        pub fn new(name: &str, bytes: &[u8]) -> TempFile {
            let path = std::env::temp_dir().join(format!("vp-local-{}-{name}", std::process::id()));
            std::fs::write(&path, bytes).unwrap();
            TempFile(path.to_string_lossy().into_owned())
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}
