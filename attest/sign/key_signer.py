"""Key-based signing: DSSE over each statement with an ECDSA key, in a v0.3 bundle.

No Fulcio, no Rekor: the bundle names the key by a hint and is verifiable offline with the
public key alone — the air-gapped mode, and the local development key.

The hint is what sigstore-go and cosign write (base64 of the sha256 of the DER public key),
except in OpenSSF model-signing statements: model_signing 1.x compares the hint with the hex
sha256 of the *PEM* public key and rejects any other value, so those bundles carry its form.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from attest.errors import InputError, VerificationError
from attest.evidence import table
from attest.intoto import statement_bytes, validate_statement
from attest.oci import mediatypes as mt
from attest.sign.bundle import bundle_bytes, key_bundle, parse_bundle
from attest.sign.checks import check_statement
from attest.sign.dsse import DsseSignature, Envelope
from attest.sign.keys import public_der, public_pem

SignerKind = Literal["key", "dev-key"]


def key_hint(key: ec.EllipticCurvePublicKey) -> str:
    """sigstore-go/cosign key hint: base64(sha256(SubjectPublicKeyInfo DER))."""
    return base64.b64encode(hashlib.sha256(public_der(key)).digest()).decode()


def model_signing_hint(key: ec.EllipticCurvePublicKey) -> str:
    """model_signing 1.x key hint: hex(sha256(SubjectPublicKeyInfo PEM))."""
    return hashlib.sha256(public_pem(key)).hexdigest()


def _hash_for(key: ec.EllipticCurvePublicKey) -> hashes.HashAlgorithm:
    # The Sigstore key details pair each curve with its hash (as model_signing does).
    size = key.curve.key_size
    return hashes.SHA256() if size == 256 else hashes.SHA384() if size == 384 else hashes.SHA512()


class KeySigner:
    """Signs statements with one private key; ``kind`` says whether it is the dev key."""

    def __init__(
        self, key: ec.EllipticCurvePrivateKey, *, kind: SignerKind = "key", source: str = ""
    ) -> None:
        self._key = key
        self.kind: SignerKind = kind
        self.public_key = key.public_key()
        self.hint = key_hint(self.public_key)
        where = f" {source}" if source else ""
        self.identity = (
            f"dev key{where} ({self.hint})" if kind == "dev-key" else f"key{where} ({self.hint})"
        )
        self.oidc_claims: dict[str, Any] | None = None

    def describe(self) -> str:
        if self.kind == "dev-key":
            return f"dev key — not for release ({self.hint})"
        return f"key {self.hint}"

    def sign_statements(self, statements: list[dict[str, Any]]) -> list[bytes]:
        return [self.sign_payload(statement_bytes(s), _hint_style(s)) for s in statements]

    def sign_payload(self, payload: bytes, hint_style: str = "sigstore") -> bytes:
        """A bundle around the DSSE signature of ``payload`` (an in-toto statement's bytes)."""
        envelope = Envelope(payload, mt.INTOTO_JSON, ())
        sig = self._key.sign(envelope.pae(), ec.ECDSA(_hash_for(self.public_key)))
        signed = Envelope(payload, mt.INTOTO_JSON, (DsseSignature(sig),))
        hint = model_signing_hint(self.public_key) if hint_style == "model_signing" else self.hint
        return bundle_bytes(key_bundle(signed, hint))


def _hint_style(statement: dict[str, Any]) -> str:
    return "model_signing" if statement.get("predicateType") == table.OMS else "sigstore"


def verify_key_bundle(
    data: bytes,
    public_key: ec.EllipticCurvePublicKey,
    *,
    subject_digest: str | None = None,
    predicate_type: str | None = None,
) -> dict[str, Any]:
    """Check a key bundle against ``public_key``; return the statement it signs.

    Raises VerificationError naming what failed: another key's hint, a bad signature, a
    payload that is not an in-toto statement, or (when given) a statement about another
    digest or of another predicate type.
    """
    try:
        info = parse_bundle(data)
    except InputError as e:
        raise VerificationError(f"unreadable bundle: {e.message}") from None
    if info.kind != "key":
        raise VerificationError("bundle is signed with a certificate (keyless), not with a key")
    hints = {key_hint(public_key), model_signing_hint(public_key)}
    if info.key_hint is not None and info.key_hint not in hints:
        raise VerificationError(
            f"bundle was signed by another key (hint {info.key_hint}, "
            f"this key is {key_hint(public_key)})"
        )
    envelope = info.envelope
    if envelope.payload_type != mt.INTOTO_JSON:
        raise VerificationError(f"DSSE payload type {envelope.payload_type!r} is not in-toto")
    algorithm = ec.ECDSA(_hash_for(public_key))
    for sig in envelope.signatures:
        try:
            public_key.verify(sig.sig, envelope.pae(), algorithm)
            break
        except InvalidSignature:
            continue
    else:
        raise VerificationError("DSSE signature does not verify with this key")
    try:
        statement = envelope.statement()
        validate_statement(statement)
    except InputError as e:
        raise VerificationError(f"signed payload: {e.message}") from None
    check_statement(statement, subject_digest=subject_digest, predicate_type=predicate_type)
    return statement
