"""Every exception class, produced through vault-sim faults or bad arguments, with its exact
attributes (code, errstr, message, error_type, http_status, retry_after); the session ID is in
none of them, nor in a traceback formatted with capture_locals."""

import pickle
import socket
import time

import pytest

import vault_parts as vp
from vault_parts import _native
from conftest import FAST, PART, SID, WRONG, assert_redacted, raises

lib = _native.lib


def page1(url, upload):
    return f"page 1 (GET {url}/api/v25.3/services/file_staging/upload/{upload}/parts)"


def check(exc, code, errstr, error_type=None, http_status=None, retry_after=None):
    assert exc.code == code
    assert exc.errstr == errstr
    assert exc.error_type == error_type
    assert exc.http_status == http_status
    assert exc.retry_after == retry_after
    assert str(exc) == exc.message
    assert repr(exc) == f"{type(exc).__name__}(code={code}, message={exc.message!r})"


def test_class_hierarchy_and_codes():
    table = {
        vp.ArgumentError: lib.VAULT_PARTS_E_ARG, vp.AuthError: lib.VAULT_PARTS_E_AUTH,
        vp.AccessError: lib.VAULT_PARTS_E_ACCESS, vp.RateLimitError: lib.VAULT_PARTS_E_RATE_LIMIT,
        vp.VaultError: lib.VAULT_PARTS_E_VAULT, vp.HTTPError: lib.VAULT_PARTS_E_HTTP,
        vp.NetworkError: lib.VAULT_PARTS_E_NETWORK, vp.TimeoutError: lib.VAULT_PARTS_E_TIMEOUT,
        vp.TLSError: lib.VAULT_PARTS_E_TLS, vp.ProtocolError: lib.VAULT_PARTS_E_PROTOCOL,
        vp.InternalError: lib.VAULT_PARTS_E_INTERNAL, vp.LocalFileError: lib.VAULT_PARTS_E_IO,
        vp.CancelledError: lib.VAULT_PARTS_E_CANCELLED, vp.ConflictError: lib.VAULT_PARTS_E_CONFLICT,
        vp.IntegrityError: lib.VAULT_PARTS_E_INTEGRITY,
    }
    assert sorted(table.values()) == list(range(1, 16))
    from vault_parts._errors import error_for
    for cls, code in table.items():
        assert issubclass(cls, vp.VaultPartsError) and issubclass(cls, Exception)
        exc = error_for(code, "m", "T", 503, 1.5)
        assert type(exc) is cls
        assert (exc.code, exc.message, exc.error_type, exc.http_status, exc.retry_after) == (code, "m", "T", 503, 1.5)
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is cls
        assert (back.code, back.errstr, back.message, back.error_type, back.http_status, back.retry_after) == \
            (exc.code, exc.errstr, exc.message, exc.error_type, exc.http_status, exc.retry_after)
    assert issubclass(vp.ArgumentError, ValueError)
    assert vp.TimeoutError is not TimeoutError
    assert type(error_for(999)) is vp.InternalError
    plain = error_for(lib.VAULT_PARTS_E_HTTP)
    assert plain.message == plain.errstr == "unexpected HTTP status"
    assert (plain.error_type, plain.http_status, plain.retry_after) == (None, None, None)


def test_auth_error_wrong_session_id(sim):
    s = sim("--upload", "up1:alice:3")
    exc = raises(vp.AuthError, list, vp.list_parts(s.url, WRONG, "up1"))
    check(exc, 2, "session ID rejected", "INVALID_SESSION_ID", 200)
    assert exc.message == page1(s.url, "up1") + ": Vault answered FAILURE: INVALID_SESSION_ID: Invalid or expired session ID."
    exc = raises(vp.AuthError, list, vp.list_sessions(s.url, WRONG))
    check(exc, 2, "session ID rejected", "INVALID_SESSION_ID", 200)
    for wrong in (WRONG.encode(), "Bearer " + WRONG):
        exc = raises(vp.AuthError, list, vp.list_parts(s.url, wrong, "up1"))
        check(exc, 2, "session ID rejected", "INVALID_SESSION_ID", 200)


