"""Fixtures for the vault_parts suite: vault-sim processes, a session ID, redaction checks.

Environment: VAULT_SIM, the path to the vault-sim binary (required: the suite fails, never
skips, without it); VAULT_PARTS_WHEEL (optional: the built wheel, whose contents
test_package.py checks). Proxy variables are removed from this process's environment before
any test runs, so the library (proxy_from_env=True by default) talks to vault-sim directly.
The package under test is whichever `import vault_parts` finds (pip install ./python).
"""

import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import pytest

import vault_parts as vp

for _name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy",
              "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
    os.environ.pop(_name, None)

#: Session IDs: over 12 characters, underscores so they never look like host names.
SID = "SID_alice_7f3a9c2e41d0"
BOB = "SID_bob_5e0b91c7aa32f"
ADMIN = "SID_admin_c0ffee1234ab"
WRONG = "SID_wrong_99d1e2f3a4b5"
SECRETS = (SID, BOB, ADMIN, WRONG)
MIB = 1024 * 1024
PART = 5 * MIB  # the smallest part size the library accepts
PKG_DIR = os.path.dirname(os.path.abspath(vp.__file__))
FAST = {"backoff": (0.01, 0.05)}  # retries without waiting


def sim_path() -> str:
    path = os.environ.get("VAULT_SIM")
    if not path:
        pytest.fail("VAULT_SIM is not set: point it at the vault-sim binary", pytrace=False)
    if not os.access(path, os.X_OK):
        pytest.fail(f"VAULT_SIM={path!r} is not an executable file", pytrace=False)
    return path


def child_env() -> dict:
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


class Sim:
    """One vault-sim process: .url once it listens; .stop() kills it."""

    def __init__(self, *args: str, users=True) -> None:
        self._dir = tempfile.mkdtemp(prefix="vp-sim-")
        url_file = os.path.join(self._dir, "url")
        base = ["--user", f"{SID}:alice", "--user", f"{BOB}:bob", "--user", f"{ADMIN}:root:admin"] if users else []
        self.proc = subprocess.Popen([sim_path(), "--port", "0", "--url-file", url_file, *base, *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env())
        deadline = time.monotonic() + 20
        while True:
            if os.path.exists(url_file) and os.path.getsize(url_file) > 0:
                text = open(url_file).read()
                if text.endswith("\n") or text.strip().startswith("http"):
                    self.url = text.strip()
                    break
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                pytest.fail(f"vault-sim exited with {self.proc.returncode}: {err}", pytrace=False)
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail("vault-sim did not start within 20 s", pytrace=False)
            time.sleep(0.01)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stderr.close()


@pytest.fixture(scope="session", autouse=True)
def _vault_sim_is_set():
    """Every test fails (none is skipped) without a usable VAULT_SIM."""
    sim_path()


@pytest.fixture
def sim():
    """A factory: sim(*args) starts a vault-sim with alice, bob and an admin and `args`."""
    started = []

    def start(*args: str, **kw) -> Sim:
        s = Sim(*args, **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture(scope="session")
def data_file(tmp_path_factory) -> Path:
    """A file of 2 full 5 MiB parts and a 1000-byte last one (deterministic bytes)."""
    path = tmp_path_factory.mktemp("data") / "file.bin"
    block = bytes(range(256)) * 4096  # 1 MiB
    with open(path, "wb") as f:
        for i in range(10):
            f.write(bytes([i]) * 16 + block[16:])
        f.write(b"x" * 1000)
    return path


def assert_redacted(exc: BaseException, *secrets: str) -> None:
    """No session ID in str, repr, .message, nor in the locals of the package's frames of a
    traceback formatted with capture_locals (nor anywhere in that formatted traceback)."""
    secrets = secrets or SECRETS
    te = traceback.TracebackException.from_exception(exc, capture_locals=True)
    package_frames = [fs for fs in te.stack if fs.filename.startswith(PKG_DIR)]
    assert package_frames, "the exception was not raised inside the package"
    texts = [str(exc), repr(exc), getattr(exc, "message", "")]
    for fs in package_frames:
        texts.append(repr(fs.locals))
    # The whole traceback but the test's own frames (which hold the IDs as arguments).
    pkg_only = traceback.TracebackException.from_exception(exc, capture_locals=True)
    pkg_only.stack = traceback.StackSummary.from_list(package_frames)
    texts.append("".join(pkg_only.format()))
    for text in texts:
        for secret in secrets:
            assert secret not in text
            assert secret.encode().hex() not in text


def raises(cls, fn, *args, **kwargs):
    """fn(*args, **kwargs) must raise exactly `cls`; returns the exception, checked for
    redaction."""
    with pytest.raises(vp.VaultPartsError) as info:
        fn(*args, **kwargs)
    exc = info.value
    assert type(exc) is cls, repr(exc)
    assert_redacted(exc)
    return exc
