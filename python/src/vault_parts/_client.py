"""Client: connections, trust and proxy shared by any number of calls and threads."""

import threading
from typing import Any, Optional

from ._args import PathArg, count, flag, path, text
from ._errors import argument_error, error_for
from ._native import ffi, lib


def _client_message(ptr: Any) -> str:
    """The library keeps a failed setting as the client's error and explains it on the
    listings opened on it: one such listing (no I/O) gives the message."""
    out = ffi.new("vault_parts_iter **")
    lib.vault_parts_open_with_client(out, ptr, b"https://localhost", b"message-probe", b"probe")
    try:
        return ffi.string(lib.vault_parts_errmsg(out[0])).decode("utf-8", "replace")
    finally:
        lib.vault_parts_free(out[0])


class Client:
    """Connections, DNS cache and TLS sessions shared by every call given `client=`, from any
    number of threads at once. Trust (ca_file, add_ca_file, system_roots), the client ID, the
    proxy (proxy_from_env: False never uses one) and max_idle (idle connections kept, default
    8: set it to the number of calls that run at once) are fixed here. A bad setting raises
    at once (ArgumentError, the library's message).

    close() (or the end of a `with` block) releases the Python side; calls already opened on
    the client keep working, and its connections close when the last of them ends.
    """

    def __init__(self, *, ca_file: Optional[PathArg] = None, add_ca_file: Optional[PathArg] = None,
                 system_roots: bool = False, client_id: Optional[str] = None,
                 max_idle: Optional[int] = None, proxy_from_env: bool = True) -> None:
        out = ffi.new("vault_parts_client **")
        code = lib.vault_parts_client_new(out)
        if code != lib.VAULT_PARTS_OK:
            raise error_for(code)
        self._ptr: Any = out[0]
        self._lock = threading.Lock()
        try:
            if ca_file is not None:
                self._set(lib.vault_parts_client_set_ca_file, path("ca_file", ca_file))
            if add_ca_file is not None:
                self._set(lib.vault_parts_client_add_ca_file, path("add_ca_file", add_ca_file))
            if flag("system_roots", system_roots):
                self._set(lib.vault_parts_client_use_system_roots)
            if client_id is not None:
                self._set(lib.vault_parts_client_set_client_id, text("client_id", client_id))
            if max_idle is not None:
                self._set(lib.vault_parts_client_set_max_idle, count("max_idle", max_idle))
            self._set(lib.vault_parts_client_set_proxy_from_env, 1 if flag("proxy_from_env", proxy_from_env) else 0)
        except BaseException:
            self.close()
            raise

    def __copy__(self) -> "Client":
        raise TypeError("a vault_parts Client cannot be copied: share the one object instead")

    def __deepcopy__(self, memo: Any) -> "Client":
        return self.__copy__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("a vault_parts Client cannot be pickled: make one per process")

    def _set(self, fn: Any, *args: Any) -> None:
        code = fn(self._ptr, *args)
        if code != lib.VAULT_PARTS_OK:
            raise error_for(code, _client_message(self._ptr))

    def open(self, opener: Any, out: Any, url: bytes, secret: Any, *args: Any) -> int:
        """opener(out, client, url, session ID, *args) while the client is alive (closing
        waits for it). `secret` stays a Secret in this frame."""
        with self._lock:
            if self._ptr is None:
                raise argument_error("the client is closed")
            return opener(out, self._ptr, url, secret.encoded(), *args)

    def close(self) -> None:
        """Releases this reference; idempotent, any thread."""
        with self._lock:
            ptr, self._ptr = self._ptr, None
        if ptr is not None:
            lib.vault_parts_client_free(ptr)

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_ptr", None) is not None:
            try:
                self.close()
            except Exception:  # interpreter shutdown: the module's globals may be gone
                pass

    def __repr__(self) -> str:
        return f"<vault_parts.Client {'closed' if self._ptr is None else 'open'}>"
