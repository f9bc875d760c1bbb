"""OCI 1.1 referrers, written once against the Store interface.

Attach pushes a manifest whose ``subject`` is the artifact. A store that indexes referrers itself
(a registry with the Referrers API, which answers ``OCI-Subject``; an OCI layout) needs nothing
more; otherwise the client maintains the ``<alg>-<hex>`` fallback tag exactly as the
distribution spec says. Discovery uses the API when it answers, the fallback tag when it does not,
and trusts no index: each referrer manifest is fetched and kept only if its own ``subject`` is the
asked digest.
"""

from __future__ import annotations

import io
import json
import logging
import random
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Literal

from attest.errors import (
    ConcurrentUpdateError,
    InputError,
    NotFoundError,
    RegistryError,
    UsageError,
)
from attest.oci import mediatypes as mt
from attest.oci.config_schema import validate_image_index
from attest.oci.reference import fallback_tag
from attest.oci.store import Descriptor, Manifest, Store, parse_json_object

log = logging.getLogger(__name__)

ReferrersMode = Literal["auto", "api", "tag"]
REFERRERS_MODES = ("auto", "api", "tag")
_INDEX_UPDATE_ROUNDS = 12
_MIN_SETTLE = 0.02  # seconds: the least pause before reading a written index back
_ABSENCE_PAUSES = (0.05, 0.15)  # re-reads of a 404 fallback tag before it is believed missing


@dataclass
class Referrer:
    """A verified referrer: its descriptor (artifactType and annotations from the manifest
    itself, never from an index) and the parsed manifest."""

    descriptor: Descriptor
    manifest: dict[str, Any] = field(repr=False)

    @property
    def artifact_type(self) -> str | None:
        return self.descriptor.artifact_type

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.descriptor.annotations or {})

    def to_dict(self) -> dict[str, Any]:
        return self.descriptor.to_dict()


@dataclass
class Blob:
    """A layer to attach: its descriptor and its content, in memory or in a file (streamed)."""

    descriptor: Descriptor
    source: bytes | Path

    def open(self) -> IO[bytes]:
        if isinstance(self.source, bytes):
            return io.BytesIO(self.source)
        return open(self.source, "rb")  # noqa: SIM115 - closed by the caller


def build_referrer_manifest(
    subject: Descriptor,
    artifact_type: str,
    layers: Iterable[Descriptor],
    annotations: dict[str, str] | None = None,
    *,
    created: str | None = None,
) -> bytes:
    """The bytes of an OCI 1.1 artifact manifest: empty config, ``subject``, ``artifactType``."""
    notes = dict(annotations or {})
    notes.setdefault(
        mt.ANNOTATION_CREATED,
        created or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": mt.EMPTY_DESCRIPTOR,
        "layers": [layer.to_dict() for layer in layers],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
        },
        "annotations": notes,
    }
    return json.dumps(manifest, indent=2).encode()


def attach(
    store: Store,
    subject: Descriptor,
    artifact_type: str,
    blobs: list[Blob],
    annotations: dict[str, str] | None = None,
    *,
    mode: ReferrersMode = "auto",
) -> Descriptor:
    """Push ``blobs`` as one referrer of ``subject``; return the referrer manifest's descriptor."""
    if not store.manifest_exists(subject.digest):
        raise NotFoundError(f"subject {subject.digest} not found in {store.location}")
    store.push_blob(Descriptor(mt.OCI_EMPTY, mt.EMPTY_DIGEST, 2), io.BytesIO(mt.EMPTY_JSON))
    for blob in blobs:
        with blob.open() as stream:
            store.push_blob(blob.descriptor, stream)
    layers = [b.descriptor for b in blobs]
    data = build_referrer_manifest(subject, artifact_type, layers, annotations)
    return push_referrer_manifest(store, data, mt.OCI_MANIFEST, mode=mode)


def push_referrer_manifest(
    store: Store, data: bytes, media_type: str, *, mode: ReferrersMode = "auto"
) -> Descriptor:
    """Push a manifest that has a ``subject`` and make it discoverable (API or fallback tag).

    Its blobs must already be in ``store``. Returns the descriptor as listed in a referrers
    index (artifactType and annotations included).
    """
    manifest = parse_json_object(data, "referrer manifest")
    subject = (manifest.get("subject") or {}).get("digest")
    if not subject:
        raise InputError("manifest has no subject: it is not a referrer")
    result = store.push_manifest(data, media_type)
    entry = index_entry(result.descriptor, manifest)
    if mode == "tag" or (mode == "auto" and result.oci_subject is None):
        add_to_fallback_index(store, subject, entry)
    elif mode == "api" and result.oci_subject is None:
        raise RegistryError(
            f"{store.location} did not answer OCI-Subject: it has no Referrers API",
            hint="use --referrers-mode auto or tag to maintain the fallback tag",
        )
    elif result.oci_subject not in (None, subject):
        raise RegistryError(
            f"{store.location} answered OCI-Subject {result.oci_subject}, expected {subject}"
        )
    return entry


