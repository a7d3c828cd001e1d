//! vault_parts_client: connections, name resolution and TLS sessions shared by many listings.
//!
//! The handle C holds is a lock around the client's state: settings until its first use, then
//! the built client. Each listing holds its own reference to the built client, so freeing the
//! handle never pulls anything from under a listing (the last of them closes the pool).

use super::boundary::{guard, store, with_text};
use super::{open_args, vault_parts_iter, VAULT_PARTS_E_ARG, VAULT_PARTS_OK};
use crate::client::{Client, ClientSettings, ProxyRule};
use crate::error::{Error, ErrorKind};
use crate::listing::Listing;
use crate::settings::{check_client_id, TrustRoots};
use std::ffi::{c_char, c_int};
use std::sync::Mutex;

/// A client shared by many listings (vault_parts_open_with_client): one pool of kept-alive
/// connections, one name cache and one TLS session cache, used by any number of listings on
/// any number of threads at once, with the locking inside the library. Opaque: create it with
/// vault_parts_client_new. The caller owns the client and must pass it to
/// vault_parts_client_free.
pub struct vault_parts_client {
    state: Mutex<ClientState>,
}

enum ClientState {
    /// Before the first vault_parts_open_with_client: setters allowed.
    Configuring(ClientSettings),
    /// In use: settings fixed.
    Built(Client),
    /// A setter rejected its value: every listing opened on the client fails with this error.
    Failed(Error),
}

/// Creates a client with the defaults: the built-in Mozilla roots, the proxy from the
/// environment (as vault_parts_next describes), the default client ID, and up to 8 idle
/// connections kept. Does no I/O.
///
/// The caller owns the client and must pass it to vault_parts_client_free.
///
/// Thread safety: any thread.
///
/// Returns VAULT_PARTS_OK after storing the client in *out, VAULT_PARTS_E_ARG when `out` is
/// NULL (nothing made), or VAULT_PARTS_E_INTERNAL (a bug; *out is then NULL).
#[no_mangle]
pub unsafe extern "C" fn vault_parts_client_new(out: *mut *mut vault_parts_client) -> c_int {
    if out.is_null() {
        return VAULT_PARTS_E_ARG;
    }
    let made = guard(None, || {
        Some(Box::new(vault_parts_client { state: Mutex::new(ClientState::Configuring(ClientSettings::default())) }))
    });
    let (client, code) = match made {
        Some(client) => (Box::into_raw(client), VAULT_PARTS_OK),
        None => (std::ptr::null_mut(), ErrorKind::Internal.code()),
    };
    // SAFETY: out is non-NULL and points to writable storage per the C contract.
    unsafe { *out = client };
    code
}

/// Releases the caller's reference to the client. Listings opened on it keep working: each
/// holds the client alive, and the connections close when the last of them is freed. So the
/// order of vault_parts_client_free and vault_parts_free never matters. Accepts NULL (does
/// nothing).
///
/// Thread safety: any thread, once no other thread is inside a call on this client.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_client_free(client: *mut vault_parts_client) {
    if client.is_null() {
        return;
    }
    guard((), || {
        // SAFETY: client came from vault_parts_client_new and is freed once, per the C contract.
        drop(unsafe { Box::from_raw(client) });
    });
}

/// Runs a setter: only while the client is unused; a rejected value fails the client for good.
fn configure(client: *mut vault_parts_client, apply: impl FnOnce(&mut ClientSettings) -> Result<(), Error>) -> c_int {
    // SAFETY: NULL or a live client, per the C contract.
    let Some(client) = (unsafe { client.cast_const().as_ref() }) else { return VAULT_PARTS_E_ARG };
    guard(ErrorKind::Internal.code(), || {
        let mut state = client.state.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *state {
            ClientState::Configuring(settings) => match apply(settings) {
                Ok(()) => VAULT_PARTS_OK,
                Err(e) => {
                    let code = e.kind().code();
                    *state = ClientState::Failed(e.context("the client's settings"));
                    code
                }
            },
            ClientState::Built(_) => VAULT_PARTS_E_ARG,
            ClientState::Failed(e) => e.kind().code(),
        }
    })
}

/// A setter taking a path or text: NULL and non-UTF-8 are bad values like any other.
fn configure_text(
    client: *mut vault_parts_client,
    text: *const c_char,
    name: &str,
    apply: impl FnOnce(&mut ClientSettings, &str) -> Result<(), Error>,
) -> c_int {
    // SAFETY: NULL or a NUL-terminated string, per the C contract.
    configure(client, unsafe { with_text(text, name, apply) })
}

