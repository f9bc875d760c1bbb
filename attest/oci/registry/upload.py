"""Blob uploads to a registry: monolithic, chunked or streamed, resumed where they broke.

A blob up to the chunk size is read, checked and sent in one PUT. A larger one from a seekable
stream (a file) goes in one streamed PATCH hashed on the way, as docker and skopeo send it; from
a non-seekable stream, chunk by chunk. After a failed PATCH the registry is asked how many bytes
it holds and the rest is sent from there; an upload session that cannot resume starts over, which
needs a rewindable source (a non-seekable one fails with a clear message instead).
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import re
from collections.abc import Callable
from typing import IO, Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import requests

from attest.errors import InputError, NotFoundError, RegistryError
from attest.oci.deadline import touch
from attest.oci.registry.transport import RETRY_STATUSES, TransientError, Transport
from attest.oci.store import Descriptor, validate_digest

log = logging.getLogger(__name__)


def digest_of(data: bytes, algorithm: str) -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def check_blob(data: bytes, desc: Descriptor, where: str) -> None:
    alg, _ = validate_digest(desc.digest)
    if len(data) != desc.size:
        raise InputError(f"{where}: blob {desc.digest} has {len(data)} bytes, expected {desc.size}")
    if digest_of(data, alg) != desc.digest:
        raise InputError(f"{where}: blob content does not match its digest {desc.digest}")


class _HashingBody:
    """``n`` bytes of a stream as a request body: hashed as they are sent, each read marking
    progress on the request's deadline. Has a length, so requests sends Content-Length."""

    _BLOCK = 1024 * 1024  # urllib3 asks for 16 KiB; bigger blocks mean fewer sendall calls

    def __init__(self, stream: IO[bytes], n: int, hasher: Any) -> None:
        self._stream = stream
        self._left = n
        self._hasher = hasher
        self.short = False  # the source ended before n bytes

    def __len__(self) -> int:
        return self._left

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if size < 0 else min(max(size, self._BLOCK), self._left)
        data = self._stream.read(want)
        if not data:
            # Ending early would leave the registry waiting for the declared length.
            self.short = True
            raise InputError(f"stream ended {self._left} bytes short of the declared size")
        self._left -= len(data)
        self._hasher.update(data)
        touch()
        return data

    def drain(self) -> None:
        while self.read(self._BLOCK):
            pass


def _read_exact(stream: IO[bytes], n: int, digest: str) -> bytes:
    parts: list[bytes] = []
    remaining = n
    while remaining:
        part = stream.read(remaining)
        if not part:
            raise InputError(f"stream for blob {digest} ended {remaining} bytes short")
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _expect_eof(stream: IO[bytes], desc: Descriptor) -> None:
    if stream.read(1):
        raise InputError(f"stream for blob {desc.digest} is longer than its size {desc.size}")


def _with_query(url: str, **params: str) -> str:
    """Add ``params`` to ``url`` keeping its query (upload Locations carry state there)."""
    parts = urlsplit(url)
    extra = urlencode(params)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