def index_entry(desc: Descriptor, manifest: dict[str, Any]) -> Descriptor:
    """The descriptor of a referrer as an index lists it: artifactType (or config media type)
    and all of its annotations."""
    artifact_type = manifest.get("artifactType") or (manifest.get("config") or {}).get("mediaType")
    return Descriptor(
        desc.media_type,
        desc.digest,
        desc.size,
        annotations=dict(manifest.get("annotations") or {}) or None,
        artifact_type=artifact_type,
    )


def _read_fallback_index(
    store: Store, subject_digest: str, *, confirm_absence: bool = True
) -> tuple[dict[str, Any], str | None]:
    """The subject's fallback index and its ETag; an empty index only when absence is confirmed.

    A single 404 is not trusted: a registry behind a load balancer or a flaky proxy answers one
    now and then, and treating it as "no index" would replace a full index with a one-entry one.
    The tag is read again (after short pauses) before it is believed missing.
    """
    tag = fallback_tag(subject_digest)
    current: Manifest | None = None
    pauses = _ABSENCE_PAUSES if confirm_absence else ()
    for attempt in range(1 + len(pauses)):
        try:
            current = store.get_manifest(tag, accept=(mt.OCI_INDEX,))
            break
        except NotFoundError:
            if attempt < len(pauses):
                time.sleep(pauses[attempt])
    if current is None:
        return {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []}, None
    index = current.json()
    if current.descriptor.media_type not in mt.INDEX_TYPES or not isinstance(
        index.get("manifests"), list
    ):
        raise InputError(
            f"{store.location}:{tag} exists but is not an image index; "
            "refusing to overwrite it with a referrers index"
        )
    try:  # whatever else is in the index is kept: it must be a valid one
        validate_image_index(index)
    except InputError as e:
        raise InputError(f"{store.location}:{tag}: {e.message}", hint=e.hint) from None
    return index, current.etag


# Fallback-index additions held back by :func:`one_index_update`: (store, subject) -> entries.
_Pending = dict[tuple[int, str], tuple[Store, list[Descriptor]]]
_PENDING: ContextVar[_Pending | None] = ContextVar("attest_fallback_pending", default=None)


@contextmanager
def one_index_update() -> Iterator[None]:
    """Within the block, additions to fallback indexes are collected and written when it ends:
    one read-modify-write and one read-back per subject, instead of one per referrer (`attest
    run` attaches about fifteen; each update waits to read its write back). Discovery inside the
    block sees the entries held back. They are written even when the block fails, so a referrer
    already pushed is never left undiscoverable. Nested blocks join the outer one."""
    if _PENDING.get() is not None:
        yield
        return
    pending: _Pending = {}
    token = _PENDING.set(pending)
    try:
        yield
    finally:
        _PENDING.reset(token)
        for (_, subject_digest), (store, entries) in pending.items():
            _update_fallback_index(store, subject_digest, add=entries)


def _held_back(store: Store, subject_digest: str) -> list[Descriptor]:
    pending = _PENDING.get()
    held = pending.get((id(store), subject_digest)) if pending is not None else None
    return list(held[1]) if held else []


def add_to_fallback_index(store: Store, subject_digest: str, entry: Descriptor) -> None:
    """Append ``entry`` to the subject's fallback tag index unless already listed (at the end of
    the enclosing :func:`one_index_update` block, if there is one)."""
    pending = _PENDING.get()
    if pending is None:
        _update_fallback_index(store, subject_digest, add=[entry])
        return
    pending.setdefault((id(store), subject_digest), (store, []))[1].append(entry)


