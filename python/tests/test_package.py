"""The package itself: __version__ is Cargo.toml's, the public names, the wheel's contents."""

import os
import re
import subprocess
import sys
import tempfile
import zipfile

import pytest

import vault_parts as vp
from conftest import SID, child_env

CARGO_TOML = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "Cargo.toml")


def cargo_version():
    text = open(CARGO_TOML, encoding="utf-8").read()
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        package = text.split("[package]", 1)[1].split("\n[", 1)[0]
        return re.search(r'^version\s*=\s*"([^"]+)"', package, re.M).group(1)
    return tomllib.loads(text)["package"]["version"]


def test_version_is_cargo_tomls():
    assert vp.__version__ == cargo_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", vp.__version__)


def test_public_names():
    for name in vp.__all__:
        assert hasattr(vp, name), name
    for name in ("list_parts", "list_sessions", "abort", "verify", "upload", "Client"):
        assert name in vp.__all__ and callable(getattr(vp, name))
    assert issubclass(vp.Status, int) and issubclass(vp.Action, int)
    assert [s.name for s in vp.Status] == ["OK", "MISSING", "SIZE_MISMATCH", "MD5_MISMATCH", "UNVERIFIED", "EXTRA"]
    assert [a.name for a in vp.Action] == ["KEPT", "SENT"]


REPO = os.path.realpath(os.path.join(os.path.dirname(CARGO_TOML)))


def wheel_path() -> str:
    wheel = os.environ.get("VAULT_PARTS_WHEEL", "")
    if not os.path.isfile(wheel):
        pytest.fail(f"VAULT_PARTS_WHEEL={wheel!r} is not a file: make test-python sets it (make wheel)", pytrace=False)
    return wheel


def test_wheel_contents():
    wheel = wheel_path()
    assert os.path.basename(wheel).startswith(f"vault_parts-{cargo_version()}-")
    names = zipfile.ZipFile(wheel).namelist()
    for f in ("__init__.py", "_api.py", "_args.py", "_client.py", "_errors.py", "_handle.py",
              "_options.py", "_records.py", "_sigint.py", "py.typed", "_native/__init__.py"):
        assert f"vault_parts/{f}" in names, f
    assert any(n.startswith("vault_parts/_native/") and n.endswith(".so") for n in names)


LIST = """
import sys, vault_parts
assert "{repo}" not in vault_parts.__file__, vault_parts.__file__
for p in vault_parts.list_parts(sys.argv[1], sys.argv[2], "up-alone"):
    print(p.part_number, p.size, p.md5)
"""


def test_the_wheel_alone_works_with_the_source_tree_gone(sim, tmp_path):
    """The wheel in a new virtual environment outside the tree, run in a mount namespace where
    the source tree is an empty tmpfs: nothing of the tree (library, build dir) is needed."""
    wheel = wheel_path()
    venv = tempfile.mkdtemp(prefix="vp-wheel-alone-")
    assert not os.path.realpath(venv).startswith(REPO + os.sep)
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = os.path.join(venv, "bin", "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel], check=True,
                   env=child_env())
    script = os.path.join(venv, "list.py")
    with open(script, "w") as f:
        f.write(LIST.format(repo=REPO))
    s = sim("--upload", "up-alone:alice:3:5242880:100")
    hide = ["unshare", "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    shell = f'mount -t tmpfs none "{REPO}" && test ! -e "{REPO}/Cargo.toml" && exec "$0" "$@"'
    r = subprocess.run(hide + ["sh", "-c", shell, python, script, s.url, SID], capture_output=True, text=True,
                       env=child_env(), cwd="/")
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    lines = r.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["1", "5242880"], ["2", "5242880"], ["3", "100"]], r.stdout
    assert all(re.fullmatch(r"[0-9a-f]{32}", line.split()[2]) for line in lines), r.stdout
