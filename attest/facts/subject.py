"""The one Subject type: a resolved artifact, with the exact manifest bytes and what they name.

Facts, stages (the in-toto statement subject), signing and the OMS check take this type; where
the OCI layer needs only a descriptor (attaching referrers, verifying any artifact's referrers),
:meth:`Subject.descriptor` gives it. A
ModelPack or KitOps artifact fills every field (:func:`attest.modelpack.read.read_subject`);
any other artifact that evidence is about (a policy bundle) has no config and no layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attest.errors import UsageError
from attest.oci.reference import parse_reference
from attest.oci.store import Descriptor


@dataclass(frozen=True)
class ModelLayer:
    """One layer of a ModelPack artifact, with the file it carries."""

    descriptor: Descriptor
    kind: str  # weight | weight.config | doc | code | dataset
    encoding: str  # raw | tar | tar+gzip | tar+zstd
    path: str | None  # org.cncf.model.filepath (relative, checked not to escape)
    metadata: dict[str, Any] | None = None
    untested: bool = False

    @property
    def digest(self) -> str:
        return self.descriptor.digest

    @property
    def size(self) -> int:
        return self.descriptor.size

    @property
    def media_type(self) -> str:
        return self.descriptor.media_type

    @property
    def file_sha256(self) -> str | None:
        """The file's sha256: the layer digest itself for raw layers, unknown for tars."""
        return self.descriptor.digest if self.encoding == "raw" else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "encoding": self.encoding,
            "mediaType": self.descriptor.media_type,
            "digest": self.descriptor.digest,
            "size": self.descriptor.size,
            "untested": self.untested,
        }


@dataclass
class Subject:
    """A resolved artifact: what evidence is about."""

    reference: str  # as given, e.g. "localhost:5000/m/tiny:v1" or "oci:out:tiny"
    repository: str  # the in-toto subject name: "registry/repo" or "oci:PATH"
    digest: str  # of the manifest
    size: int
    media_type: str  # of the manifest
    manifest_bytes: bytes = field(default=b"", repr=False)  # exactly as stored
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)
    artifact_type: str | None = None
    config_descriptor: Descriptor | None = None
    config: dict[str, Any] = field(default_factory=dict)
    layers: list[ModelLayer] = field(default_factory=list)
    flavour: str = ""  # "modelpack", "modelpack-legacy" (cnai), "kitops"; "" for others
    config_errors: list[str] = field(default_factory=list)  # why the config was not used

    def descriptor(self) -> Descriptor:
        """The manifest's OCI descriptor, for what needs only that (attach, referrers)."""
        return Descriptor(self.media_type, self.digest, self.size)

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.manifest.get("annotations") or {})

    def to_dict(self) -> dict[str, Any]:
        """``attest inspect --format json``."""
        return {
            "reference": self.reference,
            "digest": self.digest,
            "mediaType": self.media_type,
            "size": self.size,
            "artifactType": self.artifact_type,
            "flavour": self.flavour,
            "config": self.config,
            "annotations": self.annotations,
            "layers": [layer.to_dict() for layer in self.layers],
            **({"configErrors": self.config_errors} if self.config_errors else {}),
        }

    def facts_dict(self) -> dict[str, Any]:
        """The subject as ``attest facts --format json`` shows it."""
        return {
            "reference": self.reference,
            "repository": self.repository,
            "digest": self.digest,
            "media_type": self.media_type,
            "size": self.size,
            "annotations": self.annotations,
        }


def repository_of(reference: str, location: str) -> str:
    """The in-toto subject name of ``reference``: its repository, or the store's location when
    the reference does not parse (one built by read_subject, "oci:out@sha256:...", or odd input)."""
    try:
        return parse_reference(reference).repository_name()
    except UsageError:
        return location
