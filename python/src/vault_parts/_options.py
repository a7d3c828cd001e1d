"""The options every call that talks to Vault takes, applied to a new listing handle."""

import logging
import sys
from typing import Any, Callable, Dict, Optional, Tuple, Union

from ._args import PathArg, count, flag, milliseconds, path, text
from ._client import Client
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
    client = options.get("client")
    if client is not None and not isinstance(client, Client):
        raise TypeError(f"client must be a vault_parts.Client, not {type(client).__name__}")
    backoff = options.get("backoff")
    if backoff is not None and (not isinstance(backoff, tuple) or len(backoff) != 2):
        raise TypeError("backoff must be a tuple (first wait, longest wait) in seconds")
    if client is not None:
        for name in _CLIENT_OWNED:
            if options.get(name) not in (None, False):
                raise argument_error(f"{name} is the client's setting: pass it to Client()")


class LogForwarder:
    """The C log callback forwarding to `log`, kept alive by the handle that uses it. What
    `log` raises (a KeyboardInterrupt arriving while it runs, say) cannot cross the C call:
    it is kept, the call is stopped (`stop`, set by the handle), and the handle raises it as
    the call returns."""

    def __init__(self, log: LogTarget) -> None:
        emit = (lambda level, message: log.log(level, message)) if isinstance(log, logging.Logger) else log
        if not callable(emit):
            raise TypeError("log must be a logging.Logger or a callable(level, message)")
        self.raised: Optional[BaseException] = None
        self.stop: Callable[[], Any] = lambda: None

        def forward(_userdata: Any, level: int, message: Any) -> None:
            try:
                if self.raised is None:
                    emit(_LEVELS.get(level, logging.DEBUG), ffi.string(message).decode("utf-8", "replace"))
            except BaseException as error:  # noqa: B036 - re-raised by the handle
                self.raised = error
                self.stop()

        def failed(_type: Any, error: BaseException, _traceback: Any) -> None:
            # What escaped forward: a KeyboardInterrupt cffi's wrapper raised as the callback
            # returned (the signal's Python handler runs there), which it would only print.
            if self.raised is None:
                self.raised = error
            self.stop()

        self.cb = ffi.callback("vault_parts_log_fn", forward, onerror=failed)


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
    if flag("system_roots", options.get("system_roots", False)):
        set_(lib.vault_parts_use_system_roots, blocking=False, what="system_roots")
    if options.get("log") is not None:
        handle._keep = LogForwarder(options["log"])
        set_(lib.vault_parts_set_log, handle._keep.cb, ffi.NULL, blocking=False, what="log")
