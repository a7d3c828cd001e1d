//! The C ABI of the upload: checks pointers, runs inside the panic boundary, converts to C
//! structs, and delegates to [`crate::upload::Upload`].

use super::boundary::{self, c_str, call, code_of, guard, read, step, store, take};
use super::client::open_iter;
use super::handle::{opaque, Handle};
use super::verify::c_path;
use super::{vault_parts_client, vault_parts_iter, VAULT_PARTS_E_ARG, VAULT_PARTS_OK};
use crate::cancel::Interrupt;
use crate::error::Error;
use crate::listing::Listing;
use crate::upload::{CommitMode, PartAction, PartEvent, Upload};
use std::cell::OnceCell;
use std::ffi::{c_char, c_int, CString};
use std::ptr;
use std::time::Duration;

/// Action 0: Vault already held the part intact (same size and MD5): left as it was.
pub const VAULT_PARTS_KEPT: c_int = 0;
/// Action 1: the part was uploaded by this upload.
pub const VAULT_PARTS_SENT: c_int = 1;

/// Commit mode 0: stop once every part is on Vault (no commit request).
pub const VAULT_PARTS_COMMIT_NONE: c_int = 0;
/// Commit mode 1: then commit; VAULT_PARTS_DONE once Vault accepted the commit (the job id is
/// in the totals).
pub const VAULT_PARTS_COMMIT: c_int = 1;
/// Commit mode 2, the default: then commit and poll the commit's job until it ends;
/// VAULT_PARTS_DONE when the file is on file staging.
pub const VAULT_PARTS_COMMIT_WAIT: c_int = 2;

/// The upload and the C string of its session ID, made the first time it is asked for once
/// the ID is known (it never changes after that, so the pointer stays valid).
pub struct UploadCore {
    upload: Upload,
    id: OnceCell<CString>,
}

impl UploadCore {
    fn new(upload: Upload) -> UploadCore {
        UploadCore { upload, id: OnceCell::new() }
    }
    fn error(&self) -> Option<&Error> {
        self.upload.error()
    }
    fn fail(&mut self, error: Error) -> Error {
        self.upload.fail(error)
    }
    fn interrupter(&self) -> Interrupt {
        self.upload.interrupter()
    }
    fn id_ptr(&self) -> *const c_char {
        match self.id.get() {
            Some(id) => id.as_ptr(),
            None => match self.upload.upload_id().and_then(|id| CString::new(id).ok()) {
                Some(id) => self.id.get_or_init(|| id).as_ptr(),
                None => ptr::null(),
            },
        }
    }
}

/// One local file uploaded to one upload session. Opaque: create it with
/// vault_parts_upload_open. The caller owns the handle and must pass it to
/// vault_parts_upload_free. A handle may move between threads but is used by one thread at a
/// time: every call on it, the accessors included, except vault_parts_upload_interrupt.
/// Separate handles run in parallel, also on one vault_parts_client.
pub struct vault_parts_upload(Handle<UploadCore>);
opaque!(vault_parts_upload, UploadCore);

/// One part of the local file once the upload is through with it, filled in by
/// vault_parts_upload_next. The caller owns the struct (stack or heap); the library only
/// writes into it.
#[repr(C)]
pub struct vault_part_upload {
    /// The part's number, from 1.
    pub part_number: u32,
    /// One of VAULT_PARTS_PART_*: what verify would say of the part before anything was sent
    /// (never VAULT_PARTS_PART_EXTRA: such a session is VAULT_PARTS_E_CONFLICT).
    pub verdict: c_int,
    /// VAULT_PARTS_KEPT (left as it was: the verdict is VAULT_PARTS_PART_OK) or
    /// VAULT_PARTS_SENT (uploaded now, its echo checked).
    pub action: c_int,
    /// The first byte of the part in the local file.
    pub offset: u64,
    /// Bytes of the part.
    pub size: u64,
    /// The MD5 of the local bytes, 32 lowercase hex digits and a NUL: what Vault holds for
    /// this part now.
    pub md5: [c_char; 33],
    /// PUT requests made for this part, retries and redirect hops included (0 when kept).
    pub attempts: u32,
}

/// What the upload has done so far, filled in by vault_parts_upload_summary. The caller owns
/// the struct; the library only writes into it.
#[repr(C)]
pub struct vault_parts_upload_totals {
    /// Parts of the local file (0 before the start).
    pub parts: u32,
    /// Parts kept so far.
    pub kept: u32,
    /// Parts sent so far.
    pub sent: u32,
    /// Request-body bytes of every PUT, retries included.
    pub bytes_sent: u64,
    /// Local bytes hashed so far.
    pub bytes_hashed: u64,
    /// The commit's job; 0 before the commit.
    pub job_id: u64,
    /// 1 once Vault accepted the commit, else 0.
    pub committed: c_int,
}

