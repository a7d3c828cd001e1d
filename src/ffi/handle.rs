//! The opaque handle C holds: the Rust listing plus the C strings its accessors return.

use crate::error::Error;
use crate::listing::Listing;
use std::ffi::{c_char, c_int, CString};

/// An iterator over the parts of one upload session. Opaque: create it with vault_parts_open.
/// The caller owns the handle and must pass it to vault_parts_free.
pub struct vault_parts_iter {
    pub(crate) listing: Listing,
    /// The listing's error as C strings, made once when the listing fails. Errors are sticky,
    /// so they never change afterwards and the pointers vault_parts_errmsg and
    /// vault_parts_error_type returned stay valid until vault_parts_free.
    shown: Option<Shown>,
}

struct Shown {
    errmsg: CString,
    error_type: CString,
}

impl vault_parts_iter {
    pub(super) fn new(listing: Listing) -> Self {
        let mut handle = vault_parts_iter { listing, shown: None };
        handle.sync_error();
        handle
    }

    /// Makes `error` the handle's lasting error (the first one wins) and returns its code.
    pub(super) fn record(&mut self, error: Error) -> c_int {
        self.listing.fail(error).kind().code()
    }

    /// The code for a core result: `ok`, or the error's code. The error is already the
    /// listing's own (or a refused call that changed nothing), so nothing is recorded here.
    pub(super) fn code<T>(&self, result: Result<T, Error>, ok: c_int) -> c_int {
        result.map_or_else(|e| e.kind().code(), |_| ok)
    }

    /// The one place the C strings follow the listing's error; called after every call that
    /// may change it.
    pub(super) fn sync_error(&mut self) {
        if self.shown.is_none() {
            if let Some(e) = self.listing.error() {
                self.shown = Some(Shown {
                    errmsg: to_cstring(e.message()),
                    error_type: to_cstring(e.vault_type().unwrap_or("")),
                });
            }
        }
    }

    /// vault_parts_errmsg: a static "" while there is no error.
    pub(super) fn errmsg(&self) -> *const c_char {
        self.shown.as_ref().map_or(c"".as_ptr(), |s| s.errmsg.as_ptr())
    }

    pub(super) fn error_type(&self) -> *const c_char {
        self.shown.as_ref().map_or(c"".as_ptr(), |s| s.error_type.as_ptr())
    }
}

/// Interior NULs cannot appear in a C string; they become spaces.
fn to_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}
