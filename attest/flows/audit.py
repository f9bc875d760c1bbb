"""`attest audit`: re-verify a fleet of models under one policy, in parallel.

The fleet is a registry namespace (catalog and tags APIs) or a file of references. Each
distinct manifest digest is verified once, however many tags point at it; a tag that is not a
model artifact is counted as such, never as a failure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attest.errors import AttestError, InputError
from attest.flows.verify import VerifyRequest, verify_reference
from attest.modelpack import media
from attest.oci import mediatypes as mt
from attest.oci.reference import parse_reference
from attest.oci.registry import Login, RegistryStore
from attest.oci.stores import open_store
from attest.yamlio import read_user_file

log = logging.getLogger(__name__)

MAX_REFS = 100_000  # a fleet file or catalog larger than this is refused, not half-read
STATUSES = ("verified", "failed", "not-a-model", "error")


@dataclass
class AuditItem:
    reference: str
    status: str = "error"  # verified | failed | not-a-model | error
    digest: str | None = None
    reason: str | None = None
    mof_class: str | None = None
    signers: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "status": self.status, "digest": self.digest,
                "reason": self.reason, "mofClass": self.mof_class,
                "signers": self.signers}  # fmt: skip


@dataclass
class AuditReport:
    source: str
    items: list[AuditItem]
    seconds: float = 0.0
    jobs: int = 1

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def ok(self) -> bool:
        return not any(i.status in ("failed", "error") for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "jobs": self.jobs, "seconds": round(self.seconds, 3),
                "summary": {s: self.count(s) for s in STATUSES},
                "items": [i.to_dict() for i in self.items]}  # fmt: skip


def fleet_references(
    source: str, *, plain_http: bool = False, insecure: bool = False, login: Login | None = None
) -> list[str]:
    """The references an audit covers: lines of a file, or every tag under HOST[/NAMESPACE]."""
    path = Path(source)
    if path.exists():  # a file of references (a FIFO or a device is refused when read)
        return _references_from_file(path)
    if source.startswith("oci:"):
        raise InputError(f"{source}: audit a registry namespace or a file of references")
    host, _, namespace = source.partition("/")
    registry = RegistryStore(host, "x", plain_http=plain_http or _loopback(host),
                             insecure=insecure, login=login)  # fmt: skip
    with registry:
        repositories = [r for r in registry.catalog()
                        if not namespace or r == namespace or r.startswith(namespace + "/")]
    refs: list[str] = []
    for repository in sorted(repositories):
        store = RegistryStore(host, repository, plain_http=plain_http or _loopback(host),
                              insecure=insecure, login=login)  # fmt: skip
        with store:
            refs += [f"{host}/{repository}:{t}" for t in sorted(store.tags())
                     if not t.startswith("sha256-")]  # referrer fallback tags are not models
        if len(refs) > MAX_REFS:
            raise InputError(f"{source}: more than {MAX_REFS} tags; audit by namespace")
    return refs


def _loopback(host: str) -> bool:
    return parse_reference(f"{host}/x:y").is_loopback


#: Largest reference list read (100,000 references of up to 2 KiB each would be more).
MAX_LIST_BYTES = 32 * 1024 * 1024


def _references_from_file(path: Path) -> list[str]:
    data = read_user_file(path, "a reference list", max_size=MAX_LIST_BYTES)  # regular, capped
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path} is not UTF-8 text: {e.reason} at byte {e.start}") from None
    refs = []
    for n, line in enumerate(text.splitlines(), 1):
        if n > MAX_REFS:
            raise InputError(f"{path}: more than {MAX_REFS} lines")
        text = line.split("#", 1)[0].strip()
        if text:
            parse_reference(text)  # a bad line fails the audit before any work
            refs.append(text)
    return refs


def audit(
    refs: Iterable[str],
    request: VerifyRequest,
    *,
    source: str = "",
    jobs: int = 4,
    on_done: Callable[[AuditItem], None] | None = None,
) -> AuditReport:
    """Verify each reference, ``jobs`` at a time; each (repository, digest) once, since the
    referrers that vouch for a digest live in its repository."""
    started = time.monotonic()
    refs = list(refs)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        digests = list(pool.map(lambda r: _resolve(r, request), refs))
        first: dict[tuple[str, str], str] = {}
        for ref, (digest, _) in zip(refs, digests, strict=True):
            if digest:
                first.setdefault((_repository(ref), digest), ref)
        verified = dict(zip(first, pool.map(lambda r: _verify(r, request), first.values()),
                            strict=True))  # fmt: skip
    items = []
    for ref, (digest, early) in zip(refs, digests, strict=True):
        if early is not None:
            item = early
        else:
            assert digest is not None
            done = verified[(_repository(ref), digest)]
            item = AuditItem(ref, done.status, done.digest, done.reason, done.mof_class,
                             done.signers)  # fmt: skip
        items.append(item)
        if on_done:
            on_done(item)
    return AuditReport(source, items, time.monotonic() - started, jobs)


def _repository(ref: str) -> str:
    return parse_reference(ref).repository_name()


def _resolve(ref: str, request: VerifyRequest) -> tuple[str | None, AuditItem | None]:
    """(digest, None) for a model; (None, item) for what needs no verification or failed."""
    try:
        reference = parse_reference(ref)
        store = open_store(reference, request.store_options)
        manifest = store.get_manifest(reference.target or "latest")
        body = manifest.json()
        config_type = ((body.get("config") or {}).get("mediaType")) or ""
        if not (media.is_model_config(config_type) or config_type == mt.KITOPS_CONFIG
                or media.is_model_artifact_type(body.get("artifactType"))):  # fmt: skip
            return None, AuditItem(ref, "not-a-model", manifest.descriptor.digest)
        return manifest.descriptor.digest, None
    except AttestError as e:
        return None, AuditItem(ref, "error", reason=e.message)


def _verify(ref: str, request: VerifyRequest) -> AuditItem:
    try:
        outcome = verify_reference(ref, request)
    except AttestError as e:
        return AuditItem(ref, "failed" if e.exit_code == 1 else "error", reason=e.message)
    item = AuditItem(ref, "verified", outcome.subject.digest)
    item.reason = outcome.failure
    if item.reason:
        item.status = "failed"
    item.signers = sorted({s.subject or s.kind for r in outcome.report.verified
                           for s in r.signatures if s.verified})  # fmt: skip
    for r in outcome.report.verified:
        if r.summary.get("class"):
            item.mof_class = str(r.summary["class"])
    return item
