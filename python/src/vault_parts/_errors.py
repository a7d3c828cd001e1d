"""Exceptions: one class per library code, raised for every failure the library reports."""

from typing import Dict, Optional, Type

from ._native import ffi, lib


class VaultPartsError(Exception):
    """A failure the library reported.

    code: the library's code (VAULT_PARTS_E_*); errstr: its fixed description; message: what
    failed, for a person (the library's errmsg: never contains the session ID); error_type:
    Vault's error type ("INVALID_SESSION_ID"...) or None when the error did not come from
    Vault; http_status: the status that failed, or None; retry_after: the wait in seconds the
    server asked for (Retry-After), or None.
    """

    code: int
    errstr: str
    message: str
    error_type: Optional[str]
    http_status: Optional[int]
    retry_after: Optional[float]

    def __init__(self, code: int, message: str = "", error_type: Optional[str] = None,
                 http_status: Optional[int] = None, retry_after: Optional[float] = None) -> None:
        self.code = code
        self.errstr = ffi.string(lib.vault_parts_errstr(code)).decode()
        self.message = message or self.errstr
        self.error_type = error_type or None
        self.http_status = http_status or None
        self.retry_after = retry_after
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r})"

    def __reduce__(self):  # pickles (multiprocessing) with every attribute
        return (type(self), (self.code, self.message, self.error_type, self.http_status,
                             self.retry_after))


class ArgumentError(VaultPartsError, ValueError):
    """A bad argument or a call at the wrong time (VAULT_PARTS_E_ARG)."""


class AuthError(VaultPartsError):
    """Vault rejected the session ID (VAULT_PARTS_E_AUTH)."""


class AccessError(VaultPartsError):
    """The user may not see or change this upload session (VAULT_PARTS_E_ACCESS)."""


class RateLimitError(VaultPartsError):
    """Vault's API limits were hit on every attempt (VAULT_PARTS_E_RATE_LIMIT)."""


class VaultError(VaultPartsError):
    """Vault answered with an error of its own (VAULT_PARTS_E_VAULT): see error_type."""


class HTTPError(VaultPartsError):
    """An HTTP status that is not Vault's answer (VAULT_PARTS_E_HTTP)."""


class NetworkError(VaultPartsError):
    """Connecting, resolving or a connection failed, on every attempt (VAULT_PARTS_E_NETWORK)."""


class TimeoutError(VaultPartsError):  # noqa: A001 - vault_parts.TimeoutError, as users spell it
    """An attempt went without progress for the timeout, or the deadline passed
    (VAULT_PARTS_E_TIMEOUT)."""


class TLSError(VaultPartsError):
    """The TLS handshake or the certificate check failed (VAULT_PARTS_E_TLS)."""


class ProtocolError(VaultPartsError):
    """The server's answer broke Vault's protocol (VAULT_PARTS_E_PROTOCOL)."""


class InternalError(VaultPartsError):
    """A bug in libvault_parts (VAULT_PARTS_E_INTERNAL); please report it."""


class LocalFileError(VaultPartsError):
    """The local file is missing, unreadable or changed (VAULT_PARTS_E_IO)."""


class CancelledError(VaultPartsError):
    """The call was interrupted (.interrupt(), or Ctrl-C under a custom SIGINT handler)
    (VAULT_PARTS_E_CANCELLED)."""


class ConflictError(VaultPartsError):
    """The local file cannot complete this session (VAULT_PARTS_E_CONFLICT)."""


class IntegrityError(VaultPartsError):
    """Vault echoed another size or MD5 for a part on every attempt (VAULT_PARTS_E_INTEGRITY)."""


# The one table from the library's codes to classes.
_CLASSES: Dict[int, Type[VaultPartsError]] = {
    lib.VAULT_PARTS_E_ARG: ArgumentError,
    lib.VAULT_PARTS_E_AUTH: AuthError,
    lib.VAULT_PARTS_E_ACCESS: AccessError,
    lib.VAULT_PARTS_E_RATE_LIMIT: RateLimitError,
    lib.VAULT_PARTS_E_VAULT: VaultError,
    lib.VAULT_PARTS_E_HTTP: HTTPError,
    lib.VAULT_PARTS_E_NETWORK: NetworkError,
    lib.VAULT_PARTS_E_TIMEOUT: TimeoutError,
    lib.VAULT_PARTS_E_TLS: TLSError,
    lib.VAULT_PARTS_E_PROTOCOL: ProtocolError,
    lib.VAULT_PARTS_E_INTERNAL: InternalError,
    lib.VAULT_PARTS_E_IO: LocalFileError,
    lib.VAULT_PARTS_E_CANCELLED: CancelledError,
    lib.VAULT_PARTS_E_CONFLICT: ConflictError,
    lib.VAULT_PARTS_E_INTEGRITY: IntegrityError,
}


def error_for(code: int, message: str = "", error_type: Optional[str] = None,
              http_status: Optional[int] = None, retry_after: Optional[float] = None) -> VaultPartsError:
    """The exception for a library code (InternalError for a code this package does not know)."""
    return _CLASSES.get(code, InternalError)(code, message, error_type, http_status, retry_after)


def argument_error(message: str) -> ArgumentError:
    """A refusal by this package itself, before the library saw the argument."""
    return ArgumentError(lib.VAULT_PARTS_E_ARG, message)
