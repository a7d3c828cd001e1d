"""libvault_parts for Python: list, verify and resumably upload Veeva Vault file staging uploads.

Every call drives the C library libvault_parts (carried in this package) through its C ABI.
Iterators fetch lazily, are context managers and free their handle when exhausted, closed or
collected. Failures raise VaultPartsError subclasses; the session ID never appears in one.
Ctrl-C during a blocking call interrupts it (KeyboardInterrupt within about 100 ms), and
.interrupt() stops a call running on another thread.
"""

from ._api import (PartListing, SessionListing, Upload, Verification, abort, list_parts,
                   list_sessions, upload, verify)
from ._client import Client
from ._errors import (AccessError, ArgumentError, AuthError, CancelledError, ConflictError,
                      HTTPError, IntegrityError, InternalError, LocalFileError, NetworkError,
                      ProtocolError, RateLimitError, TimeoutError, TLSError, VaultError,
                      VaultPartsError)
from ._native import ffi as _ffi
from ._native import lib as _lib
from ._records import (Action, Part, PartUpload, Session, Stats, Status, UploadSummary, Verdict,
                       VerifySummary)

#: The library's version (Cargo.toml's, as the library reports it).
__version__: str = _ffi.string(_lib.vault_parts_version()).decode()

__all__ = [
    "__version__", "list_parts", "list_sessions", "abort", "verify", "upload", "Client",
    "Part", "Stats", "Session", "Verdict", "VerifySummary", "Status", "Action", "PartUpload",
    "UploadSummary", "PartListing", "SessionListing", "Verification", "Upload",
    "VaultPartsError", "ArgumentError", "AuthError", "AccessError", "RateLimitError",
    "VaultError", "HTTPError", "NetworkError", "TimeoutError", "TLSError", "ProtocolError",
    "InternalError", "LocalFileError", "CancelledError", "ConflictError", "IntegrityError",
]
