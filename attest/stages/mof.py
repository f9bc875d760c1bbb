"""The MOF stage: ModelFacts -> the Model Openness Framework report, as evidence.

The statement's predicate is the report (class, per-class progress, every component's status,
licence and evidence); the MOT YAML — the MOF configuration file the framework wants in every
release — is attached beside it as a document. The draft CNCF profile annotations go on these
referrers, never on the model manifest (that would change its digest).
"""

from __future__ import annotations

import hashlib

from attest.evidence import table
from attest.facts.model import ModelFacts
from attest.mof import MofReport, dump_mot_yaml, mof_config_from_facts, score
from attest.mof.classes import ROMAN
from attest.oci import mediatypes as mt
from attest.stages.statement import Evidence, make_statement


def mof_report(facts: ModelFacts) -> MofReport:
    return score(*mof_config_from_facts(facts))


def cncf_annotations(report: MofReport) -> dict[str, str]:
    """``org.cncf.ai.model.mof.*`` of the draft CNCF AI model interoperability profile."""
    notes = {
        table.ANNOTATION_CNCF_MOF_VERSION: report.framework_version,
        table.ANNOTATION_CNCF_MOF_COMPONENTS: ",".join(
            c.id for c in report.components if c.status == "included"
        ),
    }
    if report.mof_class is not None:  # the profile has no value for "unclassified"
        notes[table.ANNOTATION_CNCF_MOF_CLASS] = ROMAN[report.mof_class]
    return notes


def mof_evidence(facts: ModelFacts, report: MofReport | None = None) -> Evidence:
    """The report as a statement, with the MOT YAML as its document."""
    report = report or mof_report(facts)
    assert facts.subject is not None, "MOF evidence needs a packed subject"
    annotations = {
        **cncf_annotations(report),
        table.ANNOTATION_PREDICATE_TYPE: table.MOF,
        mt.ANNOTATION_TITLE: "mof.yml",
    }
    document = dump_mot_yaml(report).encode()
    # the statement names its document by digest, so a verifier can tell the real MOT YAML
    # from a forged one attached beside it
    predicate = {
        **report.to_dict(),
        "configFile": {
            "mediaType": mt.MOT_YAML,
            "filename": "mof.yml",
            "digest": {"sha256": hashlib.sha256(document).hexdigest()},
            "size": len(document),
        },
    }
    return Evidence(
        statement=make_statement(facts.subject, table.MOF, predicate),
        document=document,
        media_type=mt.MOT_YAML,
        artifact_type=mt.MOT_YAML_ARTIFACT_TYPE,
        annotations=annotations,
        filename="mof.yml",
    )