def test_access_error_other_users_session(sim):
    s = sim("--upload", "up2:bob:2")
    exc = raises(vp.AccessError, list, vp.list_parts(s.url, SID, "up2"))
    check(exc, 3, "access denied", "INSUFFICIENT_ACCESS", 200)
    assert exc.message == page1(s.url, "up2") + (": Vault answered FAILURE: INSUFFICIENT_ACCESS: User does not "
                                                 "have sufficient privileges to perform the action.")
    exc = raises(vp.AccessError, vp.abort, s.url, SID, "up2")
    check(exc, 3, "access denied", "INSUFFICIENT_ACCESS", 200)


def test_vault_error_unknown_session(sim):
    s = sim()
    exc = raises(vp.VaultError, list, vp.list_parts(s.url, SID, "nosuchsession"))
    check(exc, 5, "Vault reported an error", "INVALID_DATA", 200)
    assert exc.message == page1(s.url, "nosuchsession") + ": Vault answered FAILURE: INVALID_DATA: Invalid upload session ID."


def test_rate_limit_error_429_with_retry_after(sim):
    s = sim("--upload", "a:alice:3", "--fault", "a:parts:all:status=429,1")
    exc = raises(vp.RateLimitError, list, vp.list_parts(s.url, SID, "a", max_attempts=1))
    check(exc, 4, "rate limited", None, 429, 1.0)
    assert exc.message == page1(s.url, "a") + f": HTTP 429 Too Many Requests from {s.url}"
    s = sim("--upload", "a:alice:3", "--fault", "a:parts:all:status=429")
    it = vp.list_parts(s.url, SID, "a", **FAST)
    exc = raises(vp.RateLimitError, list, it)
    check(exc, 4, "rate limited", None, 429, None)
    assert exc.message == page1(s.url, "a") + f" (after 3 attempts): HTTP 429 Too Many Requests from {s.url}"
    assert it.closed and (it.stats.requests, it.stats.retries, it.stats.pages) == (3, 2, 0)


def test_http_error_503_with_retry_after(sim):
    s = sim("--upload", "b:alice:3", "--fault", "b:parts:all:status=503,2")
    exc = raises(vp.HTTPError, list, vp.list_parts(s.url, SID, "b", max_attempts=1))
    check(exc, 6, "unexpected HTTP status", None, 503, 2.0)
    assert exc.message == page1(s.url, "b") + f": HTTP 503 Service Unavailable from {s.url}"
    # Retried (Retry-After capped by the backoff maximum), then reported.
    t0 = time.monotonic()
    it = vp.list_parts(s.url, SID, "b", max_attempts=2, **FAST)
    exc = raises(vp.HTTPError, list, it)
    assert time.monotonic() - t0 < 1.5
    check(exc, 6, "unexpected HTTP status", None, 503, 2.0)
    assert exc.message == page1(s.url, "b") + f" (after 2 attempts): HTTP 503 Service Unavailable from {s.url}"
    assert (it.stats.requests, it.stats.retries) == (2, 1)


def test_verify_errors_carry_the_status_and_retry_after_and_its_stats_count_requests(sim, data_file):
    """vault_parts_verify_http_status / _retry_after_ms / _stats reach Verification's errors
    and .stats: the details GET answered, then the listing's 503."""
    s = sim("--upload-file", f"v:alice:{data_file}:{PART}:3", "--fault", "v:parts:all:status=503,2")
    v = vp.verify(s.url, SID, "v", data_file, max_attempts=1)
    exc = raises(vp.HTTPError, list, v)
    check(exc, 6, "unexpected HTTP status", None, 503, 2.0)
    assert (v.stats.requests, v.stats.retries, v.stats.pages) == (2, 0, 0)
    ok = sim("--upload-file", f"v:alice:{data_file}:{PART}:3")
    v = vp.verify(ok.url, SID, "v", data_file, limit=2)
    assert [x.status for x in v] == [vp.Status.OK] * 3
    assert (v.stats.requests, v.stats.retries, v.stats.pages, v.stats.connections) == (3, 0, 2, 1)


