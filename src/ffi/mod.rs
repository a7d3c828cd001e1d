//! The C ABI. Each function checks its pointers and delegates to the Rust core. Every function
//! that runs library code on a handle or its arguments does so inside the one boundary
//! (boundary.rs), the accessors included; every handle has the one shape of handle.rs.
//! vault_parts_errstr and vault_parts_version only return static strings and have nothing that
//! could panic. The doc comments become include/vault_parts.h.
// C names (vault_part) are the contract. The safety rules C callers must follow (valid or NULL
// pointers, NUL-terminated strings, one thread per handle at a time) are stated once in the
// header preamble and per function in plain C terms, not in Rust "# Safety" sections.
#![allow(non_camel_case_types, clippy::missing_safety_doc)]

mod handle;

mod boundary;
mod client;
mod service;
mod sessions;
mod trust;
mod upload;
mod verify;

use crate::error::{Error, ErrorKind};
use crate::listing::{Listing, MAX_EMPTY_PAGES, MAX_PAGES};
use crate::log::Level;
use crate::settings::Settings;
use boundary::{c_str, call, code_of, read, step, with_text};
pub use client::*;
use handle::{opaque, Handle};
pub use service::*;
pub use sessions::*;
use std::ffi::{c_char, c_int, c_void};
pub use upload::*;
pub use verify::*;

/// Success: the call did what it was asked.
pub const VAULT_PARTS_OK: c_int = 0;
/// vault_parts_next filled in a part; call it again for the next one.
pub const VAULT_PARTS_ROW: c_int = 100;
/// vault_parts_next has no more parts: the listing is complete.
pub const VAULT_PARTS_DONE: c_int = 101;
/// A bad argument (NULL pointer, invalid URL or ID, out-of-range setting), or a call the
/// handle's state does not allow (a setter after the first vault_parts_next, vault_parts_next
/// with a NULL `out`). Fix the calling code; retrying does not help. A call refused for its
/// timing (misuse, as sqlite's SQLITE_MISUSE) changes nothing: the listing goes on, DONE stays
/// DONE, and vault_parts_errcode and vault_parts_errmsg keep what they said.
pub const VAULT_PARTS_E_ARG: c_int = 1;
/// Vault rejected the session ID (INVALID_SESSION_ID or HTTP 401): log in again.
pub const VAULT_PARTS_E_AUTH: c_int = 2;
/// The user may not list this upload session (INSUFFICIENT_ACCESS or HTTP 403): only its
/// owner or an Admin may.
pub const VAULT_PARTS_E_ACCESS: c_int = 3;
/// Still rate limited after every attempt (API_LIMIT_EXCEEDED or HTTP 429): wait, then retry.
pub const VAULT_PARTS_E_RATE_LIMIT: c_int = 4;
/// Vault answered FAILURE or EXCEPTION with another error type; vault_parts_error_type names it.
pub const VAULT_PARTS_E_VAULT: c_int = 5;
/// An HTTP status other than 200 (after retries for 500, 502, 503 and 504), usually from a
/// proxy or gateway in between.
pub const VAULT_PARTS_E_HTTP: c_int = 6;
/// The connection failed after every attempt: refused, reset, name not found, closed early.
pub const VAULT_PARTS_E_NETWORK: c_int = 7;
/// Every attempt ran out of time (vault_parts_set_timeout_ms), or the listing's deadline was
/// reached (vault_parts_set_deadline_ms; errmsg says so).
pub const VAULT_PARTS_E_TIMEOUT: c_int = 8;
/// The TLS handshake or the certificate check failed; see vault_parts_set_ca_file.
pub const VAULT_PARTS_E_TLS: c_int = 9;
/// The server's answer broke the protocol: not JSON, a page, responseDetails, part or error
/// that is not a JSON object, a bad field, a next_page or redirect to
/// another origin, a pagination loop, more than VAULT_PARTS_MAX_PAGES pages or more than
/// VAULT_PARTS_MAX_EMPTY_PAGES empty pages in a row that link onward, a body over 8 MiB, more
/// than 127 response headers or a header block over 64 KiB. Never retried.
pub const VAULT_PARTS_E_PROTOCOL: c_int = 10;
/// A bug in libvault_parts (a caught panic). The process is unharmed; please report it.
pub const VAULT_PARTS_E_INTERNAL: c_int = 11;
/// The local file a verifier reads (vault_parts_verify_*): missing, a directory or not a
/// regular file, unreadable, or changed while verifying (its size, modification time or
/// identity differ from when it was opened, or a read came up short). The message names the
/// path.
pub const VAULT_PARTS_E_IO: c_int = 12;
/// vault_parts_interrupt stopped the listing (or vault_parts_verify_interrupt the verifier).
/// Sticky like every error: open a new handle to list again.
pub const VAULT_PARTS_E_CANCELLED: c_int = 13;
/// This local file cannot complete this upload session: its size differs from the size the
/// session declared, Vault lists parts past the file's end, or the listed part sizes
/// contradict the part size. Nothing is uploaded; use the file the session was made for, or
/// start a new session.
pub const VAULT_PARTS_E_CONFLICT: c_int = 14;
/// Vault answered a part upload with a size or an MD5 other than those of the bytes sent, on
/// every attempt: what it stored is not what the file holds. Nothing is committed.
pub const VAULT_PARTS_E_INTEGRITY: c_int = 15;

