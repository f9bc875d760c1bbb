"""Score a MOF configuration exactly as the Model Openness Tool does.

The algorithm (``shared/reference/mof.md`` §4, checked against the MOT's 27 test fixtures):

1. A component is included iff its exact name is listed.
2. Its licence: its own ``license`` (``unlicensed`` = none, no fallback); else the release
   licence for its content type; else the distribution licence; else none.
3. Per class, each required component is included (open licence), unlicensed (none), invalid
   (a licence that is not open) or missing (not listed).
4. When the Technical report is not included with an open licence and the Research paper is
   listed, the report drops out of every class and the paper takes its place in Classes III and
   II with its own status (Class I then counts 13 components instead of 14).
5. Progress of a class is 0 unless every less open class is complete; else
   min(100, included / total * 100).
6. The class is the most open one at 100 %.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from attest.mof.config import ComponentEntry, MofConfig
from attest.mof.data import CLASSES, Component, Framework, framework
from attest.mof.licenses import UNLICENSED
from attest.mof.report import Basis, ClassResult, ComponentResult, MofReport, Status

TECHNICAL_REPORT = "technical-report"
RESEARCH_PAPER = "research-paper"


def score(
    config: MofConfig,
    evidence: Mapping[str, Sequence[Basis]] | None = None,
    *,
    fw: Framework | None = None,
) -> MofReport:
    """The MOF report for ``config``; ``evidence`` maps component ids to what backs them.

    Without evidence for a listed component (a MOT YAML), its entry is the evidence: the
    ``component_path`` it declares and the line that lists it.
    """
    fw = fw or framework()
    evidence = evidence or {}
    warnings: list[str] = []
    results: dict[str, ComponentResult] = {}
    for comp in fw.components:
        entry = config.entry(comp.name)
        results[comp.id] = _component(comp, entry, config, fw, evidence.get(comp.id), warnings)

    tr, rp = results[TECHNICAL_REPORT], results[RESEARCH_PAPER]
    substitute = tr.status != "included" and rp.listed
    if substitute:
        results[TECHNICAL_REPORT] = replace(tr, substituted_by=RESEARCH_PAPER)

    classes: dict[int, ClassResult] = {}
    gated = False
    for c in CLASSES:  # 3, 2, 1: a class only progresses once the less open ones are complete
        members = _members(fw, c, substitute)
        classes[c] = _class_result(fw, c, members, results, gated)
        gated = gated or not classes[c].complete
    mof_class = next((c for c in sorted(CLASSES) if classes[c].complete), None)
    return MofReport(
        name=config.name,
        version=config.version,
        mof_class=mof_class,
        label=fw.label(mof_class),
        classes=classes,
        components=[results[c.id] for c in fw.components],
        framework_version=config.framework_version or fw.version,
        config=config,
        warnings=warnings,
    )


def resolve_license(
    comp: Component, entry: ComponentEntry, config: MofConfig
) -> tuple[str | None, str | None, str | None]:
    """(licence, where it came from, its path) for an included component, as the MOT does."""
    if entry.license:
        if entry.license == UNLICENSED:
            return None, "component", None
        return entry.license, "component", entry.license_path
    for kind in (comp.content_type, "distribution"):
        lic = config.licenses.get(kind)
        if lic and lic.name:
            return lic.name, f"release.{kind}", lic.path
    return None, None, None


def _component(
    comp: Component,
    entry: ComponentEntry | None,
    config: MofConfig,
    fw: Framework,
    evidence: Sequence[Basis] | None,
    warnings: list[str],
) -> ComponentResult:
    if entry is None:
        return ComponentResult(
            id=comp.id,
            mot_id=comp.mot_id,
            name=comp.name,
            mof_class=comp.mof_class,
            content_type=comp.content_type,
            required=comp.required,
            status="missing",
            license=None,
            license_source=None,
            evidence=tuple(evidence or ()),
        )
    lic, source, path = resolve_license(comp, entry, config)
    catalog = fw.licenses
    status: Status
    appropriate: bool | None = None
    if lic is None:
        status = "unlicensed"
    elif catalog.is_open(lic):
        status = "included"
        appropriate = catalog.is_appropriate(lic, comp.content_type)
        if not appropriate:
            warnings.append(
                f"{comp.name}: {lic} counts (it is open) but is not a {comp.content_type} "
                "licence on the MOF's list"
            )
    else:
        status = "invalid"
    if evidence is None:
        evidence = [_entry_evidence(entry)]
    return ComponentResult(
        id=comp.id,
        mot_id=comp.mot_id,
        name=comp.name,
        mof_class=comp.mof_class,
        content_type=comp.content_type,
        required=comp.required,
        status=status,
        license=lic,
        license_source=source,
        license_path=path,
        type_appropriate=appropriate,
        evidence=tuple(evidence),
    )


def _entry_evidence(entry: ComponentEntry) -> Basis:
    where = entry.where.replace("\\", "/").rsplit("/", 1)[-1] if entry.where else None
    return Basis(
        kind="declaration",
        path=entry.component_path or None,
        source=where or "MOF configuration",
    )


def _members(fw: Framework, mof_class: int, substitute: bool) -> list[Component]:
    """The required components a class counts, with the paper standing in for the report."""
    members = fw.required_in(mof_class)
    if not substitute:
        return members
    paper = fw.component(RESEARCH_PAPER)
    assert paper is not None  # data._check guarantees it
    out = [c for c in members if c.id != TECHNICAL_REPORT]
    if paper not in out:
        out.insert(next(i for i, c in enumerate(members) if c.id == TECHNICAL_REPORT), paper)
    return out


def _class_result(
    fw: Framework,
    mof_class: int,
    members: list[Component],
    results: Mapping[str, ComponentResult],
    gated: bool,
) -> ClassResult:
    buckets: dict[str, list[str]] = {"included": [], "missing": [], "unlicensed": [], "invalid": []}
    for comp in members:
        buckets[results[comp.id].status].append(comp.id)
    total = len(members)
    progress: float = 0
    if not gated and total:
        progress = min(100, len(buckets["included"]) / total * 100)
        if progress == 100:
            progress = 100  # an int, as the MOT prints it
    return ClassResult(
        mof_class=mof_class,
        label=fw.label(mof_class),
        progress=progress,
        total=total,
        included=tuple(buckets["included"]),
        missing=tuple(buckets["missing"]),
        unlicensed=tuple(buckets["unlicensed"]),
        invalid=tuple(buckets["invalid"]),
        gated=gated,
    )
