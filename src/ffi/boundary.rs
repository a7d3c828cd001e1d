//! The one boundary every exported function goes through: NULL checks, the panic boundary, and
//! the functions every handle shares (errmsg, error_type, errcode, interrupt, free, making and
//! taking over handles). Helpers take closures so the exported signatures stay plain for
//! cbindgen.

use super::handle::{Core, Handle, Inner, Opaque};
use super::VAULT_PARTS_OK;
use crate::error::{Error, ErrorKind};
use std::any::Any;
use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

/// Runs `f` on the core behind `h`: a NULL handle is E_ARG; a panic becomes E_INTERNAL, kept
/// as the handle's error with the panic's message (or the code of the error kept before it).
pub(super) fn call<H: Opaque>(h: *const H, f: impl FnOnce(&mut H::Core) -> c_int) -> c_int {
    match enter(h, |inner| f(&mut inner.core)) {
        None => ErrorKind::Arg.code(),
        Some(Ok(code)) => code,
        Some(Err(kept)) => kept.kind().code(),
    }
}

/// Runs an accessor that has no code to return: `fallback` for a NULL handle or a panic (which
/// is kept as the handle's error, as in [`call`]).
pub(super) fn read<H: Opaque, R>(h: *const H, fallback: R, f: impl FnOnce(&H::Core) -> R) -> R {
    read_inner(h, fallback, |inner| f(&inner.core))
}

fn read_inner<H: Opaque, R>(h: *const H, fallback: R, f: impl FnOnce(&Inner<H::Core>) -> R) -> R {
    enter(h, |inner| f(inner)).and_then(Result::ok).unwrap_or(fallback)
}

/// None for a NULL handle; Err(the error kept) when `f` panicked.
fn enter<H: Opaque, R>(h: *const H, f: impl FnOnce(&mut Inner<H::Core>) -> R) -> Option<Result<R, Error>> {
    // SAFETY: the C contract is that a non-NULL handle came from its open function, was not
    // freed, and is used by one thread at a time (the interrupt aside, which touches only the
    // interrupt, never the inner part borrowed here).
    let inner = unsafe { h.as_ref()?.handle().inner() };
    let ran = catch_unwind(AssertUnwindSafe(|| {
        #[cfg(debug_assertions)]
        if let Some(armed_by) = inner.panic_next.take() {
            panic!("forced by {armed_by}");
        }
        f(&mut *inner)
    }));
    Some(ran.map_err(|panic| {
        let error =
            Error::new(ErrorKind::Internal, format!("internal error (a bug in libvault_parts): {}", what(&*panic)));
        guard(error.clone(), || inner.core.fail(error))
    }))
}

/// The message a panic carried ("" when it was not text).
fn what(panic: &(dyn Any + Send)) -> &str {
    panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str)).unwrap_or("")
}

/// Runs `f` where there is no handle to keep an error on: a panic yields `fallback`.
pub(super) fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// The handle's `_errmsg`: a static "" while there is no error and for a NULL handle; made once,
/// valid until the handle is freed.
pub(super) fn errmsg<H: Opaque>(h: *const H) -> *const c_char {
    read_inner(h, c"".as_ptr(), Inner::errmsg)
}

/// The handle's `_error_type`, as [`errmsg`].
pub(super) fn error_type<H: Opaque>(h: *const H) -> *const c_char {
    read_inner(h, c"".as_ptr(), Inner::error_type)
}

/// The handle's `_errcode`: OK while there is no error, E_ARG for a NULL handle.
pub(super) fn errcode<H: Opaque>(h: *const H) -> c_int {
    call(h, |core| core.error().map_or(VAULT_PARTS_OK, |e| e.kind().code()))
}

/// The handle's `_interrupt`: raises the flag, nothing else, from any thread.
pub(super) fn interrupt<H: Opaque>(h: *const H) -> c_int {
    // SAFETY: NULL or a live handle (not yet being freed), per the C contract. Only a shared
    // reference is made, and only the interrupt is touched: another thread may be inside a
    // call on the same handle.
    let Some(h) = (unsafe { h.as_ref() }) else { return ErrorKind::Arg.code() };
    guard(ErrorKind::Internal.code(), || {
        h.handle().interrupt();
        VAULT_PARTS_OK
    })
}

