"""One library handle owned by one Python object: the thread rule, close, interrupt, errors."""

import atexit
import threading
import time
import weakref
from typing import Any, Callable, Generic, NamedTuple, Optional, TypeVar

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


_T = TypeVar("_T")
_H = TypeVar("_H", bound="Handle")

# Every open handle, so that interpreter exit can stop calls still running on daemon threads
# (a thread that re-enters Python from a log callback during finalization aborts the process).
_LIVE: "weakref.WeakSet[Handle]" = weakref.WeakSet()


@atexit.register
def _stop_running_calls() -> None:
    running = [h for h in list(_LIVE) if h._in_c]
    for h in running:
        h.interrupt()
    deadline = time.monotonic() + 1.0
    while any(h._in_c for h in running) and time.monotonic() < deadline:
        time.sleep(0.01)


class Handle:
    """Owns one handle. One thread at a time may be inside a call on it (a second gets
    ArgumentError); close() and interrupt() work from any thread: close() during a running
    call (another thread's, or from a log callback inside it) interrupts it, and the handle is
    freed as that call returns."""

    def __init__(self, kind: Kind, ptr: Any, keep: Any = None) -> None:
        self._kind = kind
        self._ptr = ptr
        self._keep = keep  # the log forwarder the handle calls back into lives as long
        self._lock = threading.Lock()
        self._owner: Optional[int] = None
        self._in_c = False  # a call is inside the library right now
        self._close_pending = False
        _LIVE.add(self)

    def __copy__(self) -> "Handle":
        raise TypeError(f"a vault_parts {self._kind.name} cannot be copied: it owns its handle")

    def __deepcopy__(self, memo: Any) -> "Handle":
        return self.__copy__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(f"a vault_parts {self._kind.name} cannot be pickled: it owns its handle")

    def _call(self, fn: Callable[..., int], *args: Any, blocking: bool = True, what: str = "") -> int:
        """fn(handle, *args) as the handle's one user; raises the handle's error for a code
        other than OK, ROW and DONE, or what a log callback raised during the call. A
        blocking call is interruptible by interrupt(), close() and Ctrl-C."""
        with self._lock:
            if self._ptr is None:
                raise argument_error(f"the {self._kind.name} is closed")
            if self._owner is not None:
                refusal = argument_error(f"the {self._kind.name} is in use by another call")
                refusal._in_use = True  # type: ignore[attr-defined]  # the other call goes on
                raise refusal
            self._owner = threading.get_ident()
            self._in_c = True
            ptr = self._ptr
        keep = self._keep
        try:
            if keep is not None:
                keep.stop = lambda: self._kind.interrupt(ptr)
            try:
                code = relay.call(self._kind.interrupt, ptr, fn, *args) if blocking else fn(ptr, *args)
            finally:
                self._in_c = False
            if keep is not None and keep.raised is not None:
                raised, keep.raised = keep.raised, None
                raise raised
            if code not in _SUCCESS:
                raise handle_error(self._kind, ptr, code, what)
            return code
        finally:
            with self._lock:
                self._owner = None
                pending = self._close_pending
            if pending:
                self.close()

    def _read(self, read: Callable[[Any], _T], last: Callable[[], _T]) -> _T:
        """An accessor: read(handle) while open and idle, last() once closed."""
        with self._lock:
            if self._ptr is None:
                return last()
            if self._owner is not None:
                raise argument_error(f"the {self._kind.name} is in use by a call (another thread's, or the one "
                                     "calling this log callback): read it between calls")
            return read(self._ptr)

    def detach(self) -> Any:
        """Gives the handle up (to a library call that takes it over)."""
        with self._lock:
            ptr, self._ptr = self._ptr, None
        return ptr

    def _final(self, ptr: Any) -> None:
        """Reads what must outlive the handle, just before it is freed (under the lock)."""

    def close(self) -> None:
        """Frees the handle (closing its connections). Idempotent; any thread."""
        with self._lock:
            ptr = self._ptr
            if ptr is None:
                return
            if self._owner is not None and (self._owner != threading.get_ident() or self._in_c):
                self._close_pending = True
                self._kind.interrupt(ptr)
                return
            try:
                self._final(ptr)
            finally:
                self._ptr = None
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

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_ptr", None) is not None:
            try:
                self.close()
            except Exception:  # interpreter shutdown: the module's globals may be gone
                pass


class Iterator(Handle, Generic[_T]):
    """A handle stepped by a ROW/DONE function: a Python iterator, freed when exhausted.
    After an error, next() raises that error again (the library's errors are sticky); after
    close() before the end, ArgumentError: a loop never ends as if it had succeeded."""

    _step_fn: Callable[[Any, Any], int]
    _out_type: str

    def __init__(self, kind: Kind, ptr: Any, keep: Any = None) -> None:
        super().__init__(kind, ptr, keep)
        self._out = ffi.new(self._out_type)
        self._exhausted = False
        self._error: Optional[BaseException] = None

    def _row(self, out: Any) -> _T:
        raise NotImplementedError

    def __iter__(self: "_I") -> "_I":
        return self

    def __next__(self) -> _T:
        if self._ptr is None:
            if self._exhausted:
                raise StopIteration
            if self._error is not None:
                raise self._error.with_traceback(None)
            raise argument_error(f"the {self._kind.name} was closed before its end")
        try:
            if self._call(self._step_fn, self._out) == ROW:
                return self._row(self._out)
        except VaultPartsError as error:
            if not in_use(error):
                self._error = error
                self.close()
            raise
        except BaseException:
            self.close()
            raise
        self._exhausted = True
        self.close()
        raise StopIteration


_I = TypeVar("_I", bound=Iterator)  # type: ignore[type-arg]
