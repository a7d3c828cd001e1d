"""What the iterators yield, as plain immutable values."""

import enum
from typing import Dict, NamedTuple, Optional

from ._native import lib


class Status(enum.IntEnum):
    """A part's verdict: what verify says of it (the library's VAULT_PARTS_PART_*)."""

    OK = lib.VAULT_PARTS_PART_OK
    MISSING = lib.VAULT_PARTS_PART_MISSING
    SIZE_MISMATCH = lib.VAULT_PARTS_PART_SIZE_MISMATCH
    MD5_MISMATCH = lib.VAULT_PARTS_PART_MD5_MISMATCH
    UNVERIFIED = lib.VAULT_PARTS_PART_UNVERIFIED
    EXTRA = lib.VAULT_PARTS_PART_EXTRA


class Action(enum.IntEnum):
    """What the upload did with a part."""

    KEPT = lib.VAULT_PARTS_KEPT
    SENT = lib.VAULT_PARTS_SENT


class Part(NamedTuple):
    """A part Vault lists: its number (from 1), size in bytes and MD5 (32 lowercase hex
    digits, None when Vault sent none)."""

    part_number: int
    size: int
    md5: Optional[str]


class Stats(NamedTuple):
    """A listing's counts: HTTP requests (each redirect hop is one), retries, pages accepted,
    bytes received, connections opened, and seconds since the first request."""

    requests: int
    retries: int
    pages: int
    bytes_received: int
    connections: int
    elapsed: float


class Session(NamedTuple):
    """One of the user's active upload sessions. Dates are as Vault writes them."""

    id: str
    path: str
    size: int
    uploaded_bytes: int
    uploaded_parts: int
    created_date: str
    expiration_date: str


class Verdict(NamedTuple):
    """verify's finding on one part. offset: its first byte in the local file (None when it
    does not fit 64 bits); local_md5/remote_md5: 32 hex digits, or None when not hashed or
    not listed."""

    part_number: int
    status: Status
    offset: Optional[int]
    local_size: int
    remote_size: int
    local_md5: Optional[str]
    remote_md5: Optional[str]


class VerifySummary(NamedTuple):
    """verify's counts so far (complete once the iterator is exhausted). counts: verdicts
    per Status; first_to_upload: the lowest part to send again (None when none); resumable:
    every verdict is in and no part is EXTRA, so sending the others and committing completes
    the session."""

    counts: Dict[Status, int]
    bytes_hashed: int
    first_to_upload: Optional[int]
    resumable: bool


class PartUpload(NamedTuple):
    """One part of an upload: verdict is what verify would have said before anything was
    sent; action KEPT (left as it was) or SENT (uploaded, Vault's echo checked); md5: the
    local bytes' MD5, what Vault holds now; attempts: PUT requests made (0 when kept)."""

    part_number: int
    verdict: Status
    action: Action
    offset: int
    size: int
    md5: str
    attempts: int


class UploadSummary(NamedTuple):
    """An upload's counts so far: parts of the file, kept, sent, request-body bytes (retries
    included), local bytes hashed, the commit's job ID (None before the commit), and whether
    Vault accepted the commit."""

    parts: int
    kept: int
    sent: int
    bytes_sent: int
    bytes_hashed: int
    job_id: Optional[int]
    committed: bool
