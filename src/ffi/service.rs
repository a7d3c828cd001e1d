//! What a long-lived service needs of a handle: stopping it from another thread, a budget for
//! the whole listing, and the details and statistics a program can read without parsing text.

use super::boundary::{self, call, read};
use super::{set, vault_parts_iter, VAULT_PARTS_E_ARG, VAULT_PARTS_OK};
use crate::listing::Listing;
use std::ffi::c_int;

/// Stops the handle's listing: a vault_parts_next blocked on another thread (connecting, in the
/// TLS handshake, waiting for or reading a body, sleeping before a retry) returns
/// VAULT_PARTS_E_CANCELLED within 100 ms, and so does every later vault_parts_next (sticky,
/// like every error). A handle already at VAULT_PARTS_DONE or already failed keeps its result.
/// Repeating the call does nothing more.
///
/// Thread safety: any thread, any time until vault_parts_free begins, any number of times,
/// also while another thread is inside a call on the same handle (the one exception to "one
/// thread at a time"). Does not block.
///
/// Returns VAULT_PARTS_OK, or VAULT_PARTS_E_ARG for a NULL handle.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_interrupt(it: *mut vault_parts_iter) -> c_int {
    boundary::interrupt(it)
}

/// Sets a budget for the whole listing, in milliseconds (at least 1), counted from the first
/// vault_parts_next: every page, attempt and retry wait falls within it. Once it has passed,
/// vault_parts_next returns VAULT_PARTS_E_TIMEOUT with an errmsg saying the deadline was
/// reached; a retry wait that would end past it is not started (the call returns at once).
/// Without it a listing has no overall limit. Only before the first vault_parts_next.
///
/// Thread safety: one thread at a time per handle, as every call but vault_parts_interrupt.
///
/// Returns VAULT_PARTS_OK; VAULT_PARTS_E_ARG for 0 (and the handle keeps that error) or after
/// the first vault_parts_next (a misuse that changes nothing); or the handle's error.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_set_deadline_ms(it: *mut vault_parts_iter, ms: u64) -> c_int {
    set(it, |s| s.set_deadline_ms(ms))
}

/// The HTTP status of the last response the handle received (redirects included), 0 before
/// any or for a NULL handle. After a failure, the status that failed (or the last one seen
/// before a network failure).
///
/// Thread safety: one thread at a time per handle, as every call but vault_parts_interrupt.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_http_status(it: *const vault_parts_iter) -> c_int {
    read(it, 0, |listing| c_int::from(listing.http_status()))
}

/// The wait, in milliseconds, the server asked for (Retry-After) on the failure that stopped
/// the listing, so a caller can schedule its own retry: set after VAULT_PARTS_E_RATE_LIMIT or
/// VAULT_PARTS_E_HTTP (503 and the like) when the last answer carried Retry-After. -1 when
/// there is none, while the listing has not failed, or for a NULL handle.
///
/// Thread safety: one thread at a time per handle, as every call but vault_parts_interrupt.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_retry_after_ms(it: *const vault_parts_iter) -> i64 {
    read(it, -1, |listing| listing.retry_after().map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
}

/// What a listing has cost so far (vault_parts_stats). All counts start at 0 at
/// vault_parts_open.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct vault_parts_statistics {
    /// HTTP requests sent (each redirect hop is one).
    pub requests: u64,
    /// Attempts that failed and were retried.
    pub retries: u64,
    /// Pages received and accepted.
    pub pages: u64,
    /// Bytes read from the network for this listing: HTTP heads and bodies, TLS records when
    /// over HTTPS.
    pub bytes_received: u64,
    /// TCP connections this listing opened (to the server or a proxy); 0 for a listing that
    /// only reused its client's pooled connections.
    pub connections: u64,
    /// Milliseconds from the first vault_parts_next to the end of the listing (DONE or an
    /// error), or to now while it runs; 0 before the first vault_parts_next.
    pub elapsed_ms: u64,
}

/// Fills *out with the listing's statistics. Cheap (a few loads, no lock, no allocation):
/// fine to call after every part.
///
/// Thread safety: one thread at a time per handle, as every call but vault_parts_interrupt.
///
/// Returns VAULT_PARTS_OK (also on a handle in the error state: the counts of a failed listing
/// are still readable), or VAULT_PARTS_E_ARG for a NULL handle or `out` (then *out is not
/// written, and the handle is unchanged).
#[no_mangle]
pub unsafe extern "C" fn vault_parts_stats(it: *const vault_parts_iter, out: *mut vault_parts_statistics) -> c_int {
    call(it, |listing: &mut Listing| {
        if out.is_null() {
            return VAULT_PARTS_E_ARG;
        }
        let stats = listing.stats();
        let counts = vault_parts_statistics {
            requests: stats.requests,
            retries: stats.retries,
            pages: stats.pages,
            bytes_received: stats.bytes_received,
            connections: stats.connections,
            elapsed_ms: u64::try_from(stats.elapsed.as_millis()).unwrap_or(u64::MAX),
        };
        // SAFETY: out is non-NULL and points to a vault_parts_statistics per the C contract.
        unsafe { out.write(counts) };
        VAULT_PARTS_OK
    })
}

/// The library's version as one number, MAJOR*1000000 + MINOR*1000 + PATCH, to compare with
/// VAULT_PARTS_VERSION_NUMBER (say, to require at least a version at run time).
///
/// Thread safety: any thread, any time.
#[no_mangle]
pub extern "C" fn vault_parts_version_number() -> u32 {
    crate::VERSION_NUMBER
}
