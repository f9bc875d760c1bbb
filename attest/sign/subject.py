"""``attest sign REF``: sign what is known about an artifact without reading its weights.

What gets signed, all in one signer session:

- statements given as files (``--statement FILE``, e.g. from ``attest provenance -o``), each
  checked to be about the artifact's manifest digest;
- what is already attached unsigned (``attest sbom --attach``, ``attest run --no-sign``) and no
  signed statement vouches for yet: a plain JSON document's statement is rebuilt exactly as the
  stage builds it (the predicate *is* the document); an unsigned statement is signed as is;
- with ``--oms``, the OpenSSF model-signing statement computed from the manifest.

Only the manifest, its config and the (small) document blobs are read; never a layer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attest import jsonio
from attest.errors import InputError, UsageError, VerificationError
from attest.facts.model import SubjectInfo
from attest.fileio import atomic_write
from attest.oci import mediatypes as mt
from attest.oci.modelpack import Subject
from attest.oci.referrers import Referrer, ReferrersMode, discover
from attest.oci.store import Descriptor, Store, sha256_bytes
from attest.publish import STATEMENT_MEDIA_TYPE  # unsigned statement referrers
from attest.sign.bundle import parse_bundle
from attest.sign.checks import check_statement
from attest.sign.oms import DEFAULT_SIGNATURE_NAME, OMS_PREDICATE_TYPE, oms_evidence
from attest.sign.publish import (
    ANNOTATION_STATEMENT_DIGEST,
    ANNOTATION_TITLE,
    SignedEvidence,
    sign_and_attach,
)
from attest.sign.signer import Signer
from attest.stages.sbom.stage import ANNOTATION_PREDICATE_TYPE  # the documents' own annotation
from attest.stages.statement import Evidence, make_statement, statement_bytes, validate_statement

log = logging.getLogger(__name__)

MAX_DOCUMENT = 64 * 1024 * 1024


@dataclass
class SignResult:
    signed: list[SignedEvidence]
    oms_bundle: bytes | None = None
    signer: Signer | None = None  # who signed (chosen only once there was something to sign)


def load_statements(path: Path) -> list[dict[str, Any]]:
    """Statements from a JSON file (one statement) or JSON Lines (``.intoto.jsonl``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read {path}: {e}") from None
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        try:
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as e:
            raise InputError(f"{path} is neither JSON nor JSON Lines: {e}") from None
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise InputError(f"{path}: statement {i + 1} is not a JSON object")
        try:
            validate_statement(doc)
        except InputError as e:
            raise InputError(f"{path}: {e.message}") from None
    return docs


def unsigned_documents(
    store: Store,
    subject: Subject,
    info: SubjectInfo,
    *,
    predicate_types: tuple[str, ...] = (),
    mode: ReferrersMode = "auto",
) -> list[Evidence]:
    """Evidence attached to ``subject`` unsigned, that no signed statement vouches for yet:

    - plain JSON documents (SBOMs): the statement is rebuilt as the stage builds it, with the
      document as predicate, and the document is attached again naming its bundle;
    - unsigned statements (``application/vnd.in-toto+json`` referrers): signed as they are.
    """
    referrers = discover(store, subject.digest, mode=mode)
    bundle_refs = [r for r in referrers if r.artifact_type == mt.SIGSTORE_BUNDLE_V03]
    bundles = {r.descriptor.digest for r in bundle_refs}
    vouched: set[str] = set()  # layer digests of documents already tied to a signed statement
    candidates = []
    for r in referrers:
        layers = r.manifest.get("layers") or []
        if r.artifact_type == mt.SIGSTORE_BUNDLE_V03 or len(layers) != 1:
            continue
        if r.annotations.get(ANNOTATION_STATEMENT_DIGEST) in bundles:
            vouched.add(layers[0].get("digest"))
        elif ANNOTATION_PREDICATE_TYPE in r.annotations:
            candidates.append(r)
    signed_payloads: set[str] | None = None  # sha256 of every bundled statement, read lazily
    found: list[Evidence] = []
    seen: set[str] = set()
    for r in candidates:
        layer = Descriptor.from_dict(r.manifest["layers"][0])
        predicate_type = r.annotations[ANNOTATION_PREDICATE_TYPE]
        if layer.digest in vouched or layer.digest in seen:
            continue
        if predicate_types and predicate_type not in predicate_types:
            continue
        if not _is_json(layer.media_type) or layer.size > MAX_DOCUMENT:
            log.info("not signing %s (%s): no JSON document", r.descriptor.digest, predicate_type)
            continue
        seen.add(layer.digest)
        if layer.media_type == STATEMENT_MEDIA_TYPE:
            if signed_payloads is None:
                signed_payloads = _signed_payloads(store, bundle_refs)
            if layer.digest in signed_payloads:
                continue
            statement = _attached_statement(store, layer, subject, r.descriptor.digest)
            if statement is not None:
                found.append(Evidence(statement=statement))
            continue
        document = store.fetch_blob(layer)
        try:
            predicate = json.loads(document)
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning("not signing %s: its document is not JSON", r.descriptor.digest)
            continue
        annotations = {k: v for k, v in r.annotations.items() if k != mt.ANNOTATION_CREATED}
        found.append(
            Evidence(
                statement=make_statement(info, predicate_type, predicate),
                document=document,
                media_type=layer.media_type,
                artifact_type=r.artifact_type,
                annotations=annotations,
                filename=(layer.annotations or {}).get(ANNOTATION_TITLE),
            )
        )
    return _unique(found)


def _signed_payloads(store: Store, bundle_refs: list[Referrer]) -> set[str]:
    """``sha256:<hex>`` of the statement inside each attached bundle."""
    out: set[str] = set()
    for r in bundle_refs:
        layers = r.manifest.get("layers") or []
        if len(layers) != 1:
            continue
        try:
            info = parse_bundle(store.fetch_blob(Descriptor.from_dict(layers[0])))
        except InputError as e:
            log.warning("ignoring bundle %s: %s", r.descriptor.digest, e.message)
            continue
        out.add(sha256_bytes(info.envelope.payload))
    return out


def _attached_statement(
    store: Store, layer: Descriptor, subject: Subject, where: str
) -> dict[str, Any] | None:
    try:
        statement = jsonio.loads(store.fetch_blob(layer), "statement")
        if not isinstance(statement, dict):
            raise InputError("not a JSON object")
        validate_statement(statement)
        check_statement(statement, subject_digest=subject.digest)
    except (UnicodeDecodeError, json.JSONDecodeError, InputError, VerificationError) as e:
        log.warning("not signing statement %s: %s", where, getattr(e, "message", e))
        return None
    return statement


def _unique(evidence: list[Evidence]) -> list[Evidence]:
    """The same statement reached twice (as a document and as a statement) is signed once,
    keeping the copy that has a document to re-attach."""
    kept: dict[bytes, Evidence] = {}
    for e in evidence:
        key = statement_bytes(e.statement)
        if key not in kept or (kept[key].document is None and e.document is not None):
            kept[key] = e
    return list(kept.values())


def collect_evidence(
    store: Store,
    subject: Subject,
    info: SubjectInfo,
    *,
    statements: list[dict[str, Any]] | None = None,
    attached: bool = True,
    predicate_types: tuple[str, ...] = (),
    oms: bool = False,
    oms_name: str | None = None,
    oms_signature_name: str = DEFAULT_SIGNATURE_NAME,
    mode: ReferrersMode = "auto",
) -> list[Evidence]:
    """Everything listed in the module docstring, unsigned (choose the signer after this)."""
    evidence = [
        Evidence(statement=s)
        for s in statements or []
        if not predicate_types or s.get("predicateType") in predicate_types
    ]
    if attached:
        evidence += unsigned_documents(
            store, subject, info, predicate_types=predicate_types, mode=mode
        )
    if oms:
        evidence.append(oms_evidence(subject, name=oms_name, signature_name=oms_signature_name))
    return evidence


def sign_collected(
    store: Store,
    subject: Subject,
    evidence: list[Evidence],
    signer: Signer,
    *,
    oms_output: Path | None = None,
    mode: ReferrersMode = "auto",
) -> SignResult:
    """Sign ``evidence`` in one session, attach it, write the OMS bundle to ``oms_output``."""
    if not evidence:
        return SignResult([])
    signed = sign_and_attach(store, subject.descriptor, evidence, signer, mode=mode)
    oms_bundle = next((s.bundle for s in signed if s.predicate_type == OMS_PREDICATE_TYPE), None)
    if oms_output is not None and oms_bundle is not None:
        atomic_write(oms_output, oms_bundle)
    return SignResult(signed, oms_bundle)


def sign_subject(
    store: Store,
    subject: Subject,
    info: SubjectInfo,
    signer: Signer | Callable[[], Signer],
    *,
    statements: list[dict[str, Any]] | None = None,
    attached: bool = True,
    predicate_types: tuple[str, ...] = (),
    oms: bool = False,
    oms_name: str | None = None,
    oms_output: Path | None = None,
    mode: ReferrersMode = "auto",
) -> SignResult:
    """``attest sign``: :func:`collect_evidence` then :func:`sign_collected`.

    ``signer`` may be a function choosing one: it is called only when there is something to sign,
    so a run with nothing to sign never creates a dev key or opens a browser.
    """
    evidence = collect_evidence(
        store, subject, info, statements=statements, attached=attached,
        predicate_types=predicate_types, oms=oms or oms_output is not None, oms_name=oms_name,
        oms_signature_name=oms_output.name if oms_output else DEFAULT_SIGNATURE_NAME, mode=mode,
    )  # fmt: skip
    if not evidence:
        raise UsageError(
            f"nothing to sign on {subject.digest}",
            hint="give --statement FILE or --oms, or attach documents first (attest sbom --attach)",
        )
    chosen = signer() if callable(signer) else signer
    result = sign_collected(store, subject, evidence, chosen, oms_output=oms_output, mode=mode)
    result.signer = chosen
    return result


def _is_json(media_type: str) -> bool:
    base = media_type.split(";", 1)[0].strip()
    return base.endswith(("+json", "/json", "+jsonld", "/ld+json"))
