"""SPDX 3.0.1 SBOM (JSON-LD, AI and Dataset profiles) from ModelFacts.

Built with the official binding ``spdx-python-model`` (``v3_0_1``) and serialised with its
``JSONLDSerializer``. The model is an ``ai_AIPackage``; its files are ``software_File``s with a
SHA-256 ``Hash``; each dataset is a ``dataset_DatasetPackage`` linked by ``trainedOn`` /
``testedOn``; the base model is linked by ``descendantOf``. The mapping table and every choice
are in ``docs/evidence/spdx.md``.

IDs are deterministic IRIs ``https://attest.dev/spdx/<name>-<key>#<SPDX 2.3 id>``: the fragment is
the same id the SPDX 2.3 document uses for the same thing, so the two can be cross-read. The only
blank node is the shared ``CreationInfo`` (``_:CreationInfo0``), numbered by the binding.

The document is validated offline by :func:`attest.sbom_read.spdx3.validate_spdx3`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from spdx_python_model import v3_0_1 as spdx3

from attest import __version__
from attest.errors import InternalError
from attest.facts.model import DatasetFact, FileFact, MetricFact, ModelFacts, WeightFacts
from attest.sbom_read.spdx3 import DATASET_TYPES, SPEC_VERSION, validate_spdx3
from attest.stages.sbom.cyclonedx import oci_purl
from attest.stages.sbom.cyclonedx_card import architecture_family
from attest.stages.sbom.spdx_common import (
    DOCUMENT_ID,
    MODEL_ID,
    LicenseInfo,
    base_model_id,
    card_prose,
    created_at,
    creation_time,
    dataset_id,
    dataset_relation,
    document_key,
    file_id,
    license_info,
    model_license,
    sha256_hex,
    slug,
    source_info,
    unique_datasets,
)
from attest.stages.sbom.weights import weight_summary

ID_BASE = "https://attest.dev/spdx/"
NO_ASSERTION_LICENSE = spdx3.expandedlicensing_IndividualLicensingInfo.NoAssertionLicense
PROFILES = tuple(
    spdx3.ProfileIdentifierType.NAMED_INDIVIDUALS[p]
    for p in ("core", "software", "ai", "dataset", "simpleLicensing", "expandedLicensing")
)

_P = spdx3.software_SoftwarePurpose
_R = spdx3.RelationshipType
# ModelPack file role -> software_primaryPurpose.
_FILE_PURPOSES = {
    "weight": _P.model,
    "weight-config": _P.configuration,
    "code": _P.source,
    "doc": _P.documentation,
    "dataset": _P.data,
}
_DATASET_COMMENT = "the model's facts name this dataset without saying how it was used"
_HYPERPARAMETER_HEADING = re.compile(r"^#+\s*training hyper-?parameters\s*$", re.I | re.M)
_HYPERPARAMETER_LINE = re.compile(r"^\s*[-*]\s*([A-Za-z0-9_.\-]+)\s*:\s*(\S.*?)\s*$")


# -- public API ---------------------------------------------------------------------------------


def build_spdx3(facts: ModelFacts) -> dict[str, Any]:
    """The SPDX 3.0.1 JSON-LD document for ``facts``, validated offline
    (:func:`attest.sbom_read.spdx3.validate_spdx3`).

    Raises :class:`InternalError` when validation finds anything: invalid output is a bug.
    """
    objects = _Builder(facts).build()
    doc = spdx3.JSONLDSerializer().serialize_data(spdx3.SHACLObjectSet(objects))
    errors = validate_spdx3(doc)
    if errors:
        raise InternalError(
            "the SPDX 3.0.1 document attest built is not valid: " + "; ".join(errors[:5]),
            hint="this is a bug in attest; please report it with the model's facts",
        )
    return doc


def metric_entries(metrics: list[MetricFact]) -> list[tuple[str, str]]:
    """``ai_metric`` key/value pairs: the key is the metric type, qualified when it has a slice.

    ``accuracy (task=text-generation, dataset=org/eval, split=test)`` keeps two results of the
    same metric on different datasets apart (DictionaryEntry keys would otherwise collide).
    """
    entries = []
    for m in metrics:
        parts = [f"{k}={v}" for k, v in (("task", m.task), ("dataset", m.dataset),
                                           ("split", m.split)) if v]
        key = f"{m.type} ({', '.join(parts)})" if parts else m.type
        entries.append((key, str(m.value)))
    return entries


def card_hyperparameters(facts: ModelFacts) -> list[tuple[str, str]]:
    """``- name: value`` lines under a "Training hyperparameters" heading of the card.

    That list is what the Hugging Face Trainer writes into every card it generates; nothing
    else in a model says how it was trained, so without it there are no hyperparameters.
    """
    if not facts.card:
        return []
    found: list[tuple[str, str]] = []
    for text in facts.card.sections.values():
        heading = _HYPERPARAMETER_HEADING.search(text)
        if not heading:
            continue
        for line in text[heading.end():].splitlines():
            if line.lstrip().startswith("#"):
                break  # the next heading ends the list
            match = _HYPERPARAMETER_LINE.match(line)
            if match:
                found.append((match.group(1), match.group(2)))
    return found


# -- building ------------------------------------------------------------------------------------


@dataclass
class _Builder:
    """Collects the elements of one document; every element shares one CreationInfo."""

    facts: ModelFacts
    base: str = ""
    creation: Any = None
    elements: list[Any] = field(default_factory=list)
    licenses: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base = f"{ID_BASE}{slug(self.facts.name)}-{document_key(self.facts)}#"
        created, comment = creation_time(self.facts)
        self.creation = spdx3.CreationInfo(specVersion=SPEC_VERSION, created=created,
                                           comment=comment)
        agent = self.add(spdx3.SoftwareAgent, "SPDXRef-Agent-attest", name="attest")
        tool = self.add(spdx3.Tool, "SPDXRef-Tool-attest", name=f"attest-{__version__}")
        self.creation.createdBy = [agent]
        self.creation.createdUsing = [tool]

    def add(self, cls: type, local_id: str, **props: Any) -> Any:
        # Unknown facts stay absent: the binding takes no None, and an empty list says nothing.
        known = {k: v for k, v in props.items() if v is not None and v != []}
        element = cls(spdxId=self.base + local_id, creationInfo=self.creation, **known)
        self.elements.append(element)
        return element

    def relate(self, source: Any, kind: str, targets: list[Any],
               comment: str | None = None) -> None:
        """One relationship per (source, type), its targets in document order."""
        if not targets:
            return
        local = source.spdxId.rpartition("#")[2].removeprefix("SPDXRef-")
        name = kind.rpartition("/")[2]
        self.add(spdx3.Relationship, f"SPDXRef-Relationship-{local}-{name}",
                 from_=source, relationshipType=kind, to=targets, comment=comment)

    def license_target(self, lic: LicenseInfo) -> Any:
        """One LicenseExpression element per distinct expression; NOASSERTION is an individual."""
        if lic.expression is None:
            return NO_ASSERTION_LICENSE
        if lic.expression not in self.licenses:
            self.licenses[lic.expression] = self.add(
                spdx3.simplelicensing_LicenseExpression,
                f"SPDXRef-License-{slug(lic.expression)}",
                simplelicensing_licenseExpression=lic.expression,
            )
        return self.licenses[lic.expression]

    def licensed(self, element: Any, declared: LicenseInfo) -> None:
        """The AI/Dataset profiles (3.0.1) want a declared and a concluded licence relationship.

        attest declares what the facts say and concludes nothing: concluded is NOASSERTION.
        """
        self.relate(element, _R.hasDeclaredLicense, [self.license_target(declared)],
                    comment=declared.note)
        self.relate(element, _R.hasConcludedLicense, [NO_ASSERTION_LICENSE])

    def build(self) -> list[Any]:
        facts = self.facts
        model = self._model()
        self.licensed(model, model_license(facts))
        weights = {w.path: w for w in facts.weights}
        files = {f.path: self._file(f, weights.get(f.path))
                 for f in sorted(facts.files, key=lambda f: f.path)}  # fmt: skip
        self.relate(model, _R.contains, list(files.values()))
        self._datasets(model, files)
        self.base_source = facts.base_model_fact[1] or "the model's facts"
        bases = [self._base_model(name) for name in sorted(set(facts.base_models))]
        self.relate(model, _R.descendantOf, bases)
        data_license = self.license_target(LicenseInfo("CC0-1.0"))
        document = spdx3.SpdxDocument(
            spdxId=self.base + DOCUMENT_ID,
            creationInfo=self.creation,
            name=facts.name,
            dataLicense=data_license,
            profileConformance=list(PROFILES),
            rootElement=[model],
            element=sorted(self.elements, key=lambda e: e.spdxId),
        )
        return [document, *self.elements]

    def _model(self) -> Any:
        facts = self.facts
        purl = oci_purl(facts)
        uses, limitations = card_prose(facts)
        declared = facts.declared
        model = self.add(
            spdx3.ai_AIPackage,
            MODEL_ID,
            name=facts.name,
            software_primaryPurpose=_P.model,
            software_packageVersion=facts.version,
            software_downloadLocation=_download_location(facts),
            software_packageUrl=purl.to_string() if purl else None,
            software_sourceInfo=source_info(facts),
            builtTime=created_at(facts),
            description=declared.description if declared else None,
            ai_typeOfModel=_types_of_model(facts),
            ai_domain=[facts.card.pipeline_tag] if facts.card and facts.card.pipeline_tag else [],
            ai_informationAboutApplication=uses,
            ai_limitation=limitations,
            ai_metric=[spdx3.DictionaryEntry(key=k, value=v)
                       for k, v in metric_entries(facts.card.metrics if facts.card else [])],
            ai_hyperparameter=[spdx3.DictionaryEntry(key=k, value=v)
                               for k, v in card_hyperparameters(facts)],
        )
        if declared and declared.source_repository:
            model.externalRef = [spdx3.ExternalRef(externalRefType=spdx3.ExternalRefType.vcs,
                                                   locator=[declared.source_repository])]
        if declared and declared.authors:
            model.originatedBy = [
                self.add(spdx3.Agent, f"SPDXRef-Agent-{slug(author)}", name=author)
                for author in declared.authors
            ]
        return model

    def _file(self, file: FileFact, weight: WeightFacts | None = None) -> Any:
        element = self.add(
            spdx3.software_File,
            file_id(file.path),
            name=file.path,
            software_fileKind=spdx3.software_FileKindType.file,
            software_primaryPurpose=_FILE_PURPOSES[file.role],
            verifiedUsing=[_sha256(file.sha256, file.path)],
            **({"comment": weight_summary(weight)} if weight is not None else {}),
        )
        if file.spdx_license:
            # The file's SPDX-License-Identifier header is its author's declaration.
            lic = license_info(file.spdx_license, f"SPDX header of {file.path}")
            self.relate(element, _R.hasDeclaredLicense, [self.license_target(lic)],
                        comment=lic.note)
        return element

    def _datasets(self, model: Any, files: dict[str, Any]) -> None:
        by_relation: dict[str, list[Any]] = {}
        for dataset_facts in unique_datasets(self.facts.datasets).values():
            element = self._dataset(dataset_facts[0])
            for relation in {dataset_relation(d) for d in dataset_facts}:
                by_relation.setdefault(relation, []).append(element)
            path = next((d.path for d in dataset_facts if d.path), None)
            if path in files:  # a dataset packed with the model: its file is part of it
                self.relate(element, _R.contains, [files[path]])
        for relation in sorted(by_relation):
            targets = sorted(by_relation[relation], key=lambda e: e.spdxId)
            comment = _DATASET_COMMENT if relation == "other" else None
            self.relate(model, DATASET_TYPES[relation], targets, comment=comment)

    def _dataset(self, dataset: DatasetFact) -> Any:
        element = self.add(
            spdx3.dataset_DatasetPackage,
            dataset_id(dataset.name),
            name=dataset.name,
            software_primaryPurpose=_P.data,
            # Nothing in the facts says what kind of data it is: noAssertion, not a guess.
            dataset_datasetType=[spdx3.dataset_DatasetType.noAssertion],
            software_downloadLocation=dataset.url,
            description=dataset.description,
            verifiedUsing=[_sha256(dataset.sha256, dataset.name)] if dataset.sha256 else [],
        )
        self.licensed(element, license_info(dataset.license, f"licence of dataset {dataset.name}"))
        return element

    def _base_model(self, name: str) -> Any:
        element = self.add(spdx3.ai_AIPackage, base_model_id(name), name=name,
                           software_primaryPurpose=_P.model,
                           comment=f"base model named by {self.base_source}")
        self.licensed(element, LicenseInfo(None))
        return element


def _download_location(facts: ModelFacts) -> str | None:
    """``oci://registry/repo@digest`` (the form CycloneDX uses): an absolute URI, as required."""
    subject = facts.subject
    if subject is None or subject.repository.startswith("oci:"):
        return None
    return f"oci://{subject.repository}@{subject.digest}"


def _types_of_model(facts: ModelFacts) -> list[str]:
    types = [architecture_family(facts), facts.architecture]
    return list(dict.fromkeys(t for t in types if t))


def _sha256(digest: str, what: str) -> Any:
    return spdx3.Hash(algorithm=spdx3.HashAlgorithm.sha256, hashValue=sha256_hex(digest, what))