// Each C code is its ErrorKind's code: one table (error.rs), checked here at compile time.
const _: () = {
    assert!(VAULT_PARTS_E_ARG == ErrorKind::Arg.code());
    assert!(VAULT_PARTS_E_AUTH == ErrorKind::Auth.code());
    assert!(VAULT_PARTS_E_ACCESS == ErrorKind::Access.code());
    assert!(VAULT_PARTS_E_RATE_LIMIT == ErrorKind::RateLimit.code());
    assert!(VAULT_PARTS_E_VAULT == ErrorKind::Vault.code());
    assert!(VAULT_PARTS_E_HTTP == ErrorKind::Http.code());
    assert!(VAULT_PARTS_E_NETWORK == ErrorKind::Network.code());
    assert!(VAULT_PARTS_E_TIMEOUT == ErrorKind::Timeout.code());
    assert!(VAULT_PARTS_E_TLS == ErrorKind::Tls.code());
    assert!(VAULT_PARTS_E_PROTOCOL == ErrorKind::Protocol.code());
    assert!(VAULT_PARTS_E_INTERNAL == ErrorKind::Internal.code());
    assert!(VAULT_PARTS_E_IO == ErrorKind::Io.code());
    assert!(VAULT_PARTS_E_CANCELLED == ErrorKind::Cancelled.code());
    assert!(VAULT_PARTS_E_CONFLICT == ErrorKind::Conflict.code());
    assert!(VAULT_PARTS_E_INTEGRITY == ErrorKind::Integrity.code());
    assert!(ErrorKind::ALL.len() == 15);
    assert!(VAULT_PARTS_LOG_ERROR == Level::Error as c_int);
    assert!(VAULT_PARTS_LOG_WARN == Level::Warn as c_int);
    assert!(VAULT_PARTS_LOG_INFO == Level::Info as c_int);
    assert!(VAULT_PARTS_LOG_DEBUG == Level::Debug as c_int);
    assert!(VAULT_PARTS_MAX_PAGES as u32 == MAX_PAGES);
    assert!(VAULT_PARTS_MAX_EMPTY_PAGES as u32 == MAX_EMPTY_PAGES);
    assert!(VAULT_PARTS_MAX_MESSAGE as usize == crate::error::MAX_MESSAGE);
};

