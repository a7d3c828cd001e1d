"""The calls: list_parts, list_sessions, abort, verify and upload."""

import sys
from typing import Any, Callable, Dict, Optional, Union

from . import _options
from ._args import PathArg, Secret, count, flag, milliseconds, text
from ._args import path as fs_path
from ._errors import argument_error, error_for
from ._handle import ITER, UPLOAD, VERIFY, Handle, Iterator, handle_error, in_use
from ._native import ffi, lib
from ._records import (Action, Part, PartUpload, Session, Stats, Status, UploadSummary, Verdict,
                       VerifySummary)

if sys.version_info >= (3, 11):
    from typing import Literal, Unpack
else:  # pragma: no cover
    from typing_extensions import Literal, Unpack

_U64_MAX = 2**64 - 1


def _text(value: Any) -> str:
    return ffi.string(value).decode("utf-8", "replace")


def _md5(value: Any) -> Optional[str]:
    return ffi.string(value).decode("ascii") or None


def _stats(read: Callable[[Any, Any], int], ptr: Any) -> Stats:
    s = ffi.new("vault_parts_statistics *")
    read(ptr, s)
    return Stats(s.requests, s.retries, s.pages, s.bytes_received, s.connections, s.elapsed_ms / 1000)


def _open_listing(opener: Callable[..., int], client_opener: Callable[..., int], vault_url: str,
                  secret: Secret, args: tuple, options: Dict[str, Any]) -> Handle:
    """A new listing handle (kind ITER), options applied; raises its error and frees it."""
    _options.check(options)
    out = ffi.new("vault_parts_iter **")
    url = text("vault_url", vault_url)
    client = options.get("client")
    if client is not None:
        code = client.open(client_opener, out, url, secret, *args)
    else:
        code = opener(out, url, secret.encoded(), *args)
    handle = Handle(ITER, out[0])
    if code != lib.VAULT_PARTS_OK:
        error = handle_error(ITER, out[0], code)
        handle.close()
        raise error
    try:
        _options.apply(handle, options)
    except BaseException:
        handle.close()
        raise
    return handle


class PartListing(Iterator[Part]):
    """The parts of an upload session, in Vault's order, fetched a page at a time as the
    iteration needs them. A context manager; freed when exhausted, closed or collected."""

    _step_fn = lib.vault_parts_next
    _out_type = "vault_part *"

    def _row(self, out: Any) -> Part:
        return Part(out.part_number, out.size, _md5(out.part_content_md5))

    def _final(self, ptr: Any) -> None:
        self._last_stats = self._read_stats(ptr)
        self._last_burst = lib.vault_parts_burst_remaining(ptr)

    @staticmethod
    def _read_stats(ptr: Any) -> Stats:
        return _stats(lib.vault_parts_stats, ptr)

    @property
    def stats(self) -> Stats:
        """The listing's counts so far (final once closed)."""
        return self._read(self._read_stats, lambda: self._last_stats)

    @property
    def burst_remaining(self) -> Optional[int]:
        """Requests left in Vault's 5-minute burst window, as last reported; None before."""
        n = self._read(lib.vault_parts_burst_remaining, lambda: self._last_burst)
        return n if n >= 0 else None


def list_parts(vault_url: str, session_id: Union[str, bytes], upload_session_id: Union[str, bytes], *,
               limit: Optional[int] = None, **options: Unpack[_options.Options]) -> PartListing:
    """Lists the parts Vault holds for an upload session: GET
    /api/{version}/services/file_staging/upload/{upload_session_id}/parts, one request per page
    (limit: parts per page, 1 to 1000, default Vault's 1000), following next_page, with
    retries. Returns an iterator of Part; nothing is sent before the first next().
    vault_url: "https://host" or a bare host; session_id: Vault's session ID (or "Bearer
    TOKEN"), sent only as the Authorization header to that origin, never shown in any message.
    Raises ArgumentError for a bad argument, and the VaultPartsError of any failure from next().
    """
    try:
        secret = Secret(session_id)
    finally:
        del session_id  # a traceback's locals never show it
    handle = _open_listing(lib.vault_parts_open, lib.vault_parts_open_with_client, vault_url, secret,
                           (text("upload_session_id", upload_session_id),), options)
    if limit is not None:
        handle._call(lib.vault_parts_set_limit, count("limit", limit), blocking=False, what="limit")
    return PartListing(ITER, handle.detach(), handle._keep)


class SessionListing(Iterator[Session]):
    """The user's active upload sessions (one request, at the first next())."""

    _step_fn = lib.vault_parts_sessions_next
    _out_type = "vault_parts_session *"

    def _row(self, out: Any) -> Session:
        return Session(_text(out.id), _text(out.path), out.size, out.uploaded_bytes,
                       out.uploaded_parts, _text(out.created_date), _text(out.expiration_date))