def test_network_error_closed_port(sim):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}"
    it = vp.list_parts(url, SID, "up1", **FAST)
    exc = raises(vp.NetworkError, list, it)
    check(exc, 7, "network error")
    assert exc.message == page1(url, "up1") + " (after 3 attempts): connection failed: Connection refused (os error 111)"
    assert (it.stats.requests, it.stats.retries, it.stats.connections) == (3, 2, 0)
    s = sim("--upload", "d:alice:3", "--fault", "d:parts:all:close")
    exc = raises(vp.NetworkError, list, vp.list_parts(s.url, SID, "d", max_attempts=1))
    check(exc, 7, "network error")
    assert exc.message == page1(s.url, "d") + ": connection failed: Peer disconnected"


def test_timeout_error_hang_and_deadline(sim):
    s = sim("--upload", "c:alice:3", "--fault", "c:parts:all:hang")
    t0 = time.monotonic()
    exc = raises(vp.TimeoutError, list, vp.list_parts(s.url, SID, "c", timeout=0.3, max_attempts=1))
    elapsed = time.monotonic() - t0
    assert 0.29 <= elapsed < 5
    check(exc, 8, "timed out")
    assert exc.message == page1(s.url, "c") + ": timed out (no progress for 300 ms)"
    t0 = time.monotonic()
    exc = raises(vp.TimeoutError, list, vp.list_parts(s.url, SID, "c", deadline=0.5))
    elapsed = time.monotonic() - t0
    assert 0.49 <= elapsed < 5
    check(exc, 8, "timed out")
    assert exc.message == page1(s.url, "c") + ": the deadline was reached (vault_parts_set_deadline_ms)"


def test_tls_error_without_ca_file(sim, tmp_path):
    ca = tmp_path / "ca.pem"
    s = sim("--upload", "t:alice:3", "--tls-ca-out", str(ca))
    assert s.url.startswith("https://127.0.0.1:")
    exc = raises(vp.TLSError, list, vp.list_parts(s.url, SID, "t"))
    check(exc, 9, "TLS error")
    assert exc.message == page1(s.url, "t") + ": TLS failure: invalid peer certificate: UnknownIssuer"
    # The CA as a per-call option and through a Client, as str, bytes and Path.
    for trust in (str(ca), bytes(ca), ca):
        assert [p.part_number for p in vp.list_parts(s.url, SID, "t", ca_file=trust)] == [1, 2, 3]
        with vp.Client(ca_file=trust) as client:
            assert [p.part_number for p in vp.list_parts(s.url, SID, "t", client=client)] == [1, 2, 3]
    assert [p.part_number for p in vp.list_parts(s.url, SID, "t", add_ca_file=ca)] == [1, 2, 3]
    with vp.Client() as client:
        raises(vp.TLSError, list, vp.list_parts(s.url, SID, "t", client=client))


def test_protocol_error_garbage_body(sim):
    s = sim("--upload", "g:alice:3", "--fault", "g:parts:all:body=garbage")
    it = vp.list_parts(s.url, SID, "g", **FAST)
    exc = raises(vp.ProtocolError, list, it)
    check(exc, 10, "protocol violation by the server", None, 200)
    assert exc.message == page1(s.url, "g") + ": the body is not valid JSON (expected value at line 1 column 1)"
    assert it.stats.requests == 1  # never retried