/// Creates an iterator for an upload session that does not exist yet: the session is created
/// by the upload (vault_parts_upload_start) for a file to be committed at `staging_path` on
/// file staging. `vault_url` and `session_id` are as for vault_parts_open. `staging_path` is
/// absolute ("/u/alice/big.bin"), printable, at most VAULT_PARTS_MAX_STAGING_PATH bytes, and
/// names a file, not a folder; the library copies it. `overwrite` 1 lets the commit replace
/// a file already at that path, 0 (refused by Vault if one is there) otherwise.
///
/// Setters work on it as on any iterator; only vault_parts_upload_open accepts it:
/// vault_parts_next on it is misuse (VAULT_PARTS_E_ARG, nothing changes). Does no I/O.
///
/// On return *out holds a new handle, even when the arguments were bad: then the handle is in
/// the error state and vault_parts_errmsg explains. The caller owns the handle and must pass
/// it to vault_parts_upload_open (which takes it over) or vault_parts_free. Only when `out` is
/// NULL is no handle made (and *out is not written).
///
/// Returns VAULT_PARTS_OK, or VAULT_PARTS_E_ARG.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_open_new(
    out: *mut *mut vault_parts_iter,
    vault_url: *const c_char,
    session_id: *const c_char,
    staging_path: *const c_char,
    overwrite: c_int,
) -> c_int {
    // SAFETY: the pointers are NULL or valid, per the C contract.
    unsafe {
        open_iter(
            out,
            None,
            || new_args(vault_url, session_id, staging_path, overwrite),
            |(url, sid, path, ow), c| Listing::for_new_session(url, sid, path, ow, c),
        )
    }
}

/// As vault_parts_open_new, but the upload uses `client`'s connections, name cache and TLS
/// sessions, shared with every other iterator and upload of the client (see
/// vault_parts_open_with_client: trust, proxy and client ID are the client's). On return *out
/// holds a new handle, even when the arguments were bad or `client` is NULL or failed: then the
/// handle is in the error state. The handle keeps the client alive.
///
/// Thread safety: any thread, any time until vault_parts_client_free begins, from any number
/// of threads at once on one client.
///
/// Returns VAULT_PARTS_OK, VAULT_PARTS_E_ARG, or the client's error code.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_open_new_with_client(
    out: *mut *mut vault_parts_iter,
    client: *mut vault_parts_client,
    vault_url: *const c_char,
    session_id: *const c_char,
    staging_path: *const c_char,
    overwrite: c_int,
) -> c_int {
    // SAFETY: the pointers are NULL or valid, per the C contract.
    unsafe {
        open_iter(
            out,
            Some(client),
            || new_args(vault_url, session_id, staging_path, overwrite),
            |(url, sid, path, ow), c| Listing::for_new_session(url, sid, path, ow, c),
        )
    }
}

/// The arguments of vault_parts_open_new, checked in order.
///
/// # Safety
/// Each pointer is NULL or a NUL-terminated string that outlives the call.
unsafe fn new_args<'a>(
    vault_url: *const c_char,
    session_id: *const c_char,
    staging_path: *const c_char,
    overwrite: c_int,
) -> Result<(&'a str, &'a str, &'a str, bool), Error> {
    // SAFETY: per this function's contract.
    let (url, sid, path) = unsafe {
        (c_str(vault_url, "vault_url")?, c_str(session_id, "session_id")?, c_str(staging_path, "staging_path")?)
    };
    let overwrite = match overwrite {
        0 | 1 => overwrite == 1,
        other => return Err(Error::arg(format!("overwrite is {other}: 0 or 1"))),
    };
    Ok((url, sid, path, overwrite))
}

