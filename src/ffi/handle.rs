//! The opaque handle C holds: the Rust listing plus the C strings its accessors return.

use crate::error::Error;
use crate::listing::Listing;
use std::ffi::{c_int, CString};

/// An iterator over the parts of one upload session. Opaque: create it with vault_parts_open.
/// The caller owns the handle and must pass it to vault_parts_free.
pub struct vault_parts_iter {
    pub(super) listing: Listing,
    /// Kept here so the pointers vault_parts_errmsg and vault_parts_error_type return stay
    /// valid until the next call on the handle.
    pub(super) errmsg: CString,
    pub(super) error_type: CString,
}

impl vault_parts_iter {
    pub(super) fn new(listing: Listing) -> Self {
        let mut handle = vault_parts_iter { listing, errmsg: CString::default(), error_type: CString::default() };
        handle.sync_error();
        handle
    }

    /// Makes `error` the handle's lasting error (the first one wins) and returns its code.
    pub(super) fn record(&mut self, error: Error) -> c_int {
        let kept = self.listing.fail(error);
        self.sync_error();
        kept.kind().code()
    }

    /// The code for a core result, recording a failure.
    pub(super) fn code<T>(&mut self, result: Result<T, Error>, ok: c_int) -> c_int {
        match result {
            Ok(_) => ok,
            Err(e) => self.record(e),
        }
    }

    fn sync_error(&mut self) {
        if let Some(e) = self.listing.error() {
            self.errmsg = to_cstring(e.message());
            self.error_type = to_cstring(e.vault_type().unwrap_or(""));
        }
    }
}

/// Interior NULs cannot appear in a C string; they become spaces.
fn to_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}
