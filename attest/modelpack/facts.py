"""ModelFacts of what a user names: a model directory, an artifact by reference, or a subject
already resolved (``attest run`` has one after packing) -- the sources are ModelPack's, the
gathering is :func:`attest.facts.gather.gather_facts`."""

from __future__ import annotations

from pathlib import Path

from attest.facts.gather import gather_facts
from attest.facts.model import ModelFacts
from attest.facts.subject import Subject
from attest.modelpack.read import read_subject
from attest.modelpack.sources import DirectorySource, SubjectSource
from attest.oci.digest import DigestCache
from attest.oci.store import Store


def facts_for_directory(
    path: str | Path,
    facts_file: str | Path | None = None,
    *,
    modelfile: str | Path | None = None,
    name: str | None = None,
    progress: bool | None = None,
    cache: DigestCache | None = None,
) -> ModelFacts:
    """ModelFacts of a model directory (files as ``attest pack`` would package them).

    ``cache`` is the digest cache (default: the user's, or none with ``ATTEST_NO_CACHE``)."""
    source = DirectorySource(Path(path), modelfile, progress=progress, cache=cache)
    return gather_facts(source, declared_path=Path(facts_file) if facts_file else None, name=name)


def facts_for_reference(
    store: Store,
    target: str,
    reference: str,
    facts_file: str | Path | None = None,
    *,
    name: str | None = None,
) -> ModelFacts:
    """ModelFacts of the ModelPack (or KitOps) artifact ``target`` (tag or digest) in ``store``;
    ``reference`` is what the user typed, kept in the facts' subject."""
    subject = read_subject(store, target, reference)
    return facts_for_subject(store, subject, facts_file, name=name)


def facts_for_subject(
    store: Store, subject: Subject, facts_file: str | Path | None = None, *, name: str | None = None
) -> ModelFacts:
    """ModelFacts of an already resolved subject (``attest run`` has one after packing)."""
    source = SubjectSource(store, subject)
    return gather_facts(
        source,
        subject=subject,
        declared_path=Path(facts_file) if facts_file else None,
        name=name,
    )
