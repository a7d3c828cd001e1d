//! The local file an upload session is for, as verify and upload both read it: opened once,
//! read by positioned reads, checked for changes; cut into parts; hashed many parts at a time
//! on a pool of threads.

mod file;
mod geometry;
mod hash;
mod pool;

pub use file::LocalFile;
pub use geometry::{Geometry, Inference};
pub(crate) use hash::LANES;
pub use hash::{hash_batch, hex, Job};
pub use pool::{Hashed, Pool};
