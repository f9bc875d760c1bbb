"""`attest run`: pack, gather facts once, run every stage, attach the evidence, summarise."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from attest.facts.build_env import read_source_facts
from attest.facts.model import ModelFacts
from attest.flows.policy import evaluate_policy
from attest.flows.publish import publish_evidence
from attest.modelpack import media
from attest.modelpack.facts import facts_for_subject
from attest.modelpack.pack import PackResult, pack
from attest.modelpack.read import read_subject
from attest.mof.classes import roman
from attest.oci.referrers import ReferrersMode
from attest.oci.store import Descriptor, Store
from attest.sign.key_signer import KeySigner
from attest.sign.keyless import KeylessSigner
from attest.sign.signer import Signer
from attest.stages.cards import card_evidence
from attest.stages.mof import mof_evidence, mof_report
from attest.stages.provenance import provenance_evidence
from attest.stages.sbom.stage import run_sbom_stage
from attest.stages.statement import Evidence
from attest.verify.identity import IdentityPolicy
from attest.verify.report import VerificationReport
from attest.verify.verifier import VerifyOptions, verify_subject

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
            kind = media.parse_model_layer_type(layer["mediaType"])
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
    signer: Signer | None = None,  # None: attach unsigned (--no-sign)
    policy: str | None = None,  # None: the built-in policy library
    params: Path | None = None,
    policy_mode: str = "warn",
) -> RunResult:
    started = datetime.now(timezone.utc)
    packed = pack(source, store, tag, modelfile_path=modelfile, creation_time=creation_time)
    stages = [StageOutcome("pack", "ok", f"{len(packed.manifest['layers'])} layers")]
    subject = read_subject(store, packed.descriptor.digest, reference)
    # Facts come from the artifact just written: raw layer digests are reused, not re-hashed.
    facts = facts_for_subject(store, subject, facts_file)
    for warning in facts.warnings:
        log.warning("%s", warning)
    facts.source = read_source_facts(source)  # its git checkout (when it is one) and the CI
    subject_desc = subject.descriptor()

    report = mof_report(facts)
    produced: list[tuple[StageOutcome, list[Evidence]]] = [
        (StageOutcome("sbom", "ok", "CycloneDX 1.6, SPDX 2.3, SPDX 3.0.1"), run_sbom_stage(facts)),
        (
            StageOutcome("mof", "ok", f"{report.label} (MOF {report.framework_version})"),
            [mof_evidence(facts, report)],
        ),
        (
            StageOutcome("cards", "ok", "model card and data card, Markdown and HTML"),
            card_evidence(facts, "model", report.to_dict())
            + card_evidence(facts, "data", report.to_dict()),
        ),
    ]
    provenance = provenance_evidence(
        facts,
        started_on=started,
        finished_on=datetime.now(timezone.utc),
        oidc_claims=signer.oidc_claims if signer else None,  # GitHub's workflow claims
    )
    produced.append((StageOutcome("provenance", "ok", "SLSA Provenance v1"), [provenance]))

    # One signing session for all of it (one certificate when keyless).
    evidence = [e for _, items in produced for e in items]
    attached = publish_evidence(store, subject_desc, evidence, signer=signer, mode=referrers_mode)
    by_predicate: dict[str, list[dict[str, Any]]] = {}
    for item in attached:
        by_predicate.setdefault(item.predicate_type, []).append(item.to_dict())
    for outcome, items in produced:
        for predicate_type in dict.fromkeys(e.predicate_type for e in items):
            outcome.attached += by_predicate.get(predicate_type, [])
        stages.append(outcome)
    if signer is None:
        stages.append(StageOutcome("sign", "skipped", "--no-sign: evidence attached unsigned"))
        return RunResult(packed, facts, stages, mof_class=roman(report.mof_class))
    stages.append(StageOutcome("sign", "ok", signer.describe()))
    verification, decision = self_check(
        store, subject_desc, str(reference or subject.reference), signer, policy=policy,
        params=params, policy_mode=policy_mode, referrers_mode=referrers_mode,
    )  # fmt: skip
    failures = verification.failures
    verified = f"{len(verification.verified)} signed statements verified"
    if signer.kind == "dev-key":
        verified += " (self-check trusts the dev key; `attest verify` needs --allow-dev-key)"
    stages.append(StageOutcome(
        "verify", "failed" if failures or not verification.verified else "ok",
        failures[0] if failures else verified,
    ))  # fmt: skip
    if decision is not None:
        status = "failed" if decision.failed else "ok"
        detail = f"{len(decision.violations)} violation(s), {len(decision.warnings)} warning(s)"
        policy_stage = StageOutcome("policy", status, f"{detail} ({policy_mode})")
        policy_stage.attached = [
            {"code": f.code, "msg": f.msg, "level": "violation"} for f in decision.violations
        ] + [{"code": f.code, "msg": f.msg, "level": "warning"} for f in decision.warnings]
        stages.append(policy_stage)
    return RunResult(packed, facts, stages, mof_class=roman(report.mof_class))


def self_check(
    store: Store,
    subject: Descriptor,
    reference: str,
    signer: Signer,
    *,
    policy: str | None,
    params: Path | None,
    policy_mode: str,
    referrers_mode: ReferrersMode,
) -> tuple[VerificationReport, Any]:
    """Verify what the run just attached with the trust material it signed with, then judge
    the report with the policy — exactly what `attest verify` does. A dev-key run trusts the
    dev key here, for this self-check only (its summary says so); `attest verify` never does
    unless told to."""
    options = VerifyOptions(referrers_mode=referrers_mode)
    if isinstance(signer, KeySigner):  # "key" or "dev-key": trusted here, for this check only
        options.public_key = signer.public_key
        options.public_key_kind = signer.kind
    elif isinstance(signer, KeylessSigner):
        options.trusted_root = signer.trusted_root
        options.identity = IdentityPolicy(identity=signer.subject, issuer=signer.issuer)
    report = verify_subject(store, subject, reference, options)
    decision = None
    if policy_mode != "off":
        decision = evaluate_policy(report.to_dict(), policy, params, mode=policy_mode)
    return report, decision