def list_sessions(vault_url: str, session_id: Union[str, bytes], **options: Unpack[_options.Options]) -> SessionListing:
    """Lists the user's active upload sessions: one GET
    /api/{version}/services/file_staging/upload at the first next(). Returns an iterator of
    Session."""
    try:
        secret = Secret(session_id)
    finally:
        del session_id
    handle = _open_listing(lib.vault_parts_open_sessions, lib.vault_parts_open_sessions_with_client,
                           vault_url, secret, (), options)
    return SessionListing(ITER, handle.detach(), handle._keep)


def abort(vault_url: str, session_id: Union[str, bytes], upload_session_id: Union[str, bytes],
          **options: Unpack[_options.Options]) -> None:
    """Aborts an upload session: one DELETE
    /api/{version}/services/file_staging/upload/{upload_session_id} (with retries); Vault
    purges its parts. Blocks until Vault confirmed; Ctrl-C interrupts it."""
    try:
        secret = Secret(session_id)
    finally:
        del session_id
    with _open_listing(lib.vault_parts_open, lib.vault_parts_open_with_client, vault_url, secret,
                       (text("upload_session_id", upload_session_id),), options) as handle:
        handle._call(lib.vault_parts_abort)


class Verification(Iterator[Verdict]):
    """verify's verdicts, one per part in part order; .summary once exhausted."""

    _step_fn = lib.vault_parts_verify_next
    _out_type = "vault_part_verdict *"

    def _row(self, out: Any) -> Verdict:
        return Verdict(out.part_number, Status(out.status),
                       None if out.offset == _U64_MAX else out.offset, out.local_size,
                       out.remote_size, _md5(out.local_md5), _md5(out.remote_md5))

    @staticmethod
    def _read_summary(ptr: Any) -> VerifySummary:
        t = ffi.new("vault_parts_verify_totals *")
        lib.vault_parts_verify_summary(ptr, t)
        return VerifySummary({s: t.count[s] for s in Status}, t.bytes_hashed,
                             t.first_to_upload or None, bool(t.resumable))

    def _final(self, ptr: Any) -> None:
        self._last_summary = self._read_summary(ptr)
        self._last_stats = _stats(lib.vault_parts_verify_stats, ptr)

    @property
    def stats(self) -> Stats:
        """The requests verify made so far (the details GET and the listing's pages): final
        once closed."""
        return self._read(lambda ptr: _stats(lib.vault_parts_verify_stats, ptr), lambda: self._last_stats)

    @property
    def summary(self) -> VerifySummary:
        """The counts so far: complete once the iteration is exhausted."""
        return self._read(self._read_summary, lambda: self._last_summary)


def verify(vault_url: str, session_id: Union[str, bytes], upload_session_id: Union[str, bytes], path: PathArg, *,
           part_size: int = 0, threads: int = 0, hash_all: bool = False,
           limit: Optional[int] = None, **options: Unpack[_options.Options]) -> Verification:
    """Checks the local file at `path` against the parts Vault lists for the session: one GET
    of the session's details (a file of another size than the declared one is
    ConflictError), then the listing, page by page; each listed part whose size matches is
    hashed (threads: 1 to 16, 0 one per core) and its MD5 compared. Nothing is sent to Vault
    but those GETs. Returns an iterator of Verdict, one per part in order; part_size 0 reads
    the part size off the listing. hash_all=True hashes every local part."""
    try:
        secret = Secret(session_id)
    finally:
        del session_id
    local = fs_path("path", path)
    size = count("part_size", part_size, _U64_MAX)
    handle = _open_listing(lib.vault_parts_open, lib.vault_parts_open_with_client, vault_url, secret,
                           (text("upload_session_id", upload_session_id),), options)
    if limit is not None:
        try:
            handle._call(lib.vault_parts_set_limit, count("limit", limit), blocking=False, what="limit")
        except BaseException:
            handle.close()
            raise
    out = ffi.new("vault_parts_verify **")
    code = lib.vault_parts_verify_open(out, handle.detach(), local, size)
    verification = Verification(VERIFY, out[0], handle._keep)
    if code != lib.VAULT_PARTS_OK:
        error = handle_error(VERIFY, out[0], code)
        verification.close()
        raise error
    try:
        verification._call(lib.vault_parts_verify_set_threads, count("threads", threads),
                           blocking=False, what="threads")
        if flag("hash_all", hash_all):
            verification._call(lib.vault_parts_verify_set_hash_all, 1, blocking=False, what="hash_all")
    except BaseException:
        verification.close()
        raise
    return verification


_COMMIT_MODES = {"none": lib.VAULT_PARTS_COMMIT_NONE, "commit": lib.VAULT_PARTS_COMMIT,
                 "wait": lib.VAULT_PARTS_COMMIT_WAIT}


