"""The VerificationReport: the one contract between verification (Python) and policy (Rego).

Shape (``to_dict``), as the policy library and the admission provider read it:
``{"subject": {...}, "referrers": [{"digest", "artifactType", "predicateType", "annotations",
"signatures": [{"verified", "kind", "format", "identity": {"issuer", "subject"}, "tlog",
"timestamp"[, "notation": {...}]}],
"summary": {...}, "errors": []}], "verifier": {"name", "version", "time"}, "errors": []}``.
The top-level ``errors`` are failures of the whole verification (identity flags nothing
matched); a referrer's ``errors`` are its own (for a document: why it is not vouched for).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attest.oci.mediatypes import SIGSTORE_BUNDLE_V03


@dataclass
class SignatureResult:
    verified: bool
    kind: str  # keyless | key | dev-key | notation
    issuer: str | None = None
    subject: str | None = None
    tlog: bool = False
    timestamp: str | None = None
    format: str = "sigstore"  # sigstore | notation
    details: dict[str, Any] | None = None  # notation: policy, level, scheme, logged checks...

    def to_dict(self) -> dict[str, Any]:
        out = {
            "verified": self.verified,
            "kind": self.kind,
            "format": self.format,
            "identity": {"issuer": self.issuer, "subject": self.subject},
            "tlog": self.tlog,
            "timestamp": self.timestamp,
        }
        if self.details is not None:
            out[self.format] = self.details
        return out


@dataclass
class ReferrerResult:
    digest: str
    artifact_type: str | None
    predicate_type: str | None
    annotations: dict[str, str]
    signatures: list[SignatureResult] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def is_bundle(self) -> bool:
        return bool(self.signatures) or self.artifact_type == SIGSTORE_BUNDLE_V03

    def to_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "artifactType": self.artifact_type,
            "predicateType": self.predicate_type,
            "annotations": self.annotations,
            "signatures": [s.to_dict() for s in self.signatures],
            "summary": self.summary,
            "errors": self.errors,
        }


@dataclass
class VerificationReport:
    subject: dict[str, Any]
    referrers: list[ReferrerResult]
    verifier: dict[str, str]
    errors: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        """What failed: each failed signature verification, naming its referrer and cause,
        then the report's own errors."""
        return self.signature_failures + self.errors

    @property
    def signature_failures(self) -> list[str]:
        return [
            f"{r.digest[:19]} ({r.predicate_type or r.artifact_type}): {e}"
            for r in self.referrers
            if r.is_bundle
            for e in r.errors
        ]

    @property
    def verified(self) -> list[ReferrerResult]:
        return [r for r in self.referrers if any(s.verified for s in r.signatures)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "referrers": [r.to_dict() for r in self.referrers],
            "verifier": self.verifier,
            "errors": self.errors,
        }
