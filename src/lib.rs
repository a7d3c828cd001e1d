//! libvault_parts: lists the parts uploaded to a Veeva Vault resumable upload session,
//! following Vault's cursor pagination behind one blocking iterator.
//!
//! The Rust core ([`Listing`]) knows nothing of C; [`ffi`] is the thin C ABI over it, from
//! which build.rs generates include/vault_parts.h.

mod backoff;
pub mod error;
pub mod ffi;
mod listing;
pub mod log;
mod origin;
pub mod page;
mod resolve;
pub mod settings;
mod transport;
pub mod verify;

pub use error::{Error, ErrorKind};
pub use listing::Listing;
pub use page::Part;
pub use verify::Verifier;

/// Entry points for the cargo-fuzz targets in fuzz/; not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    /// Resolves `link` against `vault_url`'s origin, as the iterator does for next_page.
    pub fn resolve_link(vault_url: &str, link: &str) -> Option<String> {
        crate::origin::Origin::parse_vault_url(vault_url).ok()?.resolve(link).ok()
    }
}
