package lib.modelpack.provenance_test

import rego.v1

import data.lib.modelpack.fixtures as f
import data.lib.modelpack.provenance

release_builds := object.union(f.release_params, {"provenance": {
	"builder_ids": ["https://github.com/acme/models/.github/workflows/release.yml@refs/tags/*"],
	"source_repositories": ["https://github.com/acme/models"],
}})

with_summary(patch) := f.report([object.union(f.provenance, {"summary": object.union(f.provenance.summary, patch)})])

test_release_build_passes if {
	count(provenance.violations(f.good, release_builds)) == 0
}

test_builder_not_allowed if {
	r := with_summary({"builderId": "https://github.com/acme/models/.github/workflows/release.yml@refs/heads/dev"})
	v := provenance.violations(r, release_builds)
	f.codes(v) == {"PROVENANCE_BUILDER_NOT_ALLOWED"}
	some x in v
	contains(x.msg, "refs/heads/dev")
}

test_source_not_allowed if {
	r := with_summary({"sourceRepository": "git+https://github.com/mallory/models@refs/heads/main"})
	f.codes(provenance.violations(r, release_builds)) == {"PROVENANCE_SOURCE_NOT_ALLOWED"}
}

test_source_repository_is_normalised if {
	r := with_summary({"sourceRepository": "https://github.com/ACME/models.git"})
	count(provenance.violations(r, release_builds)) == 0
	provenance.normalize_repository("git+https://github.com/Acme/models.git@refs/heads/main") == "https://github.com/acme/models"
}

test_source_prefix_pattern if {
	p := object.union(f.release_params, {"provenance": {"source_repositories": ["https://github.com/acme/*"]}})
	count(provenance.violations(f.good, p)) == 0
	r := with_summary({"sourceRepository": "https://github.com/acme-evil/models"})
	f.codes(provenance.violations(r, p)) == {"PROVENANCE_SOURCE_NOT_ALLOWED"}
}

test_build_type if {
	p := object.union(f.release_params, {"provenance": {"build_types": ["https://attest.dev/buildtypes/modelpack/v1"]}})
	f.codes(provenance.violations(f.good, p)) == {"PROVENANCE_BUILD_TYPE_NOT_ALLOWED"}
}

test_source_commit if {
	p := object.union(f.release_params, {"provenance": {"require_source_commit": true}})
	count(provenance.violations(f.good, p)) == 0
	f.codes(provenance.violations(with_summary({"sourceCommit": null}), p)) == {"PROVENANCE_NO_SOURCE_COMMIT"}
}

test_missing_provenance if {
	f.codes(provenance.violations(f.report([f.sbom]), release_builds)) == {"PROVENANCE_MISSING"}
}

test_provenance_by_another_signer_does_not_count if {
	r := f.report([object.union(f.provenance, {"signatures": [f.other_sig]})])
	f.codes(provenance.violations(r, release_builds)) == {"PROVENANCE_UNTRUSTED"}
}