/// The client's vault_parts_set_ca_file: trusts only the certificates in the PEM file at
/// `pem_path` (read now; at least one certificate), a regular file of at most
/// VAULT_PARTS_MAX_CA_FILE_SIZE bytes opened without blocking (a FIFO, a device or a directory
/// is refused at once).
///
/// Thread safety: any thread; before the client's first vault_parts_open_with_client.
///
/// Returns VAULT_PARTS_OK; VAULT_PARTS_E_ARG for a NULL `pem_path`, a missing or unreadable
/// file, one that is not a regular file, is larger than VAULT_PARTS_MAX_CA_FILE_SIZE or holds no
/// certificate (the client keeps that error: every listing opened on it fails with it and
/// vault_parts_errmsg explains), or after the client's first use (a misuse that changes
/// nothing, whatever `pem_path` is).
#[no_mangle]
pub unsafe extern "C" fn vault_parts_client_set_ca_file(
    client: *mut vault_parts_client,
    pem_path: *const c_char,
) -> c_int {
    configure_text(client, pem_path, "pem_path", |s, path| TrustRoots::only_file(path).map(|t| s.trust = t))
}

/// The client's vault_parts_add_ca_file: the built-in roots and the certificates in the PEM
/// file at `pem_path` (read now, as vault_parts_client_set_ca_file reads it).
///
/// Thread safety: any thread; before the client's first vault_parts_open_with_client.
///
/// Returns as vault_parts_client_set_ca_file.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_client_add_ca_file(
    client: *mut vault_parts_client,
    pem_path: *const c_char,
) -> c_int {
    configure_text(client, pem_path, "pem_path", |s, path| TrustRoots::plus_file(path).map(|t| s.trust = t))
}

/// The client's vault_parts_use_system_roots: the operating system's store (read now).
///
/// Thread safety: any thread; before the client's first vault_parts_open_with_client.
///
/// Returns as vault_parts_client_set_ca_file.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_client_use_system_roots(client: *mut vault_parts_client) -> c_int {
    configure(client, |s| TrustRoots::system().map(|t| s.trust = t))
}

/// The X-VaultAPI-ClientID every listing of the client sends, as vault_parts_set_client_id
/// (the library copies it).
///
/// Thread safety: any thread; before the client's first vault_parts_open_with_client.
///
/// Returns as vault_parts_client_set_ca_file, a NULL or bad `client_id` being the kept error.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_client_set_client_id(
    client: *mut vault_parts_client,
    client_id: *const c_char,
) -> c_int {
    configure_text(client, client_id, "client_id", |s, id| check_client_id(id).map(|id| s.client_id = id))
}

/// How many idle connections the client keeps open for reuse (0 keeps none; the default is
/// 8). Set it to the number of listings that run at once, so that none opens a connection
/// while another sits idle.
///
/// Thread safety: any thread; before the client's first vault_parts_open_with_client.
///
/// Returns VAULT_PARTS_OK, or VAULT_PARTS_E_ARG after the client's first use (a misuse that
/// changes nothing) or for a NULL client.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_client_set_max_idle(client: *mut vault_parts_client, connections: u32) -> c_int {
    configure(client, |s| {
        s.max_idle_connections = connections as usize;
        Ok(())
    })
}

/// Whether HTTPS goes through a proxy: `use_environment` 1 (the default) reads the proxy
/// variables when the client is first used, as vault_parts_next describes (https_proxy,
/// HTTPS_PROXY, all_proxy, ALL_PROXY, http_proxy, HTTP_PROXY: the first set non-empty;
/// NO_PROXY honoured; an unusable or SOCKS value fails each HTTPS listing it applies to with
/// VAULT_PARTS_E_NETWORK, nothing sent); 0 never uses a proxy. Plain http (loopback) never
/// uses one.
///
/// Thread safety: any thread; before the client's first vault_parts_open_with_client.
///
/// Returns VAULT_PARTS_OK; VAULT_PARTS_E_ARG for a value other than 0 or 1 (kept as the
/// client's error), after the client's first use (a misuse that changes nothing) or for a
/// NULL client.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_client_set_proxy_from_env(
    client: *mut vault_parts_client,
    use_environment: c_int,
) -> c_int {
    configure(client, |s| {
        s.proxy = match use_environment {
            1 => ProxyRule::FromEnvironment,
            0 => ProxyRule::Never,
            other => return Err(Error::arg(format!("use_environment must be 0 or 1, not {other}"))),
        };
        Ok(())
    })
}

