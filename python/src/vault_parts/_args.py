"""Turning Python arguments into the library's: strings, paths, durations, the session ID."""

import math
import os
from typing import Optional, Union

from ._errors import argument_error

PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


class Secret:
    """The session ID, held so that no repr, traceback local or log shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: object) -> None:
        if isinstance(value, Secret):
            value = value._value
        if not isinstance(value, (str, bytes)):
            raise TypeError(f"session_id must be str or bytes, not {type(value).__name__}")
        encoded = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
        if b"\0" in encoded:
            del value, encoded  # not in the traceback's locals
            raise argument_error("session_id holds a NUL byte")
        self._value = encoded

    def encoded(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "<session ID redacted>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("the session ID is not pickled")


def text(name: str, value: object) -> bytes:
    """A str argument for the library: UTF-8, NUL-terminated there, so no NUL inside."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, not {type(value).__name__}")
    encoded = value.encode("utf-8", "surrogateescape")
    if "\0" in value:
        raise argument_error(f"{name} holds a NUL byte")
    return encoded


def path(name: str, value: object) -> bytes:
    """A local path: str, bytes or os.PathLike, in the file system's encoding."""
    try:
        encoded = os.fsencode(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be str, bytes or os.PathLike, not {type(value).__name__}") from None
    if b"\0" in encoded:
        raise argument_error(f"{name} holds a NUL byte")
    return encoded


def milliseconds(name: str, seconds: Optional[float], upper: int = 2**32 - 1) -> Optional[int]:
    """Seconds (float) as whole milliseconds, rounded up so a tiny positive value stays positive."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise argument_error(f"{name} must be a positive, finite number of seconds")
    if seconds > upper / 1000 or math.ceil(seconds * 1000) > upper:
        raise argument_error(f"{name} is too long: at most {upper / 1000:g} seconds")
    return math.ceil(seconds * 1000)


def flag(name: str, value: object) -> bool:
    """A bool argument: True or False only (a truthy "no" would mean yes)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {type(value).__name__}")
    return value


def count(name: str, value: object, upper: int = 2**32 - 1) -> int:
    """A non-negative integer argument (range checks past this are the library's)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    if value < 0 or value > upper:
        raise argument_error(f"{name} is {value}: at most {upper}" if value > 0 else f"{name} must not be negative")
    return value
