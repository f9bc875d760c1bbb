"""The storage interface every store implements (shaped after oras-go's content.Storage).

Two implementations: :class:`attest.oci.layout.LayoutStore` (an OCI image layout on disk) and
:class:`attest.oci.registry.RegistryStore` (a Distribution API registry). Referrers and copy are
written once against this interface.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import IO, Any, Protocol, runtime_checkable

from attest import jsonio
from attest.errors import InputError


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] | None = field(default=None, compare=False, hash=False)
    artifact_type: str | None = field(default=None, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            d["artifactType"] = self.artifact_type
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Descriptor:
        try:
            media_type, digest, size = d["mediaType"], d["digest"], d["size"]
        except (KeyError, TypeError) as e:
            raise InputError(f"malformed descriptor (missing {e}): {d!r:.200}") from None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InputError(f"malformed descriptor size {size!r} for {digest}")
        validate_digest(digest)
        return cls(
            media_type=media_type,
            digest=digest,
            size=size,
            annotations=d.get("annotations"),
            artifact_type=d.get("artifactType"),
        )

    @classmethod
    def for_bytes(cls, media_type: str, data: bytes, **kw: Any) -> Descriptor:
        return cls(media_type=media_type, digest=sha256_bytes(data), size=len(data), **kw)


def sha256_bytes(data: bytes) -> str:
    """``sha256:<hex>`` of exact bytes. Manifests are hashed as stored, never re-serialized."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def validate_digest(digest: str) -> tuple[str, str]:
    """Split and check an OCI digest; only the registered sha256 and sha512."""
    alg, sep, hexpart = digest.partition(":") if isinstance(digest, str) else ("", "", "")
    lengths = {"sha256": 64, "sha512": 128}
    if (
        not sep
        or alg not in lengths
        or len(hexpart) != lengths[alg]
        or any(c not in "0123456789abcdef" for c in hexpart)
    ):
        raise InputError(f"invalid digest {digest!r}")
    return alg, hexpart


def parse_json_object(data: bytes, what: str) -> dict[str, Any]:
    """Parse a manifest/index/config body; anything but a JSON object is bad input."""
    return jsonio.loads_object(data, what)


@dataclass
class Manifest:
    """A manifest or index as fetched: its descriptor, its exact bytes and the ETag if any."""

    descriptor: Descriptor
    data: bytes
    etag: str | None = None

    def json(self) -> dict[str, Any]:
        return parse_json_object(self.data, f"manifest {self.descriptor.digest}")


@dataclass
class PushResult:
    """What a manifest push told us: the registry's OCI-Subject header when it sent one."""

    descriptor: Descriptor
    oci_subject: str | None = None


@runtime_checkable
class Store(Protocol):
    """Content-addressed storage for one repository (a layout directory or a registry repo).

    Every method raises :class:`attest.errors.NotFoundError` for missing content,
    :class:`attest.errors.InputError` for content that fails its digest, and
    :class:`attest.errors.RegistryError` for transport failures.
    """

    #: human-readable location used in messages: "oci:./out", "localhost:5000/models/x"
    location: str

    def blob_exists(self, digest: str) -> bool:
        """Whether the blob ``digest`` is present."""

    def fetch_blob(self, desc: Descriptor) -> bytes:
        """A small blob (config, JSON document) whole; verified against ``desc.digest``/size."""

    def open_blob(self, desc: Descriptor) -> IO[bytes]:
        """A stream of a (possibly large) blob. The caller closes it and checks the digest."""

    def push_blob(self, desc: Descriptor, stream: IO[bytes]) -> bool:
        """Store ``desc.size`` bytes read from ``stream``; verify the digest; False when the
        blob was already present (and nothing was read)."""

    def get_manifest(self, reference: str, accept: tuple[str, ...] | None = None) -> Manifest:
        """The manifest a tag or digest names, with its exact bytes (digest checked)."""

    def manifest_exists(self, digest: str) -> bool:
        """Whether the manifest ``digest`` is present (HEAD on a registry)."""

    def push_manifest(
        self,
        data: bytes,
        media_type: str,
        *,
        tag: str | None = None,
        if_match: str | None = None,
    ) -> PushResult:
        """Store manifest ``data`` (exact bytes) by digest, or under ``tag`` when given.

        ``if_match`` is an ETag for optimistic concurrency on tag updates (fallback indexes).
        """

    def tags(self) -> list[str]:
        """The tags of this repository."""

    def list_referrers(self, subject_digest: str) -> list[Descriptor] | None:
        """Referrers of ``subject_digest`` from the store's own index, unfiltered.

        A registry answers from the Referrers API (following pagination) and returns None when
        the API is missing (404), so the caller reads the fallback tag; a layout answers by
        scanning ``index.json``. Entries are candidates: the caller checks each one's subject.
        """
