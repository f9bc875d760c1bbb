"""The one table of evidence annotation keys and predicate types (media types are in
:mod:`attest.oci.mediatypes`).

A leaf of pure data: it imports nothing from attest, so every layer that names a kind of
evidence (stages make it, sign recognises OMS, verify and report read it) reads it here.
"""

from __future__ import annotations

# -- predicate types --------------------------------------------------------------------------
# Standard ones, as their specifications spell them.
CYCLONEDX = "https://cyclonedx.org/bom/v1.6"
SPDX2 = "https://spdx.dev/Document/v2.3"
SPDX3 = "https://spdx.dev/Document/v3"
SLSA_PROVENANCE = "https://slsa.dev/provenance/v1"
OMS = "https://model_signing/signature/v1.0"  # OpenSSF model signing v1.0
# attest's own, under its one URI namespace (each documented in docs/evidence.md).
MOF = "https://attest.dev/mof/v1"
MODEL_CARD = "https://attest.dev/model-card/v1"
DATA_CARD = "https://attest.dev/data-card/v1"
POLICY_BUNDLE = "https://attest.dev/policy-bundle/v1"

SBOMS = (CYCLONEDX, SPDX2, SPDX3)
CARDS = (MODEL_CARD, DATA_CARD)

# What a person reads for each kind (reports, listings).
LABELS = {
    CYCLONEDX: "SBOM (CycloneDX 1.6)",
    SPDX2: "SBOM (SPDX 2.3)",
    SPDX3: "SBOM (SPDX 3)",
    MOF: "MOF openness report",
    MODEL_CARD: "Model card",
    DATA_CARD: "Data card",
    SLSA_PROVENANCE: "SLSA provenance v1",
    OMS: "OpenSSF model signature",
    POLICY_BUNDLE: "Policy bundle",
}

# -- annotation keys --------------------------------------------------------------------------
# cosign v3 / GitHub attest bundle referrers.
ANNOTATION_BUNDLE_CONTENT = "dev.sigstore.bundle.content"
ANNOTATION_BUNDLE_PREDICATE_TYPE = "dev.sigstore.bundle.predicateType"
BUNDLE_CONTENT_DSSE = "dsse-envelope"
# attest's own: which signed statement vouches for a document, which predicate a document or
# an unsigned statement carries, which kind of signer signed a bundle (a hint for reports
# only: "dev-key" can only lower trust, never raise it), which card and SBOM format.
ANNOTATION_STATEMENT = "dev.attest.statement.digest"
ANNOTATION_PREDICATE_TYPE = "dev.attest.predicate-type"
ANNOTATION_SIGNER_KIND = "dev.attest.signer.kind"
ANNOTATION_CARD_KIND = "dev.attest.card.kind"
ANNOTATION_SBOM_FORMAT = "dev.attest.sbom.format"
ANNOTATION_SPDX_VERSION = "org.spdx.version"  # SPDX documents, as the SPDX tools write it
# The draft CNCF AI model interoperability profile.
ANNOTATION_CNCF_SBOM_FORMAT = "org.cncf.ai.security.sbom.format"
ANNOTATION_CNCF_MOF_VERSION = "org.cncf.ai.model.mof.version"
ANNOTATION_CNCF_MOF_COMPONENTS = "org.cncf.ai.model.mof.components"
ANNOTATION_CNCF_MOF_CLASS = "org.cncf.ai.model.mof.class"
