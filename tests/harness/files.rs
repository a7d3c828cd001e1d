//! Local files for the verify tests: a temporary directory per test, removed on drop.

use std::path::PathBuf;

/// A directory of test files, named after the test binary's purpose and the process, removed
/// on drop.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(prefix: &str, name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("{prefix}-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    /// A file of `len` pseudo-random bytes (the same for the same name and length); returns
    /// its path.
    pub fn file(&self, name: &str, len: u64) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, vault_sim::file_upload::pseudo_random_bytes(len, len ^ name.len() as u64)).unwrap();
        p.to_string_lossy().into_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
