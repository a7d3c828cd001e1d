//! The trust-store setters beside vault_parts_set_ca_file: the built-in roots plus a CA, or the
//! operating system's store. Each reads its certificates when called.

use super::boundary::with_text;
use super::{set_connection, vault_parts_iter};
use crate::settings::Settings;
use std::ffi::{c_char, c_int};

/// Trusts the built-in Mozilla roots and, in addition, the certificates in the PEM file at
/// `pem_path` (read now; at least one certificate): for a TLS-inspecting proxy whose CA signs
/// the certificates it shows, while other hosts keep their public certificates. Replaces the
/// effect of an earlier vault_parts_set_ca_file or vault_parts_use_system_roots. Only before
/// the first vault_parts_next. The file is read as vault_parts_set_ca_file reads it: a regular
/// file of at most VAULT_PARTS_MAX_CA_FILE_SIZE bytes, opened without blocking.
///
/// Returns as vault_parts_set_ca_file: VAULT_PARTS_OK; VAULT_PARTS_E_ARG when `pem_path` is
/// NULL or the file is missing, unreadable, not a regular file, larger than
/// VAULT_PARTS_MAX_CA_FILE_SIZE or holds no certificate (and the handle keeps that error), or
/// after the first vault_parts_next or on a listing opened with a vault_parts_client (a misuse
/// that changes nothing, whatever `pem_path` is); or the handle's error.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_add_ca_file(it: *mut vault_parts_iter, pem_path: *const c_char) -> c_int {
    // SAFETY: NULL or a NUL-terminated string, per the C contract.
    set_connection(it, unsafe { with_text(pem_path, "pem_path", Settings::add_ca_file) })
}

/// Trusts the operating system's certificate store instead of the built-in roots, found as
/// OpenSSL-based tools find it: the PEM file named by SSL_CERT_FILE and the directories named
/// by SSL_CERT_DIR (':'-separated) when set, otherwise the distribution's bundle (such as
/// /etc/ssl/certs/ca-certificates.crt). Read now, when this is called; later changes to the
/// store or the environment do not affect the handle. Replaces the effect of an earlier
/// vault_parts_set_ca_file or vault_parts_add_ca_file. Only before the first vault_parts_next.
///
/// Returns VAULT_PARTS_OK; VAULT_PARTS_E_ARG when no certificate could be read (and the handle
/// keeps that error), or after the first vault_parts_next or on a listing opened with a
/// vault_parts_client (a misuse that changes nothing); or the handle's error.
#[no_mangle]
pub unsafe extern "C" fn vault_parts_use_system_roots(it: *mut vault_parts_iter) -> c_int {
    set_connection(it, Settings::use_system_roots)
}
