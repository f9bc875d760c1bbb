"""HTTP to one registry repository: one ``requests`` session, authentication, retries, deadlines,
paginated lists and resumable ranged reads of blobs.

Transient failures (5xx, 429, dropped connections, bodies cut short) are retried with exponential
backoff (or the registry's ``Retry-After``); 4xx never are. Every request must finish within the
overall deadline (blob bodies: each read of up to 1 MiB), so a server dripping bytes cannot hold
a command forever. A blob body cut short is resumed with ``Range`` from the offset reached.
"""

from __future__ import annotations

import contextlib
import io
import logging
import random
import re
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3

from attest import __version__
from attest.errors import InputError, NotFoundError, RegistryError
from attest.oci import limits
from attest.oci.deadline import Deadline, DeadlineAdapter, bound
from attest.oci.registry.auth import Authenticator, scope
from attest.oci.registry.credentials import Credentials
from attest.oci.store import Descriptor

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_BACKOFF = 30.0
_MAX_PAGES = 10_000  # a registry whose Link headers loop must not hang us
_ERRNO_RE = re.compile(r"\[Errno -?\d+\] [^'\")]+")


class TransientError(RegistryError):
    """A failure worth trying again: 5xx, 429 or a dropped connection."""


class _DeadlineExceeded(requests.Timeout):
    """A request did not finish within the store's overall deadline (the watchdog cut it)."""


# A body shorter than its Content-Length, or a chunked body cut off: worth another try.
_TRUNCATED = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


def _registry_message(resp: requests.Response) -> str:
    """The registry's own error text: ``CODE: message`` from its JSON, else the body start."""
    try:
        errors = resp.json().get("errors") or []
        parts = [f"{e.get('code', '?')}: {e.get('message', '')}".strip() for e in errors]
        if parts:
            return "; ".join(parts)
    except (ValueError, AttributeError, TypeError):
        pass
    return " ".join(resp.text.split())[:200]


