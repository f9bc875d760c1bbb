"""Derive a MOF configuration from ModelFacts: which components the artifact holds, under which
licence, and the evidence for each.

A pure mapping (no I/O): files are classified by role and name, the card and the declarations
(``attest.yaml``) fill in what files cannot say, and every component records what made it count
(file path + digest, card, URL or declaration) so that a reader can audit it. ``docs/mof.md``
lists the rules for users; the tests spell out why each applies.

Licences, per component: ``attest.yaml`` ``component_licenses`` wins; else each part's own
licence (an SPDX header in a file, a dataset's licence); else, for a part shipped in the
artifact, the model's licence (declared, card front matter, LICENSE file). A part that is only
referenced (a paper URL, a dataset by name) is not covered by the model's licence. A component
is only as open as its least open part.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from attest.errors import InputError
from attest.facts.model import DatasetFact, FileFact, ModelFacts
from attest.mof.config import ComponentEntry, MofConfig, ReleaseLicense
from attest.mof.data import Component, Framework, framework
from attest.mof.file_rules import dataset_component, file_components, release_type
from attest.mof.licenses import UNLICENSED, combine, mot_license
from attest.mof.report import Basis


@dataclass
class _Part:
    """One piece of a component: its evidence, its own licence, and whether it is shipped."""

    evidence: Basis
    license: str | None = None  # the part's own licence (header, dataset licence)
    license_evidence: Basis | None = None
    shipped: bool = True  # in the artifact: the model's licence covers it


@dataclass
class _ModelLicense:
    expression: str | None
    evidence: list[Basis] = field(default_factory=list)
    path: str | None = None  # the LICENSE file, when that is where it came from


def mof_config_from_facts(facts: ModelFacts) -> tuple[MofConfig, dict[str, list[Basis]]]:
    """The MOF configuration of a model and, per component id, the evidence for it."""
    fw = framework()
    declared_paths, declared_licenses = _declarations(facts, fw)
    files = {f.path: f for f in facts.files}
    found: dict[str, list[_Part]] = {}

    for comp_id, paths in declared_paths.items():
        found[comp_id] = [_declared_file(facts, files, comp_id, p) for p in paths]
    # Files declared intermediate are not final parameters, whatever their names say.
    intermediate = {
        path
        for declared in declared_paths.get("intermediate-model-parameters", [])
        for path in files
        if path == declared or path.startswith(declared.rstrip("/") + "/")
    }
    inferred = _infer(facts, files, intermediate)
    for comp_id, parts in inferred.items():
        if comp_id not in declared_paths and parts:
            found[comp_id] = parts

    model_license = _model_license(facts, files)
    entries: list[ComponentEntry] = []
    evidence: dict[str, list[Basis]] = {}
    for comp in fw.components:
        parts = _dedupe(found.get(comp.id, []))
        declared = declared_licenses.get(comp.id)
        if not parts:
            if declared:  # said, but nothing to say it of: show it rather than drop it
                evidence[comp.id] = [_unmatched_license(*declared)]
            continue
        lic_id, notes = _choose_license(parts, declared, model_license, fw)
        lic_evidence = _license_evidence(parts, declared, model_license)
        lic_evidence += [Basis(kind="license", note=n) for n in notes]
        evidence[comp.id] = [p.evidence for p in parts] + lic_evidence
        entries.append(
            ComponentEntry(
                name=comp.name,
                description=comp.description,
                license=lic_id or UNLICENSED,
                license_path=model_license.path if _uses_model(parts, declared) else None,
                component_path=", ".join(
                    dict.fromkeys(p.evidence.path for p in parts if p.evidence.path)
                )
                or None,
                where="ModelFacts",
            )
        )

    dist = mot_license(model_license.expression, fw.licenses).id
    config = MofConfig(
        name=facts.name,
        producer=", ".join(facts.declared.authors) if facts.declared else "",
        version=facts.version or "",
        type=release_type(facts.card.pipeline_tag if facts.card else None),
        origin=(facts.base_models[0] if facts.base_models else ""),
        repository=facts.declared.source_repository if facts.declared else None,
        licenses={"distribution": ReleaseLicense(dist, model_license.path)} if dist else {},
        components=entries,
        framework_version=fw.version,
        framework_date=fw.date,
        source="ModelFacts",
    )
    return config, evidence


# -- declarations -------------------------------------------------------------------------------


def _declarations(
    facts: ModelFacts, fw: Framework
) -> tuple[dict[str, list[str]], dict[str, tuple[str, Basis]]]:
    """attest.yaml ``components`` and ``component_licenses``, keyed by component id."""
    declared = facts.declared
    if declared is None:
        return {}, {}
    paths: dict[str, list[str]] = {}
    for key, value in declared.components.items():
        paths.setdefault(_component_key(fw, key, "components", declared.path).id, []).extend(value)
    licenses: dict[str, tuple[str, Basis]] = {}
    for key, lic in declared.component_licenses.items():
        comp = _component_key(fw, key, "component_licenses", declared.path)
        licenses[comp.id] = (
            lic,
            Basis(
                kind="license",
                path=declared.path,
                source="attest.yaml component_licenses",
                note=lic,
            ),
        )
    return paths, licenses


def _component_key(fw: Framework, key: str, section: str, path: str) -> Component:
    comp = fw.lookup(key)
    if comp is None:
        raise InputError(
            f"{path}: {section}: {key!r} is not a MOF component",
            hint="use a name or id from docs/mof.md: " + ", ".join(c.name for c in fw.components),
        )
    return comp


def _declared_file(facts: ModelFacts, files: dict[str, FileFact], comp_id: str, path: str) -> _Part:
    """A path declared for a component: a file of the model, or a directory of them."""
    source = f"{facts.declared.path if facts.declared else 'attest.yaml'} components"
    f = files.get(path)
    if f is not None:
        return _file_part(f, source)
    prefix = path.rstrip("/") + "/"
    under = sorted(p for p in files if p.startswith(prefix))
    if under:
        headers = {files[p].spdx_license for p in under}
        own = next(iter(headers)) if len(headers) == 1 else None
        return _Part(
            Basis(kind="file", path=prefix, source=source, note=_count(len(under), "file")),
            license=own,
            license_evidence=_header_evidence(files[under[0]]) if own else None,
        )
    raise InputError(
        f"{source}: {path!r} (declared for {comp_id}) is not among the model's files",
        hint="paths are relative to the model root; a directory counts all the files under it",
    )


# -- inference from files, card and datasets ----------------------------------------------------


def _infer(
    facts: ModelFacts, files: dict[str, FileFact], intermediate: set[str]
) -> dict[str, list[_Part]]:
    found: dict[str, list[_Part]] = {}

    def add(comp_id: str, part: _Part) -> None:
        found.setdefault(comp_id, []).append(part)

    card_path = facts.card.path if facts.card else None
    for f in facts.files:
        if f.path in intermediate:
            continue
        for comp_id, reason in file_components(f, is_card=f.path == card_path):
            add(comp_id, _file_part(f, reason))

    card = facts.card
    if card and card.metrics and card.path in files:
        f = files[card.path]
        n = len(card.metrics)  # model-index results in the card
        add(
            "evaluation-results",
            _Part(
                Basis(
                    kind="card",
                    path=f.path,
                    digest=f.sha256,
                    source="model-index",
                    note=_count(n, "result"),
                )
            ),
        )
    declared = facts.declared
    if declared and declared.paper_url:
        add("research-paper", _url_part(declared.paper_url, f"{declared.path} paper_url"))
    if declared and declared.technical_report_url:
        add(
            "technical-report",
            _url_part(declared.technical_report_url, f"{declared.path} technical_report_url"),
        )
    if card and not (declared and declared.paper_url):
        for link in card.arxiv:  # an arXiv link in the card is a paper about the model
            add("research-paper", _url_part(link, f"arXiv link in {card.path}"))

    covered: set[str] = set()
    for ds in facts.datasets:
        comp_id, part = _dataset_part(ds, files)
        add(comp_id, part)
        if ds.path:
            covered.add(ds.path)
    for f in facts.files:
        if f.role == "dataset" and f.path not in covered:
            add(dataset_component(f.path, "unknown"), _file_part(f, "dataset file"))
    return found


def _file_part(f: FileFact, source: str) -> _Part:
    return _Part(
        Basis(kind="file", path=f.path, digest=f.sha256, source=source),
        license=f.spdx_license,
        license_evidence=_header_evidence(f) if f.spdx_license else None,
    )


def _header_evidence(f: FileFact) -> Basis:
    return Basis(
        kind="license", path=f.path, source="SPDX-License-Identifier header", note=f.spdx_license
    )


def _url_part(url: str, source: str) -> _Part:
    return _Part(Basis(kind="url", path=url, source=source), shipped=False)


def _dataset_part(ds: DatasetFact, files: dict[str, FileFact]) -> tuple[str, _Part]:
    use = "evaluation" if ds.source == "model-index" and ds.use == "unknown" else ds.use
    f = files.get(ds.path) if ds.path else None
    comp_id = dataset_component(ds.path or ds.name, use)
    source = f"dataset ({ds.source}{', ' + ds.use if ds.use != 'unknown' else ''})"
    lic_ev = (
        Basis(
            kind="license",
            path=ds.url or ds.path,
            source=f"dataset licence ({ds.source})",
            note=ds.license,
        )
        if ds.license
        else None
    )
    if f is not None:
        ev = Basis(kind="file", path=f.path, digest=f.sha256, source=source, note=ds.name)
        return comp_id, _Part(ev, ds.license, lic_ev, shipped=True)
    ev = Basis(kind="dataset", path=ds.url, digest=ds.sha256, source=source, note=ds.name)
    return comp_id, _Part(ev, ds.license, lic_ev, shipped=False)


def _dedupe(parts: Iterable[_Part]) -> list[_Part]:
    """One part per thing: a file or URL once however often it was found; parts without a path
    (datasets a card names without a URL) are told apart by their name, never collapsed."""
    seen: dict[tuple[str | None, str | None, str | None], _Part] = {}
    for part in parts:
        ev = part.evidence
        key = (ev.path, ev.kind, None if ev.path else ev.note)
        if key not in seen:
            seen[key] = part
    return list(seen.values())


# -- licences -----------------------------------------------------------------------------------


def _model_license(facts: ModelFacts, files: dict[str, FileFact]) -> _ModelLicense:
    """The model's licence (declared > card > LICENSE files) and where it was read."""
    declared = facts.declared
    if declared and declared.license:
        return _ModelLicense(
            declared.license,
            [
                Basis(
                    kind="license",
                    path=declared.path,
                    source="attest.yaml license",
                    note=declared.license,
                )
            ],
        )
    card = facts.card
    if card and card.license:
        f = files.get(card.path)
        return _ModelLicense(
            card.license,
            [
                Basis(
                    kind="license",
                    path=card.path,
                    digest=f.sha256 if f else None,
                    source="card front matter",
                    note=card.license,
                )
            ],
        )
    license_files = [lic for lic in facts.licenses if lic.source in files and lic.spdx_id]
    if not license_files:
        return _ModelLicense(None)
    ids = sorted({lic.spdx_id for lic in license_files if lic.spdx_id})
    evidence = [
        Basis(
            kind="license",
            path=lic.source,
            digest=lic.sha256,
            source="licence file",
            note=lic.spdx_id,
        )
        for lic in license_files
    ]
    return _ModelLicense(" AND ".join(ids), evidence, license_files[0].source)