/// Creates an upload of the local file at `path` to the session `it` is for. Reads and sends
/// nothing: vault_parts_upload_start (or the first vault_parts_upload_next) does the first I/O.
///
/// `it` comes from vault_parts_open or vault_parts_open_with_client (resume an existing
/// session: its parts are listed and checked against the file) or from vault_parts_open_new or
/// vault_parts_open_new_with_client (a new session, created at the start), configured
/// (timeouts, attempts, deadline, log callback...) but whose first vault_parts_next has not
/// run. This call takes it over, always, even when it fails: the caller must not use or free
/// `it` afterwards (it is freed with the upload). Its settings, client, log callback, deadline
/// and errors carry over: a failed `it` makes a failed upload with the same code and message.
/// Every request of the upload (create, details, listing, PUT, commit, job status) follows the
/// iterator's retry rules: attempts, backoff, Retry-After, timeout (of progress: a part that
/// keeps moving is never cut), deadline and interrupt; INVALID_SESSION_ID and
/// INSUFFICIENT_ACCESS are never retried.
///
/// `path` names a regular file, in any bytes the file system allows; the library copies it.
/// `part_size` is the size of every part but the last: 5242880 (5 MiB) to 52428800 (50 MiB),
/// else VAULT_PARTS_E_ARG. 0 reads it off the listing (a full part listed, or part 1 alone when
/// shorter than the file); on a session with no parts it is the library's choice: the smallest
/// multiple of 1 MiB, at least 8 MiB, that keeps the file within 2,000 parts, or 50 MiB for a
/// larger file (up to 9,616 parts). A file that cannot fit Vault's limits (9,616 parts of
/// 50 MiB, 500 GB) fails with VAULT_PARTS_E_ARG before any request.
///
/// Memory: flat in the file size. Parts are streamed from the file and hashed ahead in small
/// reads, never held whole.
///
/// On return *out holds a new handle, even when the arguments were bad: then the handle is in
/// the error state and vault_parts_upload_errmsg explains. The caller owns the handle and must
/// pass it to vault_parts_upload_free. Only when `out` is NULL is no handle made (and `it` is
/// freed all the same).
///
/// Returns VAULT_PARTS_OK, VAULT_PARTS_E_ARG (NULL `it` or `path`, or an iterator that has
/// already started), or the error code `it` already had.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_open(
    out: *mut *mut vault_parts_upload,
    it: *mut vault_parts_iter,
    path: *const c_char,
    part_size: u64,
) -> c_int {
    let made = guard(None, || {
        // SAFETY: `it` is NULL or came from an open function and was not freed; the C contract
        // hands it over to this call.
        let listing = unsafe { take(it) };
        // SAFETY: NULL or a NUL-terminated string, per the C contract.
        let upload = match (listing, unsafe { c_path(path) }) {
            (None, _) => Upload::failed(Error::arg("it is NULL")),
            (Some(listing), Ok(path)) => Upload::new(listing, path, part_size),
            // The listing's own error comes first; a new one is logged through it.
            (Some(listing), Err(e)) => {
                let mut upload = Upload::new(listing, "", part_size);
                upload.fail(e);
                upload
            }
        };
        Some(UploadCore::new(upload))
    });
    store(out, made)
}

/// Chooses what follows the last part: VAULT_PARTS_COMMIT_NONE, VAULT_PARTS_COMMIT or
/// VAULT_PARTS_COMMIT_WAIT (the default). Only before the start: afterwards it returns
/// VAULT_PARTS_E_ARG and changes nothing. Another value before it is kept as the handle's error.
///
/// Returns VAULT_PARTS_OK, VAULT_PARTS_E_ARG (also for a NULL `u`), or the handle's error code.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_set_commit(u: *mut vault_parts_upload, mode: c_int) -> c_int {
    call(u, |core| {
        // Misuse after the start wins over a bad value: refused, nothing changes.
        let set = core.upload.before_start("the commit mode").and_then(|()| match mode {
            VAULT_PARTS_COMMIT_NONE => core.upload.set_commit(CommitMode::None),
            VAULT_PARTS_COMMIT => core.upload.set_commit(CommitMode::Commit),
            VAULT_PARTS_COMMIT_WAIT => core.upload.set_commit(CommitMode::Wait),
            other => Err(core.upload.fail(Error::arg(format!(
                "commit mode {other}: VAULT_PARTS_COMMIT_NONE (0), VAULT_PARTS_COMMIT (1) or VAULT_PARTS_COMMIT_WAIT (2)"
            )))),
        });
        code_of(set, VAULT_PARTS_OK)
    })
}

/// Sets how often the commit's job is polled under VAULT_PARTS_COMMIT_WAIT: at most one job
/// status request per `ms` milliseconds, 100 to 600000 (default 10000, Vault's limit of one
/// request per job every 10 seconds: a shorter interval is for servers that allow it, like
/// vault-sim). Only before the start: afterwards it returns VAULT_PARTS_E_ARG and changes
/// nothing. An out-of-range value before it is kept as the handle's error.
///
/// Returns VAULT_PARTS_OK, VAULT_PARTS_E_ARG (also for a NULL `u`), or the handle's error code.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_set_poll_ms(u: *mut vault_parts_upload, ms: u32) -> c_int {
    call(u, |core| code_of(core.upload.set_poll_interval(Duration::from_millis(u64::from(ms))), VAULT_PARTS_OK))
}

