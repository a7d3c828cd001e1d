"""Ctrl-C and .interrupt(): a call blocked on a hung vault-sim stops within 200 ms (the
issue's bound; measured from the SIGINT, or from the interrupt() call, to the exception), and
the handle is closed."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import vault_parts as vp
from conftest import PART, SID, child_env, raises

BOUND = 0.2  # seconds: the bound
CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sigint_child.py")


def _sigint_default():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_child(url, kind, upload_id="", path="", handler="default"):
    proc = subprocess.Popen([sys.executable, CHILD, kind, url, SID, upload_id, str(path), handler],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(),
                            preexec_fn=_sigint_default, text=True)
    try:
        assert proc.stdout.readline() == "ready\n", proc.stderr.read()
        time.sleep(0.5)  # the request is sent and the server hangs on it
        assert proc.poll() is None
        sent = time.monotonic()  # CLOCK_MONOTONIC: the same clock in the child
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    result["delay"] = result["at"] - sent
    return result


@pytest.fixture
def hung(sim, data_file):
    return sim("--upload", "c:alice:3", "--fault", "c:parts:all:hang",
               "--upload-file", f"v:alice:{data_file}:{PART}:1", "--fault", "v:parts:all:hang",
               "--upload-file", f"w:alice:{data_file}:{PART}:1", "--fault", "w:put:all:hang",
               "--upload", "a:alice:1", "--fault", "a:abort:all:hang",
               "--fault", "sessions:all:hang")


@pytest.mark.parametrize("handler", ["default", "log"])
@pytest.mark.parametrize("kind,upload_id", [("parts", "c"), ("sessions", ""), ("verify", "v"),
                                            ("upload", "w"), ("abort", "a")])
def test_ctrl_c_raises_keyboard_interrupt_within_200ms(hung, data_file, kind, upload_id, handler):
    # "log": the KeyboardInterrupt is due while the library calls the log callback (it logs
    # the interruption): it must still reach the program, not be swallowed in the callback.
    result = run_child(hung.url, kind, upload_id, data_file, handler)
    assert result["outcome"] == "KeyboardInterrupt", result
    assert result["delay"] < BOUND, result
    if kind != "abort":
        assert result["closed"] is True


def test_ctrl_c_under_a_custom_handler_is_cancelled_error(hung):
    result = run_child(hung.url, "parts", "c", handler="custom")
    assert result["outcome"] == "CancelledError", result
    assert result["delay"] < BOUND and len(result["handler_calls"]) == 1, result
    assert result["closed"] is True
    assert result["message"].endswith(": interrupted")


def _interrupt_later(obj, how="interrupt", after=0.3):
    when = []

    def fire():
        when.append(time.monotonic())
        getattr(obj, how)()

    timer = threading.Timer(after, fire)
    timer.start()
    return timer, when


@pytest.mark.parametrize("kind", ["parts", "verify", "upload"])
def test_interrupt_from_another_thread(hung, data_file, kind):
    obj = {"parts": lambda: vp.list_parts(hung.url, SID, "c"),
           "verify": lambda: vp.verify(hung.url, SID, "v", data_file),
           "upload": lambda: vp.upload(hung.url, SID, data_file, upload_session_id="w", part_size=PART,
                                       commit="none")}[kind]()
    timer, when = _interrupt_later(obj)
    exc = raises(vp.CancelledError, lambda: [x for x in obj])
    delay = time.monotonic() - when[0]
    timer.join()
    assert delay < BOUND
    assert (exc.code, exc.errstr, exc.error_type) == (13, "interrupted", None)
    assert exc.message.endswith(": interrupted")
    assert obj.closed
    # Sticky, as the library's errors: the loop cannot be resumed as if nothing had failed.
    assert raises(vp.CancelledError, next, obj) is exc
    obj.interrupt()  # does nothing once closed


def test_interrupt_before_next_and_close_from_another_thread(hung):
    it = vp.list_parts(hung.url, SID, "c")
    it.interrupt()
    exc = raises(vp.CancelledError, next, it)
    assert exc.code == 13 and it.closed
    it = vp.list_parts(hung.url, SID, "c")
    timer, when = _interrupt_later(it, "close")
    raises(vp.CancelledError, next, it)
    assert time.monotonic() - when[0] < BOUND
    timer.join()
    assert it.closed


def test_a_second_thread_on_a_busy_handle_is_refused_and_changes_nothing(sim, tmp_path):
    s = sim("--upload", "c:alice:3", "--fault", "c:parts:all:delay=800")
    same_size = tmp_path / "zeros.bin"
    with open(same_size, "wb") as f:
        f.truncate(3 * PART)
    for kind in ("parts", "upload"):
        it = vp.list_parts(s.url, SID, "c") if kind == "parts" else \
            vp.upload(s.url, SID, same_size, upload_session_id="c", commit="none")
        results = []

        def first():
            try:
                results.append([p.part_number for p in it] if kind == "parts" else it.start())
            except BaseException as e:
                results.append(e)

        t = threading.Thread(target=first)
        t.start()
        time.sleep(0.3)
        exc = raises(vp.ArgumentError, next, it)
        name = "listing" if kind == "parts" else "upload"
        assert exc.message == f"the {name} is in use by another call"
        t.join(10)
        assert not t.is_alive()
        if kind == "parts":
            # The refused call did not close nor cancel the other thread's listing.
            assert results == [[1, 2, 3]]
            assert it.closed
        else:
            # The upload's start went on and returned the ID; the upload is still open.
            assert results == ["c"] and not it.closed
            it.close()
