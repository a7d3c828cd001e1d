//! The C ABI of the verifier: checks pointers, runs inside the panic boundary, converts to C
//! structs, and delegates to [`crate::verify::Verifier`].

use super::boundary::{self, call, code_of, guard, read, step, store, take};
use super::handle::{opaque, Handle};
use super::{vault_parts_iter, vault_parts_statistics, VAULT_PARTS_E_ARG, VAULT_PARTS_OK};
use crate::error::Error;
use crate::verify::{Status, Totals, Verdict, Verifier};
use std::ffi::{c_char, c_int};

/// Verdict 0: the part is uploaded intact (sizes equal, MD5s equal).
pub const VAULT_PARTS_PART_OK: c_int = 0;
/// Verdict 1: the part is not uploaded; upload it.
pub const VAULT_PARTS_PART_MISSING: c_int = 1;
/// Verdict 2: Vault's size differs from the local part's; upload it again. Not hashed.
pub const VAULT_PARTS_PART_SIZE_MISMATCH: c_int = 2;
/// Verdict 3: sizes equal but the MD5s differ; upload it again.
pub const VAULT_PARTS_PART_MD5_MISMATCH: c_int = 3;
/// Verdict 4: sizes equal, but Vault sent no MD5, so the content cannot be compared. Not hashed.
pub const VAULT_PARTS_PART_UNVERIFIED: c_int = 4;
/// Verdict 5: Vault lists the part, but it lies past the local file's last part: the file
/// shrank or the part size differs, and the session cannot be completed from this file.
pub const VAULT_PARTS_PART_EXTRA: c_int = 5;

/// A local file checked against the parts of its upload session. Opaque: create it with
/// vault_parts_verify_open. The caller owns the handle and must pass it to vault_parts_verify_free.
/// A handle may move between threads but is used by one thread at a time (every call on it,
/// the accessors included); separate handles run in parallel.
pub struct vault_parts_verify(Handle<Verifier>);
opaque!(vault_parts_verify, Verifier);

/// The verdict on one part, filled in by vault_parts_verify_next. The caller owns the struct
/// (stack or heap); the library only writes into it.
#[repr(C)]
pub struct vault_part_verdict {
    /// The part's number, from 1.
    pub part_number: u32,
    /// One of VAULT_PARTS_PART_*.
    pub status: c_int,
    /// The first byte of this part in the local file: (part_number - 1) x part size, or
    /// UINT64_MAX when that product does not fit (an EXTRA or MISSING part past the file's end
    /// with a part size near 2^64).
    pub offset: u64,
    /// Bytes of the local file in this part (0 for VAULT_PARTS_PART_EXTRA).
    pub local_size: u64,
    /// The size Vault lists (0 for VAULT_PARTS_PART_MISSING).
    pub remote_size: u64,
    /// The MD5 of the local bytes when they were hashed (VAULT_PARTS_PART_OK and
    /// VAULT_PARTS_PART_MD5_MISMATCH; with vault_parts_verify_set_hash_all, every part with
    /// local bytes): 32 lowercase hex digits and a NUL; else "".
    pub local_md5: [c_char; 33],
    /// Vault's part_content_md5: 32 lowercase hex digits and a NUL; "" when the part is not
    /// listed or Vault sent none.
    pub remote_md5: [c_char; 33],
}

/// What the verdicts add up to, filled in by vault_parts_verify_summary. The caller owns the
/// struct; the library only writes into it.
#[repr(C)]
pub struct vault_parts_verify_totals {
    /// Verdicts returned so far, indexed by VAULT_PARTS_PART_*.
    pub count: [u32; 6],
    /// Local bytes hashed so far (parts whose sizes match and that Vault has an MD5 for).
    pub bytes_hashed: u64,
    /// The lowest part that is MISSING, SIZE_MISMATCH or MD5_MISMATCH: where uploading
    /// resumes. 0 when none (so far).
    pub first_to_upload: u32,
    /// 1 when every verdict is in (vault_parts_verify_next returned VAULT_PARTS_DONE) and no
    /// part is EXTRA: uploading the MISSING and mismatched parts, then committing, completes
    /// the session. 0 otherwise, and always before DONE or after an error.
    pub resumable: c_int,
}