class Transport:
    """Authenticated requests to ``registry`` for ``repository``, retried and bounded."""

    def __init__(
        self,
        registry: str,
        repository: str,
        credentials: Callable[[], Credentials | None],
        *,
        plain_http: bool,
        insecure: bool,
        retries: int,
        timeout: float,
        backoff: float,
        deadline: float,
    ) -> None:
        self.registry = registry
        self.repository = repository
        self.location = f"{registry}/{repository}"
        self.plain_http = plain_http
        self.insecure = insecure
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.deadline = deadline
        self.session = requests.Session()
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, DeadlineAdapter())
        self.session.headers["User-Agent"] = f"attest/{__version__}"
        self.auth = Authenticator(registry, self.send, credentials, secure=not plain_http)

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        push: bool = False,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        data: Any = None,
        stream: bool = False,
        retry: bool = True,
    ) -> requests.Response:
        """One authenticated request, tried again on transient failures when ``retry``.

        Bodies are bytes (every attempt sends the same thing) or, with ``retry=False``, a
        stream. Returns the last response whatever its status; raises RegistryError when no
        response came.
        """
        wanted = scope(self.repository, push)
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                resp = self._send_authenticated(method, url, wanted, headers, params, data, stream)
            except (requests.ConnectionError, requests.Timeout, *_TRUNCATED) as e:
                if last or isinstance(e, requests.exceptions.SSLError):
                    raise self._transport_error(e, attempt + 1) from e
                log.info("%s %s: %s; retrying", method, url, e)
                self.pause(attempt, None)
                continue
            if resp.status_code in RETRY_STATUSES and not last:
                log.info("%s %s: HTTP %s; retrying", method, url, resp.status_code)
                retry_after = resp.headers.get("Retry-After")
                resp.close()
                self.pause(attempt, retry_after)
                continue
            return resp
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _send_authenticated(
        self,
        method: str,
        url: str,
        wanted: str,
        headers: dict[str, str] | None,
        params: dict[str, str] | None,
        data: Any,
        stream: bool,
    ) -> requests.Response:
        sent: list[str | None] = []

        def send() -> requests.Response:
            auth = self.auth.headers(wanted)
            sent.append(auth.get("Authorization"))
            merged = {**(headers or {}), **auth}
            return self.send(method, url, headers=merged, params=params, data=data, stream=stream)

        resp = send()
        if resp.status_code != 401:
            return resp
        if self.auth.headers(wanted).get("Authorization") not in (None, sent[-1]):
            answered = True  # a parallel transfer got credentials meanwhile: use them
        else:
            try:
                answered = self.auth.answer(resp.headers.get("WWW-Authenticate", ""), wanted)
            except BaseException:
                resp.close()
                raise
        if not answered:
            return resp
        resp.close()
        if data is not None and not isinstance(data, bytes):
            # A streamed body was (partly) consumed: the upload starts over, authenticated.
            raise TransientError(f"{method} {url}: credentials renewed during a streamed body")
        return send()

    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """A bare request on the session (redirects followed; requests drops the
        Authorization header when a redirect leaves the host, e.g. to blob storage)."""
        with warnings.catch_warnings():
            if self.insecure:  # asked for explicitly: do not warn on every request
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                # Per request: requests lets REQUESTS_CA_BUNDLE override a session's verify=False.
                kwargs["verify"] = False
            deadline = Deadline(self.deadline)
            try:
                with bound(deadline):
                    resp = self.session.request(
                        method, url, timeout=self.timeout, allow_redirects=True, **kwargs
                    )
                resp.attest_deadline = deadline  # type: ignore[attr-defined] # body reads
                return resp
            except (requests.ConnectionError, requests.Timeout, *_TRUNCATED) as e:
                if deadline.expired:
                    raise _DeadlineExceeded(f"no complete answer within {self.deadline:g}s") from e
                raise
            except requests.RequestException as e:  # invalid URL, too many redirects...
                raise RegistryError(f"{method} {url} failed: {e}") from e

    def pause(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * (2**attempt) * (1 + random.random() / 10)
        if retry_after:
            with contextlib.suppress(ValueError):  # an HTTP date: keep our own backoff
                delay = float(retry_after)
        time.sleep(min(max(delay, 0.0), _MAX_BACKOFF))

    def check(self, resp: requests.Response, what: str, ok: tuple[int, ...]) -> None:
        """Raise the error ``resp`` stands for unless its status is in ``ok``."""
        if resp.status_code in ok:
            return
        status = resp.status_code
        detail = _registry_message(resp)
        resp.close()
        if status == 404:
            raise NotFoundError(f"{what} not found in {self.location}")
        if status in (401, 403):
            raise RegistryError(
                f"{self.location}: access to {what} denied (HTTP {status}"
                + (f", {detail})" if detail else ")"),
                hint=self.auth.login_hint(),
            )
        if status == 400 and "HTTPS server" in detail:  # Go's answer to HTTP on a TLS port
            raise RegistryError(
                f"{self.registry} speaks HTTPS, not plain HTTP",
                hint="drop --plain-http",
            )
        suffix = f": {detail}" if detail else ""
        raise RegistryError(f"{self.location}: {what}: HTTP {status}{suffix}")

    def _transport_error(self, e: Exception, attempts: int) -> RegistryError:
        text = str(e)
        if isinstance(e, requests.exceptions.SSLError):
            if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
                hint = "the registry seems to speak plain HTTP: use --plain-http"
            elif "CERTIFICATE_VERIFY_FAILED" in text:
                hint = "use --insecure to skip certificate verification, or trust its CA"
            else:
                hint = "use --plain-http if it serves HTTP, or --insecure to skip verification"
            return RegistryError(
                f"TLS connection to {self.registry} failed: {text[:300]}", hint=hint
            )
        match = _ERRNO_RE.search(text)
        reason = match.group(0).strip() if match else text[:300]
        if isinstance(e, _DeadlineExceeded):
            reason = str(e)
        elif isinstance(e, requests.Timeout):
            reason = f"timed out after {self.timeout:g}s"
        elif isinstance(e, _TRUNCATED):
            reason = f"the answer was cut short ({text[:200]})"
        hint = "is the registry running and reachable?"
        if not self.plain_http:
            hint += " If it serves plain HTTP, use --plain-http."
        return TransientError(
            f"cannot reach registry {self.registry}: {reason} (after {attempts} attempts)",
            hint=hint,
        )

    # -- lists ----------------------------------------------------------------------------------

    def pages(
        self,
        url: str,
        params: dict[str, str] | None,
        what: str,
        accept: str | None = None,
    ) -> Iterable[requests.Response | None]:
        """Each page of a paginated list (``Link: <url>; rel="next"``); a 404 on the first
        page yields None once."""
        seen: set[str] = set()
        headers = {"Accept": accept} if accept else None
        next_url: str | None = url
        while next_url and len(seen) < _MAX_PAGES:
            resp = self.request("GET", next_url, params=params, headers=headers, stream=True)
            if resp.status_code == 404 and not seen:
                resp.close()
                yield None
                return
            self.check(resp, what, (200,))
            seen.add(resp.url)
            # the body is read here, capped, so an endless list cannot fill the memory
            with ResponseReader(resp, what) as body:
                data = limits.read_capped(body, limits.MAX_LIST_PAGE_SIZE,
                                          f"{self.location}: {what}")  # fmt: skip
            resp._content = data  # what .content returns from now on
            yield resp
            link = resp.links.get("next", {}).get("url")
            next_url = urljoin(resp.url, link) if link else None
            if next_url in seen:
                raise RegistryError(f"{self.location}: pagination of {what} loops at {next_url}")
            params = None  # the next link carries its own query

    # -- blob bodies ----------------------------------------------------------------------------

    def open_blob_at(self, url: str, desc: Descriptor, offset: int) -> requests.Response:
        """GET the blob from byte ``offset`` (``Range``); a server ignoring Range answers 200
        and the first ``offset`` bytes are skipped."""
        headers = {"Range": f"bytes={offset}-"} if offset else None
        resp = self.request("GET", url, stream=True, headers=headers)
        self.check(resp, f"blob {desc.digest}", (200, 206) if offset else (200,))
        length = resp.headers.get("Content-Length")
        if length and "Content-Encoding" not in resp.headers:
            expected = desc.size - offset if resp.status_code == 206 else desc.size
            if int(length) != expected:
                resp.close()
                raise InputError(
                    f"{self.location}: blob {desc.digest} has {length} bytes from offset "
                    f"{offset if resp.status_code == 206 else 0}, expected {expected}"
                )
        if resp.status_code == 206:
            start = resp.headers.get("Content-Range", "").removeprefix("bytes ").split("-")[0]
            if start != str(offset):
                resp.close()
                raise RegistryError(
                    f"{self.location}: asked blob {desc.digest} from byte {offset}, "
                    f"got Content-Range {resp.headers.get('Content-Range')!r}"
                )
        elif offset:
            skipped = 0
            while skipped < offset:
                part = resp.raw.read(min(offset - skipped, 1024 * 1024))
                if not part:
                    resp.close()
                    raise TransientError(f"blob {desc.digest} ended before byte {offset}")
                skipped += len(part)
        return resp


class ResponseReader(io.RawIOBase):
    """The body of a streamed response as a raw file; closing it releases the connection."""

    def __init__(self, resp: requests.Response, what: str) -> None:
        super().__init__()
        self._resp = resp
        self._what = what
        resp.raw.decode_content = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._resp.raw.read(len(buffer))
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise RegistryError(f"reading {self._what} failed: {e}") from e
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self._resp.close()
        super().close()


class BlobReader(io.RawIOBase):
    """A blob's body as a raw file, bounded by its declared size; closing releases the
    connection.

    Each read (up to 1 MiB) has the store's deadline (a server dripping bytes cannot hold it
    forever). A body cut short (dropped connection, truncated answer) is resumed with ``Range``
    from the offset reached, up to the retry count, so a long download does not start over.
    """

    def __init__(self, http: Transport, url: str, desc: Descriptor) -> None:
        super().__init__()
        self._http = http
        self._url = url
        self._desc = desc
        self._resp = http.open_blob_at(url, desc, 0)
        self._offset = 0
        self._resumes = 0
        self._checked_end = False
        # A re-encoded body has no byte offsets we could resume from.
        self._resumable = "Content-Encoding" not in self._resp.headers
        self._resp.raw.decode_content = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._desc.size - self._offset
        if remaining <= 0:  # never read past the declared size, whatever the server sends
            if not self._checked_end:
                self._checked_end = True
                try:
                    extra = self._resp.raw.read(1)
                except (urllib3.exceptions.HTTPError, OSError):
                    extra = b""
                if extra:
                    raise InputError(
                        f"{self._http.location}: blob {self._desc.digest} is longer than its "
                        f"declared {self._desc.size} bytes; refusing it"
                    )
            return 0
        want = min(len(buffer), remaining)
        while True:
            deadline = getattr(self._resp, "attest_deadline", None) or Deadline(0)
            try:
                with bound(deadline, self._http.deadline):
                    data = self._resp.raw.read(want)
                if data:
                    break
                error: Exception = RegistryError(f"body ended at byte {self._offset}")
            except (urllib3.exceptions.HTTPError, OSError) as e:
                error = e
            self._resume(error, deadline.expired)
        n = len(data)
        buffer[:n] = data
        self._offset += n
        return n

    def _resume(self, error: Exception, expired: bool) -> None:
        what = f"blob {self._desc.digest}"
        reason = f"a read took over {self._http.deadline:g}s" if expired else str(error)
        if not self._resumable or self._resumes >= self._http.retries:
            raise TransientError(
                f"{self._http.location}: reading {what} failed at byte {self._offset} "
                f"of {self._desc.size}: {reason}"
            )
        self._resumes += 1
        log.info("reading %s failed at byte %d (%s); resuming", what, self._offset, reason)
        self._resp.close()
        self._http.pause(self._resumes - 1, None)
        self._resp = self._http.open_blob_at(self._url, self._desc, self._offset)

    def close(self) -> None:
        if not self.closed:
            self._resp.close()
        super().close()