/// As vault_parts_open, but the listing uses `client`'s connections, name cache and TLS
/// sessions, shared with every other listing of the client. Does no network I/O. The session
/// ID stays the listing's own: a pooled connection carries each request's own Authorization,
/// and the origin rule holds per listing. Trust, proxy and client ID are the client's (the
/// listing's vault_parts_set_ca_file, vault_parts_add_ca_file, vault_parts_use_system_roots
/// and vault_parts_set_client_id return VAULT_PARTS_E_ARG and change nothing); every other
/// setter (limit, timeout, attempts, backoff, API version, deadline, log) works as on any
/// listing. The first call fixes the client's settings.
///
/// On return *out holds a new handle, even when the arguments were bad or `client` is NULL or
/// failed: then the handle is in the error state and vault_parts_errmsg explains. The caller
/// owns the handle and must pass it to vault_parts_free; it keeps the client alive.
/// Only when `out` is NULL is no handle made (and *out is not written).
///
/// Thread safety: any thread, any time until vault_parts_client_free begins, from any number
/// of threads at once on one client.
///
/// Returns VAULT_PARTS_OK, VAULT_PARTS_E_ARG, or the client's error code.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_open_with_client(
    out: *mut *mut vault_parts_iter,
    client: *mut vault_parts_client,
    vault_url: *const c_char,
    session_id: *const c_char,
    upload_session_id: *const c_char,
) -> c_int {
    // SAFETY: the pointers are NULL or valid, per the C contract.
    unsafe {
        open_iter(
            out,
            Some(client),
            || open_args(vault_url, session_id, upload_session_id),
            |(url, sid, upload), shared| existing_session(url, sid, upload, shared),
        )
    }
}

/// Every open function of an iterator: `out` checked, the arguments read by `args`, the
/// listing made by `make` inside the panic boundary (on `client` when the function takes one:
/// Some, its pointer possibly NULL), and the handle stored. Bad arguments make a failed handle.
///
/// # Safety
/// `out` is NULL or writable; `client` is None, or Some(NULL or a live client); `args` reads
/// only pointers valid for the call.
pub(super) unsafe fn open_iter<A>(
    out: *mut *mut vault_parts_iter,
    client: Option<*mut vault_parts_client>,
    args: impl FnOnce() -> Result<A, Error>,
    make: impl FnOnce(A, Option<Client>) -> Listing,
) -> c_int {
    if out.is_null() {
        return VAULT_PARTS_E_ARG;
    }
    let made = guard(None, || {
        Some(match (args(), client) {
            (Ok(a), None) => make(a, None),
            // SAFETY: NULL or a live client, per this function's contract.
            (Ok(a), Some(client)) => unsafe { on_client(client, |shared| make(a, shared)) },
            (Err(e), _) => Listing::failed(e),
        })
    });
    store(out, made)
}

/// The listing of an existing session's parts, on `shared` when given.
pub(super) fn existing_session(url: &str, sid: &str, upload: &str, shared: Option<Client>) -> Listing {
    match shared {
        Some(shared) => Listing::with_client(url, sid, upload, shared),
        None => Listing::new(url, sid, upload),
    }
}

/// A listing `make` opens on `client` (already checked arguments): on the built client, or,
/// when `client` is NULL or failed, made without it and failed with that error, so the
/// failure is worded with the session ID removed.
///
/// # Safety
/// `client` is NULL or a live client.
unsafe fn on_client(client: *mut vault_parts_client, make: impl FnOnce(Option<Client>) -> Listing) -> Listing {
    // SAFETY: per this function's contract.
    let shared =
        unsafe { client.cast_const().as_ref() }.ok_or_else(|| Error::arg("client is NULL")).and_then(use_client);
    match shared {
        Ok(shared) => make(Some(shared)),
        Err(e) => {
            let mut listing = make(None);
            listing.fail(e);
            listing
        }
    }
}

/// The built client, building it on first use.
fn use_client(client: &vault_parts_client) -> Result<Client, Error> {
    let mut state = client.state.lock().unwrap_or_else(|e| e.into_inner());
    let built = match &*state {
        ClientState::Built(c) => return Ok(c.clone()),
        ClientState::Failed(e) => return Err(e.clone()),
        ClientState::Configuring(settings) => Client::new(settings),
    };
    *state = match &built {
        Ok(c) => ClientState::Built(c.clone()),
        Err(e) => ClientState::Failed(e.clone()),
    };
    built
}

// One client serves many threads at once: the lock makes the handle shareable.
const _: () = {
    const fn assert_sync<T: Send + Sync>() {}
    assert_sync::<vault_parts_client>();
};
