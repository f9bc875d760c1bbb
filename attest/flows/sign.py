"""``attest sign REF``: decide what may be signed, then hand exactly that to the signer.

A signer signs only what this invocation made or what the user named — never "whatever is
attached and unsigned": anyone who can push a referrer could have put it there, and the release
key would sign his provenance. What gets signed, all in one signer session:

- statements given as files (``--statement FILE``, e.g. from ``attest provenance -o``), each
  checked to be about the artifact's manifest digest;
- attached documents or unsigned statements the user names (``--document``): by the digest of
  their referrer manifest or of their content, or by a local file whose bytes are that content.
  A named document's statement is the unsigned statement its annotation points to, when that
  statement carries exactly these bytes; else, for a JSON document, the statement rebuilt as the
  stage builds it (the predicate *is* the document);
- with ``--oms``, the OpenSSF model-signing statement computed here from the manifest.

Each signed statement is reported with where it came from. Only the manifest, its config and
the (small) named document blobs are read; never a layer.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attest import jsonio
from attest.errors import InputError, UsageError, VerificationError
from attest.evidence import table
from attest.evidence.attach import SignedEvidence
from attest.facts.subject import Subject
from attest.fileio import atomic_write
from attest.flows.publish import sign_and_attach
from attest.intoto import statement_bytes, validate_statement
from attest.oci import mediatypes as mt
from attest.oci.referrers import Referrer, ReferrersMode, discover
from attest.oci.store import Descriptor, Store, sha256_bytes
from attest.sign.checks import check_statement
from attest.sign.oms import DEFAULT_SIGNATURE_NAME, oms_statement
from attest.sign.signer import Signer
from attest.stages.statement import Evidence, make_statement
from attest.verify.documents import check_vouched

log = logging.getLogger(__name__)

MAX_DOCUMENT = 64 * 1024 * 1024
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass
class Planned:
    """One statement to sign and where it came from (printed beside what was signed)."""

    evidence: Evidence
    origin: str


@dataclass
class SignResult:
    signed: list[SignedEvidence]
    origins: list[str] = field(default_factory=list)  # parallel to ``signed``
    oms_bundle: bytes | None = None
    signer: Signer | None = None  # who signed (chosen only once there was something to sign)

    def to_dicts(self) -> list[dict[str, Any]]:
        return [{**s.to_dict(), "from": o} for s, o in zip(self.signed, self.origins, strict=True)]


def load_statements(path: Path) -> list[dict[str, Any]]:
    """Statements from a JSON file (one statement) or JSON Lines (``.intoto.jsonl``)."""
    try:
        if path.stat().st_size > MAX_DOCUMENT:
            raise InputError(f"{path} is larger than {MAX_DOCUMENT} bytes")
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
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply") from None
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise InputError(f"{path}: statement {i + 1} is not a JSON object")
        try:
            validate_statement(doc)
        except InputError as e:
            raise InputError(f"{path}: {e.message}") from None
    return docs


def named_documents(
    store: Store,
    subject: Subject,
    names: list[str],
    *,
    mode: ReferrersMode = "auto",
) -> list[Planned]:
    """The statements of the attached documents or statements the user named (see module)."""
    if not names:
        return []
    referrers = discover(store, subject.digest, mode=mode)
    by_digest = {r.descriptor.digest: r for r in referrers}
    planned = []
    for name in names:
        digest = _digest_of(name)
        ref = _find(referrers, digest)
        if ref is None:
            raise UsageError(
                f"--document {name}: no referrer of {subject.digest} is or holds {digest}",
                hint="`attest referrers REF --format json` lists what is attached",
            )
        planned.append(Planned(_evidence_for(store, subject, ref, by_digest),
                               f"attached {ref.descriptor.digest}"))  # fmt: skip
    return planned


def _digest_of(name: str) -> str:
    """A name is a ``sha256:`` digest, or a local file whose content is the document."""
    if DIGEST.fullmatch(name):
        return name
    path = Path(name)
    if not path.is_file():
        raise UsageError(f"--document {name}: neither a sha256:<hex> digest nor a file")
    if path.stat().st_size > MAX_DOCUMENT:
        raise InputError(f"--document {name}: larger than {MAX_DOCUMENT} bytes")
    return sha256_bytes(path.read_bytes())


def _find(referrers: list[Referrer], digest: str) -> Referrer | None:
    """The referrer that is ``digest``, else the first plain one whose only layer is."""
    for r in referrers:
        if r.descriptor.digest == digest:
            return r
    for r in referrers:
        layers = r.manifest.get("layers") or []
        plain = r.artifact_type != mt.SIGSTORE_BUNDLE_V03
        if plain and len(layers) == 1 and layers[0].get("digest") == digest:
            return r
    return None


def _evidence_for(
    store: Store,
    subject: Subject,
    ref: Referrer,
    by_digest: dict[str, Referrer],
) -> Evidence:
    where = ref.descriptor.digest
    if ref.artifact_type == mt.SIGSTORE_BUNDLE_V03:
        raise UsageError(f"--document {where} is a signature already, not a document")
    layers = ref.manifest.get("layers") or []
    if len(layers) != 1:
        raise InputError(f"referrer {where} has {len(layers)} layers, not one document")
    layer = Descriptor.from_dict(layers[0])
    if layer.size > MAX_DOCUMENT:
        raise InputError(f"referrer {where}: a {layer.size}-byte document is too large to sign")
    if layer.media_type == mt.INTOTO_JSON:
        return Evidence(statement=_attached_statement(store, layer, subject, where))
    document = store.fetch_blob(layer)
    annotations = {k: v for k, v in ref.annotations.items() if k != mt.ANNOTATION_CREATED}
    keep = {k: v for k, v in annotations.items() if k != table.ANNOTATION_STATEMENT}

    def with_document(statement: dict[str, Any]) -> Evidence:  # re-attached, naming its bundle
        return Evidence(statement=statement, document=document, media_type=layer.media_type,
                        artifact_type=ref.artifact_type, annotations=keep,
                        filename=(layer.annotations or {}).get(mt.ANNOTATION_TITLE))  # fmt: skip

    # the unsigned statement the document names, if it carries exactly these bytes
    beside = by_digest.get(annotations.get(table.ANNOTATION_STATEMENT, ""))
    if beside is not None and beside.artifact_type == mt.INTOTO_JSON:
        statement_layers = beside.manifest.get("layers") or []
        if len(statement_layers) == 1:
            statement = _attached_statement(
                store, Descriptor.from_dict(statement_layers[0]), subject, beside.descriptor.digest
            )
            try:
                check_vouched(statement, layer, lambda: document)
                return with_document(statement)
            except VerificationError as e:
                log.warning("statement %s does not carry %s: %s", beside.descriptor.digest,
                            where, e.message)  # fmt: skip
    predicate_type = annotations.get(table.ANNOTATION_PREDICATE_TYPE)
    if not _is_json(layer.media_type) or not predicate_type:
        raise UsageError(
            f"--document {where}: no unsigned statement carries it, and it is not a JSON "
            "document with a predicate type to sign as it is",
            hint="name its statement instead (application/vnd.in-toto+json referrer)",
        )
    predicate = jsonio.loads(document, f"--document {where}")  # InputError: not plain JSON
    if not isinstance(predicate, dict):
        raise InputError(f"--document {where} is not a JSON object")
    return with_document(make_statement(subject, predicate_type, predicate))


def _attached_statement(
    store: Store, layer: Descriptor, subject: Subject, where: str
) -> dict[str, Any]:
    try:
        statement = jsonio.loads(store.fetch_blob(layer), f"statement {where}")
        if not isinstance(statement, dict):
            raise InputError("not a JSON object")
        validate_statement(statement)
        check_statement(statement, subject_digest=subject.digest)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise InputError(f"statement {where} is not JSON: {e}") from None
    except (InputError, VerificationError) as e:
        raise InputError(f"refusing to sign statement {where}: {e.message}") from None
    return statement


def _unique(planned: list[Planned]) -> list[Planned]:
    """The same statement named twice (as a document and as a statement) is signed once,
    keeping the copy that has a document to re-attach."""
    kept: dict[bytes, Planned] = {}
    for p in planned:
        key = statement_bytes(p.evidence.statement)
        if key not in kept or (kept[key].evidence.document is None and p.evidence.document):
            kept[key] = p
    return list(kept.values())


def collect_evidence(
    store: Store,
    subject: Subject,
    *,
    statements: list[tuple[str, dict[str, Any]]] | None = None,
    documents: list[str] | None = None,
    predicate_types: tuple[str, ...] = (),
    oms: bool = False,
    oms_name: str | None = None,
    oms_signature_name: str = DEFAULT_SIGNATURE_NAME,
    mode: ReferrersMode = "auto",
) -> list[Planned]:
    """Everything listed in the module docstring, unsigned (choose the signer after this).
    ``statements`` are (where from, statement) pairs."""
    planned = [Planned(Evidence(statement=s), origin) for origin, s in statements or []]
    planned += named_documents(store, subject, list(documents or []), mode=mode)
    if predicate_types:
        planned = [p for p in planned if p.evidence.predicate_type in predicate_types]
    if oms:
        made = Evidence(oms_statement(subject, name=oms_name, signature_name=oms_signature_name))
        planned.append(Planned(made, "--oms (made from the manifest)"))
    return _unique(planned)


def sign_collected(
    store: Store,
    subject: Subject,
    planned: list[Planned],
    signer: Signer,
    *,
    oms_output: Path | None = None,
    mode: ReferrersMode = "auto",
) -> SignResult:
    """Sign ``planned`` in one session, attach it, write the OMS bundle to ``oms_output``."""
    if not planned:
        return SignResult([])
    evidence = [p.evidence for p in planned]
    signed = sign_and_attach(store, subject.descriptor(), evidence, signer, mode=mode)
    oms_bundle = next((s.bundle for s in signed if s.predicate_type == table.OMS), None)
    if oms_output is not None and oms_bundle is not None:
        atomic_write(oms_output, oms_bundle)
    return SignResult(signed, [p.origin for p in planned], oms_bundle)


def sign_subject(
    store: Store,
    subject: Subject,
    signer: Signer | Callable[[], Signer],
    *,
    statements: list[dict[str, Any]] | None = None,
    statement_files: list[Path] | None = None,
    documents: list[str] | None = None,
    predicate_types: tuple[str, ...] = (),
    oms: bool = False,
    oms_name: str | None = None,
    oms_output: Path | None = None,
    mode: ReferrersMode = "auto",
) -> SignResult:
    """``attest sign``: :func:`collect_evidence` then :func:`sign_collected`.

    ``signer`` may be a function choosing one: it is called only when there is something to
    sign, so a run with nothing to sign never creates a dev key or opens a browser. Nothing
    named and nothing made is a usage error: attached documents are never signed unnamed.
    """
    named = [("statement", s) for s in statements or []]
    named += [(f"--statement {f}", s) for f in statement_files or [] for s in load_statements(f)]
    planned = collect_evidence(
        store, subject, statements=named, documents=documents,
        predicate_types=predicate_types, oms=oms or oms_output is not None, oms_name=oms_name,
        oms_signature_name=oms_output.name if oms_output else DEFAULT_SIGNATURE_NAME, mode=mode,
    )  # fmt: skip
    if not planned:
        raise UsageError(
            f"nothing to sign on {subject.digest}",
            hint="give --statement FILE, --document DIGEST|FILE (`attest referrers REF` lists "
            "what is attached) or --oms; attached documents are never signed unless named",
        )
    chosen = signer() if callable(signer) else signer
    result = sign_collected(store, subject, planned, chosen, oms_output=oms_output, mode=mode)
    result.signer = chosen
    return result


def _is_json(media_type: str) -> bool:
    base = media_type.split(";", 1)[0].strip()
    return base.endswith(("+json", "/json", "+jsonld", "/ld+json"))
