//! The opaque handle C holds: the Rust listing plus the C strings its accessors return.
//!
//! Two parts: the interrupt, which any thread may raise while another runs a call on the
//! handle, and everything else, which only the one thread calling into the handle touches.
//! The second sits in an UnsafeCell so that the thread running vault_parts_next holds `&mut`
//! only to memory no other thread reads; vault_parts_interrupt takes `&` of the handle and
//! touches only the interrupt.

use crate::cancel::Interrupt;
use crate::error::Error;
use crate::listing::Listing;
use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, CString};

/// An iterator over the parts of one upload session. Opaque: create it with vault_parts_open.
/// The caller owns the handle and must pass it to vault_parts_free.
pub struct vault_parts_iter {
    /// A clone of the listing's interrupt.
    interrupt: Interrupt,
    inner: UnsafeCell<Inner>,
}

impl vault_parts_iter {
    pub(super) fn new(listing: Listing) -> Self {
        vault_parts_iter { interrupt: listing.interrupter(), inner: UnsafeCell::new(Inner::new(listing)) }
    }

    /// Raises the listing's interrupt; safe while another thread runs a call on the handle.
    pub(super) fn interrupt(&self) {
        self.interrupt.interrupt();
    }

    /// The part only the calling thread touches.
    ///
    /// # Safety
    /// No other reference to the inner part is alive: the C contract lets one thread at a
    /// time call into a handle (vault_parts_interrupt excepted, which never comes here).
    #[allow(clippy::mut_from_ref)]
    pub(super) unsafe fn inner(&self) -> &mut Inner {
        // SAFETY: per this function's contract.
        unsafe { &mut *self.inner.get() }
    }

    pub(crate) fn into_listing(self) -> Listing {
        self.inner.into_inner().listing
    }
}

/// Everything of the handle but its interrupt.
pub struct Inner {
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

impl Inner {
    fn new(listing: Listing) -> Self {
        let mut handle = Inner { listing, shown: None };
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
