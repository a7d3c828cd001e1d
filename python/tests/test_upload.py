"""upload (new and resume; commit "none", "commit", "wait"; on_start before any part), verify
(verdicts and summary, paths as str, bytes and pathlib.Path) and abort."""

import hashlib
import os
import pathlib

import pytest

import vault_parts as vp
from conftest import FAST, PART, SID, raises


def md5s(path, part_size=PART):
    out = []
    with open(path, "rb") as f:
        while True:
            chunk = f.read(part_size)
            if not chunk:
                return out
            out.append((len(chunk), hashlib.md5(chunk).hexdigest()))


def path_forms(p):
    return [str(p), os.fsencode(str(p)), pathlib.Path(p)]


def test_verify_verdicts_and_summary_with_every_path_form(sim, data_file):
    s = sim("--upload-file", f"r1:alice:{data_file}:{PART}:1")
    local = md5s(data_file)
    for path in path_forms(data_file):
        v = vp.verify(s.url, SID, "r1", path)
        verdicts = list(v)
        assert verdicts == [
            vp.Verdict(1, vp.Status.OK, 0, PART, PART, local[0][1], local[0][1]),
            vp.Verdict(2, vp.Status.MISSING, PART, PART, 0, None, None),
            vp.Verdict(3, vp.Status.MISSING, 2 * PART, 1000, 0, None, None),
        ]
        assert v.closed
        counts = {st: 0 for st in vp.Status}
        counts.update({vp.Status.OK: 1, vp.Status.MISSING: 2})
        assert v.summary == vp.VerifySummary(counts, PART, 2, True)
    v = vp.verify(s.url, SID, "r1", data_file, hash_all=True, threads=2, limit=1)
    verdicts = list(v)
    assert [(x.part_number, x.status, x.local_md5) for x in verdicts] == \
        [(1, vp.Status.OK, local[0][1]), (2, vp.Status.MISSING, local[1][1]), (3, vp.Status.MISSING, local[2][1])]
    assert v.summary.bytes_hashed == os.path.getsize(data_file)


def test_verify_mismatches(sim, data_file):
    s = sim("--upload-file", f"r:alice:{data_file}:{PART}:3", "--part-fault", "r:md5=2", "--part-fault", "r:size=3")
    v = vp.verify(s.url, SID, "r", data_file, part_size=PART)
    got = [(x.part_number, x.status) for x in v]
    assert got == [(1, vp.Status.OK), (2, vp.Status.MD5_MISMATCH), (3, vp.Status.SIZE_MISMATCH)]
    assert v.summary.first_to_upload == 2
    assert v.summary.counts[vp.Status.MD5_MISMATCH] == 1 and v.summary.counts[vp.Status.SIZE_MISMATCH] == 1


def test_upload_resume_wait(sim, data_file):
    s = sim("--upload-file", f"r1:alice:{data_file}:{PART}:1", "--job-poll-window-ms", "0")
    local = md5s(data_file)
    started = []
    u = vp.upload(s.url, SID, pathlib.Path(data_file), upload_session_id="r1", commit="wait", poll=0.1,
                  on_start=started.append)
    assert u.upload_session_id == "r1"  # not None: the caller gave it
    events = list(u)
    assert events == [
        vp.PartUpload(1, vp.Status.OK, vp.Action.KEPT, 0, PART, local[0][1], 0),
        vp.PartUpload(2, vp.Status.MISSING, vp.Action.SENT, PART, PART, local[1][1], 1),
        vp.PartUpload(3, vp.Status.MISSING, vp.Action.SENT, 2 * PART, 1000, local[2][1], 1),
    ]
    assert started == ["r1"]  # on_start gets the ID a resume was given, before any part
    summary = u.summary
    assert u.closed
    assert (summary.parts, summary.kept, summary.sent, summary.bytes_sent, summary.committed) == \
        (3, 1, 2, PART + 1000, True)
    assert summary.bytes_hashed == os.path.getsize(data_file) and summary.job_id > 0
    # Committed and staged: the session is gone.
    assert [x.id for x in vp.list_sessions(s.url, SID)] == []


@pytest.mark.parametrize("form", ["str", "bytes", "path"])
def test_upload_new_commit_none_on_start_first(sim, data_file, form):
    s = sim()
    path = dict(zip(["str", "bytes", "path"], path_forms(data_file)))[form]
    seen = []

    def on_start(upload_id):
        # Called with the new ID before any part is sent: the session exists, empty.
        assert isinstance(upload_id, str) and len(upload_id) == 32
        seen.append(upload_id)
        assert list(vp.list_parts(s.url, SID, upload_id)) == []
        (session,) = vp.list_sessions(s.url, SID)
        assert (session.id, session.path, session.size, session.uploaded_parts) == \
            (upload_id, "/staging/f.bin", os.path.getsize(data_file), 0)

    u = vp.upload(s.url, SID, path, staging_path="/staging/f.bin", part_size=PART, commit="none",
                  on_start=on_start)
    assert u.upload_session_id is None
    first = next(u)
    assert len(seen) == 1 and u.upload_session_id == seen[0]
    assert u.start() == seen[0] and len(seen) == 1  # runs once
    rest = list(u)
    local = md5s(data_file)
    assert [first, *rest] == [vp.PartUpload(i + 1, vp.Status.MISSING, vp.Action.SENT, i * PART, size, md5, 1)
                              for i, (size, md5) in enumerate(local)]
    assert u.summary == vp.UploadSummary(3, 0, 3, os.path.getsize(data_file), os.path.getsize(data_file), None, False)
    # commit="none": every part is there, the session still open.
    assert [(p.part_number, p.size, p.md5) for p in vp.list_parts(s.url, SID, seen[0])] == \
        [(i + 1, size, md5) for i, (size, md5) in enumerate(local)]
    # Then verify agrees, and resuming keeps every part and commits.
    assert [x.status for x in vp.verify(s.url, SID, seen[0], path)] == [vp.Status.OK] * 3
    u = vp.upload(s.url, SID, path, upload_session_id=seen[0], commit="commit")
    assert [e.action for e in u] == [vp.Action.KEPT] * 3
    assert u.summary.committed and u.summary.job_id > 0 and u.summary.sent == 0