/// The handle's `_free`: NULL does nothing.
pub(super) fn free<H: Opaque>(h: *mut H) {
    if !h.is_null() {
        // SAFETY: h came from its open function and is freed once, per the C contract.
        guard((), || drop(unsafe { Box::from_raw(h) }));
    }
}

/// Stores a new handle for `core` in `*out` and returns the core's code: OK, or the error it
/// was made with. `core` is None when making it panicked: then `*out` is NULL and the code
/// E_INTERNAL. A NULL `out` gets nothing: the core is dropped and the code is E_ARG.
pub(super) fn store<H: Opaque>(out: *mut *mut H, core: Option<H::Core>) -> c_int {
    let made = guard(None, || {
        let core = core?;
        let code = core.error().map_or(VAULT_PARTS_OK, |e| e.kind().code());
        Some((Box::new(H::wrap(Handle::new(core))), code))
    });
    if out.is_null() {
        guard((), || drop(made));
        return ErrorKind::Arg.code();
    }
    let (handle, code) = match made {
        Some((handle, code)) => (Box::into_raw(handle), code),
        None => (ptr::null_mut(), ErrorKind::Internal.code()),
    };
    // SAFETY: out is non-NULL and points to writable storage per the C contract.
    unsafe { *out = handle };
    code
}

/// Takes the core out of a handle the caller hands over to another (NULL: None). Call it
/// inside [`guard`].
///
/// # Safety
/// `h` is NULL or a live handle from its open function, which the caller gives up.
pub(super) unsafe fn take<H: Opaque>(h: *mut H) -> Option<H::Core> {
    // SAFETY: per this function's contract.
    (!h.is_null()).then(|| unsafe { Box::from_raw(h) }.into_handle().into_core())
}

/// Test hook (debug builds): the next call on `h` through [`call`] or [`read`] panics inside
/// the boundary, saying "forced by `armed_by`".
#[cfg(debug_assertions)]
pub(super) fn arm_panic<H: Opaque>(h: *const H, armed_by: &'static str) -> c_int {
    match enter(h, |inner| inner.panic_next = Some(armed_by)) {
        None => ErrorKind::Arg.code(),
        Some(_) => VAULT_PARTS_OK,
    }
}

/// The C code for a core result: `ok`, or the error's code. The error is already the core's
/// own (or a refused call that changed nothing), so nothing is recorded here.
pub(super) fn code_of<T>(result: Result<T, Error>, ok: c_int) -> c_int {
    result.map_or_else(|e| e.kind().code(), |_| ok)
}

/// One step of a ROW/DONE iterator, for every `*_next`: a NULL `out` is E_ARG and changes
/// nothing (`next` is not called); a row is written to `out` as `to_c` makes it (ROW); the end
/// is DONE; an error its code (already kept by the core, sticky).
pub(super) fn step<T, C>(
    out: *mut C,
    next: impl FnOnce() -> Result<Option<T>, Error>,
    to_c: impl FnOnce(&T) -> C,
) -> c_int {
    if out.is_null() {
        return ErrorKind::Arg.code();
    }
    match next() {
        // SAFETY: out is non-NULL and points to a C of the caller's per the C contract.
        Ok(Some(row)) => {
            unsafe { out.write(to_c(&row)) };
            super::VAULT_PARTS_ROW
        }
        Ok(None) => super::VAULT_PARTS_DONE,
        Err(e) => e.kind().code(),
    }
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

/// A setter's string argument, read when the setter runs (so a setter refused for its timing
/// never looks at it): NULL and non-UTF-8 are bad values like any other, which the setter's
/// handle or client keeps.
///
/// # Safety
/// `text` is NULL or points to a NUL-terminated string that outlives the returned closure.
pub(super) unsafe fn with_text<'a, S>(
    text: *const c_char,
    name: &'a str,
    apply: impl FnOnce(&mut S, &str) -> Result<(), Error> + 'a,
) -> impl FnOnce(&mut S) -> Result<(), Error> + 'a {
    // SAFETY: per this function's contract.
    move |settings| apply(settings, unsafe { c_str(text, name) }?)
}