class Upload(Iterator[PartUpload]):
    """An upload's events, one PartUpload per part in order (KEPT or SENT), then the commit
    the mode asks for as the iteration ends. start() creates (or reads) the session first."""

    _step_fn = lib.vault_parts_upload_next
    _out_type = "vault_part_upload *"

    def __init__(self, ptr: Any, keep: Any, on_start: Optional[Callable[[str], Any]]) -> None:
        super().__init__(UPLOAD, ptr, keep)
        self._on_start = on_start
        self._id: Optional[str] = None
        self._started = False

    def _row(self, out: Any) -> PartUpload:
        return PartUpload(out.part_number, Status(out.verdict), Action(out.action), out.offset,
                          out.size, ffi.string(out.md5).decode("ascii"), out.attempts)

    def start(self) -> str:
        """Opens the file and, for a new session, creates it (one POST); for a resumed one
        reads its details and listing. Then calls on_start with the session's ID (for a resume,
        the ID given), before any part is sent.
        Returns the upload session ID. Runs once; the first next() runs it if not called."""
        if not self._started:
            try:
                self._call(lib.vault_parts_upload_start)
                self._started = True
                self._id = self._read(lambda ptr: _text(lib.vault_parts_upload_id(ptr)), lambda: None)
                if self._id is None:
                    raise argument_error("the upload was closed during its start")
                if self._on_start is not None:
                    self._on_start(self._id)
            except BaseException as error:
                if not in_use(error):
                    self.close()
                raise
        assert self._id is not None
        return self._id

    def __next__(self) -> PartUpload:
        if not self._started and self._ptr is not None:
            self.start()
        return super().__next__()

    @property
    def upload_session_id(self) -> Optional[str]:
        """The session's ID: None for a new session before start()."""
        return self._id

    @staticmethod
    def _read_summary(ptr: Any) -> UploadSummary:
        t = ffi.new("vault_parts_upload_totals *")
        lib.vault_parts_upload_summary(ptr, t)
        return UploadSummary(t.parts, t.kept, t.sent, t.bytes_sent, t.bytes_hashed,
                             t.job_id or None, bool(t.committed))

    def _final(self, ptr: Any) -> None:
        self._last_summary = self._read_summary(ptr)

    @property
    def summary(self) -> UploadSummary:
        """What the upload has done so far (final once closed)."""
        return self._read(self._read_summary, lambda: self._last_summary)


def upload(vault_url: str, session_id: Union[str, bytes], path: PathArg, *, staging_path: Optional[str] = None,
           upload_session_id: Optional[str] = None, overwrite: bool = False, part_size: int = 0,
           commit: 'Literal["none", "commit", "wait"]' = "wait", poll: Optional[float] = None,
           on_start: Optional[Callable[[str], Any]] = None,
           **options: Unpack[_options.Options]) -> Upload:
    """Uploads the local file at `path`, resumably. Exactly one of staging_path (a new
    session: POST .../file_staging/upload creates it for a file committed there; overwrite
    lets the commit replace one) or upload_session_id (resume: the session's details and
    listing are read, parts Vault holds intact are kept). Parts are sent one at a time in
    ascending order (PUT .../upload/{id}), each echo checked; then commit: "none" (stop
    after the parts), "commit" (POST .../upload/{id}, the job started) or "wait" (the default:
    the job polled every `poll` seconds, default 10, until the file is on file staging).
    Returns an iterator of PartUpload; nothing is sent before start() or the first next()."""
    try:
        secret = Secret(session_id)
    finally:
        del session_id
    if (staging_path is None) == (upload_session_id is None):
        raise argument_error("pass exactly one of staging_path (a new session) and upload_session_id (resume)")
    if on_start is not None and not callable(on_start):
        raise TypeError("on_start must be a callable(upload_session_id)")
    if commit not in _COMMIT_MODES:
        raise argument_error('commit must be "none", "commit" or "wait"')
    local = fs_path("path", path)
    size = count("part_size", part_size, _U64_MAX)
    poll_ms = milliseconds("poll", poll)
    if staging_path is not None:
        handle = _open_listing(lib.vault_parts_open_new, lib.vault_parts_open_new_with_client,
                               vault_url, secret, (text("staging_path", staging_path), 1 if flag("overwrite", overwrite) else 0),
                               options)
    else:
        handle = _open_listing(lib.vault_parts_open, lib.vault_parts_open_with_client, vault_url,
                               secret, (text("upload_session_id", upload_session_id),), options)
    out = ffi.new("vault_parts_upload **")
    code = lib.vault_parts_upload_open(out, handle.detach(), local, size)
    result = Upload(out[0], handle._keep, on_start)
    try:
        if code != lib.VAULT_PARTS_OK:
            raise handle_error(UPLOAD, out[0], code)
        result._call(lib.vault_parts_upload_set_commit, _COMMIT_MODES[commit], blocking=False,
                     what="commit")
        if poll_ms is not None:
            result._call(lib.vault_parts_upload_set_poll_ms, poll_ms, blocking=False, what="poll")
    except BaseException:
        result.close()
        raise
    if upload_session_id is not None:
        result._id = upload_session_id  # and so has upload_session_id before start()
    return result