def test_upload_start_explicit_and_commit(sim, data_file):
    s = sim("--job-delay-ms", "60000")
    u = vp.upload(s.url, SID, data_file, staging_path="/staging/g.bin", part_size=PART, commit="commit")
    upload_id = u.start()
    assert u.upload_session_id == upload_id and u.summary.sent == 0
    assert [e.part_number for e in u] == [1, 2, 3]
    summary = u.summary
    assert summary.committed and summary.job_id > 0
    # "commit" does not wait for the (one-minute) job: the session is committing.
    assert summary.sent == 3


def test_on_start_exception_closes_the_upload(sim, data_file):
    s = sim()

    def boom(upload_id):
        raise RuntimeError("stop here")

    u = vp.upload(s.url, SID, data_file, staging_path="/staging/h.bin", part_size=PART, on_start=boom)
    with pytest.raises(RuntimeError, match="stop here"):
        next(u)
    assert u.closed
    (session,) = vp.list_sessions(s.url, SID)
    assert session.uploaded_parts == 0  # no part was sent


def test_upload_part_size_too_small(sim, data_file):
    s = sim()
    u = vp.upload(s.url, SID, data_file, staging_path="/staging/f.bin", part_size=1000)
    exc = raises(vp.ArgumentError, next, u)
    assert exc.code == 1 and "1000" in exc.message
    assert u.closed
    assert list(vp.list_sessions(s.url, SID)) == []


def test_upload_retries_a_429_put(sim, data_file):
    s = sim("--upload-file", f"f:alice:{data_file}:{PART}:0", "--fault", "f:put:all:status=429,1")
    u = vp.upload(s.url, SID, data_file, upload_session_id="f", part_size=PART, commit="none", max_attempts=1)
    exc = raises(vp.RateLimitError, list, u)
    assert (exc.code, exc.http_status, exc.retry_after, exc.error_type) == (4, 429, 1.0, None)
    assert exc.message == f"part 1 (PUT {s.url}/api/v25.3/services/file_staging/upload/f): HTTP 429 Too Many Requests from {s.url}"
    s = sim("--upload-file", f"f:alice:{data_file}:{PART}:0", "--fault", "f:put:1:status=503", "--fault", "f:put:3:close")
    events = list(vp.upload(s.url, SID, data_file, upload_session_id="f", part_size=PART, commit="none", **FAST))
    assert [(e.part_number, e.action, e.attempts) for e in events] == \
        [(1, vp.Action.SENT, 2), (2, vp.Action.SENT, 2), (3, vp.Action.SENT, 1)]


def test_abort(sim):
    s = sim("--upload", "up1:alice:3", "--upload", "up2:alice:1")
    assert vp.abort(s.url, SID, "up1") is None
    assert [x.id for x in vp.list_sessions(s.url, SID)] == ["up2"]
    exc = raises(vp.VaultError, list, vp.list_parts(s.url, SID, "up1"))
    assert exc.error_type == "INVALID_DATA"
    exc = raises(vp.VaultError, vp.abort, s.url, SID, "up1")
    assert exc.error_type == "INVALID_DATA"


def test_verify_extra_part_is_not_resumable(sim, data_file):
    s = sim("--upload-file", f"r:alice:{data_file}:{PART}:3", "--part-fault", "r:extra=1")
    v = vp.verify(s.url, SID, "r", data_file)
    verdicts = list(v)
    assert [(x.part_number, x.status) for x in verdicts] == \
        [(1, vp.Status.OK), (2, vp.Status.OK), (3, vp.Status.OK), (4, vp.Status.EXTRA)]
    assert v.summary.counts[vp.Status.EXTRA] == 1 and v.summary.resumable is False


def test_upload_new_and_wait(sim, data_file):
    s = sim("--job-poll-window-ms", "0", "--job-delay-ms", "200")
    ids = []
    u = vp.upload(s.url, SID, data_file, staging_path="/staging/w.bin", part_size=PART, poll=0.1,
                  on_start=ids.append)
    assert [(e.part_number, e.action) for e in u] == [(1, vp.Action.SENT), (2, vp.Action.SENT), (3, vp.Action.SENT)]
    assert len(ids) == 1 and u.upload_session_id == ids[0]
    assert u.summary.committed and u.summary.job_id > 0
    assert list(vp.list_sessions(s.url, SID)) == []  # on file staging now


def test_connection_reset_mid_put_is_resent(sim, data_file):
    s = sim("--upload-file", f"f:alice:{data_file}:{PART}:0", "--fault", "f:put:1:reset_mid_body")
    u = vp.upload(s.url, SID, data_file, upload_session_id="f", part_size=PART, commit="none", **FAST)
    events = list(u)
    assert [(e.part_number, e.attempts) for e in events] == [(1, 2), (2, 1), (3, 1)]
    assert [p.md5 for p in vp.list_parts(s.url, SID, "f")] == [m for _, m in md5s(data_file)]


def test_a_collected_iterator_frees_its_handle(sim):
    import gc
    import weakref
    s = sim("--upload", "a:alice:3")
    it = vp.list_parts(s.url, SID, "a", limit=1)
    next(it)
    freed = []
    weakref.finalize(it, freed.append, True)
    del it
    gc.collect()
    assert freed == [True]