/// The most pages one listing fetches: enough for Vault's largest upload session (9,616 parts)
/// listed one part a page. A server linking past it ends the listing with
/// VAULT_PARTS_E_PROTOCOL naming this bound, so no vault_parts_next runs forever.
pub const VAULT_PARTS_MAX_PAGES: c_int = 10000;
/// The most pages in a row that hold no parts yet link onward to another page. Vault sends
/// none; the next one ends the listing with VAULT_PARTS_E_PROTOCOL naming this bound.
pub const VAULT_PARTS_MAX_EMPTY_PAGES: c_int = 10;
/// The longest string vault_parts_errmsg returns or a log line carries, in bytes (the NUL not
/// counted). Longer text is cut, after the session ID was removed, and ends with
/// "...[cut N bytes]..." in place of its middle.
pub const VAULT_PARTS_MAX_MESSAGE: c_int = 1024;

/// Log level 1 (the `level` a vault_parts_log_fn receives): the error that stopped the
/// listing, the same text vault_parts_errmsg returns.
pub const VAULT_PARTS_LOG_ERROR: c_int = 1;
/// Log level 2: a failed attempt that will be retried, and how long the wait is.
pub const VAULT_PARTS_LOG_WARN: c_int = 2;
/// Log level 3: one line per page (its part count, whether more follow), per redirect, and
/// when the listing completes.
pub const VAULT_PARTS_LOG_INFO: c_int = 3;
/// Log level 4: one line per HTTP request attempt: URL, status, elapsed milliseconds.
pub const VAULT_PARTS_LOG_DEBUG: c_int = 4;

/// One uploaded part, filled in by vault_parts_next. The caller owns the struct (stack or
/// heap); the library only writes into it.
#[repr(C)]
pub struct vault_part {
    /// The part's number, from 1.
    pub part_number: u32,
    /// The part's size in bytes.
    pub size: u64,
    /// The MD5 Vault computed: 32 lowercase hex digits and a NUL, or "" when Vault sent none.
    pub part_content_md5: [c_char; 33],
}

/// Receives the handle's log lines. `userdata` is what was passed to vault_parts_set_log;
/// `level` is one of VAULT_PARTS_LOG_*; `message` is NUL-terminated, never contains the
/// session ID, holds no control, line separator or bidi/format character, is at most
/// VAULT_PARTS_MAX_MESSAGE bytes, and is owned by the library: valid only during the call,
/// copy it to keep it.
/// Called on the thread that called vault_parts_next; it must not call back into the same handle.
pub type vault_parts_log_fn = Option<unsafe extern "C" fn(userdata: *mut c_void, level: c_int, message: *const c_char)>;

/// An iterator over the parts of one upload session. Opaque: create it with vault_parts_open.
/// The caller owns the handle and must pass it to vault_parts_free.
pub struct vault_parts_iter(Handle<Listing>);
opaque!(vault_parts_iter, Listing);