def test_errors_on_a_later_page_come_after_the_first_pages_parts(sim):
    s = sim("--upload", "p:alice:5", "--fault", "p:parts:2:failure=INVALID_DATA")
    it = vp.list_parts(s.url, SID, "p", limit=2)
    assert [next(it).part_number, next(it).part_number] == [1, 2]
    exc = raises(vp.VaultError, next, it)
    assert exc.error_type == "INVALID_DATA" and exc.message.startswith(f"page 2 (GET {s.url}/api/")
    assert it.closed


def test_local_file_error_missing_file(sim, tmp_path):
    s = sim("--upload", "h:alice:2")
    missing = tmp_path / "missing.bin"
    for path in (missing, str(missing), bytes(missing)):
        exc = raises(vp.LocalFileError, lambda: list(vp.verify(s.url, SID, "h", path)))
        check(exc, 12, "local file error")
        assert exc.message == f"{missing}: cannot open: No such file or directory (os error 2)"
        exc = raises(vp.LocalFileError, lambda: list(vp.upload(s.url, SID, path, staging_path="/x/m.bin")))
        check(exc, 12, "local file error")
        assert exc.message == f"{missing}: cannot open: No such file or directory (os error 2)"
    # The file is opened before the session is created: no session was made.
    assert [x.id for x in vp.list_sessions(s.url, SID)] == ["h"]


def test_conflict_error_declared_size_differs(sim, data_file):
    s = sim("--upload", "h:alice:2")
    msg = (f"this file cannot complete this session: the session was created for {2 * PART} bytes, "
           f"the file has {data_file.stat().st_size}; nothing was sent")
    exc = raises(vp.ConflictError, list, vp.verify(s.url, SID, "h", data_file))
    check(exc, 14, "file and session conflict", None, 200)  # the details answer, as the upload
    assert exc.message == msg
    u = vp.upload(s.url, SID, data_file, upload_session_id="h", commit="none")
    exc = raises(vp.ConflictError, list, u)
    check(exc, 14, "file and session conflict", None, 200)  # the last status the upload saw
    assert exc.message == msg
    assert u.closed and u.summary == vp.UploadSummary(0, 0, 0, 0, 0, None, False)
    v = vp.verify(s.url, SID, "h", data_file)
    raises(vp.ConflictError, list, v)
    assert v.closed and v.summary == vp.VerifySummary({st: 0 for st in vp.Status}, 0, None, False)
    # Nothing changed on the server.
    assert [(p.part_number, p.size) for p in vp.list_parts(s.url, SID, "h")] == [(1, PART), (2, PART)]


def test_integrity_error_echo_md5(sim, data_file):
    s = sim("--upload-file", f"f:alice:{data_file}:{PART}:0", "--fault", "f:put:all:echo_md5")
    u = vp.upload(s.url, SID, data_file, upload_session_id="f", part_size=PART, commit="none", **FAST)
    exc = raises(vp.IntegrityError, list, u)
    check(exc, 15, "part stored with other content", None, 200)
    assert exc.message.startswith(f"part 1 (PUT {s.url}/api/v25.3/services/file_staging/upload/f) (after 3 attempts): "
                                  f"Vault stored part 1 as {PART} bytes with MD5 ")
    assert exc.message.endswith(f"the local part is {PART} bytes with MD5 " + part_md5(data_file, 0))
    assert u.closed and (u.summary.sent, u.summary.committed) == (0, False)
    assert u.summary.bytes_sent == 3 * PART


def part_md5(path, index):
    import hashlib
    with open(path, "rb") as f:
        f.seek(index * PART)
        return hashlib.md5(f.read(PART)).hexdigest()


