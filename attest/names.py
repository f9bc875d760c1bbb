"""The one rule for a file name inside a model artifact, applied when packing and when reading.

A name is a relative POSIX path that every reader on every platform can create without leaving
the target: no leading ``/``, no ``\\`` (a separator on Windows), no drive prefix (``C:x``), no
``..`` component, no NUL, and within the lengths file systems accept. Control characters are
allowed (POSIX file systems take them); every printer escapes them. ``pack`` refuses what
``pull``, ``facts`` and ``sign`` would refuse, so attest never publishes an artifact it cannot
read back.
"""

from __future__ import annotations

import posixpath
import re

from attest.errors import InputError

#: Longest path and path component accepted (Linux PATH_MAX and NAME_MAX, in UTF-8 bytes).
MAX_PATH_BYTES = 4096
MAX_COMPONENT_BYTES = 255

_NUL = re.compile(r"\x00")
_DRIVE = re.compile(r"^[A-Za-z]:")


def check_file_name(path: object, what: str = "file path") -> str:
    """``path`` normalised (``a//b`` -> ``a/b``), or InputError saying why it is refused."""
    if not isinstance(path, str) or not path:
        raise InputError(f"invalid {what} {path!r}")
    if _NUL.search(path):
        raise InputError(f"{what} {path!r} contains a NUL byte; refusing it")
    if path.startswith("/") or "\\" in path or _DRIVE.match(path):
        raise InputError(f"{what} {path!r} is absolute or not a POSIX path; refusing it")
    norm = posixpath.normpath(path)
    if norm == ".." or norm.startswith("../") or norm == ".":
        raise InputError(f"{what} {path!r} escapes the target directory; refusing it")
    try:
        encoded = norm.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{what} {path!r} is not valid UTF-8; refusing it") from None
    if len(encoded) > MAX_PATH_BYTES or any(
        len(part.encode("utf-8")) > MAX_COMPONENT_BYTES for part in norm.split("/")
    ):
        raise InputError(f"{what} {path[:80]!r}... is too long to create; refusing it")
    if any(_DRIVE.match(part) for part in norm.split("/")):
        raise InputError(f"{what} {path!r} has a drive-like component; refusing it")
    return norm
