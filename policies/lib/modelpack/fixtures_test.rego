# Report fixtures shared by the library's unit tests: a model released by acme's GitHub
# workflow with every kind of evidence, and builders for the broken variants.
package lib.modelpack.fixtures

import rego.v1

now := "2025-06-01T12:00:00Z"

gh_issuer := "https://token.actions.githubusercontent.com"

release_subject := "https://github.com/acme/models/.github/workflows/release.yml@refs/tags/v1.0.0"

sbom_cdx := "https://cyclonedx.org/bom/v1.6"

sbom_spdx := "https://spdx.dev/Document/v2.3"

mof_type := "https://attest.dev/mof/v1"

slsa := "https://slsa.dev/provenance/v1"

model_card := "https://attest.dev/model-card/v1"

data_card := "https://attest.dev/data-card/v1"

sig(subject, issuer, kind, timestamp) := {
	"verified": true,
	"kind": kind,
	"identity": {"issuer": issuer, "subject": subject},
	"tlog": kind == "keyless",
	"timestamp": timestamp,
}

release_sig := sig(release_subject, gh_issuer, "keyless", "2025-05-30T10:00:00Z")

# A valid keyless signature by someone else's workflow.
other_sig := sig("https://github.com/mallory/models/.github/workflows/release.yml@refs/heads/main", gh_issuer, "keyless", "2025-05-30T10:00:00Z")

dev_sig := sig("dev-key:sha256:1111", "", "dev-key", "2025-05-30T10:00:00Z")

ref(digest, ptype, summary, sigs) := {
	"digest": digest,
	"artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
	"predicateType": ptype,
	"annotations": {},
	"signatures": sigs,
	"summary": summary,
	"errors": [],
}

sbom_summary(licenses) := {"licenses": licenses, "components": 3, "files": 5}

sbom := ref("sha256:5b0b", sbom_cdx, sbom_summary(["Apache-2.0", "MIT"]), [release_sig])

mof := ref("sha256:30f0", mof_type, {"class": "II", "progress": {}}, [release_sig])

provenance := ref("sha256:9e0v", slsa, {
	"builderId": "https://github.com/acme/models/.github/workflows/release.yml@refs/tags/v1.0.0",
	"buildType": "https://actions.github.io/buildtypes/workflow/v1",
	"sourceRepository": "git+https://github.com/acme/models@refs/tags/v1.0.0",
	"sourceCommit": "0123456789abcdef0123456789abcdef01234567",
}, [release_sig])

card := ref("sha256:ca4d", model_card, {
	"sections": ["model-details", "intended-use", "evaluation", "limitations"],
	"missingSections": [],
}, [release_sig])

report(referrers) := {
	"subject": {
		"reference": "registry.example/acme/tiny@sha256:aaaa",
		"digest": "sha256:aaaa",
		"mediaType": "application/vnd.oci.image.manifest.v1+json",
		"artifactType": "application/vnd.cncf.model.manifest.v1+json",
		"annotations": {},
	},
	"referrers": referrers,
	"verifier": {"name": "attest", "version": "0.1.0", "time": now},
}

good := report([sbom, mof, provenance, card])

# Our release workflow, keyless.
release_params := {"identity": {"allowed": [{"github_workflow_ref": "acme/models/.github/workflows/release.yml"}]}}

codes(findings) := {f.code | some f in findings}
