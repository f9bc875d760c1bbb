"""The MOF report: class, progress per class, every component's status, licence and evidence.

:class:`MofReport` is what :func:`attest.mof.scoring.score` returns; ``to_dict()`` is its JSON
form (the predicate of the MOF evidence and ``attest mof --format json``; camelCase keys, as
every attest JSON output: docs/json-output.md). The text, Markdown and JSON renderers are in
:mod:`attest.mof.render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from attest.mof.config import MofConfig

Status = Literal["included", "missing", "unlicensed", "invalid"]
STATUSES: tuple[Status, ...] = ("included", "missing", "unlicensed", "invalid")
ROMAN = {3: "III", 2: "II", 1: "I"}


@dataclass(frozen=True)
class Evidence:
    """Why a component counts: a file of the model, a declaration, a card, a URL.

    kind: ``file`` (path + digest of a file in the model), ``card`` (a part of the model card),
    ``url`` (a paper, a dataset page), ``dataset`` (a dataset the facts name), ``declaration``
    (attest.yaml or a MOT YAML entry), ``license`` (where the licence was read).
    """

    kind: Literal["file", "card", "url", "dataset", "declaration", "license"]
    path: str | None = None  # path inside the model, or a URL
    digest: str | None = None  # "sha256:<hex>" of the file, when it is one
    source: str | None = None  # what made it count: "role weight", "attest.yaml components", ...
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class ComponentResult:
    """One component, scored."""

    id: str  # kebab-case
    mot_id: int
    name: str
    mof_class: int
    content_type: str
    required: bool
    status: Status
    license: str | None  # the licence that counts, after the MOT's fallbacks
    license_source: str | None  # "component", "release.code", "release.distribution", ...
    license_path: str | None = None
    type_appropriate: bool | None = None  # None when not open (the question does not arise)
    substituted_by: str | None = None  # technical-report: "research-paper" stands in for it
    evidence: tuple[Evidence, ...] = ()

    @property
    def listed(self) -> bool:
        return self.status != "missing"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "motId": self.mot_id,
            "name": self.name,
            "class": self.mof_class,
            "contentType": self.content_type,
            "required": self.required,
            "status": self.status,
            "license": self.license,
            "licenseSource": self.license_source,
        }
        if self.license_path:
            data["licensePath"] = self.license_path
        if self.type_appropriate is not None:
            data["typeAppropriate"] = self.type_appropriate
        if self.substituted_by:
            data["substitutedBy"] = self.substituted_by
        data["evidence"] = [e.to_dict() for e in self.evidence]
        return data


@dataclass(frozen=True)
class ClassResult:
    """One class: the required components it counts, bucketed as the MOT does."""

    mof_class: int
    label: str
    progress: float  # 0..100, the MOT's number exactly
    total: int  # required components counted (6, 10, 14; 13 when the paper stands in)
    included: tuple[str, ...]  # component ids
    missing: tuple[str, ...]
    unlicensed: tuple[str, ...]
    invalid: tuple[str, ...]
    gated: bool  # progress forced to 0 because a less open class is incomplete

    @property
    def complete(self) -> bool:
        return self.progress >= 100

    def to_dict(self) -> dict[str, Any]:
        return {
            "class": self.mof_class,
            "label": self.label,
            "progress": self.progress,
            "total": self.total,
            "included": list(self.included),
            "missing": list(self.missing),
            "unlicensed": list(self.unlicensed),
            "invalid": list(self.invalid),
            "gated": self.gated,
        }


@dataclass
class MofReport:
    """The MOF verdict for one model."""

    name: str
    version: str
    mof_class: int | None  # 3, 2, 1, or None (unclassified)
    label: str
    classes: dict[int, ClassResult]  # 3, 2, 1
    components: list[ComponentResult]
    framework_version: str
    config: MofConfig
    warnings: list[str] = field(default_factory=list)

    @property
    def progress(self) -> dict[int, float]:
        return {c: r.progress for c, r in self.classes.items()}

    @property
    def next_class(self) -> int | None:
        """The class to aim for next: III when unclassified, then II, then I; None at Class I."""
        if self.mof_class is None:
            return 3
        return self.mof_class - 1 if self.mof_class > 1 else None

    def component(self, key: str) -> ComponentResult:
        for c in self.components:
            if key in (c.id, c.name):
                return c
        raise KeyError(key)

    def needed_for(self, mof_class: int) -> list[ComponentResult]:
        """What stands between the model and ``mof_class``: required components not counted."""
        result = self.classes[mof_class]
        short = set(result.missing) | set(result.unlicensed) | set(result.invalid)
        for higher in range(mof_class + 1, 4):  # a gated class also needs the classes above it
            r = self.classes[higher]
            short |= set(r.missing) | set(r.unlicensed) | set(r.invalid)
        return [c for c in self.components if c.id in short]

    def meets(self, mof_class: int) -> bool:
        """True when the model is in ``mof_class`` or a more open one."""
        return self.mof_class is not None and self.mof_class <= mof_class

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": {"name": "Model Openness Framework", "version": self.framework_version},
            "model": {"name": self.name, "version": self.version},
            "class": self.mof_class,
            "classRoman": ROMAN.get(self.mof_class) if self.mof_class else None,
            "label": self.label,
            "progress": {ROMAN[c]: self.classes[c].progress for c in (3, 2, 1)},
            "classes": {ROMAN[c]: self.classes[c].to_dict() for c in (3, 2, 1)},
            "components": [c.to_dict() for c in self.components],
            "next": self._next_dict(),
            "warnings": list(self.warnings),
        }

    def _next_dict(self) -> dict[str, Any] | None:
        target = self.next_class
        if target is None:
            return None
        return {
            "class": target,
            "label": self.classes[target].label,
            "needs": [{"id": c.id, "status": c.status} for c in self.needed_for(target)],
        }
