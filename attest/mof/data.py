"""The MOF framework data (``mof/`` at the repository top level), found and loaded once.

``mof/`` is content that governance people edit, so it lives outside the Python package. A wheel
carries it as ``attest/_content/mof/`` (``setup.py`` maps it there); a source checkout or an
editable install reads ``<repo>/mof`` directly. Either way the files are checked on load: a
broken edit fails loudly here rather than mis-scoring a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from attest import yamlio
from attest.content import content_dir
from attest.errors import InternalError
from attest.mof.licenses import LicenseCatalog, LicenseInfo

CONTENT_TYPES = ("code", "data", "document")
CLASSES = (3, 2, 1)  # walked from the least to the most open, as the MOT does


@dataclass(frozen=True)
class Component:
    """One MOF component."""

    mot_id: int
    id: str  # kebab-case, the draft CNCF profile's
    name: str  # exact: what a MOT YAML lists
    content_type: str  # code | data | document
    mof_class: int  # 3, 2 or 1
    required: bool
    description: str


@dataclass(frozen=True)
class MofClass:
    number: int  # 3, 2, 1
    roman: str
    name: str
    label: str  # "Class III - Open Model"
    summary: str


@dataclass(frozen=True)
class Framework:
    """Everything in ``mof/``: components, classes, licences."""

    name: str
    version: str
    date: str
    components: tuple[Component, ...]
    classes: dict[int, MofClass]
    unclassified_label: str
    licenses: LicenseCatalog
    config_file: dict[str, str]
    data_dir: Path

    def component(self, key: str) -> Component | None:
        """By exact name or kebab-case id."""
        for c in self.components:
            if key in (c.name, c.id):
                return c
        return None

    def lookup(self, key: str) -> Component | None:
        """Like :meth:`component`, forgiving letter case and spacing (for declarations)."""
        folded = " ".join(key.replace("_", " ").split()).lower()
        for c in self.components:
            if folded in (c.name.lower(), c.id.replace("-", " ")):
                return c
        return self.component(key)

    def required_in(self, mof_class: int) -> list[Component]:
        """Required components a class needs, cumulatively (Class II includes Class III's)."""
        return [c for c in self.components if c.required and c.mof_class >= mof_class]

    def label(self, mof_class: int | None) -> str:
        return self.classes[mof_class].label if mof_class else self.unclassified_label


def default_data_dir() -> Path:
    """``attest/_content/mof`` in a wheel, else ``<repo>/mof`` in a checkout."""
    return content_dir("mof")


@cache
def framework() -> Framework:
    """The framework data, loaded and checked once per process."""
    return load_framework(default_data_dir())


def load_framework(data_dir: Path) -> Framework:
    comp_doc = _read(data_dir / "components.yaml")
    class_doc = _read(data_dir / "classes.yaml")
    fw = comp_doc["framework"]
    components = tuple(_component(c) for c in comp_doc["components"])
    classes = {
        int(c["class"]): MofClass(
            int(c["class"]), c["roman"], c["name"], c["label"], " ".join(c["summary"].split())
        )
        for c in class_doc["classes"]
    }
    result = Framework(
        name=fw["name"],
        version=str(fw["version"]),
        date=str(fw["date"]),
        components=components,
        classes=classes,
        unclassified_label=class_doc["unclassified_label"],
        licenses=_catalog(data_dir / "licenses"),
        config_file=dict(comp_doc["configuration_file"]),
        data_dir=data_dir,
    )
    _check(result)
    return result


def _read(path: Path) -> Any:
    try:
        return yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InternalError(f"MOF framework data {path} is unreadable: {exc}") from None


def _component(c: dict[str, Any]) -> Component:
    return Component(
        mot_id=int(c["mot_id"]),
        id=str(c["id"]),
        name=str(c["name"]),
        content_type=str(c["content_type"]),
        mof_class=int(c["class"]),
        required=bool(c["required"]),
        description=str(c["description"]),
    )


def _catalog(lic_dir: Path) -> LicenseCatalog:
    spdx = _read(lic_dir / "spdx.yaml")
    opened = _read(lic_dir / "open.yaml")
    types = _read(lic_dir / "type-appropriate.yaml")
    known = {
        str(lid): LicenseInfo(
            id=str(lid),
            name=str(e["name"]),
            osi=bool(e["osi"]),
            fsf=bool(e["fsf"]),
            deprecated=bool(e["deprecated"]),
        )
        for lid, e in spdx["licenses"].items()
    }
    return LicenseCatalog(
        known=known,
        open_data=frozenset(map(str, opened["open_data"])),
        always_open=frozenset(map(str, opened["always_open"])),
        by_type={ct: frozenset(map(str, types.get(ct) or [])) for ct in CONTENT_TYPES},
        list_version=str(spdx.get("list_version", "")),
    )


def _check(fw: Framework) -> None:
    """The invariants the scorer relies on; an edit of mof/ that breaks one stops here."""
    problems: list[str] = []
    for attr in ("mot_id", "id", "name"):
        values = [getattr(c, attr) for c in fw.components]
        dups = sorted({str(v) for v in values if values.count(v) > 1})
        if dups:
            problems.append(f"duplicate component {attr}: {', '.join(dups)}")
    for c in fw.components:
        if c.content_type not in CONTENT_TYPES:
            problems.append(f"{c.name}: content_type {c.content_type!r} not in {CONTENT_TYPES}")
        if c.mof_class not in CLASSES:
            problems.append(f"{c.name}: class {c.mof_class} not in {CLASSES}")
    if sorted(fw.classes) != sorted(CLASSES):
        problems.append(f"classes.yaml must define classes {CLASSES}")
    for key in ("technical-report", "research-paper"):  # the substitution rule names them
        if fw.component(key) is None:
            problems.append(f"component {key!r} is missing")
    if problems:
        raise InternalError(f"MOF data in {fw.data_dir} is broken: " + "; ".join(problems))
