//! What verify and the upload both ask of an existing session before its listing: the size it
//! was created for (one GET of .../upload/{id}, through the listing's connection, retry rules,
//! timeouts, deadline and interrupt), and the E_CONFLICT of a file of another size. One
//! implementation: the upload asks for the declared size through [`declared_size`] too.

use crate::error::{Error, ErrorKind};
use crate::listing::{Listing, UploadTarget};

/// The size session `upload_id` was created for: one details request (GET .../upload/{id})
/// with the listing's retries. Starts the listing if it has not started (as every call does);
/// the error is the caller's to keep (through [`Listing::fail`]).
pub(crate) fn declared_size(listing: &mut Listing, upload_id: &str) -> Result<u64, Error> {
    Ok(listing.calls()?.details(upload_id)?.size)
}

/// E_CONFLICT for a file of `size` bytes and a session created for `declared` bytes: the file
/// cannot complete the session. The message names both sizes, never the session ID.
pub(crate) fn size_conflict(declared: u64, size: u64) -> Error {
    Error::new(
        ErrorKind::Conflict,
        format!(
            "this file cannot complete this session: the session was created for {declared} bytes, \
             the file has {size}; nothing was sent"
        ),
    )
}

/// Verify's check before its listing: on a listing for an existing session, the session's
/// declared size must be the file's `size` (else [`size_conflict`]). A listing for a new session
/// or for the account's sessions has no session to ask about: nothing is requested, and the
/// listing refuses to list parts as before.
pub(crate) fn check_declared_size(listing: &mut Listing, size: u64) -> Result<(), Error> {
    let Some(UploadTarget::Existing { upload_session_id }) = listing.upload_target() else { return Ok(()) };
    let id = upload_session_id.clone();
    match declared_size(listing, &id)? {
        declared if declared != size => Err(size_conflict(declared, size)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conflict_names_both_sizes() {
        let e = size_conflict(11, 10);
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert_eq!(
            e.message(),
            "this file cannot complete this session: the session was created for 11 bytes, the file has 10; nothing was sent"
        );
    }
}
