"""One library handle owned by one Python object: the thread rule, close, interrupt, errors."""

import threading
from typing import Any, Callable, NamedTuple, Optional

from ._errors import VaultPartsError, argument_error, error_for
from ._native import ffi, lib
from ._sigint import relay

ROW = lib.VAULT_PARTS_ROW
DONE = lib.VAULT_PARTS_DONE
_SUCCESS = frozenset((lib.VAULT_PARTS_OK, ROW, DONE))


class Kind(NamedTuple):
    """The library functions of one kind of handle."""

    name: str
    free: Callable[[Any], None]
    interrupt: Callable[[Any], int]
    errcode: Callable[[Any], int]
    errmsg: Callable[[Any], Any]
    error_type: Callable[[Any], Any]
    http_status: Optional[Callable[[Any], int]]
    retry_after_ms: Optional[Callable[[Any], int]]


ITER = Kind("listing", lib.vault_parts_free, lib.vault_parts_interrupt, lib.vault_parts_errcode,
            lib.vault_parts_errmsg, lib.vault_parts_error_type, lib.vault_parts_http_status,
            lib.vault_parts_retry_after_ms)
VERIFY = Kind("verify", lib.vault_parts_verify_free, lib.vault_parts_verify_interrupt,
              lib.vault_parts_verify_errcode, lib.vault_parts_verify_errmsg,
              lib.vault_parts_verify_error_type, lib.vault_parts_verify_http_status,
              lib.vault_parts_verify_retry_after_ms)
UPLOAD = Kind("upload", lib.vault_parts_upload_free, lib.vault_parts_upload_interrupt,
              lib.vault_parts_upload_errcode, lib.vault_parts_upload_errmsg,
              lib.vault_parts_upload_error_type, lib.vault_parts_upload_http_status,
              lib.vault_parts_upload_retry_after_ms)


def handle_error(kind: Kind, ptr: Any, code: int, what: str = "") -> VaultPartsError:
    """The exception for `code`, with the handle's message (redacted by the library)."""
    message = ffi.string(kind.errmsg(ptr)).decode("utf-8", "replace")
    if not message and what:
        message = f"{what}: {ffi.string(lib.vault_parts_errstr(code)).decode()}"
    status = kind.http_status(ptr) if kind.http_status else 0
    wait_ms = kind.retry_after_ms(ptr) if kind.retry_after_ms else -1
    return error_for(code, message, ffi.string(kind.error_type(ptr)).decode("utf-8", "replace"),
                     status, wait_ms / 1000 if wait_ms >= 0 else None)


def in_use(error: BaseException) -> bool:
    """Whether `error` refused a call because another thread is inside one on the handle
    (that call goes on: the refused thread must not close the handle)."""
    return getattr(error, "_in_use", False)


class Handle:
    """Owns one handle. One thread at a time may be inside a call on it (a second gets
    ArgumentError); close() and interrupt() work from any thread: close() on another thread's
    running call interrupts it, and the handle is freed as that call returns."""

    def __init__(self, kind: Kind, ptr: Any, keep: Any = None) -> None:
        self._kind = kind
        self._ptr = ptr
        self._keep = keep  # what the handle calls back into (a log callback) lives as long
        self._lock = threading.Lock()
        self._owner: Optional[int] = None
        self._close_pending = False

    def _call(self, fn: Callable[..., int], *args: Any, blocking: bool = True, what: str = "") -> int:
        """fn(handle, *args) as the handle's one user; raises the handle's error for a code
        other than OK, ROW and DONE. A blocking call is interruptible by interrupt(), close()
        and Ctrl-C."""
        with self._lock:
            if self._ptr is None:
                raise argument_error(f"the {self._kind.name} is closed")
            if self._owner is not None:
                refusal = argument_error(f"the {self._kind.name} is in use by another thread")
                refusal._in_use = True  # type: ignore[attr-defined]  # the other call goes on
                raise refusal
            self._owner = threading.get_ident()
            ptr = self._ptr
        try:
            code = relay.call(self._kind.interrupt, ptr, fn, *args) if blocking else fn(ptr, *args)
            if code not in _SUCCESS:
                raise handle_error(self._kind, ptr, code, what)
            return code
        finally:
            with self._lock:
                self._owner = None
                pending = self._close_pending
            if pending:
                self.close()

    def detach(self) -> Any:
        """Gives the handle up (to a library call that takes it over)."""
        with self._lock:
            ptr, self._ptr = self._ptr, None
        return ptr

    def _final(self, ptr: Any) -> None:
        """Reads what must outlive the handle, just before it is freed."""

    def close(self) -> None:
        """Frees the handle (closing its connections). Idempotent; any thread."""
        with self._lock:
            ptr = self._ptr
            if ptr is None:
                return
            if self._owner is not None and self._owner != threading.get_ident():
                self._close_pending = True
                self._kind.interrupt(ptr)
                return
            self._ptr = None
        try:
            self._final(ptr)
        finally:
            self._kind.free(ptr)

    def interrupt(self) -> None:
        """Stops the call running on another thread: it raises CancelledError within 100 ms,
        and so does every later call. Any thread, any time; does nothing once closed."""
        with self._lock:
            if self._ptr is not None:
                self._kind.interrupt(self._ptr)

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_ptr", None) is not None:
            try:
                self.close()
            except Exception:  # interpreter shutdown: the module's globals may be gone
                pass


class Iterator(Handle):
    """A handle stepped by a ROW/DONE function: a Python iterator, freed when exhausted."""

    _step_fn: Callable[[Any, Any], int]
    _out_type: str

    def __init__(self, kind: Kind, ptr: Any, keep: Any = None) -> None:
        super().__init__(kind, ptr, keep)
        self._out = ffi.new(self._out_type)

    def _row(self, out: Any) -> Any:
        raise NotImplementedError

    def __iter__(self):
        return self

    def __next__(self):
        if self._ptr is None:
            raise StopIteration
        try:
            if self._call(self._step_fn, self._out) == ROW:
                return self._row(self._out)
        except BaseException as error:
            if not in_use(error):
                self.close()
            raise
        self.close()
        raise StopIteration
