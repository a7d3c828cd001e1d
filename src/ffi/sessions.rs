//! The C ABI of the session-level calls that are not an upload: aborting a session and listing
//! the user's upload sessions, both on an iterator (its settings, client and errors).

use super::boundary::{c_str, call, code_of, step};
use super::client::open_iter;
use super::{vault_parts_client, vault_parts_iter, VAULT_PARTS_OK};
use crate::error::Error;
use crate::listing::Listing;
use crate::vault_api::UploadSession;
use std::ffi::{c_char, c_int};

/// One upload session, filled in by vault_parts_sessions_next. The caller owns the struct
/// (stack or heap; it is about 4.7 KiB); the library only writes into it. Text fields are
/// NUL-terminated; "" when Vault sent none.
#[repr(C)]
pub struct vault_parts_session {
    /// The upload session ID (at most VAULT_PARTS_MAX_UPLOAD_SESSION_ID_LEN bytes).
    pub id: [c_char; 257],
    /// The staging path the file is committed to (at most VAULT_PARTS_MAX_STAGING_PATH bytes).
    pub path: [c_char; 4097],
    /// The declared size of the file, in bytes.
    pub size: u64,
    /// Bytes uploaded so far.
    pub uploaded_bytes: u64,
    /// Parts uploaded so far.
    pub uploaded_parts: u32,
    /// When the session was created, as Vault writes it (at most 256 bytes).
    pub created_date: [c_char; 257],
    /// When Vault purges the session, as Vault writes it (at most 256 bytes).
    pub expiration_date: [c_char; 257],
}

/// Creates an iterator for the user's active upload sessions rather than one session's parts:
/// vault_parts_sessions_next lists them; vault_parts_next and vault_parts_upload_open refuse
/// it (VAULT_PARTS_E_ARG, nothing changes). `vault_url` and `session_id` are as for
/// vault_parts_open. Setters work on it as on any iterator. Does no I/O.
///
/// On return *out holds a new handle, even when the arguments were bad: then the handle is in
/// the error state and vault_parts_errmsg explains. The caller owns the handle and must pass
/// it to vault_parts_free. Only when `out` is NULL is no handle made (and *out is not written).
///
/// Returns VAULT_PARTS_OK, or VAULT_PARTS_E_ARG.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_open_sessions(
    out: *mut *mut vault_parts_iter,
    vault_url: *const c_char,
    session_id: *const c_char,
) -> c_int {
    // SAFETY: the pointers are NULL or valid, per the C contract.
    unsafe {
        open_iter(out, None, || account_args(vault_url, session_id), |(url, sid), c| Listing::for_sessions(url, sid, c))
    }
}

/// As vault_parts_open_sessions, on `client`'s connections (see vault_parts_open_with_client:
/// trust, proxy and client ID are the client's). A NULL or failed `client` makes a handle in
/// the error state. The handle keeps the client alive.
///
/// Thread safety: any thread, any time until vault_parts_client_free begins.
///
/// Returns VAULT_PARTS_OK, VAULT_PARTS_E_ARG, or the client's error code.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_open_sessions_with_client(
    out: *mut *mut vault_parts_iter,
    client: *mut vault_parts_client,
    vault_url: *const c_char,
    session_id: *const c_char,
) -> c_int {
    // SAFETY: the pointers are NULL or valid, per the C contract.
    unsafe {
        open_iter(
            out,
            Some(client),
            || account_args(vault_url, session_id),
            |(url, sid), c| Listing::for_sessions(url, sid, c),
        )
    }
}

/// # Safety
/// Each pointer is NULL or a NUL-terminated string that outlives the call.
unsafe fn account_args<'a>(vault_url: *const c_char, session_id: *const c_char) -> Result<(&'a str, &'a str), Error> {
    // SAFETY: per this function's contract.
    unsafe { Ok((c_str(vault_url, "vault_url")?, c_str(session_id, "session_id")?)) }
}

/// Moves to the next of the user's upload sessions. The first call fetches them all in one
/// request (Vault keeps at most 50 active sessions per user; the answer is capped at 1 MiB),
/// with the iterator's retries, timeout, deadline and interrupt; later calls do no I/O.
///
/// Returns VAULT_PARTS_ROW after filling *out; VAULT_PARTS_DONE after the last session (and
/// again on every later call); or an error code, kept for every later call: the listing's
/// codes (VAULT_PARTS_E_PROTOCOL for an answer that breaks Vault's format). VAULT_PARTS_E_ARG
/// for a NULL `it` or `out`, or an iterator not from vault_parts_open_sessions: then nothing
/// changes. *out is written only on VAULT_PARTS_ROW.
///
/// Thread safety: one thread at a time per handle, as vault_parts_next.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_sessions_next(it: *mut vault_parts_iter, out: *mut vault_parts_session) -> c_int {
    call(it, |listing| step(out, || listing.next_session(), to_c))
}

/// Aborts the upload session `it` is for (DELETE): Vault purges its uploaded parts and the
/// session ID becomes invalid. Blocks for the request, with the iterator's retries, timeout,
/// deadline and interrupt. `it` comes from vault_parts_open or vault_parts_open_with_client and
/// its first vault_parts_next has not run (else VAULT_PARTS_E_ARG, nothing changes); afterwards
/// vault_parts_next on it is misuse (VAULT_PARTS_E_ARG). The caller still frees `it`.
///
/// Returns VAULT_PARTS_OK once Vault confirmed the abort; VAULT_PARTS_E_ARG (also for a NULL
/// `it`); or the error code, kept as the iterator's error (vault_parts_errmsg explains).
#[no_mangle]
pub unsafe extern "C" fn vault_parts_abort(it: *mut vault_parts_iter) -> c_int {
    call(it, |listing| code_of(listing.abort(), VAULT_PARTS_OK))
}

fn to_c(s: &UploadSession) -> vault_parts_session {
    let mut out = vault_parts_session {
        id: [0; 257],
        path: [0; 4097],
        size: s.size,
        uploaded_bytes: s.uploaded,
        uploaded_parts: s.uploaded_parts,
        created_date: [0; 257],
        expiration_date: [0; 257],
    };
    text_into(&s.id, &mut out.id);
    text_into(s.path.as_deref().unwrap_or(""), &mut out.path);
    text_into(s.created_date.as_deref().unwrap_or(""), &mut out.created_date);
    text_into(s.expiration_date.as_deref().unwrap_or(""), &mut out.expiration_date);
    out
}

/// Copies `text` into a C field, NUL-terminated (a NUL inside becomes a space; the parser's
/// bounds make every field fit, and a longer one would be cut, never overflow).
fn text_into(text: &str, field: &mut [c_char]) {
    let room = field.len() - 1;
    let n = text.len().min(room);
    for (dst, &src) in field.iter_mut().zip(&text.as_bytes()[..n]) {
        *dst = if src == 0 { b' ' as c_char } else { src as c_char };
    }
    field[n] = 0;
}

// The parser's bounds fit the C fields.
const _: () = assert!(
    crate::origin::VAULT_PARTS_MAX_UPLOAD_SESSION_ID_LEN < 257 && crate::vault_api::VAULT_PARTS_MAX_STAGING_PATH < 4097
);
