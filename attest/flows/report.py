"""Collect the evidence of one artifact (verify it, read what verified) or of one model
directory (compute it), for ``attest report`` and ``attest diff``.

The verifier decides what is trusted; this flow only reads back the statements it accepted.
Every read is by digest from a content-addressed store (the store checks the bytes against the
digest), so the statement read here is the one whose signature verified.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from attest import jsonio
from attest.errors import InputError
from attest.evidence import table
from attest.facts.weights import WEIGHT_FORMATS
from attest.flows.verify import VerifyRequest, verify_reference
from attest.modelpack.read import read_subject
from attest.oci import mediatypes as mt
from attest.oci.referrers import Referrer, discover
from attest.oci.store import Descriptor, Store
from attest.report.cardtext import card_summary
from attest.report.evidence import DocumentEvidence, EvidenceSet, Signer, StatementEvidence
from attest.verify.report import ReferrerResult, SignatureResult
from attest.verify.verifier import VerifyOptions

log = logging.getLogger(__name__)

MAX_CARD = 1024 * 1024  # a Markdown card read for its summary paragraph


def collect_artifact(reference: str, request: VerifyRequest) -> EvidenceSet:
    """Verify the artifact as ``attest verify`` does (one shared flow: same flags, same policy
    evaluation), then gather its statements with their trust."""
    outcome = verify_reference(reference, request)
    store, report = outcome.store, outcome.report
    subject = read_subject(store, outcome.subject.digest, str(report.subject["reference"]))
    mode: Any = request.referrers_mode
    found = {r.descriptor.digest: r for r in discover(store, subject.digest, mode=mode)}
    fingerprints = _fingerprints(request.verify_options())
    statements: list[StatementEvidence] = []
    documents: list[DocumentEvidence] = []
    for result in report.referrers:
        referrer = found.get(result.digest)
        if result.artifact_type == mt.NOTATION_SIGNATURE:
            statements.append(_notation(result))
        elif result.is_bundle:
            statements.append(_bundle(store, referrer, result, subject.digest, fingerprints))
        elif result.artifact_type == mt.INTOTO_JSON:
            statements.append(_unsigned(store, referrer, result))
        else:
            documents.append(_document(referrer, result))
    summaries = _vouch(store, documents, {r.digest: r for r in report.referrers}, found)
    decision = None
    if outcome.decision is not None:
        decision = outcome.decision.to_dict()
        decision["failed"] = outcome.decision.failed
    return EvidenceSet(
        subject=subject.to_dict(),
        statements=statements,
        documents=documents,
        policy=decision,
        verifier=report.verifier,
        failure=outcome.failure,
        card_summaries=summaries,
    )




# -- statements -------------------------------------------------------------------------------


def _layer(store: Store, referrer: Referrer | None, limit: int | None = None) -> bytes:
    if referrer is None:
        raise InputError("referrer vanished between verification and reading")
    layers = referrer.manifest.get("layers") or []
    if len(layers) != 1:
        raise InputError(f"referrer {referrer.descriptor.digest} has {len(layers)} layers")
    desc = Descriptor.from_dict(layers[0])
    if limit is not None and desc.size > limit:
        raise InputError(f"referrer {referrer.descriptor.digest} is larger than {limit} bytes")
    return store.fetch_blob(desc)


def _bundle(
    store: Store,
    referrer: Referrer | None,
    result: ReferrerResult,
    subject_digest: str,
    fingerprints: dict[str, str],
) -> StatementEvidence:
    verified = [s for s in result.signatures if s.verified]
    if result.errors or not verified:
        errors = list(result.errors) or ["signature not verified"]
        return StatementEvidence(result.digest, result.predicate_type, "failed", errors=errors)
    from attest.sign.bundle import parse_bundle

    try:
        data = _layer(store, referrer)
        statement = parse_bundle(data).statement()
    except InputError as e:
        return StatementEvidence(result.digest, result.predicate_type, "failed", errors=[str(e)])
    digests = [s.get("digest", {}).get("sha256") for s in statement.get("subject", [])]
    if subject_digest.split(":", 1)[1] not in digests or (
        statement.get("predicateType") != result.predicate_type
    ):  # the verifier checked this; a mismatch means the bytes changed under us
        return StatementEvidence(result.digest, result.predicate_type, "failed",
                                 errors=["statement differs from the one verified"])  # fmt: skip
    signer = _signer(verified[0], data, fingerprints)
    return StatementEvidence(result.digest, result.predicate_type, "verified", signer,
                             _object(statement.get("predicate")))  # fmt: skip


def _notation(result: ReferrerResult) -> StatementEvidence:
    """A notation signature signs the manifest itself (no predicate): listed with its signer
    when it verified, as failed with the verifier's errors, else (audit, skip) as unsigned."""
    verified = [s for s in result.signatures if s.verified]
    kind = mt.NOTATION_SIGNATURE  # in place of a predicate type: what this referrer is
    if result.errors:
        return StatementEvidence(result.digest, kind, "failed", errors=list(result.errors))
    if not verified:
        return StatementEvidence(result.digest, kind, "unsigned")
    s = verified[0]
    signer = Signer(kind="notation", identity=s.subject, issuer=s.issuer, tlog_time=s.timestamp)
    return StatementEvidence(result.digest, kind, "verified", signer)


def _unsigned(store: Store, referrer: Referrer | None, result: ReferrerResult) -> StatementEvidence:
    if result.errors:
        return StatementEvidence(result.digest, result.predicate_type, "failed",
                                 errors=list(result.errors))  # fmt: skip
    try:
        statement = jsonio.loads(_layer(store, referrer), "statement")
    except (InputError, ValueError) as e:
        return StatementEvidence(result.digest, result.predicate_type, "failed", errors=[str(e)])
    return StatementEvidence(result.digest, result.predicate_type, "unsigned",
                             predicate=_object(statement.get("predicate")))  # fmt: skip