def _part_license(part: _Part, model: _ModelLicense) -> str | None:
    if part.license:
        return part.license
    return model.expression if part.shipped else None


def _uses_model(parts: list[_Part], declared: tuple[str, Basis] | None) -> bool:
    return declared is None and any(not p.license and p.shipped for p in parts)


def _choose_license(
    parts: list[_Part],
    declared: tuple[str, Basis] | None,
    model: _ModelLicense,
    fw: Framework,
) -> tuple[str | None, list[str]]:
    """The one MOT licence id of a component, and notes on any choice made to get it."""
    catalog = fw.licenses
    expressions = [declared[0]] if declared else [_part_license(p, model) for p in parts]
    reduced = [mot_license(e, catalog) for e in expressions]
    notes = list(dict.fromkeys(r.note for r in reduced if r.note))
    lic_id, note = combine((r.id for r in reduced), catalog)
    return lic_id, notes + ([note] if note else [])


def _license_evidence(
    parts: list[_Part], declared: tuple[str, Basis] | None, model: _ModelLicense
) -> list[Basis]:
    """Where each licence that applies to the component was read."""
    if declared is not None:
        return [declared[1]]
    evidence = [p.license_evidence for p in parts if p.license and p.license_evidence]
    if _uses_model(parts, declared):
        evidence.extend(model.evidence)
    return list(dict.fromkeys(evidence))


def _unmatched_license(lic: str, declared: Basis) -> Basis:
    return Basis(
        kind="declaration",
        path=declared.path,
        source="attest.yaml component_licenses",
        note=f"licence {lic} declared, but no part of the component was found in the model "
        "(declare its files under `components`)",
    )


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"