/// Does the first I/O: opens the file; for a new session creates it (one POST, the declared
/// size being the file's size; never sent twice once any of it may have reached the server),
/// after which vault_parts_upload_id returns the new ID; for an existing session reads its
/// details and its whole listing, and refuses a file whose size differs from the declared size
/// or that the listed parts do not fit (VAULT_PARTS_E_CONFLICT, nothing sent). Decides the
/// part size. May be skipped: vault_parts_upload_next runs it. A caller that wants to survive
/// a crash calls it, saves vault_parts_upload_id, then loops on vault_parts_upload_next; a
/// second call does nothing and returns the same result.
///
/// Returns VAULT_PARTS_OK, or an error code, kept for every later call: the listing's codes,
/// VAULT_PARTS_E_CONFLICT, VAULT_PARTS_E_IO (the file is missing, not a regular file or
/// unreadable), VAULT_PARTS_E_ARG (an empty file, a part size or file size outside Vault's
/// limits; also for a NULL `u`).
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_start(u: *mut vault_parts_upload) -> c_int {
    call(u, |core| code_of(core.upload.start(), VAULT_PARTS_OK))
}

/// The upload session's ID: for a new session NULL until vault_parts_upload_start created it,
/// for a resumed one the ID it was opened with. NULL for a NULL handle or when not known (a new
/// session whose create failed). Not secret. The library owns the string; it stays valid until
/// vault_parts_upload_free (the ID never changes once known).
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_id(u: *const vault_parts_upload) -> *const c_char {
    read(u, ptr::null(), UploadCore::id_ptr)
}

/// Moves to the next part's event, in part order from 1 to the local file's last part: a part
/// whose listed size and MD5 equal the local part's is VAULT_PARTS_KEPT; every other part is
/// sent (one PUT in flight per upload, parts in ascending order, as Vault demands) and comes
/// back VAULT_PARTS_SENT once Vault's answer echoed its size and MD5. The next part is read
/// and hashed while one is on the wire; a retry reads the file again. After the last part's
/// event, the call that would return the next one runs the commit step the mode asks for and
/// returns VAULT_PARTS_DONE (and again on every later call). Runs vault_parts_upload_start
/// first if it has not run. Blocks while it sends a part, commits or polls the job.
///
/// Returns VAULT_PARTS_ROW after filling *out; VAULT_PARTS_DONE; or an error code, kept for
/// every later call: every code of vault_parts_upload_start, the listing's codes for any
/// request, VAULT_PARTS_E_INTEGRITY (Vault echoed another size or MD5 on every attempt),
/// VAULT_PARTS_E_IO (the local file changed: size, modification time, identity or a short
/// read; no commit follows), VAULT_PARTS_E_VAULT (the commit's job ended in a status other
/// than SUCCESS, named in the message), VAULT_PARTS_E_CANCELLED. A NULL `u` or `out` returns
/// VAULT_PARTS_E_ARG and changes nothing. *out is written only on VAULT_PARTS_ROW.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_next(u: *mut vault_parts_upload, out: *mut vault_part_upload) -> c_int {
    call(u, |core| step(out, || core.upload.next_event(), to_c))
}

/// Fills *out with what the upload has done so far: valid at any time, also on a failed
/// handle (counts up to the error).
///
/// Returns VAULT_PARTS_OK, or VAULT_PARTS_E_ARG for a NULL `u` or `out`.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_summary(
    u: *const vault_parts_upload,
    out: *mut vault_parts_upload_totals,
) -> c_int {
    call(u, |core| {
        if out.is_null() {
            return VAULT_PARTS_E_ARG;
        }
        let t = core.upload.totals();
        let c = vault_parts_upload_totals {
            parts: t.parts,
            kept: t.kept,
            sent: t.sent,
            bytes_sent: t.bytes_sent,
            bytes_hashed: t.bytes_hashed,
            job_id: t.job_id,
            committed: c_int::from(t.committed),
        };
        // SAFETY: out is non-NULL and points to a vault_parts_upload_totals per the C contract.
        unsafe { out.write(c) };
        VAULT_PARTS_OK
    })
}

