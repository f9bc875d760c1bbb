"""`attest run`: pack, gather facts once, run every stage, attach the evidence, summarise."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attest.facts.gather import facts_for_subject
from attest.facts.model import ModelFacts
from attest.oci import mediatypes as mt
from attest.oci.modelpack import PackResult, pack, read_subject
from attest.oci.referrers import ReferrersMode
from attest.oci.store import Descriptor, Store
from attest.publish import attach_document, attach_statement
from attest.stages.mof import ROMAN, mof_evidence, mof_report
from attest.stages.sbom.stage import run_sbom_stage

log = logging.getLogger(__name__)


@dataclass
class StageOutcome:
    stage: str
    status: str  # ok | skipped
    detail: str = ""
    attached: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "status": self.status,
            "detail": self.detail,
            "attached": self.attached,
        }


@dataclass
class RunResult:
    packed: PackResult
    facts: ModelFacts
    stages: list[StageOutcome]
    mof_class: str | None = None  # "I" | "II" | "III", None when unclassified

    @property
    def digest(self) -> str:
        return self.packed.descriptor.digest

    def roles(self) -> dict[str, int]:
        roles: dict[str, int] = {}
        for layer in self.packed.manifest["layers"]:
            kind = mt.parse_model_layer_type(layer["mediaType"])
            if kind:
                roles[kind[0]] = roles.get(kind[0], 0) + 1
        return roles


def run_pipeline(
    source: Path,
    store: Store,
    tag: str,
    *,
    modelfile: Path | None = None,
    facts_file: Path | None = None,
    creation_time: bool = True,
    referrers_mode: ReferrersMode = "auto",
    reference: str | None = None,
) -> RunResult:
    packed = pack(source, store, tag, modelfile_path=modelfile, creation_time=creation_time)
    stages = [StageOutcome("pack", "ok", f"{len(packed.manifest['layers'])} layers")]
    subject = read_subject(store, packed.descriptor.digest, reference)
    # Facts come from the artifact just written: raw layer digests are reused, not re-hashed.
    facts = facts_for_subject(store, subject, facts_file)
    for warning in facts.warnings:
        log.warning("%s", warning)
    subject_desc = Descriptor(
        subject.descriptor.media_type, subject.digest, subject.descriptor.size
    )

    sbom = StageOutcome("sbom", "ok")
    for evidence in run_sbom_stage(facts):
        desc = attach_document(store, subject_desc, evidence, mode=referrers_mode)
        sbom.attached.append(
            {"digest": desc.digest, "artifactType": desc.artifact_type,
             "predicateType": evidence.predicate_type, "file": evidence.filename}
        )  # fmt: skip
    sbom.detail = "CycloneDX 1.6, SPDX 2.3, SPDX 3.0.1 (unsigned until signing lands)"
    stages.append(sbom)

    report = mof_report(facts)
    evidence = mof_evidence(facts, report)
    mof = StageOutcome("mof", "ok", f"{report.label} (MOF {report.framework_version})")
    for desc, what in (
        (attach_statement(store, subject_desc, evidence, mode=referrers_mode), "statement"),
        (attach_document(store, subject_desc, evidence, mode=referrers_mode), evidence.filename),
    ):
        mof.attached.append({"digest": desc.digest, "artifactType": desc.artifact_type,
                             "predicateType": evidence.predicate_type, "file": what})  # fmt: skip
    stages.append(mof)
    return RunResult(packed, facts, stages, mof_class=ROMAN.get(report.mof_class or 0))
