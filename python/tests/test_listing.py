"""list_parts and list_sessions: exact parts, pages, Stats, Session fields, iterator lifetime,
8 threads on one Client, Client as a context manager, log= targets."""

import datetime
import logging
import threading

import pytest

import vault_parts as vp
from conftest import ADMIN, BOB, FAST, PART, SID, SECRETS, raises


def expected_parts(parts):
    return [(p.part_number, p.size) for p in parts]


def test_list_parts_pages_and_stats(sim):
    s = sim("--upload", "up1:alice:5:5242880:100")
    it = vp.list_parts(s.url, SID, "up1", limit=2)
    assert it.stats == vp.Stats(0, 0, 0, 0, 0, 0.0) and it.burst_remaining is None
    parts = list(it)
    assert [(p.part_number, p.size) for p in parts] == [(1, PART), (2, PART), (3, PART), (4, PART), (5, 100)]
    assert all(isinstance(p, vp.Part) and len(p.md5) == 32 and p.md5 == p.md5.lower()
               and int(p.md5, 16) >= 0 for p in parts)
    assert len({p.md5 for p in parts}) == 5
    assert it.closed
    st = it.stats
    assert isinstance(st, vp.Stats)
    assert (st.requests, st.retries, st.pages, st.connections) == (3, 0, 3, 1)
    assert st.bytes_received > 0 and 0 <= st.elapsed < 10
    # The default limit: one page.
    it = vp.list_parts(s.url, SID, "up1")
    assert expected_parts(it) == expected_parts(parts)
    assert (it.stats.requests, it.stats.pages) == (1, 1)


def test_stats_count_a_retry(sim):
    s = sim("--upload", "a:alice:3", "--fault", "a:parts:1:status=503")
    it = vp.list_parts(s.url, SID, "a", limit=2, **FAST)
    assert [p.part_number for p in it] == [1, 2, 3]
    st = it.stats
    assert (st.requests, st.retries, st.pages, st.connections) == (3, 1, 2, 1)


def test_part_faults_are_listed_as_vault_sends_them(sim):
    s = sim("--upload", "n:alice:3", "--part-fault", "n:nomd5=2")
    parts = list(vp.list_parts(s.url, SID, "n"))
    assert [p.part_number for p in parts] == [1, 2, 3]
    assert parts[1].md5 is None and parts[0].md5 is not None


def test_iterator_closed_after_break_in_with_and_after_exhaustion(sim):
    s = sim("--upload", "up1:alice:4")
    with vp.list_parts(s.url, SID, "up1", limit=1) as it:
        for part in it:
            assert part.part_number == 1
            break
        assert not it.closed
        assert it.stats.requests == 1
    assert it.closed
    assert it.stats.requests == 1  # final stats survive the handle
    # Closed before its end, the loop cannot go on as if the listing had ended.
    exc = raises(vp.ArgumentError, next, it)
    assert exc.message == "the listing was closed before its end"
    it = vp.list_parts(s.url, SID, "up1")
    assert [p.part_number for p in it] == [1, 2, 3, 4]
    assert it.closed
    with pytest.raises(StopIteration):
        next(it)
    it.close()  # idempotent
    assert it.closed
    # Closed before the first next(): nothing is sent, and iterating it is misuse.
    it = vp.list_parts(s.url, SID, "up1")
    it.close()
    assert raises(vp.ArgumentError, list, it).message == "the listing was closed before its end"
    assert it.stats.requests == 0


def test_list_sessions_fields(sim):
    s = sim("--upload", "up1:alice:5:5242880:100", "--upload", "up2:bob:2", "--upload", "up3:alice:0:5242880")
    sessions = sorted(vp.list_sessions(s.url, SID), key=lambda x: x.id)
    assert [x.id for x in sessions] == ["up1", "up3"]
    up1 = sessions[0]
    assert isinstance(up1, vp.Session)
    assert (up1.path, up1.size, up1.uploaded_bytes, up1.uploaded_parts) == ("/u/alice/up1", 4 * PART + 100, 4 * PART + 100, 5)
    created = datetime.datetime.strptime(up1.created_date, "%Y-%m-%dT%H:%M:%S.%fZ")
    expires = datetime.datetime.strptime(up1.expiration_date, "%Y-%m-%dT%H:%M:%S.%fZ")
    assert abs(created - datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)) < datetime.timedelta(minutes=5)
    assert expires > created
    assert (sessions[1].uploaded_parts, sessions[1].uploaded_bytes) == (0, 0)
    assert [x.id for x in vp.list_sessions(s.url, BOB)] == ["up2"]
    assert sorted(x.id for x in vp.list_sessions(s.url, ADMIN)) == ["up1", "up2", "up3"]
    it = vp.list_sessions(s.url, SID)
    assert len(list(it)) == 2 and it.closed


