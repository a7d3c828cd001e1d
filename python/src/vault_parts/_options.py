"""The options every call that talks to Vault takes, applied to a new listing handle."""

import logging
import sys
from typing import Any, Callable, Dict, Optional, Tuple, Union

from ._args import PathArg, count, milliseconds, path, text
from ._errors import argument_error
from ._native import ffi, lib

if sys.version_info >= (3, 11):
    from typing import TypedDict
else:  # pragma: no cover
    from typing_extensions import TypedDict

LogTarget = Union[logging.Logger, Callable[[int, str], None]]

# The library's log levels as the logging module's.
_LEVELS = {
    lib.VAULT_PARTS_LOG_ERROR: logging.ERROR,
    lib.VAULT_PARTS_LOG_WARN: logging.WARNING,
    lib.VAULT_PARTS_LOG_INFO: logging.INFO,
    lib.VAULT_PARTS_LOG_DEBUG: logging.DEBUG,
}


class Options(TypedDict, total=False):
    """Keyword options of list_parts, list_sessions, abort, verify and upload.

    timeout: seconds an HTTP attempt may go without progress (default 60).
    deadline: seconds for the whole call, counted from its first request (default: none).
    max_attempts: attempts per request (default 3); backoff: (first wait, longest wait) in
    seconds between attempts (default (0.25, 30)).
    api_version: Vault's API version, like "v25.3".
    client: a Client whose connections, trust, proxy and client ID are used; then client_id,
    ca_file, add_ca_file and system_roots belong to the Client and are refused here.
    client_id: the X-VaultAPI-ClientID header.
    ca_file: trust only the certificates in this PEM file; add_ca_file: the built-in roots and
    these; system_roots: True trusts the operating system's store.
    log: a logging.Logger, or a callable(level, message) given logging's levels; the
    library's log lines (never the session ID) arrive on the thread making the call.
    """

    timeout: float
    deadline: float
    max_attempts: int
    backoff: Tuple[float, float]
    api_version: str
    client: Any
    client_id: str
    ca_file: PathArg
    add_ca_file: PathArg
    system_roots: bool
    log: Optional[LogTarget]


_CLIENT_OWNED = ("client_id", "ca_file", "add_ca_file", "system_roots")


def check(options: Dict[str, Any]) -> None:
    """Refuses unknown names and the Client's own settings beside a client (before any handle)."""
    unknown = sorted(set(options) - set(Options.__annotations__))
    if unknown:
        raise TypeError(f"unexpected keyword argument {unknown[0]!r}")
    if options.get("client") is not None:
        for name in _CLIENT_OWNED:
            if options.get(name) not in (None, False):
                raise argument_error(f"{name} is the client's setting: pass it to Client()")


def log_callback(log: LogTarget) -> Any:
    """A C log callback forwarding to `log` (kept alive by the handle that uses it)."""
    emit = (lambda level, message: log.log(level, message)) if isinstance(log, logging.Logger) else log
    if not callable(emit):
        raise TypeError("log must be a logging.Logger or a callable(level, message)")

    def forward(_userdata: Any, level: int, message: Any) -> None:
        emit(_LEVELS.get(level, logging.DEBUG), ffi.string(message).decode("utf-8", "replace"))

    return ffi.callback("vault_parts_log_fn", forward)


def apply(handle: Any, options: Dict[str, Any]) -> None:
    """Applies the options to a listing handle (a Handle of kind ITER), raising its errors."""
    set_ = handle._call
    if options.get("timeout") is not None:
        set_(lib.vault_parts_set_timeout_ms, milliseconds("timeout", options["timeout"]),
             blocking=False, what="timeout")
    if options.get("deadline") is not None:
        set_(lib.vault_parts_set_deadline_ms, milliseconds("deadline", options["deadline"], 2**63 - 1),
             blocking=False, what="deadline")
    if options.get("max_attempts") is not None:
        set_(lib.vault_parts_set_max_attempts, count("max_attempts", options["max_attempts"]),
             blocking=False, what="max_attempts")
    if options.get("backoff") is not None:
        first, longest = options["backoff"]
        set_(lib.vault_parts_set_backoff_ms, milliseconds("backoff", first),
             milliseconds("backoff", longest), blocking=False, what="backoff")
    if options.get("api_version") is not None:
        set_(lib.vault_parts_set_api_version, text("api_version", options["api_version"]),
             blocking=False, what="api_version")
    if options.get("client_id") is not None:
        set_(lib.vault_parts_set_client_id, text("client_id", options["client_id"]),
             blocking=False, what="client_id")
    if options.get("ca_file") is not None:
        set_(lib.vault_parts_set_ca_file, path("ca_file", options["ca_file"]), blocking=False,
             what="ca_file")
    if options.get("add_ca_file") is not None:
        set_(lib.vault_parts_add_ca_file, path("add_ca_file", options["add_ca_file"]),
             blocking=False, what="add_ca_file")
    if options.get("system_roots"):
        set_(lib.vault_parts_use_system_roots, blocking=False, what="system_roots")
    if options.get("log") is not None:
        handle._keep = log_callback(options["log"])
        set_(lib.vault_parts_set_log, handle._keep, ffi.NULL, blocking=False, what="log")
