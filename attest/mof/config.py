"""The MOF configuration: what a MOT YAML says, as typed data.

One type for both ways in: :mod:`attest.mof.mot_yaml` reads it from a MOT YAML,
:mod:`attest.mof.derive` builds it from ModelFacts; :mod:`attest.mof.scoring` scores it and
:mod:`attest.mof.mot_yaml` writes it back out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# release.license keys: the distribution licence, then one per content type.
RELEASE_LICENSE_KINDS = ("distribution", "code", "data", "document")


@dataclass(frozen=True)
class ReleaseLicense:
    """``release.license.<kind>``: a licence covering the whole release or one content type."""

    name: str | None
    path: str | None = None


@dataclass(frozen=True)
class ComponentEntry:
    """One entry of ``release.components``: the component is included in the release.

    ``license`` None means "not given" (the key is absent, empty or null), and the release
    licences apply; ``"unlicensed"`` means included without a licence, with no fallback.
    """

    name: str  # the exact MOF component name
    description: str | None = None
    license: str | None = None
    license_path: str | None = None
    component_path: str | None = None
    where: str | None = None  # "file.yml:12", for messages


@dataclass
class MofConfig:
    """A MOF configuration: the release, its licences and its included components."""

    name: str
    producer: str = ""
    version: str = ""
    date: str | None = None  # YYYY-MM-DD
    type: str = ""  # the MOT's enum: language, vision, ... or ""
    architecture: str = ""  # the MOT's enum: transformer, decoder, ... or ""
    treatment: str | None = None  # pre-trained | instruct fine-tuned | chat fine-tuned
    origin: str = ""
    contact: str = ""
    repository: str | None = None
    huggingface: str | None = None
    licenses: dict[str, ReleaseLicense] = field(default_factory=dict)  # RELEASE_LICENSE_KINDS
    components: list[ComponentEntry] = field(default_factory=list)
    framework_version: str = "1.0"
    framework_date: str = "2024-12-15"
    source: str | None = None  # the file it was read from, or "ModelFacts"

    def entry(self, name: str) -> ComponentEntry | None:
        # A later entry wins, as in the MOT (our loader refuses duplicates before this matters).
        found = None
        for e in self.components:
            if e.name == name:
                found = e
        return found