/// Creates an iterator over the parts of one upload session. Does no network I/O.
///
/// `vault_url` is "https://host[:port]" (a trailing "/" is allowed) or a bare "host[:port]"
/// (https), at most VAULT_PARTS_MAX_VAULT_URL_LEN bytes. The host is a DNS name (RFC 1123
/// labels), a dotted-quad IPv4 address or a bracketed IPv6 address; an empty port means the
/// default. A bare host must hold a dot (myvault.veevavault.com), be an IP address or be
/// localhost: a single label is what a session ID passed in the wrong place looks like, and
/// it must never reach a name resolver. errmsg never quotes a bare vault_url (it may be the
/// session ID); it quotes one with a scheme. "http://" is accepted only for loopback hosts
/// (127.0.0.0/8, ::1, localhost).
/// `session_id` is sent as the Authorization header, to that origin only; the library copies it.
/// It must be printable ASCII (the raw session ID, or "Bearer <token>" with the scheme in any
/// letter case) of VAULT_PARTS_MIN_SESSION_ID_LEN to VAULT_PARTS_MAX_SESSION_ID_LEN bytes
/// (a bearer token alone at least VAULT_PARTS_MIN_SESSION_ID_LEN), without leading or
/// trailing spaces, and not a URL or a host name vault_url would accept (the arguments look
/// swapped). errmsg never quotes it, and every message and log line has it replaced by
/// "[redacted]" in each spelling a server may echo: the bare token, JSON-escaped,
/// percent-encoded (either case of hex digits, '+' for a space), in any mixture.
/// `upload_session_id` is the id from "Create Resumable Upload Session": one URL path segment
/// of letters, digits and -._~!$&'()*+,;=:@ (no '/', '?', '#', '%', spaces or control
/// characters; not "." or ".."), at most VAULT_PARTS_MAX_UPLOAD_SESSION_ID_LEN bytes, and not
/// the session ID itself (a pasted session ID would travel in a URL: VAULT_PARTS_E_ARG).
///
/// On return *out holds a new handle, even when the arguments were bad: then the handle is
/// in the error state and vault_parts_errmsg explains.
/// The caller owns the handle and must pass it to vault_parts_free.
/// Only when `out` is NULL is no handle made (and *out is not written).
///
/// Returns VAULT_PARTS_OK, or VAULT_PARTS_E_ARG.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_open(
    out: *mut *mut vault_parts_iter,
    vault_url: *const c_char,
    session_id: *const c_char,
    upload_session_id: *const c_char,
) -> c_int {
    // SAFETY: the pointers are NULL or valid, per the C contract.
    unsafe {
        client::open_iter(
            out,
            None,
            || open_args(vault_url, session_id, upload_session_id),
            |(url, sid, up), c| client::existing_session(url, sid, up, c),
        )
    }
}

/// The three strings of vault_parts_open, checked in order.
///
/// # Safety
/// Each pointer is NULL or a NUL-terminated string that outlives the call.
unsafe fn open_args<'a>(
    vault_url: *const c_char,
    session_id: *const c_char,
    upload_session_id: *const c_char,
) -> Result<(&'a str, &'a str, &'a str), Error> {
    // SAFETY: per this function's contract.
    unsafe {
        Ok((
            c_str(vault_url, "vault_url")?,
            c_str(session_id, "session_id")?,
            c_str(upload_session_id, "upload_session_id")?,
        ))
    }
}

/// Moves to the next part. Blocks while it fetches a page (with retries, see
/// vault_parts_set_max_attempts). The first call reads the proxy environment: HTTPS goes
/// through the HTTP proxy (CONNECT) named by the first of https_proxy, HTTPS_PROXY,
/// all_proxy, ALL_PROXY, http_proxy, HTTP_PROXY set non-empty (curl's order for https URLs,
/// with http_proxy last; a later one never stands in for it), except to the hosts NO_PROXY
/// lists; plain http (loopback) never uses a proxy. Traffic never goes around that proxy:
/// when the variable holds no usable URL, or a SOCKS one (not supported), the call fails
/// with VAULT_PARTS_E_NETWORK before any connection or name lookup, and the message names
/// the variable, never its value. Credentials in the proxy's URL
/// (http://user:password@host:port) are sent as Basic Proxy-Authorization and appear in no
/// message or log line; a proxy that refuses them is VAULT_PARTS_E_NETWORK too, the message
/// saying so with the status the proxy sent.
///
/// Returns VAULT_PARTS_ROW after filling *out; VAULT_PARTS_DONE when every part has been
/// returned (and again on every later call); or an error code. Errors are sticky: once a
/// call on the handle failed, every later call returns the same code, so checking after the
/// loop is enough. *out is written only on VAULT_PARTS_ROW. A NULL `out` returns
/// VAULT_PARTS_E_ARG and changes nothing (the listing can go on with a valid `out`).
///
/// The work of one call is bounded: each attempt at a page (redirects included) ends within
/// the timeout, each page gets at most vault_parts_set_max_attempts attempts, and a listing
/// fetches at most VAULT_PARTS_MAX_PAGES pages. A page holding more parts than its request's
/// `limit` (vault_parts_set_limit for the first page, the next_page link's for later ones,
/// Vault's 1000 when none is named) is VAULT_PARTS_E_PROTOCOL, so after its first page an
/// open handle holds about 260 KiB (measured; mostly the connection's buffers), whatever the
/// listing's length or the server's pages.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_next(it: *mut vault_parts_iter, out: *mut vault_part) -> c_int {
    call(it, |listing| {
        step(
            out,
            || listing.next_part(),
            |part| {
                // The parser already holds the md5 as 32 ASCII hex bytes: copy them as they are.
                let mut md5 = [0 as c_char; 33];
                if let Some(hex) = &part.md5 {
                    for (dst, src) in md5.iter_mut().zip(hex) {
                        *dst = *src as c_char;
                    }
                }
                vault_part { part_number: part.part_number, size: part.size, part_content_md5: md5 }
            },
        )
    })
}

