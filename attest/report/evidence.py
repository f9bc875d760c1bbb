"""The evidence a report is built from: each statement with how far it can be trusted.

A statement's facts are shown as verified only when its signature verified; an unsigned
statement is shown apart, marked unverified; a statement whose signature failed contributes
nothing but its error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Trust = Literal["verified", "unsigned", "failed", "computed"]


@dataclass(frozen=True)
class Signer:
    """Who signed: a key (by fingerprint) or a keyless identity and its issuer."""

    kind: str  # key | dev-key | keyless | notation | unknown
    key_fingerprint: str | None = None  # sha256 of the DER public key, base64 (cosign's hint)
    identity: str | None = None  # certificate SAN (keyless)
    issuer: str | None = None
    tlog: bool = False
    tlog_index: int | None = None
    tlog_time: str | None = None

    def label(self) -> str:
        if self.kind == "keyless":
            return f"{self.identity} ({self.issuer})"
        if self.kind == "notation":  # identity: the signing certificate's subject DN
            return f"notation {self.identity}"
        if self.kind == "dev-key":
            return f"development key {self.key_fingerprint or ''}".strip()
        return f"key {self.key_fingerprint or '(unknown)'}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "keyFingerprint": self.key_fingerprint,
            "identity": self.identity,
            "issuer": self.issuer,
            "tlog": self.tlog,
            "tlogIndex": self.tlog_index,
            "tlogTime": self.tlog_time,
        }


@dataclass
class StatementEvidence:
    """One statement referrer: its trust, its signer, and (unless failed) its predicate."""

    digest: str  # the referrer manifest's digest
    predicate_type: str | None
    trust: Trust
    signer: Signer | None = None
    predicate: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.trust != "failed" and isinstance(self.predicate, dict)


@dataclass(frozen=True)
class DocumentEvidence:
    """A plain document referrer (SBOM file, card): vouched for when a verified statement
    names the exact digest of its bytes."""

    digest: str  # referrer manifest digest
    media_type: str | None
    title: str | None
    predicate_type: str | None
    layer_digest: str | None
    size: int | None
    statement: str | None  # the statement digest it names
    vouched: bool = False


@dataclass
class EvidenceSet:
    """Everything known about one subject, ready to render."""

    subject: dict[str, Any]  # reference, digest, mediaType, size, artifactType, config, layers
    statements: list[StatementEvidence]
    documents: list[DocumentEvidence] = field(default_factory=list)
    policy: dict[str, Any] | None = None  # Decision.to_dict()
    source_kind: Literal["artifact", "directory"] = "artifact"
    verifier: dict[str, str] = field(default_factory=dict)
    # signatures over the manifest itself (notation): a signer, no statement
    signatures: list[StatementEvidence] = field(default_factory=list)
    failure: str | None = None  # why `attest verify` would fail this artifact (None: it passes)
    # the opening paragraph of each Markdown card whose bytes its statement pins, by statement
    card_summaries: dict[str, str] = field(default_factory=dict)

    def best(self, predicate_types: tuple[str, ...]) -> StatementEvidence | None:
        """The statement to read a section from: a verified one first, else an unsigned or
        computed one (shown as unverified), never a failed one."""
        usable = [s for s in self.statements if s.predicate_type in predicate_types and s.usable]
        for trust in ("verified", "computed", "unsigned"):
            for s in usable:
                if s.trust == trust:
                    return s
        return None
