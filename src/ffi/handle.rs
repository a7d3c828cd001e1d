//! The one shape of every opaque handle C holds: a Rust core (the listing, the verifier) and
//! the C strings of its sticky error.
//!
//! Two parts: the interrupt, which any thread may raise while another runs a call on the
//! handle, and everything else, which only the one thread calling into the handle touches.
//! The second sits in an UnsafeCell so that the thread inside a call holds `&mut` only to
//! memory no other thread reads; the interrupt functions take `&` of the handle and touch only
//! the interrupt. Every access goes through boundary.rs.

use crate::cancel::Interrupt;
use crate::error::Error;
use std::cell::{OnceCell, UnsafeCell};
use std::ffi::{c_char, CString};

/// What the C ABI needs of a handle's Rust core.
pub(super) trait Core {
    /// The core's error: None until the first failure, then that one for good (sticky).
    fn error(&self) -> Option<&Error>;
    /// Records `error` unless the core already failed; returns the error the core keeps.
    fn fail(&mut self, error: Error) -> Error;
    /// The interrupt another thread may raise while a call runs.
    fn interrupter(&self) -> Interrupt;
}

/// A C handle type: a named newtype over [`Handle`], so cbindgen declares an opaque struct of
/// that name. Implement it with [`opaque!`].
pub(super) trait Opaque: Sized {
    type Core: Core;
    fn wrap(handle: Handle<Self::Core>) -> Self;
    fn handle(&self) -> &Handle<Self::Core>;
    fn into_handle(self) -> Handle<Self::Core>;
}

/// `opaque!(vault_parts_x, Core)` makes `pub struct vault_parts_x(Handle<Core>)` a C handle, and
/// `Core` a [`Core`] through its inherent `error`, `fail` and `interrupter` (every core has them).
macro_rules! opaque {
    ($name:ident, $core:ty) => {
        impl $crate::ffi::handle::Core for $core {
            fn error(&self) -> Option<&$crate::error::Error> {
                <$core>::error(self)
            }
            fn fail(&mut self, error: $crate::error::Error) -> $crate::error::Error {
                <$core>::fail(self, error)
            }
            fn interrupter(&self) -> $crate::cancel::Interrupt {
                <$core>::interrupter(self)
            }
        }
        impl $crate::ffi::handle::Opaque for $name {
            type Core = $core;
            fn wrap(handle: $crate::ffi::handle::Handle<$core>) -> Self {
                $name(handle)
            }
            fn handle(&self) -> &$crate::ffi::handle::Handle<$core> {
                &self.0
            }
            fn into_handle(self) -> $crate::ffi::handle::Handle<$core> {
                self.0
            }
        }
    };
}
pub(super) use opaque;

pub(super) struct Handle<T> {
    /// A clone of the core's interrupt.
    interrupt: Interrupt,
    inner: UnsafeCell<Inner<T>>,
}

/// Everything of the handle but its interrupt.
pub(super) struct Inner<T> {
    pub(super) core: T,
    /// The error's C strings, made the first time they are asked for after the error: the error
    /// never changes once set, so the pointers handed out stay valid until the handle is freed.
    shown: OnceCell<Shown>,
    /// Test hook (debug builds): the exported function that armed a panic for the next call.
    #[cfg(debug_assertions)]
    pub(super) panic_next: Option<&'static str>,
}

struct Shown {
    errmsg: CString,
    error_type: CString,
}

impl<T: Core> Handle<T> {
    pub(super) fn new(core: T) -> Self {
        let interrupt = core.interrupter();
        let inner = Inner {
            core,
            shown: OnceCell::new(),
            #[cfg(debug_assertions)]
            panic_next: None,
        };
        Handle { interrupt, inner: UnsafeCell::new(inner) }
    }

    /// Raises the core's interrupt; safe while another thread runs a call on the handle.
    pub(super) fn interrupt(&self) {
        self.interrupt.interrupt();
    }

    /// The part only the calling thread touches.
    ///
    /// # Safety
    /// No other reference to the inner part is alive: the C contract lets one thread at a
    /// time call into a handle (the interrupt excepted, which never comes here).
    #[allow(clippy::mut_from_ref)]
    pub(super) unsafe fn inner(&self) -> &mut Inner<T> {
        // SAFETY: per this function's contract.
        unsafe { &mut *self.inner.get() }
    }

    pub(super) fn into_core(self) -> T {
        self.inner.into_inner().core
    }
}

impl<T: Core> Inner<T> {
    /// The error message as a C string: a static "" while there is no error.
    pub(super) fn errmsg(&self) -> *const c_char {
        self.shown().map_or(c"".as_ptr(), |s| s.errmsg.as_ptr())
    }

    /// Vault's error type as a C string: a static "" while there is no error.
    pub(super) fn error_type(&self) -> *const c_char {
        self.shown().map_or(c"".as_ptr(), |s| s.error_type.as_ptr())
    }

    fn shown(&self) -> Option<&Shown> {
        let error = self.core.error()?;
        Some(self.shown.get_or_init(|| Shown {
            errmsg: to_cstring(error.message()),
            error_type: to_cstring(error.vault_type().unwrap_or("")),
        }))
    }
}

/// Interior NULs cannot appear in a C string; they become spaces.
fn to_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}