def _update_fallback_index(store: Store, subject_digest: str, *, add: list[Descriptor]) -> None:
    """Read-modify-write the fallback index, then read it back until it holds what it should.

    Registries that ignore ``If-Match`` (Distribution 2.8 does) let two writers overwrite each
    other's entries. So every entry ever seen here is remembered, and after each write the index
    is read again after a jittered pause longer than our own read-modify-write took (others'
    writes that raced ours have landed by then): entries missing are merged back and written
    again. Bounded; a loss that does not heal is an error, never a silent success.
    """
    tag = fallback_tag(subject_digest)
    known: dict[str, dict[str, Any]] = {}  # every entry seen in any read, by digest
    wrote = False
    for _round in range(_INDEX_UPDATE_ROUNDS):
        started = time.monotonic()
        index, etag = _read_fallback_index(store, subject_digest)
        listed = [m for m in index["manifests"] if isinstance(m, dict)]
        listed_digests = [m.get("digest") for m in listed]
        for m in listed:
            known.setdefault(str(m.get("digest")), m)
        for entry in add:
            known.setdefault(entry.digest, entry.to_dict())
        wanted = listed + [m for d, m in known.items() if d not in listed_digests]
        if [m.get("digest") for m in wanted] == listed_digests:
            # Nothing to write, or our last write read back intact.
            return
        if wrote:
            log.info("fallback index %s lost entries to a concurrent writer; merging", tag)
        index["manifests"] = wanted
        try:
            store.push_manifest(
                json.dumps(index, indent=2).encode(), mt.OCI_INDEX, tag=tag, if_match=etag
            )
        except ConcurrentUpdateError:
            log.info("fallback index %s changed while updating; retrying", tag)
        wrote = True
        elapsed = time.monotonic() - started
        time.sleep(max(elapsed, _MIN_SETTLE) * random.uniform(2.0, 3.0))
    raise RegistryError(
        f"could not update {store.location}:{tag}: concurrent writers kept removing entries "
        f"after {_INDEX_UPDATE_ROUNDS} merges",
        hint="retry; a registry with the Referrers API (or one honouring If-Match) avoids this",
    )


def candidate_referrers(
    store: Store, subject_digest: str, *, mode: ReferrersMode = "auto", strict: bool = False
) -> list[Descriptor]:
    """Unverified referrer descriptors from the store's index or the fallback tag.

    ``strict`` (copy) fails on a fallback tag that is not an index instead of ignoring it.
    """
    if mode not in REFERRERS_MODES:
        raise UsageError(f"unknown referrers mode {mode!r} (auto, api or tag)")
    if mode != "tag":
        listed = store.list_referrers(subject_digest)
        if listed is not None:
            return listed
        if mode == "api":
            raise RegistryError(
                f"{store.location} has no Referrers API (404)",
                hint="use --referrers-mode auto or tag to read the fallback tag",
            )
    held = _held_back(store, subject_digest)
    try:  # a read that only lists (the write confirms absence itself) while entries are held
        index, _ = _read_fallback_index(store, subject_digest, confirm_absence=not held)
    except InputError as e:
        if strict:
            raise
        log.warning("ignoring fallback tag: %s", e)
        return held
    out = []
    for entry in index["manifests"]:
        try:
            out.append(Descriptor.from_dict(entry))
        except InputError as e:
            log.warning("ignoring malformed fallback index entry: %s", e)
    in_index = {d.digest for d in out}
    return out + [d for d in held if d.digest not in in_index]


def discover(
    store: Store,
    subject_digest: str,
    *,
    artifact_type: str | None = None,
    mode: ReferrersMode = "auto",
    strict: bool = False,
) -> list[Referrer]:
    """Referrers of ``subject_digest``, each fetched and checked to point at it.

    ``strict`` (copy, which must not drop evidence quietly) fails when a listed referrer
    cannot be read, where discovery for display or verification skips it with a warning.

    Index entries are only hints: artifactType and annotations are taken from the fetched
    manifest, entries lacking them (as go-containerregistry writes) are classified the same
    way, and a manifest whose own ``subject`` differs is dropped (anyone with push rights can
    edit a fallback tag).
    """
    found: list[Referrer] = []
    seen: set[str] = set()
    for candidate in candidate_referrers(store, subject_digest, mode=mode, strict=strict):
        if candidate.digest in seen:
            continue
        seen.add(candidate.digest)
        try:
            fetched = _get_listed_manifest(store, candidate.digest)
            manifest = fetched.json()
        except (NotFoundError, InputError) as e:
            if strict:
                raise RegistryError(
                    f"referrer {candidate.digest} of {subject_digest} is listed in "
                    f"{store.location} but cannot be read: {e.message}",
                    hint="copy with --no-referrers to copy the artifact alone",
                ) from e
            log.warning("skipping referrer %s: %s", candidate.digest, e)
            continue
        if (manifest.get("subject") or {}).get("digest") != subject_digest:
            log.warning(
                "skipping %s: listed as a referrer of %s but its subject is %s",
                candidate.digest,
                subject_digest,
                (manifest.get("subject") or {}).get("digest"),
            )
            continue
        desc = index_entry(fetched.descriptor, manifest)
        if artifact_type and desc.artifact_type != artifact_type:
            continue
        found.append(Referrer(desc, manifest))
    return found


def _get_listed_manifest(store: Store, digest: str) -> Manifest:
    """A manifest an index lists; a 404 is read again before it is believed."""
    for pause in _ABSENCE_PAUSES:
        try:
            return store.get_manifest(digest)
        except NotFoundError:
            time.sleep(pause)
    return store.get_manifest(digest)
