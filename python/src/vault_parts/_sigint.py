"""Ctrl-C during a blocking library call.

Python runs signal handlers only between bytecodes of the main thread, so a KeyboardInterrupt
cannot surface while the main thread is inside the library. But CPython's C-level handler also
writes the signal's number to the "wakeup fd" (signal.set_wakeup_fd) at once. While the main
thread is inside a blocking call, the wakeup fd is a pipe read by one relay thread: on SIGINT it
calls the handle's interrupt function (thread-safe by the library's contract), the call returns
VAULT_PARTS_E_CANCELLED within 100 ms, and the interpreter then raises KeyboardInterrupt (or
runs whatever SIGINT handler the program set) as the call returns. A wakeup fd the program set
itself (asyncio's) is restored after the call and receives every byte the relay reads.

Calls on other threads run directly: signals are only ever handled on the main thread.
"""

import os
import signal
import threading
from typing import Any, Callable, Optional, Tuple

_SIGINT = int(signal.SIGINT)


class _Relay:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (interrupt function, handle, the program's own wakeup fd) while a main-thread call runs.
        self._armed: Optional[Tuple[Callable[[Any], int], Any, int]] = None
        self._write_fd = -1

    def _start(self) -> int:
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        threading.Thread(target=self._run, args=(read_fd,), name="vault_parts-sigint",
                         daemon=True).start()
        self._write_fd = write_fd
        return write_fd

    def _run(self, read_fd: int) -> None:
        while True:
            data = os.read(read_fd, 512)
            with self._lock:
                armed = self._armed
                if armed is None:
                    continue
                interrupt, handle, program_fd = armed
                if _SIGINT in data:
                    interrupt(handle)
            if program_fd >= 0:
                try:
                    os.write(program_fd, data)
                except OSError:
                    pass

    def call(self, interrupt: Callable[[Any], int], handle: Any, fn: Callable[..., int],
             *args: Any) -> int:
        """fn(handle, *args), made interruptible by Ctrl-C when on the main thread."""
        if threading.current_thread() is not threading.main_thread():
            return fn(handle, *args)
        with self._lock:
            write_fd = self._write_fd if self._write_fd >= 0 else self._start()
            try:
                program_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
            except ValueError:  # not the main interpreter: no signals to relay
                program_fd = None
            else:
                self._armed = (interrupt, handle, program_fd)
        if program_fd is None:
            return fn(handle, *args)
        try:
            return fn(handle, *args)
        finally:
            with self._lock:
                self._armed = None
                signal.set_wakeup_fd(program_fd)


    def _after_fork(self) -> None:
        """In a forked child the relay thread is gone: start afresh at the next call."""
        self._lock = threading.Lock()
        self._armed = None
        self._write_fd = -1


relay = _Relay()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=relay._after_fork)
