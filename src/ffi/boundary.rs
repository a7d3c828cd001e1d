//! The rules every exported function shares: NULL checks, UTF-8 checks, and the panic
//! boundary. Helpers take closures so the exported signatures stay plain for cbindgen.

use super::handle::{vault_parts_iter, Inner};
use crate::error::{Error, ErrorKind};
use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f` on the handle behind `it`, turning a NULL handle into E_ARG and a panic into
/// E_INTERNAL, which is then kept as the handle's error. Afterwards the handle's C strings
/// follow its error.
pub(super) fn with_handle(it: *mut vault_parts_iter, f: impl FnOnce(&mut Inner) -> c_int) -> c_int {
    // SAFETY: the C contract is that a non-NULL `it` came from vault_parts_open, was not
    // freed, and is used by one thread at a time (vault_parts_interrupt aside, which touches
    // only the interrupt, never the inner part borrowed here).
    let Some(handle) = (unsafe { it.as_ref() }).map(|h| unsafe { h.inner() }) else {
        return ErrorKind::Arg.code();
    };
    let code = match catch_unwind(AssertUnwindSafe(|| f(&mut *handle))) {
        Ok(code) => code,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let error = Error::new(ErrorKind::Internal, format!("internal error (a bug in libvault_parts): {what}"));
            catch_unwind(AssertUnwindSafe(|| handle.record(error))).unwrap_or(ErrorKind::Internal.code())
        }
    };
    let _ = catch_unwind(AssertUnwindSafe(|| handle.sync_error()));
    code
}

/// Runs a read-only accessor on the handle behind `it`: `fallback` for a NULL handle or a panic.
pub(super) fn read_handle<T>(it: *const vault_parts_iter, fallback: T, f: impl FnOnce(&Inner) -> T) -> T {
    // SAFETY: NULL or a live handle used by one thread at a time, per the C contract.
    let Some(handle) = (unsafe { it.as_ref() }).map(|h| &*unsafe { h.inner() }) else { return fallback };
    catch_unwind(AssertUnwindSafe(|| f(handle))).unwrap_or(fallback)
}

/// Runs `f` where the C function has no error code to return: a panic yields `fallback`.
pub(super) fn or_fallback<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Borrows a C string argument, naming it in the error when it is NULL or not UTF-8.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives the call.
pub(super) unsafe fn c_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(Error::arg(format!("{name} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    unsafe { CStr::from_ptr(ptr) }.to_str().map_err(|_| Error::arg(format!("{name} is not valid UTF-8")))
}
