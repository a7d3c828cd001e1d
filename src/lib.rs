//! libvault_parts: lists the parts uploaded to a Veeva Vault resumable upload session,
//! following Vault's cursor pagination behind one blocking iterator.
//!
//! The same connection serves the calls of an upload (vault_api.rs: create, details, a part,
//! commit, job status, abort, list sessions), made through a listing's [`Listing::calls`].
//!
//! The Rust core ([`Listing`]) knows nothing of C; [`ffi`] is the thin C ABI over it, from
//! which build.rs generates include/vault_parts.h.

mod backoff;
mod cancel;
mod client;
mod envelope;
pub mod error;
pub mod ffi;
mod listing;
pub mod local;
pub mod log;
#[cfg(test)]
mod loopback;
mod net;
mod origin;
pub mod page;
mod resolve;
mod retry;
pub mod settings;
mod transport;
pub mod upload;
mod vault_api;
pub mod verify;

pub use error::{Error, ErrorKind};

/// MAJOR*1000000 + MINOR*1000 + PATCH, computed once by build.rs from Cargo.toml (the header's
/// VAULT_PARTS_VERSION_NUMBER is the same number).
pub(crate) const VERSION_NUMBER: u32 = decimal(env!("VAULT_PARTS_VERSION_NUMBER"));

const fn decimal(digits: &str) -> u32 {
    let digits = digits.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < digits.len() {
        assert!(digits[i].is_ascii_digit(), "VAULT_PARTS_VERSION_NUMBER is not a number");
        n = n * 10 + (digits[i] - b'0') as u32;
        i += 1;
    }
    n
}
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_number_matches_cargo_toml_and_the_header() {
        let [major, minor, patch] =
            [0, 1, 2].map(|i| env!("CARGO_PKG_VERSION").split(['.', '-', '+']).nth(i).unwrap().parse::<u32>().unwrap());
        assert_eq!(super::VERSION_NUMBER, major * 1_000_000 + minor * 1000 + patch);
        let header = include_str!("../include/vault_parts.h");
        let define = format!("\n#define VAULT_PARTS_VERSION_NUMBER {}\n", super::VERSION_NUMBER);
        assert!(header.contains(&define), "the header lacks {define:?}");
    }
}
