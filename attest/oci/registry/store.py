"""A Distribution API registry as a :class:`~attest.oci.store.Store`: one repository.

The Store protocol (blobs, manifests, tags, referrers) on top of :mod:`.transport` (HTTP,
retries, deadlines, resumable reads) and :mod:`.upload` (blob uploads); credentials come from
:mod:`.credentials` and challenges are answered by :mod:`.auth`. Every byte the registry sends
is checked here against the digest and size it was asked for.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from attest.errors import ConcurrentUpdateError, InputError, RegistryError, UsageError
from attest.oci import limits
from attest.oci import mediatypes as mt
from attest.oci.reference import Reference
from attest.oci.registry.credentials import Login, resolve_credentials
from attest.oci.registry.transport import BlobReader, ResponseReader, Transport
from attest.oci.registry.upload import Uploader, check_blob, digest_of
from attest.oci.store import Descriptor, Manifest, PushResult, parse_json_object, validate_digest

log = logging.getLogger(__name__)

MiB = 1024 * 1024
DEFAULT_CHUNK_SIZE = 8 * MiB
_TAGS_PAGE_SIZE = 1000
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


def _is_digest(reference: str) -> bool:
    return ":" in reference


class ReferrerList(list[Descriptor]):
    """Descriptors from the Referrers API, and which filters the registry says it applied.

    ``filters_applied`` holds the names from the ``OCI-Filters-Applied`` header (so far only
    ``"artifactType"`` exists). Filtering is optional for registries: when an ``artifact_type``
    was asked for but :attr:`artifact_type_filtered` is False, the list is unfiltered, and
    :meth:`matching` does the filtering on the client.
    """

    def __init__(
        self, items: Iterable[Descriptor] = (), filters_applied: Iterable[str] = ()
    ) -> None:
        super().__init__(items)
        self.filters_applied: frozenset[str] = frozenset(filters_applied)

    @property
    def artifact_type_filtered(self) -> bool:
        return "artifactType" in self.filters_applied

    def matching(self, artifact_type: str | None) -> list[Descriptor]:
        """The entries of ``artifact_type`` (all when None); filters here if the server did not."""
        if artifact_type is None or self.artifact_type_filtered:
            return list(self)
        return [d for d in self if d.artifact_type == artifact_type]


class RegistryStore:
    """One repository of a Distribution API (OCI distribution-spec) registry.

    ``plain_http`` talks HTTP instead of HTTPS; ``insecure`` skips TLS verification. Requests
    failing with 5xx, 429 or a dropped connection are tried ``retries`` more times, waiting
    ``backoff * 2**n`` seconds (or the registry's ``Retry-After``). Blobs larger than
    ``chunk_size`` are uploaded in chunks of that size, read from the stream one at a time.
    ``login`` is what the command line said about credentials (see :mod:`.credentials`).
    """

    def __init__(
        self,
        registry: str,
        repository: str,
        *,
        plain_http: bool = False,
        insecure: bool = False,
        docker_config: Path | None = None,
        username: str | None = None,
        password: str | None = None,
        login: Login | None = None,
        retries: int = 4,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: float = 60.0,
        backoff: float = 0.5,
        deadline: float | None = None,
    ) -> None:
        if chunk_size <= 0:
            raise UsageError(f"chunk size must be positive, not {chunk_size}")
        if (username is None) != (password is None):
            raise UsageError("give both a registry username and a password, or neither")
        self.registry = registry
        self.repository = repository
        self.location = f"{registry}/{repository}"
        self.plain_http = plain_http
        self.insecure = insecure
        self.retries = max(0, retries)
        self.chunk_size = chunk_size
        self.timeout = timeout
        # A whole request (blob bodies: each read of up to 1 MiB) must finish within this.
        self.deadline = deadline if deadline is not None else max(300.0, timeout)
        self.backoff = backoff
        self._base = f"{'http' if plain_http else 'https'}://{registry}/v2/{repository}"
        self._http = Transport(
            registry,
            repository,
            lambda: resolve_credentials(registry, username, password, docker_config, login),
            plain_http=plain_http,
            insecure=insecure,
            retries=self.retries,
            timeout=timeout,
            backoff=backoff,
            deadline=self.deadline,
        )
        self._uploads = Uploader(self._http, self._base, chunk_size, self.blob_exists)

    @classmethod
    def from_reference(
        cls, ref: Reference, *, plain_http: bool = False, insecure: bool = False, **kwargs: Any
    ) -> RegistryStore:
        """The store for ``ref``'s repository; loopback registries are spoken to in plain HTTP
        (as docker and oras treat localhost)."""
        if ref.registry is None or ref.repository is None:
            raise UsageError(f"{ref} is not a registry reference")
        return cls(
            ref.registry,
            ref.repository,
            plain_http=plain_http or ref.is_loopback,
            insecure=insecure,
            **kwargs,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RegistryStore({self.location!r}, plain_http={self.plain_http})"

    # -- blobs --------------------------------------------------------------------------------

    def blob_exists(self, digest: str) -> bool:
        resp = self._http.request("HEAD", self._blob_url(digest))
        if resp.status_code == 404:
            return False
        self._http.check(resp, f"blob {digest}", (200,))
        return True

    def fetch_blob(self, desc: Descriptor) -> bytes:
        limits.check_declared_size(desc.size, limits.MAX_DOCUMENT_SIZE, f"blob {desc.digest}")
        with self.open_blob(desc) as stream:
            data = stream.read(desc.size)  # the reader stops at the declared size
        check_blob(data, desc, self.location)
        return data

    def open_blob(self, desc: Descriptor) -> IO[bytes]:
        raw = BlobReader(self._http, self._blob_url(desc.digest), desc)
        reader = io.BufferedReader(raw, 1024 * 1024)
        return limits.bounded(reader, desc.size, f"{self.location}: blob {desc.digest}")

    def push_blob(self, desc: Descriptor, stream: IO[bytes]) -> bool:
        if self.blob_exists(desc.digest):
            return False
        self._uploads.push(desc, stream)
        return True

    def mount_blob(self, desc: Descriptor, from_repository: str) -> bool:
        """Mount ``desc`` from another repository of this registry (no bytes move); False
        when the registry declines (it then opened an upload, which is cancelled)."""
        return self._uploads.mount(desc, from_repository)

    def _blob_url(self, digest: str) -> str:
        validate_digest(digest)
        return f"{self._base}/blobs/{digest}"

    # -- manifests ----------------------------------------------------------------------------

    def get_manifest(self, reference: str, accept: tuple[str, ...] | None = None) -> Manifest:
        accepted = accept or mt.ALL_MANIFEST_TYPES
        for attempt in range(1 + self.retries):
            resp = self._http.request(
                "GET",
                self._manifest_url(reference),
                headers={"Accept": ", ".join(accepted)},
                stream=True,
            )
            self._http.check(resp, f"manifest {reference}", (200,))
            try:  # streamed so a hostile body stops at the cap; a truncated one is read again
                with ResponseReader(resp, f"manifest {reference}") as body:
                    data = limits.read_capped(
                        body, limits.MAX_MANIFEST_SIZE, f"{self.location}: manifest {reference}"
                    )
                break
            except RegistryError as e:
                if attempt == self.retries:
                    raise
                log.info("%s; reading it again", e.message)
                self._http.pause(attempt, None)
        digest = self._manifest_digest(reference, data, resp.headers.get("Docker-Content-Digest"))
        media_type = _manifest_media_type(resp.headers.get("Content-Type"), data, accepted, digest)
        return Manifest(Descriptor(media_type, digest, len(data)), data, resp.headers.get("ETag"))

    def manifest_exists(self, digest: str) -> bool:
        validate_digest(digest)
        resp = self._http.request(
            "HEAD",
            self._manifest_url(digest),
            headers={"Accept": ", ".join(mt.ALL_MANIFEST_TYPES)},
        )
        if resp.status_code == 404:
            return False
        self._http.check(resp, f"manifest {digest}", (200,))
        return True

    def push_manifest(
        self,
        data: bytes,
        media_type: str,
        *,
        tag: str | None = None,
        if_match: str | None = None,
    ) -> PushResult:
        desc = Descriptor.for_bytes(media_type, data)
        target = tag or desc.digest
        headers = {"Content-Type": media_type}
        if if_match:
            headers["If-Match"] = if_match
        resp = self._http.request(
            "PUT", self._manifest_url(target), push=True, headers=headers, data=data
        )
        if resp.status_code == 412:
            raise ConcurrentUpdateError(
                f"{self.location}:{target} changed concurrently: the registry refused the "
                f"update because it no longer matches ETag {if_match}",
                hint="read it again and retry",
            )
        self._http.check(resp, f"manifest push to {target}", (200, 201, 204))
        stored = resp.headers.get("Docker-Content-Digest")
        if stored and stored.startswith("sha256:") and stored != desc.digest:
            raise RegistryError(
                f"{self.location} stored the manifest as {stored}, not {desc.digest}: "
                "it changed the bytes"
            )
        return PushResult(descriptor=desc, oci_subject=resp.headers.get("OCI-Subject"))

    def _manifest_url(self, reference: str) -> str:
        if _is_digest(reference):
            validate_digest(reference)
        elif not _TAG_RE.match(reference):
            raise UsageError(f"invalid tag {reference!r}")
        return f"{self._base}/manifests/{reference}"

    def _manifest_digest(self, reference: str, data: bytes, header: str | None) -> str:
        """The digest of exactly ``data``; a registry header is believed only if it agrees."""
        if _is_digest(reference):
            alg, _ = validate_digest(reference)
            if digest_of(data, alg) != reference:
                raise InputError(
                    f"{self.location}: the manifest served for {reference} does not match "
                    "that digest"
                )
            return reference
        computed = digest_of(data, "sha256")
        if header:
            try:
                alg, _ = validate_digest(header)
            except InputError:
                alg = ""
            if not alg or digest_of(data, alg) != header:
                raise InputError(
                    f"{self.location}: manifest {reference} is served with "
                    f"Docker-Content-Digest {header}, but its body is {computed}"
                )
        return computed

    # -- tags and referrers -------------------------------------------------------------------

    def tags(self) -> list[str]:
        found: list[str] = []
        for page in self._http.pages(
            f"{self._base}/tags/list", {"n": str(_TAGS_PAGE_SIZE)}, "tags"
        ):
            if page is None:
                return []  # no such repository: no tags
            body = parse_json_object(page.content, f"tag list of {self.location}")
            found.extend(t for t in body.get("tags") or [] if isinstance(t, str))
        return found

    def catalog(self) -> list[str]:
        """Every repository the registry lists (``GET /v2/_catalog``, all pages).

        Distribution serves it; many hosted registries refuse it (then list references in a
        file instead). Token registries need the ``registry:catalog:*`` scope, which the
        repository-scoped token does not carry: such a refusal is a RegistryError.
        """
        url = self._base.rsplit("/v2/", 1)[0] + "/v2/_catalog"
        found: list[str] = []
        for page in self._http.pages(url, {"n": str(_TAGS_PAGE_SIZE)}, "catalog"):
            if page is None:
                raise RegistryError(f"{self.registry}: no catalog API (404)")
            body = parse_json_object(page.content, f"catalog of {self.registry}")
            found.extend(r for r in body.get("repositories") or [] if isinstance(r, str))
        return found

    def list_referrers(
        self, subject_digest: str, *, artifact_type: str | None = None
    ) -> ReferrerList | None:
        """All descriptors the Referrers API lists for ``subject_digest`` (every page).

        Returns None when the registry has no Referrers API (404): read the fallback tag.
        ``artifact_type`` is passed on as ``?artifactType=``; registries may ignore it, so check
        ``result.artifact_type_filtered`` or use ``result.matching(artifact_type)``. Without it
        the list is unfiltered, as the Store protocol says.
        """
        validate_digest(subject_digest)
        params = {"artifactType": artifact_type} if artifact_type else None
        url = f"{self._base}/referrers/{subject_digest}"
        found: list[Descriptor] = []
        applied: set[str] | None = None
        for page in self._http.pages(url, params, f"referrers of {subject_digest}", mt.OCI_INDEX):
            if page is None:
                return None
            index = parse_json_object(page.content, f"referrers index of {subject_digest}")
            manifests = index.get("manifests") or []
            if not isinstance(manifests, list):
                raise InputError(f"{self.location}: referrers index 'manifests' is not a list")
            found.extend(_referrer_descriptors(manifests, subject_digest))
            header = page.headers.get("OCI-Filters-Applied", "")
            names = {n.strip() for n in header.split(",") if n.strip()}
            applied = names if applied is None else applied & names  # true of every page
        return ReferrerList(found, applied or ())


def _referrer_descriptors(entries: list[Any], subject_digest: str) -> Iterator[Descriptor]:
    # One malformed entry must not hide the others; the caller verifies each anyway.
    for entry in entries:
        try:
            yield Descriptor.from_dict(entry)
        except InputError as e:
            log.warning("ignoring malformed referrer of %s: %s", subject_digest, e)


def _manifest_media_type(
    content_type: str | None, data: bytes, accepted: tuple[str, ...], digest: str
) -> str:
    """The media type from Content-Type when it is one we asked for, else from the body."""
    declared = (content_type or "").split(";", 1)[0].strip()
    if declared in accepted or declared in mt.ALL_MANIFEST_TYPES:
        return declared
    obj = parse_json_object(data, f"manifest {digest}")
    if obj.get("mediaType") in mt.ALL_MANIFEST_TYPES:
        return str(obj["mediaType"])
    if isinstance(obj.get("manifests"), list):
        return mt.OCI_INDEX
    if "config" in obj or "layers" in obj:
        return mt.OCI_MANIFEST
    raise InputError(f"{digest} is not a manifest or index (Content-Type {declared!r})")