class Uploader:
    """Uploads and mounts blobs in the repository at ``base`` (``.../v2/<repo>``)."""

    def __init__(
        self, http: Transport, base: str, chunk_size: int, exists: Callable[[str], bool]
    ) -> None:
        self._http = http
        self._base = base
        self._chunk_size = chunk_size
        self._exists = exists  # a blob that landed after all needs no second attempt

    def push(self, desc: Descriptor, stream: IO[bytes]) -> None:
        """Upload ``desc`` from ``stream`` (the caller checked it is not there yet)."""
        if desc.size <= self._chunk_size:
            # Small enough to hold: check it before sending, and retrying needs no rewind.
            data = _read_exact(stream, desc.size, desc.digest)
            _expect_eof(stream, desc)
            check_blob(data, desc, "upload")
            self._with_restarts(desc, lambda: self._monolithic(desc, data), lambda: None)
        elif stream.seekable():
            # A file: one streamed PATCH (as docker and skopeo do), little memory, resumable.
            start = stream.tell()
            available = stream.seek(0, io.SEEK_END) - start
            stream.seek(start)
            if available != desc.size:
                raise InputError(
                    f"stream for blob {desc.digest} has {available} bytes, not {desc.size}"
                    + (f": it ended {desc.size - available} bytes short" if available < desc.size
                       else "")
                )  # fmt: skip
            self._with_restarts(
                desc,
                lambda: self._streamed(desc, stream, start),
                functools.partial(stream.seek, start),
            )
        else:
            self._with_restarts(desc, lambda: self._chunked(desc, stream), None)

    def mount(self, desc: Descriptor, from_repository: str) -> bool:
        """Mount ``desc`` from another repository of this registry (no bytes move); False
        when the registry declines (it then opened an upload, which is cancelled)."""
        validate_digest(desc.digest)
        resp = self._http.request(
            "POST",
            f"{self._base}/blobs/uploads/",
            push=True,
            params={"mount": desc.digest, "from": from_repository},
        )
        if resp.status_code == 201:
            resp.close()
            return True
        if resp.status_code == 202:
            location = self._location(resp)
            resp.close()
            self._cancel(location)
            return False
        self._http.check(resp, f"mount of blob {desc.digest}", (201, 202))
        return False

    def _with_restarts(
        self, desc: Descriptor, upload: Callable[[], None], rewind: Callable[[], object] | None
    ) -> None:
        # An upload session that failed half-way cannot be trusted: start a new one.
        retries = self._http.retries
        for attempt in range(retries + 1):
            try:
                upload()
                return
            except TransientError as e:
                if attempt == retries:
                    raise RegistryError(
                        f"{self._http.location}: upload of blob {desc.digest} failed "
                        f"after {attempt + 1} attempts: {e.message}",
                        hint=e.hint,
                    ) from e
                if self._exists(desc.digest):  # the failed attempt landed after all
                    return
                if rewind is None:
                    raise RegistryError(
                        f"{self._http.location}: upload of blob {desc.digest} failed "
                        f"({e.message}) and its source stream cannot be rewound to try again",
                        hint="retry the command; a file or seekable source can be retried",
                    ) from e
                log.info("retrying upload of %s: %s", desc.digest, e.message)
                rewind()
                self._http.pause(attempt, None)

    def _start(self) -> tuple[str, int]:
        resp = self._http.request("POST", f"{self._base}/blobs/uploads/", push=True)
        self._http.check(resp, f"upload session in {self._http.location}", (202,))
        min_chunk = int(resp.headers.get("OCI-Chunk-Min-Length") or 0)
        return self._location(resp), min_chunk

    def _location(self, resp: requests.Response) -> str:
        location = resp.headers.get("Location")
        if not location:
            raise RegistryError(f"{self._http.location}: upload answer has no Location header")
        return urljoin(resp.url, location)  # relative or absolute; its query string is kept

    def _monolithic(self, desc: Descriptor, data: bytes) -> None:
        location, _ = self._start()
        resp = self._http.request(
            "PUT",
            _with_query(location, digest=desc.digest),
            push=True,
            headers={"Content-Type": "application/octet-stream"},
            data=data,
            retry=False,
        )
        self._check(resp, desc, (201,))

    def _chunked(self, desc: Descriptor, stream: IO[bytes]) -> None:
        """PATCH the blob chunk by chunk; a chunk that fails is resumed from the offset the
        registry reports (GET on the upload), not from the start of the blob.

        The hash covers only what the registry acknowledged, so a resume at any offset inside
        the chunk held in memory keeps it right; an offset outside it restarts the upload.
        """
        location, min_chunk = self._start()
        chunk_size = max(self._chunk_size, min_chunk)
        alg, _ = validate_digest(desc.digest)
        hasher = hashlib.new(alg)
        offset = 0
        pending = b""  # read from the stream, not yet acknowledged by the registry
        resumes = 0
        while offset < desc.size:
            if not pending:
                pending = _read_exact(stream, min(chunk_size, desc.size - offset), desc.digest)
            try:
                location = self._patch(location, desc, offset, offset + len(pending) - 1, pending)
                accepted = len(pending)
            except TransientError as e:
                if resumes >= self._http.retries:
                    raise
                resumes += 1
                location, reached = self._resume_point(location, desc, e, resumes)
                accepted = reached - offset
                if not 0 <= accepted <= len(pending):
                    raise TransientError(
                        f"upload of {desc.digest} cannot resume at byte {reached}"
                    ) from e
                log.info("upload of %s resumes at byte %d: %s", desc.digest, reached, e.message)
            hasher.update(pending[:accepted])
            offset += accepted
            pending = pending[accepted:]
        _expect_eof(stream, desc)
        if f"{alg}:{hasher.hexdigest()}" != desc.digest:
            self._cancel(location)
            raise InputError(f"upload: content streamed for {desc.digest} does not match it")
        self._finish(location, desc)

    def _streamed(self, desc: Descriptor, stream: IO[bytes], start: int) -> None:
        """Send the whole blob in one PATCH streamed from a seekable source, hashing as it
        goes; after a failure, ask the registry where it stands and send the rest from there.
        """
        location, _ = self._start()
        alg, _ = validate_digest(desc.digest)
        offset = 0
        hasher = hashlib.new(alg)
        resumes = 0
        while True:
            body = _HashingBody(stream, desc.size - offset, hasher)
            try:
                location = self._patch(location, desc, offset, desc.size - 1, body)
                break
            except TransientError as e:
                if resumes >= self._http.retries:
                    raise
                resumes += 1
                location, offset = self._resume_point(location, desc, e, resumes)
                if not 0 <= offset <= desc.size:
                    raise TransientError(
                        f"upload of {desc.digest} cannot resume at {offset}"
                    ) from e
                # Re-hash what the registry holds (rare: only after a failure), then go on.
                stream.seek(start)
                hasher = hashlib.new(alg)
                _HashingBody(stream, offset, hasher).drain()
                log.info("upload of %s resumes at byte %d: %s", desc.digest, offset, e.message)
                if offset == desc.size:
                    break
        if body.short or f"{alg}:{hasher.hexdigest()}" != desc.digest:
            self._cancel(location)
            raise InputError(f"upload: content streamed for {desc.digest} does not match it")
        _expect_eof(stream, desc)
        self._finish(location, desc)

    def _patch(self, location: str, desc: Descriptor, first: int, last: int, data: Any) -> str:
        """PATCH bytes ``first``..``last`` of an upload; the upload's next location."""
        resp = self._http.request(
            "PATCH",
            location,
            push=True,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{first}-{last}",
            },
            data=data,
            retry=False,
        )
        self._check(resp, desc, (202,))
        return self._location(resp)

    def _resume_point(
        self, location: str, desc: Descriptor, error: TransientError, attempt: int
    ) -> tuple[str, int]:
        """After a failed PATCH: pause, then ask the registry how many bytes it holds."""
        self._http.pause(attempt - 1, None)
        try:
            location, reached = self._status(location)
        except (NotFoundError, RegistryError) as status_error:
            # No upload status (or the session is gone): the caller starts the upload over.
            raise TransientError(
                f"upload of {desc.digest} failed ({error.message}) and cannot resume: "
                f"{status_error.message}"
            ) from error
        # "0-0" is what Distribution answers for an empty upload
        return location, 0 if reached == 1 else reached

    def _finish(self, location: str, desc: Descriptor) -> None:
        resp = self._http.request(
            "PUT", _with_query(location, digest=desc.digest), push=True, retry=False
        )
        self._check(resp, desc, (201,))

    def _status(self, location: str) -> tuple[str, int]:
        """Where an upload stands: its (new) location and the bytes the registry holds."""
        resp = self._http.request("GET", location, push=True)
        if resp.status_code in RETRY_STATUSES:
            resp.close()
            raise TransientError(f"upload status: HTTP {resp.status_code}")
        self._http.check(resp, "upload status", (204,))
        match = re.fullmatch(r"(?:bytes=)?0-(\d+)", resp.headers.get("Range", "").strip())
        reached = int(match.group(1)) + 1 if match else 0
        return self._location(resp), reached

    def _check(self, resp: requests.Response, desc: Descriptor, ok: tuple[int, ...]) -> None:
        if resp.status_code in RETRY_STATUSES:
            resp.close()
            raise TransientError(f"HTTP {resp.status_code} during upload of {desc.digest}")
        self._http.check(resp, f"upload of blob {desc.digest}", ok)
        stored = resp.headers.get("Docker-Content-Digest")
        if resp.status_code == 201 and stored and stored != desc.digest:
            raise RegistryError(f"{self._http.location} stored blob {desc.digest} as {stored}")

    def _cancel(self, location: str) -> None:
        try:
            self._http.request("DELETE", location, push=True, retry=False).close()
        except RegistryError as e:  # best effort: the registry expires stale uploads anyway
            log.debug("cancelling upload %s failed: %s", location, e)