/// Creates a verifier of the local file at `path` against the parts `it` lists. Reads and
/// fetches nothing: the first vault_parts_verify_next opens the file, then asks for the
/// session's details (one GET of .../file_staging/upload/{upload_session_id}, with `it`'s
/// retries, timeouts, deadline and interrupt, as vault_parts_upload_start does), then fetches
/// the first page of the listing. A session created for another size than the file's is
/// VAULT_PARTS_E_CONFLICT there, before any page (see vault_parts_verify_next).
///
/// `it` is an iterator from vault_parts_open, configured (limit, timeouts, log callback...)
/// but whose first vault_parts_next has not run. This call takes it over, always, even when it
/// fails: the caller must not use or free `it` afterwards (it is freed with the verifier). Its
/// settings, log callback and errors carry over: a failed `it` makes a failed verifier with the
/// same code, message and error type.
///
/// Threads: the handle may move between threads but is used by one at a time. `it`'s log
/// callback is called on the thread that calls vault_parts_verify_next (or
/// vault_parts_verify_set_threads, to log the error of an out-of-range value); besides the
/// listing's lines it receives the verifier's final error, whatever failed (the file, a part
/// listed twice, a bad argument), once, as a VAULT_PARTS_LOG_ERROR line, redacted as every
/// message is. The callback must not call into the verifier (nor into `it`, which the
/// verifier owns). The verifier starts its
/// own hashing threads at the first vault_parts_verify_next (see
/// vault_parts_verify_set_threads); they never call the caller's code, and
/// vault_parts_verify_free joins them.
///
/// `path` names a regular file, in any bytes the file system allows (it need not be UTF-8;
/// messages show bytes that are not as U+FFFD). The library copies the string. `part_size` is the size of
/// every part but the last, in bytes, cutting the file into at most 100000 parts (else
/// vault_parts_verify_next fails with VAULT_PARTS_E_ARG, before any request). 0 means "the part
/// size of this session", found in this order:
/// - a listed part below the highest listed one has it;
/// - part 1 listed alone has it: it is a full part when the file is longer than it (so a
///   session with only part 1 uploaded works), or the whole file;
/// - a session with no parts listed at all gets the part size vault_parts_upload_open would
///   choose for this file with part size 0 (the same rule, not a copy: the smallest whole MiB
///   from 8 MiB that keeps the file within 2,000 parts, at most 50 MiB, so 8 MiB up to
///   16,777,216,000 bytes), and every verdict is VAULT_PARTS_PART_MISSING, with as many parts as
///   that upload would send.
///
/// Otherwise vault_parts_verify_next fails with VAULT_PARTS_E_ARG when the listing cannot tell
/// (only one part other than part 1, or a first part of size 0), and with
/// VAULT_PARTS_E_PROTOCOL when the part size it implies is below Vault's 5 MiB minimum (5242880
/// bytes) while the file has more than one part. A part_size that contradicts the listed sizes
/// gives VAULT_PARTS_PART_SIZE_MISMATCH verdicts, not an error.
///
/// The session's details do not tell the part size: Vault records none for a session, only
/// the declared size and the parts and bytes uploaded so far.
///
/// On return *out holds a new handle, even when the arguments were bad: then the handle is in
/// the error state and vault_parts_verify_errmsg explains. The caller owns the handle and must
/// pass it to vault_parts_verify_free. Only when `out` is NULL is no handle made (and `it` is
/// freed all the same).
///
/// Returns VAULT_PARTS_OK, VAULT_PARTS_E_ARG (NULL `it` or `path`, or an iterator that has
/// already started), or the error code `it` already had.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_open(
    out: *mut *mut vault_parts_verify,
    it: *mut vault_parts_iter,
    path: *const c_char,
    part_size: u64,
) -> c_int {
    let made = guard(None, || {
        // SAFETY: `it` is NULL or came from vault_parts_open and was not freed; the C contract
        // hands it over to this call.
        let listing = unsafe { take(it) };
        // SAFETY: NULL or a NUL-terminated string, per the C contract.
        Some(match (listing, unsafe { c_path(path) }) {
            (None, _) => Verifier::failed(Error::arg("it is NULL")),
            (Some(listing), Ok(path)) => Verifier::new(listing, path, part_size),
            // The listing's own error comes first; a new one is logged through it.
            (Some(mut listing), Err(e)) => Verifier::failed(listing.fail(e)),
        })
    });
    store(out, made)
}