def _object(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _signer(sig: SignatureResult, bundle: bytes, fingerprints: dict[str, str]) -> Signer:
    index: int | None = None
    try:
        entries = jsonio.loads(bundle, "bundle")["verificationMaterial"].get("tlogEntries") or []
        index = int(entries[0]["logIndex"]) if entries else None
    except (KeyError, IndexError, ValueError, TypeError, AttributeError, InputError):
        index = None
    return Signer(
        kind=sig.kind,
        key_fingerprint=fingerprints.get(sig.kind),
        identity=sig.subject,
        issuer=sig.issuer,
        tlog=sig.tlog,
        tlog_index=index,
        tlog_time=sig.timestamp,
    )


def _fingerprints(options: VerifyOptions) -> dict[str, str]:
    """The fingerprint of each key the verifier could have used, by the kind it reports."""
    from attest.sign.key_signer import key_hint
    from attest.sign.keys import dev_key_path, load_public_key

    out: dict[str, str] = {}
    if options.public_key is not None:
        out["key"] = "SHA256:" + key_hint(options.public_key)
    elif options.key:
        out["key"] = "SHA256:" + key_hint(load_public_key(options.key))
    dev_pub = dev_key_path().with_suffix(".pub")
    if dev_pub.is_file():
        try:
            out["dev-key"] = "SHA256:" + key_hint(load_public_key(dev_pub))
        except Exception:  # an unreadable dev key is simply not named
            log.debug("dev key unreadable", exc_info=True)
    return out


# -- documents --------------------------------------------------------------------------------


def _document(referrer: Referrer | None, result: ReferrerResult) -> DocumentEvidence:
    layers = (referrer.manifest.get("layers") or []) if referrer else []
    layer = layers[0] if len(layers) == 1 and isinstance(layers[0], dict) else {}
    notes = result.annotations
    return DocumentEvidence(
        digest=result.digest,
        media_type=result.artifact_type,
        title=notes.get(mt.ANNOTATION_TITLE),
        predicate_type=notes.get(table.ANNOTATION_PREDICATE_TYPE) or result.predicate_type,
        layer_digest=layer.get("digest"),
        size=layer.get("size"),
        statement=notes.get(table.ANNOTATION_STATEMENT),
    )


def _vouch(
    store: Store,
    documents: list[DocumentEvidence],
    results: dict[str, ReferrerResult],
    found: dict[str, Referrer],
) -> dict[str, str]:
    """A document is vouched for when the verifier says so: the verified statement it names
    carries its bytes (``attest.verify.documents``, one check for verify and report). Returns
    the opening paragraph of each vouched Markdown card, by the statement that vouches for it."""
    summaries: dict[str, str] = {}
    for i, doc in enumerate(documents):
        result = results.get(doc.digest)
        if result is None or not doc.statement or result.summary.get("statement") != doc.statement:
            continue
        documents[i] = DocumentEvidence(**{**doc.__dict__, "vouched": True})
        if doc.media_type == mt.MARKDOWN:
            try:
                text = _layer(store, found.get(doc.digest), MAX_CARD).decode("utf-8", "replace")
            except InputError:
                continue
            summary = card_summary(text)
            if summary:
                summaries[doc.statement] = summary
    return summaries




# -- a model directory: evidence computed, never verified ----------------------------------------


def collect_directory(path: Path, facts_file: Path | None = None) -> EvidenceSet:
    """The evidence ``attest run`` would produce for ``path``, computed in memory."""
    from attest.facts.safetensors import format_param_size, precision_from_dtypes
    from attest.modelpack.facts import facts_for_directory
    from attest.stages.cards import card_predicate, render_card
    from attest.stages.mof import mof_report
    from attest.stages.sbom.cyclonedx import build_cyclonedx

    facts = facts_for_directory(path, facts_file)
    mof = mof_report(facts).to_dict()
    md = render_card(facts, "model", "markdown", mof).encode()
    html = render_card(facts, "model", "html", mof).encode()
    computed = [
        StatementEvidence("", table.CYCLONEDX, "computed", predicate=build_cyclonedx(facts)),
        StatementEvidence("", table.MOF, "computed", predicate=mof),
        StatementEvidence("", table.MODEL_CARD, "computed",
                          predicate=card_predicate(facts, "model", mof, md, html)),
    ]  # fmt: skip
    config: dict[str, Any] = {}
    formats = sorted({WEIGHT_FORMATS[Path(w.path).suffix.lower()] for w in facts.weights
                      if Path(w.path).suffix.lower() in WEIGHT_FORMATS})  # fmt: skip
    if formats:
        config["format"] = ",".join(formats)
    params = sum(w.parameter_count or 0 for w in facts.weights)
    if params:
        config["paramSize"] = format_param_size(params)
    dtypes = {d for w in facts.weights if w.format == "safetensors" for d in w.dtypes}
    if dtypes:
        config["precision"] = precision_from_dtypes(dtypes)
    quant = sorted({w.quantization for w in facts.weights if w.quantization})
    if quant:
        config["quantization"] = ",".join(quant)
    layers = [
        {"path": f.path, "kind": f.role.replace("-", "."), "digest": f.sha256, "size": f.size,
         "encoding": "raw"}
        for f in sorted(facts.files, key=lambda f: f.path)
    ]  # fmt: skip
    return EvidenceSet(
        subject={
            "reference": str(path),
            "digest": None,
            "config": {"descriptor": {"name": facts.name, "version": facts.version},
                       "config": config},  # fmt: skip
            "layers": layers,
        },
        statements=computed,
        source_kind="directory",
        card_summaries={"": summary} if (summary := card_summary(md.decode())) else {},
    )
