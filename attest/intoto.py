"""The in-toto Statement v1 as JSON: its one validity check and its one byte form.

Below every layer that makes statements (stages, flows) and every layer that signs or checks
them (sign, verify), so none of them needs the others for it. A statement is never built
through protobuf ``Struct`` (it turns every int into a float); the dict is only *checked*
with in-toto-attestation's validator, then used as it is.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement as _ProtoStatement

from attest.errors import InputError, InternalError


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