def test_vault_error_job_errors_encountered(sim, data_file):
    s = sim("--upload-file", f"g:alice:{data_file}:{PART}:3", "--fault", "g:commit:all:job=ERRORS_ENCOUNTERED",
            "--job-poll-window-ms", "0", "--job-delay-ms", "100")
    u = vp.upload(s.url, SID, data_file, upload_session_id="g", part_size=PART, commit="wait", poll=0.1)
    exc = raises(vp.VaultError, list, u)
    check(exc, 5, "Vault reported an error", "ERRORS_ENCOUNTERED", 200)
    job = u.summary.job_id
    assert isinstance(job, int) and job > 0
    assert exc.message == f'the commit\'s job {job} ended with status "ERRORS_ENCOUNTERED": the file is not on staging'
    assert u.summary == vp.UploadSummary(3, 3, 0, 0, data_file.stat().st_size, job, True)


def test_argument_errors():
    url = "http://127.0.0.1:9"
    cases = [
        (lambda: vp.list_parts("not a url", SID, "a"),
         "vault_url (not quoted: without a scheme it may be the session ID in the wrong place) is not usable: "
         "the host name holds characters other than letters, digits, '-' and '.'"),
        (lambda: vp.list_parts(url, SID, "a", limit=0), "limit 0 is out of range: Vault accepts 1 to 1000"),
        (lambda: vp.list_parts(url, SID, "a", limit=1001), "limit 1001 is out of range: Vault accepts 1 to 1000"),
        (lambda: vp.list_parts(url, SID, "a", max_attempts=0), "max_attempts must be at least 1"),
        (lambda: vp.list_parts(url, SID, "a\0b"), "upload_session_id holds a NUL byte"),
        (lambda: vp.list_parts(url, SID + "\0", "a"), "session_id holds a NUL byte"),
        (lambda: vp.list_parts(url, SID, "a", limit=-1), "limit must not be negative"),
        (lambda: vp.verify(url, SID, "a", "/dev/null", threads=17), "threads is 17: at most 16"),
        (lambda: vp.upload(url, SID, "/dev/null", staging_path="/x", upload_session_id="a"),
         "pass exactly one of staging_path (a new session) and upload_session_id (resume)"),
        (lambda: vp.upload(url, SID, "/dev/null"),
         "pass exactly one of staging_path (a new session) and upload_session_id (resume)"),
        (lambda: vp.upload(url, SID, "/dev/null", staging_path="/x", commit="bogus"),
         'commit must be "none", "commit" or "wait"'),
        (lambda: vp.upload(url, SID, "/dev/null", staging_path="/x", poll=0.05),
         "poll interval 50 ms is out of range: 100 to 600000 ms"),
        (lambda: vp.upload(url, SID, b"/dev/\0null", staging_path="/x"), "path holds a NUL byte"),
    ]
    for fn, message in cases:
        exc = raises(vp.ArgumentError, fn)
        check(exc, 1, "bad argument or call")
        assert exc.message == message
    for fn in (lambda: vp.list_parts(url, 42, "a"), lambda: vp.list_parts(url, SID, 42),
               lambda: vp.list_parts(url, SID, "a", limit="2"), lambda: vp.verify(url, SID, "a", 3.5)):
        with pytest.raises(TypeError):
            fn()


def test_closed_client_error_is_redacted(sim):
    s = sim("--upload", "up1:alice:1")
    client = vp.Client()
    client.close()
    for fn in (lambda: vp.list_parts(s.url, SID, "up1", client=client),
               lambda: vp.list_sessions(s.url, SID, client=client),
               lambda: vp.abort(s.url, SID, "up1", client=client)):
        exc = raises(vp.ArgumentError, fn)
        assert exc.message == "the client is closed"


def test_redaction_with_a_log_target_and_a_client(sim):
    """An AuthError for a wrong session ID, with a log callback and through a Client: no trace
    of the ID in the exception, its traceback's package frames, nor any log line."""
    s = sim("--upload", "up1:alice:1")
    lines = []
    with vp.Client() as client:
        exc = raises(vp.AuthError, list, vp.list_parts(s.url, WRONG, "up1", client=client,
                                                       log=lambda level, msg: lines.append(msg)))
    assert_redacted(exc, WRONG)
    assert lines and all(WRONG not in m for m in lines)
