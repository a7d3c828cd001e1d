"""Options validation (keywords, client-owned settings, durations) and Client settings."""

import math

import pytest

import vault_parts as vp
from conftest import SID, raises

URL = "http://127.0.0.1:9"  # never contacted: every case fails before any request


def calls():
    return {
        "list_parts": lambda **o: vp.list_parts(URL, SID, "up1", **o),
        "list_sessions": lambda **o: vp.list_sessions(URL, SID, **o),
        "abort": lambda **o: vp.abort(URL, SID, "up1", **o),
        "verify": lambda **o: vp.verify(URL, SID, "up1", "/dev/null", **o),
        "upload": lambda **o: vp.upload(URL, SID, "/dev/null", staging_path="/x", **o),
    }


@pytest.mark.parametrize("name", sorted(calls()))
def test_unknown_keyword_is_type_error(name):
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        calls()[name](bogus=1)


@pytest.mark.parametrize("name", sorted(calls()))
def test_client_owned_settings_beside_a_client(name, tmp_path):
    with vp.Client() as client:
        for option, value in (("ca_file", "/tmp/ca.pem"), ("add_ca_file", "/tmp/ca.pem"),
                              ("client_id", "me"), ("system_roots", True)):
            exc = raises(vp.ArgumentError, calls()[name], client=client, **{option: value})
            assert exc.message == f"{option} is the client's setting: pass it to Client()"
            assert (exc.code, exc.errstr) == (1, "bad argument or call")


@pytest.mark.parametrize("name", sorted(calls()))
@pytest.mark.parametrize("option", ["timeout", "deadline"])
@pytest.mark.parametrize("value", [0, 0.0, -1, -0.5, math.inf, math.nan])
def test_durations_must_be_positive_and_finite(name, option, value):
    exc = raises(vp.ArgumentError, calls()[name], **{option: value})
    assert exc.message == f"{option} must be a positive, finite number of seconds"


@pytest.mark.parametrize("value", ["1", True, [1]])
def test_durations_must_be_numbers(value):
    with pytest.raises(TypeError, match="timeout must be a number of seconds"):
        vp.list_parts(URL, SID, "up1", timeout=value)


def test_other_options():
    exc = raises(vp.ArgumentError, vp.list_parts, URL, SID, "up1", backoff=(0, 1))
    assert exc.message == "backoff must be a positive, finite number of seconds"
    exc = raises(vp.ArgumentError, vp.list_parts, URL, SID, "up1", timeout=5e9)
    assert exc.message == "timeout is too long: at most 4.29497e+06 seconds"
    with pytest.raises(TypeError):
        vp.list_parts(URL, SID, "up1", max_attempts=1.5)
    # Tiny positive durations round up to 1 ms rather than to 0.
    vp.list_parts(URL, SID, "up1", timeout=1e-6, deadline=1e-6).close()


def test_api_version(sim):
    s = sim("--upload", "up1:alice:2")
    lines = []
    parts = list(vp.list_parts(s.url, SID, "up1", api_version="v24.1", log=lambda lv, m: lines.append(m)))
    assert [p.part_number for p in parts] == [1, 2]
    assert lines[0].startswith(f"GET {s.url}/api/v24.1/services/file_staging/upload/up1/parts -> 200")


def test_client_settings(sim, tmp_path):
    missing = tmp_path / "missing.pem"
    exc = raises(vp.ArgumentError, vp.Client, ca_file=missing)
    assert exc.message == (f'the client\'s settings: ca_file "{missing}" cannot be read: '
                           "No such file or directory (os error 2)")
    exc = raises(vp.ArgumentError, vp.Client, max_idle=-1)
    assert exc.message == "max_idle must not be negative"
    with pytest.raises(TypeError):
        vp.Client(bogus=1)
    with pytest.raises(TypeError):
        vp.Client("positional")
    s = sim("--upload", "up1:alice:2")
    with vp.Client(client_id="vault-parts-tests", max_idle=2, proxy_from_env=False) as client:
        assert [p.part_number for p in vp.list_parts(s.url, SID, "up1", client=client)] == [1, 2]
        assert [x.id for x in vp.list_sessions(s.url, SID, client=client)] == ["up1"]
    assert client.closed
