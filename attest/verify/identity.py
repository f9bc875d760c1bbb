"""The identity policy for keyless bundles, from cosign-style flags.

sigstore-python checks signature, chain, SCT and transparency log; the policy says whose
signature counts. Identities match exactly (``--identity``) or by a fully anchored regular
expression (``--identity-regexp``); the issuer always matches exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sigstore.errors import VerificationError as SigstoreVerificationError
from sigstore.verify import policy

from attest.errors import UsageError
from attest.sign.keyless import certificate_identity


@dataclass(frozen=True)
class IdentityPolicy:
    identity: str | None = None
    identity_regexp: str | None = None
    issuer: str | None = None
    repository: str | None = None  # GitHub "owner/repo"
    workflow_ref: str | None = None  # GitHub "owner/repo/.github/workflows/x.yml@refs/..."

    @property
    def given(self) -> bool:
        return bool(self.identity or self.identity_regexp)

    def flags(self) -> list[str]:
        """The identity flags given, as the user typed them (for messages naming them)."""
        given = [
            ("--identity", self.identity), ("--identity-regexp", self.identity_regexp),
            ("--issuer", self.issuer), ("--repository", self.repository),
            ("--workflow-ref", self.workflow_ref),
        ]  # fmt: skip
        return [f"{flag} {value}" for flag, value in given if value]

    def describe(self) -> str:
        who = self.identity or f"/{self.identity_regexp}/"
        return f"{who} from {self.issuer}"

    def sigstore_policy(self) -> policy.VerificationPolicy:
        if not self.given or not self.issuer:
            raise UsageError(
                "keyless verification needs --identity (or --identity-regexp) and --issuer",
                hint="e.g. --identity https://github.com/org/repo/.github/workflows/release.yml"
                "@refs/heads/main --issuer https://token.actions.githubusercontent.com",
            )
        if self.identity and self.identity_regexp:
            raise UsageError("give --identity or --identity-regexp, not both")
        parts: list[policy.VerificationPolicy] = []
        if self.identity:
            parts.append(policy.Identity(identity=self.identity, issuer=self.issuer))
        else:
            try:
                pattern = re.compile(self.identity_regexp or "")
            except re.error as e:
                raise UsageError(f"--identity-regexp is not a valid expression: {e}") from None
            parts.append(_IdentityRegexp(pattern, self.issuer))
        if self.repository:
            parts.append(policy.OIDCSourceRepositoryURI(f"https://github.com/{self.repository}"))
        if self.workflow_ref:
            parts.append(policy.OIDCBuildSignerURI(f"https://github.com/{self.workflow_ref}"))
        return parts[0] if len(parts) == 1 else policy.AllOf(parts)


class _IdentityRegexp:
    """SAN matched by a *fully anchored* regular expression (``re.fullmatch``): a pattern
    never matches a longer identity by accident (cosign users have been bitten by that)."""

    def __init__(self, pattern: re.Pattern[str], issuer: str) -> None:
        self._pattern = pattern
        self._issuer = issuer

    def verify(self, cert: x509.Certificate) -> None:
        san, issuer = certificate_identity(cert.public_bytes(Encoding.DER))
        if issuer != self._issuer:
            raise SigstoreVerificationError(
                f"certificate issuer {issuer!r} is not the expected {self._issuer!r}"
            )
        if san is None or not self._pattern.fullmatch(san):
            raise SigstoreVerificationError(
                f"certificate identity {san!r} does not match /{self._pattern.pattern}/"
            )