/// Releases the handle and everything it owns, closing its connections. Accepts NULL (does
/// nothing). The handle must not be used afterwards; strings it returned become invalid.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_free(it: *mut vault_parts_iter) {
    boundary::free(it)
}

/// Every setter: `apply` runs only before the first vault_parts_next (see Listing::configure),
/// and a value it rejects (NULL included) is kept as the listing's error.
fn set(it: *mut vault_parts_iter, apply: impl FnOnce(&mut Settings) -> Result<(), Error>) -> c_int {
    call(it, |listing| code_of(listing.configure(apply), VAULT_PARTS_OK))
}

/// [`set`] for a setting a shared client owns (trust, client ID): on a listing opened with one
/// the call is misuse, refused whatever the value, and changes nothing.
fn set_connection(it: *mut vault_parts_iter, apply: impl FnOnce(&mut Settings) -> Result<(), Error>) -> c_int {
    call(it, |listing| code_of(listing.owns_connection().and_then(|()| listing.configure(apply)), VAULT_PARTS_OK))
}

/// Sets the page size (Vault's `limit` parameter), 1 to 1000. Without it the request has no
/// limit and Vault uses its default, 1000. Only before the first vault_parts_next.
///
/// Returns VAULT_PARTS_OK; VAULT_PARTS_E_ARG for a bad value (and the handle keeps that error)
/// or after the first vault_parts_next (a misuse that changes nothing); or the handle's error.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_set_limit(it: *mut vault_parts_iter, limit: u32) -> c_int {
    set(it, |s| s.set_limit(limit))
}

/// Sets the Vault API version, like "v25.3" (the library copies it). The default is a recent
/// generally available version, "v25.3". Only before the first vault_parts_next.
///
/// Returns VAULT_PARTS_OK; VAULT_PARTS_E_ARG for a bad value, NULL included (and the handle
/// keeps that error), or after the first vault_parts_next (a misuse that changes nothing); or
/// the handle's error.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_set_api_version(it: *mut vault_parts_iter, version: *const c_char) -> c_int {
    // SAFETY: NULL or a NUL-terminated string, per the C contract.
    set(it, unsafe { with_text(version, "version", Settings::set_api_version) })
}

/// Sets how long one HTTP attempt may go without progress, in milliseconds (at least 1). An
/// attempt (every redirect hop of it: connect, TLS, request, answer) fails with
/// VAULT_PARTS_E_TIMEOUT once this long passes with no body byte moved: a part upload's body
/// sent or an answer's body received. A 50 MiB part on a slow link that keeps moving never
/// times out; a server that stops does, within this long. The whole listing or upload is
/// bounded by vault_parts_set_deadline_ms instead. The default is 60000. Applies to every
/// request the handle makes (an upload's too). Only before the first vault_parts_next.
///
/// Returns VAULT_PARTS_OK; VAULT_PARTS_E_ARG for a bad value (and the handle keeps that error)
/// or after the first vault_parts_next (a misuse that changes nothing); or the handle's error.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_set_timeout_ms(it: *mut vault_parts_iter, ms: u32) -> c_int {
    set(it, |s| s.set_timeout_ms(ms))
}