/// Sets how many threads hash the file: 1 to 16; 0 means one per available core, at most 16
/// (the default). Only before the first vault_parts_verify_next: afterwards it returns
/// VAULT_PARTS_E_ARG and changes nothing. An out-of-range value before it is kept as the
/// handle's error.
///
/// Returns VAULT_PARTS_OK, VAULT_PARTS_E_ARG (also for a NULL `v`), or the handle's error code.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_set_threads(v: *mut vault_parts_verify, threads: u32) -> c_int {
    call(v, |verifier| code_of(verifier.set_threads(threads), VAULT_PARTS_OK))
}

/// Chooses which local parts are hashed: `on` 1 hashes every part of the local file, so each
/// verdict but VAULT_PARTS_PART_EXTRA carries its local_md5 (MISSING, SIZE_MISMATCH and
/// UNVERIFIED parts included: what uploading them needs, without hashing them again); 0, the
/// default, hashes only the listed parts whose sizes match and that Vault has an MD5 for. Only
/// before the first vault_parts_verify_next: afterwards it returns VAULT_PARTS_E_ARG and
/// changes nothing. A value other than 0 or 1 before it is kept as the handle's error.
///
/// Thread safety: one thread at a time per handle, as every call but vault_parts_verify_interrupt.
///
/// Returns VAULT_PARTS_OK, VAULT_PARTS_E_ARG (also for a NULL `v`), or the handle's error code.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_set_hash_all(v: *mut vault_parts_verify, on: c_int) -> c_int {
    call(v, |verifier| {
        let r = match on {
            0 | 1 => verifier.set_hash_all(on == 1),
            _ => Err(verifier.refuse("hash-all", Error::arg(format!("hash_all is {on}: 0 or 1")))),
        };
        code_of(r, VAULT_PARTS_OK)
    })
}

/// Moves to the next part's verdict, in part-number order from 1 to the larger of the local
/// part count and the highest listed part. The first call opens the file and starts the
/// hashing threads; calls block while a page is fetched or a part hashed, and verdicts arrive
/// as soon as each is known (a part not listed is known MISSING only once the listing ends).
/// A number past the file's last part that Vault does not list either (below an EXTRA part) is
/// VAULT_PARTS_PART_MISSING with local_size 0.
///
/// Returns VAULT_PARTS_ROW after filling *out; VAULT_PARTS_DONE after the last verdict (and
/// again on every later call); or an error code, kept for every later call: the listing's
/// codes (the details request's too: it is the first request, made by the first call),
/// VAULT_PARTS_E_CONFLICT (14) when the session was created for another size than the local
/// file's (the file cannot complete the session; no verdict is returned, no page fetched; the
/// message names both sizes, never the session ID, as vault_parts_upload_start's does),
/// VAULT_PARTS_E_PROTOCOL for a part listed twice or numbered above 100000 (Vault
/// allows 9,616 parts per session as of v26.2; the cap bounds the verifier's memory),
/// VAULT_PARTS_E_IO when the file is missing, a directory, unreadable, or changed while
/// verifying (its size, modification time or identity differ from when it was opened; the
/// check also runs before DONE),
/// VAULT_PARTS_E_PROTOCOL for a part size read off the listing below Vault's minimum (see
/// vault_parts_verify_open), VAULT_PARTS_E_ARG for an empty file, a part size that cannot be
/// inferred, or one that cuts the file into more than 100000 parts. A NULL `v`, or a NULL
/// `out`, returns VAULT_PARTS_E_ARG and changes nothing. *out is written only on VAULT_PARTS_ROW.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_next(v: *mut vault_parts_verify, out: *mut vault_part_verdict) -> c_int {
    call(v, |verifier| step(out, || verifier.next_verdict(), to_c))
}

