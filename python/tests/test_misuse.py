"""Misuse a hostile reviewer found: copies, re-entry from a log callback, truthy flags,
callbacks checked before anything is sent, durations too large to convert."""

import copy
import pickle

import pytest

import vault_parts as vp
from conftest import PART, SID, raises


@pytest.mark.parametrize("make", ["listing", "client"])
def test_a_handle_cannot_be_copied_or_pickled(sim, make):
    s = sim("--upload", "a:alice:2")
    obj = vp.list_parts(s.url, SID, "a") if make == "listing" else vp.Client()
    for dup in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError, match="cannot be"):
            dup(obj)
    if make == "listing":
        assert [p.part_number for p in obj] == [1, 2]
    obj.close()


def test_close_and_stats_from_inside_a_log_callback_wait_for_the_call(sim):
    s = sim("--upload", "a:alice:3")
    seen = []

    def log(level, message):
        if not seen:
            try:
                it.stats
            except vp.ArgumentError as e:
                seen.append(e.message)
            it.close()  # deferred: the library is inside this very call

    it = vp.list_parts(s.url, SID, "a", log=log)
    try:
        next(it)  # the part, if the page was in when the callback ran
    except vp.CancelledError as e:
        assert e.message.endswith("interrupted"), e.message
    assert it.closed and seen and seen[0].startswith("the listing is in use by a call")
    assert raises(vp.ArgumentError, next, it).message == "the listing was closed before its end"


def test_an_exception_in_a_log_callback_reaches_the_caller_and_stops_the_call(sim):
    s = sim("--upload", "a:alice:3")

    def log(level, message):
        raise RuntimeError("the log callback failed")

    it = vp.list_parts(s.url, SID, "a", log=log)
    with pytest.raises(RuntimeError, match="the log callback failed"):
        next(it)
    assert it.closed
    assert it.stats.requests <= 1


def test_flags_must_be_bools(sim, data_file):
    s = sim("--upload", "a:alice:2")
    with pytest.raises(TypeError, match="overwrite must be True or False, not str"):
        vp.upload(s.url, SID, data_file, staging_path="/u/alice/x.bin", overwrite="no")
    with pytest.raises(TypeError, match="hash_all must be True or False, not int"):
        vp.verify(s.url, SID, "a", data_file, hash_all=1)
    with pytest.raises(TypeError, match="proxy_from_env must be True or False, not str"):
        vp.Client(proxy_from_env="no")
    with pytest.raises(TypeError, match="system_roots must be True or False, not int"):
        vp.list_parts(s.url, SID, "a", system_roots=1)
    with pytest.raises(TypeError, match="client must be a vault_parts.Client, not object"):
        vp.list_parts(s.url, SID, "a", client=object())
    with pytest.raises(TypeError, match="backoff must be a tuple"):
        vp.list_parts(s.url, SID, "a", backoff=1)


def test_on_start_is_checked_before_the_session_is_created(sim, data_file):
    s = sim()
    with pytest.raises(TypeError, match="on_start must be a callable"):
        vp.upload(s.url, SID, data_file, staging_path="/u/alice/x.bin", on_start=42)
    assert list(vp.list_sessions(s.url, SID)) == []


def test_on_start_is_called_for_a_resume_too(sim, data_file):
    s = sim("--upload-file", f"r:alice:{data_file}:{PART}:1")
    ids = []
    u = vp.upload(s.url, SID, data_file, upload_session_id="r", commit="none", on_start=ids.append)
    assert [e.action for e in u] == [vp.Action.KEPT, vp.Action.SENT, vp.Action.SENT]
    assert ids == ["r"]


def test_a_huge_duration_is_an_argument_error(sim):
    s = sim("--upload", "a:alice:2")
    for name in ("timeout", "deadline"):
        exc = raises(vp.ArgumentError, vp.list_parts, s.url, SID, "a", **{name: 1e307})
        assert exc.message.startswith(f"{name} is too long: at most ")
