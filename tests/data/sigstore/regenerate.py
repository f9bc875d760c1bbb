"""Rewrite the frozen Sigstore regression fixtures in this directory (see README.md).

Run from the repository root: ``PYTHONPATH=. .venv/bin/python tests/data/sigstore/regenerate.py``.
It starts the loopback Sigstore stand-in, signs ``statement.json`` with sigstore-python against it
(email identity) and writes the bundle, the stand-in's trusted root and the expected identity.
The stand-in's keys are thrown away afterwards, so the files can only be verified, not extended.
"""

from __future__ import annotations

import json
from pathlib import Path

from sigstore import dsse
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext

from tests.sigstore_stand_in import SigstoreStandIn

HERE = Path(__file__).parent
IDENTITY = "frozen-signer@example.test"
STATEMENT = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [
        {
            "name": "registry.example.test/models/tiny",
            "digest": {"sha256": "5b0c" + "0" * 56 + "a11e"},
        }
    ],
    "predicateType": "https://slsa.dev/provenance/v1",
    "predicate": {
        "buildDefinition": {
            "buildType": "https://attest.invalid/frozen-fixture/v1",
            "externalParameters": {},
        },
        "runDetails": {"builder": {"id": "https://attest.invalid/stand-in"}},
    },
}


def main() -> None:
    statement = json.dumps(STATEMENT, indent=2).encode() + b"\n"
    (HERE / "statement.json").write_bytes(statement)
    with SigstoreStandIn() as stand_in:
        config = ClientTrustConfig.from_json(json.dumps(stand_in.client_trust_config()))
        context = SigningContext.from_trust_config(config)
        token = IdentityToken(stand_in.issue_token(email=IDENTITY))
        with context.signer(token, cache=True) as signer:
            bundle = signer.sign_dsse(dsse.Statement(statement))
        stand_in.write_trusted_root(HERE / "trusted_root.json")
        expected = {"identity": IDENTITY, "issuer": stand_in.issuer}
    (HERE / "bundle.sigstore.json").write_text(bundle.to_json() + "\n")
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    print(f"wrote fixtures in {HERE}")


if __name__ == "__main__":
    main()