/// Fills *out with the counts so far: valid at any time, complete after VAULT_PARTS_DONE.
/// Works on a failed handle too (counts up to the error, resumable 0).
///
/// Returns VAULT_PARTS_OK, or VAULT_PARTS_E_ARG for a NULL `v` or `out`.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_summary(
    v: *const vault_parts_verify,
    out: *mut vault_parts_verify_totals,
) -> c_int {
    call(v, |verifier: &mut Verifier| {
        if out.is_null() {
            return VAULT_PARTS_E_ARG;
        }
        let t: Totals = verifier.totals();
        let c = vault_parts_verify_totals {
            count: t.count,
            bytes_hashed: t.bytes_hashed,
            first_to_upload: t.first_to_upload,
            resumable: c_int::from(t.resumable),
        };
        // SAFETY: out is non-NULL and points to a vault_parts_verify_totals per the C contract.
        unsafe { out.write(c) };
        VAULT_PARTS_OK
    })
}

/// The HTTP status of the last response the verifier's listing received (the details request,
/// listing pages; redirects included), as vault_parts_http_status for an iterator: 0 before any
/// response or for a NULL handle. After a failure, the status that failed (or the last one seen
/// before a network failure); after VAULT_PARTS_DONE, the last page's.
///
/// Thread safety: one thread at a time per handle, as every call but
/// vault_parts_verify_interrupt.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_http_status(v: *const vault_parts_verify) -> c_int {
    read(v, 0, |verifier: &Verifier| c_int::from(verifier.http_status()))
}

/// The wait, in milliseconds, the server asked for (Retry-After) on the failure that stopped
/// the verifier, as vault_parts_retry_after_ms for an iterator, so a caller can schedule its own
/// retry: set after VAULT_PARTS_E_RATE_LIMIT or VAULT_PARTS_E_HTTP (503 and the like) when the
/// last answer carried Retry-After. -1 when there is none, while the verifier has not failed,
/// or for a NULL handle.
///
/// Thread safety: one thread at a time per handle, as every call but
/// vault_parts_verify_interrupt.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_retry_after_ms(v: *const vault_parts_verify) -> i64 {
    read(v, -1, |verifier: &Verifier| {
        verifier.retry_after().map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    })
}

/// Fills *out with the statistics of the verifier's listing, as vault_parts_stats for an
/// iterator: requests (the details request included), retries, pages, bytes received,
/// connections, and the milliseconds from the first vault_parts_verify_next to the listing's
/// end (DONE or an error). Hashing is not counted. Cheap: fine to call after every verdict.
///
/// Thread safety: one thread at a time per handle, as every call but
/// vault_parts_verify_interrupt.
///
/// Returns VAULT_PARTS_OK (also on a handle in the error state: the counts of a failed
/// verifier are still readable), or VAULT_PARTS_E_ARG for a NULL handle or `out` (then *out is
/// not written, and the handle is unchanged).
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_stats(
    v: *const vault_parts_verify,
    out: *mut vault_parts_statistics,
) -> c_int {
    call(v, |verifier: &mut Verifier| {
        if out.is_null() {
            return VAULT_PARTS_E_ARG;
        }
        let stats = verifier.stats();
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

/// Explains the handle's error for a person: a listing failure as vault_parts_errmsg would,
/// or a file failure with its path. "" while there is no error; "" for a NULL handle. Never
/// NULL, never contains the session ID, at most VAULT_PARTS_MAX_MESSAGE bytes. The library
/// owns the string; it stays valid until vault_parts_verify_free (errors are sticky, so it
/// never changes once set; "" is a static string).
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_errmsg(v: *const vault_parts_verify) -> *const c_char {
    boundary::errmsg(v)
}

/// Vault's error type for the handle's error, like "INVALID_SESSION_ID"; "" when the error did
/// not come from Vault, when there is none, or for a NULL handle. Never NULL. The library owns
/// the string; it stays valid until vault_parts_verify_free, as vault_parts_verify_errmsg's.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_error_type(v: *const vault_parts_verify) -> *const c_char {
    boundary::error_type(v)
}

/// The handle's sticky error code: VAULT_PARTS_OK while there is none; VAULT_PARTS_E_ARG for
/// a NULL handle.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_errcode(v: *const vault_parts_verify) -> c_int {
    boundary::errcode(v)
}

/// Stops the verifier, as vault_parts_interrupt stops an iterator: a vault_parts_verify_next
/// blocked on another thread (listing, or waiting for the hashing threads) returns
/// VAULT_PARTS_E_CANCELLED within 100 ms, and so does every later call (sticky); the hashing
/// threads stop as that call returns (each finishes at most one 256 KiB read). A verifier at
/// VAULT_PARTS_DONE or already failed keeps its result. Repeating the call does nothing more.
///
/// Thread safety: any thread, any time until vault_parts_verify_free begins, any number of
/// times, also while another thread is inside a call on the same handle. Does not block.
///
/// Returns VAULT_PARTS_OK, or VAULT_PARTS_E_ARG for a NULL handle.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_interrupt(v: *mut vault_parts_verify) -> c_int {
    boundary::interrupt(v)
}

