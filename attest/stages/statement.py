"""in-toto Statement v1 about a ModelPack manifest, built as plain JSON.

Never built through protobuf ``Struct`` (it turns every int into a float); the dict is only
*checked* with in-toto-attestation's validator, then used as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import STATEMENT_TYPE_URI
from in_toto_attestation.v1.statement import Statement as _ProtoStatement

from attest.errors import InputError, InternalError
from attest.modelpack.subject import Subject


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


def validate_statement(statement: dict[str, Any]) -> None:
    """Check a statement dict with in-toto-attestation's own validator (raises InputError)."""
    try:
        pb = statement_pb2.Statement()
        json_format.ParseDict(statement, pb, ignore_unknown_fields=False)
        _ProtoStatement.copy_from_pb(pb).validate()
    except (json_format.ParseError, ValueError) as e:
        raise InputError(f"not a valid in-toto Statement v1: {e}") from None


def statement_bytes(statement: dict[str, Any]) -> bytes:
    """Canonical JSON bytes (sorted keys) of a statement: what gets signed and attached."""
    try:
        return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    except (TypeError, ValueError) as e:
        raise InternalError(f"statement is not JSON-serialisable: {e}") from None