def test_client_context_manager_and_eight_threads(sim):
    counts = [1, 2, 3, 4, 5, 6, 7, 8]
    args = []
    for i, n in enumerate(counts):
        args += ["--upload", f"t{i}:alice:{n}:5242880:{1000 + i}", "--fault", f"t{i}:parts:all:delay=20"]
    s = sim(*args)
    expected = {i: [(k, PART) for k in range(1, n)] + [(n, 1000 + i)] for i, n in enumerate(counts)}
    with vp.Client(max_idle=8) as client:
        assert not client.closed and repr(client) == "<vault_parts.Client open>"
        barrier = threading.Barrier(8)
        results, errors = {}, []

        def work(i):
            try:
                barrier.wait()
                for _ in range(3):
                    it = vp.list_parts(s.url, SID, f"t{i}", limit=2, client=client)
                    got = [(p.part_number, p.size) for p in it]
                    assert got == expected[i], (i, got)
                    assert it.stats.pages == (counts[i] + 1) // 2
                results[i] = got
            except BaseException as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert results == expected
    assert client.closed and repr(client) == "<vault_parts.Client closed>"
    client.close()  # idempotent
    exc = pytest.raises(vp.ArgumentError, vp.list_parts, s.url, SID, "t0", client=client).value
    assert exc.message == "the client is closed"


def test_listing_opened_on_a_client_outlives_its_close(sim):
    s = sim("--upload", "up1:alice:3")
    client = vp.Client()
    it = vp.list_parts(s.url, SID, "up1", client=client, limit=1)
    assert next(it).part_number == 1
    client.close()
    assert [p.part_number for p in it] == [2, 3]


def test_log_callable(sim):
    s = sim("--upload", "a:alice:3", "--fault", "a:parts:1:status=503")
    lines = []
    me = threading.get_ident()
    it = vp.list_parts(s.url, SID, "a", limit=2, log=lambda level, msg: lines.append((level, msg, threading.get_ident())), **FAST)
    assert [p.part_number for p in it] == [1, 2, 3]
    assert lines and all(t == me for _, _, t in lines)
    assert {level for level, _, _ in lines} <= {logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR}
    warnings = [m for level, m, _ in lines if level == logging.WARNING]
    assert len(warnings) == 1 and "page 1: attempt 1 of 3 failed (HTTP 503" in warnings[0]
    assert (logging.INFO, "listing complete after 2 pages", me) in lines
    assert sum(1 for level, m, _ in lines if level == logging.DEBUG and m.startswith("GET ")) == 3
    for _, msg, _ in lines:
        assert all(secret not in msg for secret in SECRETS)


def test_log_logger(sim):
    s = sim("--upload", "a:alice:2")
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("vault_parts.test")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = Keep()
    logger.addHandler(handler)
    try:
        assert len(list(vp.list_parts(s.url, SID, "a", log=logger))) == 2
    finally:
        logger.removeHandler(handler)
    messages = [(r.levelno, r.getMessage()) for r in records]
    assert messages[1:] == [(logging.INFO, "page 1: 2 parts, last page"),
                            (logging.INFO, "listing complete after 1 page")], messages
    assert messages[0][0] == logging.DEBUG and messages[0][1].startswith(f"GET {s.url}/api/v25.3/services/file_staging/upload/a/parts -> 200 in ")
    assert all(r.name == "vault_parts.test" for r in records)
    assert all(SID not in m for _, m in messages)
    with pytest.raises(TypeError):
        vp.list_parts(s.url, SID, "a", log=42)


def test_burst_remaining_and_session_id_forms(sim):
    s = sim("--upload", "a:alice:3")
    it = vp.list_parts(s.url, SID, "a", limit=1)
    assert it.burst_remaining is None
    next(it)
    first = it.burst_remaining
    assert isinstance(first, int) and first > 0
    next(it)
    assert it.burst_remaining == first - 1
    assert [p.part_number for p in it] == [3]
    assert it.burst_remaining == first - 2  # the last value, kept once closed
    # The session ID as bytes and as "Bearer TOKEN".
    for sid in (SID.encode(), "Bearer " + SID):
        assert [p.part_number for p in vp.list_parts(s.url, sid, "a")] == [1, 2, 3]