/// Releases the verifier, the iterator it took over and everything they own: it stops the
/// hashing threads and waits for them (each finishes at most one 256 KiB read), so no thread of
/// the verifier runs after this returns. Accepts NULL (does nothing). May be called at any
/// time, also before VAULT_PARTS_DONE; the handle must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_verify_free(v: *mut vault_parts_verify) {
    boundary::free(v)
}

/// Test-only (debug builds, never in the header): the next call on `v` (any but the interrupt
/// and free) panics inside the boundary, so a C test can show every call, accessors included,
/// turns a panic into VAULT_PARTS_E_INTERNAL kept with the panic's message. Named like
/// vault_parts_test_panic, so install_test.sh's check that a release build has no test hook
/// covers it.
///
/// cbindgen:ignore
#[cfg(debug_assertions)]
#[no_mangle]
pub unsafe extern "C" fn vault_parts_test_panic_verify(v: *mut vault_parts_verify) -> c_int {
    boundary::arm_panic(v, "vault_parts_test_panic_verify")
}

/// Borrows the path argument as the bytes it is: a POSIX file name need not be UTF-8.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives the call.
pub(super) unsafe fn c_path<'a>(ptr: *const c_char) -> Result<&'a std::path::Path, Error> {
    use std::os::unix::ffi::OsStrExt;
    if ptr.is_null() {
        return Err(Error::arg("path is NULL"));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    Ok(std::path::Path::new(std::ffi::OsStr::from_bytes(unsafe { std::ffi::CStr::from_ptr(ptr) }.to_bytes())))
}

fn to_c(v: &Verdict) -> vault_part_verdict {
    vault_part_verdict {
        part_number: v.part_number,
        status: v.status as c_int,
        offset: v.offset,
        local_size: v.local_size,
        remote_size: v.remote_size,
        local_md5: hex_field(v.local_md5.as_ref()),
        remote_md5: hex_field(v.remote_md5.as_ref()),
    }
}

fn hex_field(hex: Option<&[u8; 32]>) -> [c_char; 33] {
    let mut field = [0 as c_char; 33];
    for (dst, src) in field.iter_mut().zip(hex.into_iter().flatten()) {
        *dst = *src as c_char;
    }
    field
}

// The C constants are literals (cbindgen copies them); they must equal the core's numbering.
const _: () = assert!(
    VAULT_PARTS_PART_OK == Status::Ok as c_int
        && VAULT_PARTS_PART_MISSING == Status::Missing as c_int
        && VAULT_PARTS_PART_SIZE_MISMATCH == Status::SizeMismatch as c_int
        && VAULT_PARTS_PART_MD5_MISMATCH == Status::Md5Mismatch as c_int
        && VAULT_PARTS_PART_UNVERIFIED == Status::Unverified as c_int
        && VAULT_PARTS_PART_EXTRA == Status::Extra as c_int
        && Status::COUNT == 6
);
