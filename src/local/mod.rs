//! The local file an upload session is for, as verify and upload both read it: opened once,
//! read by positioned reads, checked for changes; cut into parts; hashed many parts at a time
//! on a pool of threads.

mod file;
pub(crate) mod geometry;
mod hash;
mod pool;

pub use file::LocalFile;
pub(crate) use geometry::MAX_PART_NUMBER;
pub use geometry::{check_upload_part_size, choose_part_size, Geometry, Inference};
pub(crate) use hash::LANES;
pub use hash::{hash_batch, hex, Job, ReadAt};
pub use pool::{Hashed, Pool};
