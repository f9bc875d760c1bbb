"""What a stage makes: an in-toto Statement v1 about a ModelPack manifest, built as plain JSON
(checked and serialised by :mod:`attest.intoto`), with the document it vouches for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from in_toto_attestation.v1.statement import STATEMENT_TYPE_URI

from attest.errors import InputError, InternalError
from attest.facts.subject import Subject
from attest.intoto import validate_statement


@dataclass
class Evidence:
    """What a stage produces: a statement and, for document formats, the document itself."""

    statement: dict[str, Any]
    document: bytes | None = None  # the raw SBOM / card, attached as a plain referrer
    media_type: str | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    filename: str | None = None

    @property
    def predicate_type(self) -> str:
        return str(self.statement["predicateType"])


def make_statement(
    subject: Subject, predicate_type: str, predicate: dict[str, Any]
) -> dict[str, Any]:
    """A Statement v1 whose subject is the ModelPack manifest (name = repository)."""
    alg, _, hexdigest = subject.digest.partition(":")
    statement = {
        "_type": STATEMENT_TYPE_URI,
        "subject": [{"name": subject.repository, "digest": {alg: hexdigest}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    }
    try:
        validate_statement(statement)
    except InputError as e:  # we built it: an invalid statement is our bug
        raise InternalError(e.message) from None
    return statement