/// The HTTP status of the last response the upload received (any of its requests: create,
/// details, listing pages, part PUTs, commit, job status; redirects included), as
/// vault_parts_http_status for an iterator: 0 before any response or for a NULL handle. After
/// a failure, the status that failed (or the last one seen before a network failure).
///
/// Thread safety: one thread at a time per handle, as every call but
/// vault_parts_upload_interrupt.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_http_status(u: *const vault_parts_upload) -> c_int {
    read(u, 0, |core| c_int::from(core.upload.http_status()))
}

/// The wait, in milliseconds, the server asked for (Retry-After) on the failure that stopped
/// the upload, as vault_parts_retry_after_ms for an iterator, so a caller can schedule its own
/// resume: set after VAULT_PARTS_E_RATE_LIMIT or VAULT_PARTS_E_HTTP (503 and the like) when
/// the last answer carried Retry-After. -1 when there is none, while the upload has not
/// failed, or for a NULL handle.
///
/// Thread safety: one thread at a time per handle, as every call but
/// vault_parts_upload_interrupt.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_retry_after_ms(u: *const vault_parts_upload) -> i64 {
    read(u, -1, |core| core.upload.retry_after().map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
}

/// Explains the handle's error for a person: "" while there is none and for a NULL handle.
/// Never NULL, never contains the session ID, at most VAULT_PARTS_MAX_MESSAGE bytes. The
/// library owns the string; it stays valid until vault_parts_upload_free.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_errmsg(u: *const vault_parts_upload) -> *const c_char {
    boundary::errmsg(u)
}

/// Vault's error type for the handle's error, like "INVALID_SESSION_ID"; "" when the error did
/// not come from Vault, when there is none, or for a NULL handle. Never NULL; valid until
/// vault_parts_upload_free.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_error_type(u: *const vault_parts_upload) -> *const c_char {
    boundary::error_type(u)
}

/// The handle's sticky error code: VAULT_PARTS_OK while there is none; VAULT_PARTS_E_ARG for a
/// NULL handle.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_errcode(u: *const vault_parts_upload) -> c_int {
    boundary::errcode(u)
}

/// Stops the upload, as vault_parts_interrupt stops an iterator: a call blocked on another
/// thread (a PUT, a listing page, a backoff or poll wait) returns VAULT_PARTS_E_CANCELLED
/// within 100 ms, and so does every later call (sticky). Nothing is committed after it. An
/// upload at VAULT_PARTS_DONE or already failed keeps its result.
///
/// Thread safety: any thread, any time until vault_parts_upload_free begins, any number of
/// times, also while another thread is inside a call on the same handle. Does not block.
///
/// Returns VAULT_PARTS_OK, or VAULT_PARTS_E_ARG for a NULL handle.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_interrupt(u: *mut vault_parts_upload) -> c_int {
    boundary::interrupt(u)
}

/// Releases the upload, the iterator it took over and everything they own, stopping its
/// hashing threads and waiting for them. The session stays on Vault (resume it later with
/// vault_parts_open and its ID). Accepts NULL (does nothing). The handle must not be used
/// afterwards; strings it returned become invalid.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_upload_free(u: *mut vault_parts_upload) {
    boundary::free(u)
}

/// Test-only (debug builds, never in the header): the next call on `u` panics inside the
/// boundary.
///
/// cbindgen:ignore
#[cfg(debug_assertions)]
#[no_mangle]
pub unsafe extern "C" fn vault_parts_test_panic_upload(u: *mut vault_parts_upload) -> c_int {
    boundary::arm_panic(u, "vault_parts_test_panic_upload")
}

fn to_c(e: &PartEvent) -> vault_part_upload {
    let mut md5 = [0 as c_char; 33];
    for (dst, src) in md5.iter_mut().zip(&e.md5) {
        *dst = *src as c_char;
    }
    vault_part_upload {
        part_number: e.part_number,
        verdict: e.verdict as c_int,
        action: e.action as c_int,
        offset: e.offset,
        size: e.size,
        md5,
        attempts: e.attempts,
    }
}

// The C constants are literals (cbindgen copies them); they must equal the core's numbering.
const _: () = assert!(
    VAULT_PARTS_KEPT == PartAction::Kept as c_int
        && VAULT_PARTS_SENT == PartAction::Sent as c_int
        && VAULT_PARTS_COMMIT_NONE == CommitMode::None as c_int
        && VAULT_PARTS_COMMIT == CommitMode::Commit as c_int
        && VAULT_PARTS_COMMIT_WAIT == CommitMode::Wait as c_int
);