/// Sets how many attempts each page gets (at least 1; the default is 3). Only rate limits,
/// HTTP 500/502/503/504, connection failures and timeouts are retried. Only before the first
/// vault_parts_next.
///
/// Returns VAULT_PARTS_OK; VAULT_PARTS_E_ARG for a bad value (and the handle keeps that error)
/// or after the first vault_parts_next (a misuse that changes nothing); or the handle's error.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_set_max_attempts(it: *mut vault_parts_iter, attempts: u32) -> c_int {
    set(it, |s| s.set_max_attempts(attempts))
}

/// Sets the waits between attempts: the first wait is about `initial_ms` (jittered between
/// half and all of it), doubling each time. A server's Retry-After (seconds or an HTTP date)
/// on HTTP 429, 500, 502, 503, 504 or on an API_LIMIT_EXCEEDED answer is waited for at least;
/// no wait exceeds `max_ms`. Defaults: 250 and 30000. Requires initial_ms <= max_ms. Only
/// before the first vault_parts_next.
///
/// Returns VAULT_PARTS_OK; VAULT_PARTS_E_ARG for a bad value (and the handle keeps that error)
/// or after the first vault_parts_next (a misuse that changes nothing); or the handle's error.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_set_backoff_ms(it: *mut vault_parts_iter, initial_ms: u32, max_ms: u32) -> c_int {
    set(it, |s| s.set_backoff_ms(initial_ms, max_ms))
}

/// Sets the X-VaultAPI-ClientID sent with each request: 1 to 100 letters, digits, '.', '_'
/// and '-' (the library copies it). The default is "libvault_parts-MAJOR.MINOR.PATCH".
/// Only before the first vault_parts_next.
///
/// Returns VAULT_PARTS_OK; VAULT_PARTS_E_ARG for a bad value, NULL included (and the handle
/// keeps that error), or after the first vault_parts_next (a misuse that changes nothing); or
/// the handle's error.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_set_client_id(it: *mut vault_parts_iter, client_id: *const c_char) -> c_int {
    // SAFETY: NULL or a NUL-terminated string, per the C contract.
    set_connection(it, unsafe { with_text(client_id, "client_id", Settings::set_client_id) })
}

/// Trusts only the certificates in the PEM file at `pem_path` (read now; at least one
/// certificate), instead of the built-in Mozilla roots: for a private CA. To keep the built-in
/// roots as well, use vault_parts_add_ca_file; for the operating system's store,
/// vault_parts_use_system_roots. Only before the first vault_parts_next.
/// The file must be a regular file (or a link to one) of at most VAULT_PARTS_MAX_CA_FILE_SIZE
/// bytes; it is opened without blocking, so a FIFO, a device such as /dev/zero or a directory
/// is refused at once, before anything is read.
///
/// Returns VAULT_PARTS_OK; VAULT_PARTS_E_ARG when `pem_path` is NULL or the file is missing,
/// unreadable, not a regular file, larger than VAULT_PARTS_MAX_CA_FILE_SIZE or holds no
/// certificate (and the handle keeps that error; errmsg says which), or after the first
/// vault_parts_next or on a listing opened with a vault_parts_client (a misuse that changes
/// nothing, whatever `pem_path` is); or the handle's error.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_set_ca_file(it: *mut vault_parts_iter, pem_path: *const c_char) -> c_int {
    // SAFETY: NULL or a NUL-terminated string, per the C contract.
    set_connection(it, unsafe { with_text(pem_path, "pem_path", Settings::set_ca_file) })
}

/// Sends the handle's log lines to `fn`, with `userdata` passed back untouched (the caller
/// keeps owning it and must keep it valid while the handle may log). A NULL `fn` turns
/// logging off. Without a callback the library prints nothing. May be called at any time.
///
/// Returns VAULT_PARTS_OK, or the handle's sticky error code.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_set_log(
    it: *mut vault_parts_iter,
    r#fn: vault_parts_log_fn,
    userdata: *mut c_void,
) -> c_int {
    call(it, |listing| {
        let sink = r#fn.map(|callback| {
            let userdata = UserData(userdata);
            Box::new(move |level: Level, line: &str| {
                let Ok(line) = std::ffi::CString::new(line) else { return };
                let userdata = &userdata;
                // SAFETY: the caller promised callback and userdata stay valid.
                unsafe { callback(userdata.0, level as c_int, line.as_ptr()) };
            }) as crate::log::Sink
        });
        code_of(listing.set_log(sink), VAULT_PARTS_OK)
    })
}

/// The caller's log pointer, carried along when the handle moves between threads, as the
/// C API allows; the caller is responsible for its thread safety.
struct UserData(*mut c_void);
// SAFETY: see above; the library never dereferences it.
unsafe impl Send for UserData {}

/// Explains the handle's error for a person: what failed, the HTTP status or Vault's error
/// type and message, and which page. A static "" while there is no error and for a NULL
/// handle. Never NULL, never contains the session ID, at most VAULT_PARTS_MAX_MESSAGE bytes.
/// The library owns the string; it stays valid until vault_parts_free (errors are sticky, so
/// it never changes once set).
#[no_mangle]
pub unsafe extern "C" fn vault_parts_errmsg(it: *const vault_parts_iter) -> *const c_char {
    boundary::errmsg(it)
}

/// Vault's error type for the handle's error, like "INVALID_SESSION_ID"; "" when the error
/// did not come from Vault, a static "" when there is none, or for a NULL handle. Never NULL,
/// never contains the session ID. The library owns the string; it stays valid until
/// vault_parts_free.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_error_type(it: *const vault_parts_iter) -> *const c_char {
    boundary::error_type(it)
}

/// The handle's sticky error code: VAULT_PARTS_OK while there is none; VAULT_PARTS_E_ARG for a
/// NULL handle.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_errcode(it: *const vault_parts_iter) -> c_int {
    boundary::errcode(it)
}

/// A fixed English description of a return code, like "session ID rejected"; "unknown code"
/// for a value that is none of them. Never NULL. The library owns the string (static).
#[no_mangle]
pub extern "C" fn vault_parts_errstr(code: c_int) -> *const c_char {
    match code {
        VAULT_PARTS_OK => c"ok".as_ptr(),
        VAULT_PARTS_ROW => c"a part is available".as_ptr(),
        VAULT_PARTS_DONE => c"no more parts".as_ptr(),
        _ => ErrorKind::from_code(code).map_or(c"unknown code", ErrorKind::describe).as_ptr(),
    }
}

/// The last X-VaultAPI-BurstLimitRemaining Vault sent on this handle: how many requests are
/// left in the current 5-minute window. -1 before any was seen, or for a NULL handle.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_burst_remaining(it: *const vault_parts_iter) -> i64 {
    read(it, -1, Listing::burst_remaining)
}

/// The library's version, "MAJOR.MINOR.PATCH". Compare with VAULT_PARTS_VERSION_STRING to
/// detect a header/library mismatch. The library owns the string (static).
#[no_mangle]
pub extern "C" fn vault_parts_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Test-only (debug builds, never in the header): panics inside the library, behind the same
/// boundary every exported function uses, so a C test can show the host survives with
/// VAULT_PARTS_E_INTERNAL and the handle keeps that error.
///
/// cbindgen:ignore
#[cfg(debug_assertions)]
#[no_mangle]
pub unsafe extern "C" fn vault_parts_test_panic(it: *mut vault_parts_iter) -> c_int {
    call(it, |_| panic!("forced by vault_parts_test_panic"))
}
