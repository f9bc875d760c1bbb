package attest.main_test

import rego.v1

import data.attest.main
import data.lib.modelpack.fixtures as f

# The worked example of docs/policies.md: signed by our release workflow, SBOM without GPL,
# MOF at least Class II.
release := {
	"identity": {
		"allowed": [{"github_workflow_ref": "acme/models/.github/workflows/release.yml"}],
		"dev_keys": "deny",
	},
	"sbom": {"denied_licenses": ["GPL-*", "AGPL-*"]},
	"mof": {"min_class": "II"},
}

with_params(report, params) := object.union(report, {"parameters": params})

test_good_report_passes_the_release_policy if {
	count(main.deny) == 0 with input as with_params(f.good, release)
	count(main.warn) == 0 with input as with_params(f.good, release)
}

test_bad_reports_fail_with_the_right_codes if {
	gpl := object.union(f.sbom, {"summary": f.sbom_summary(["GPL-3.0-only"])})
	class_three := object.union(f.mof, {"summary": {"class": "III"}})
	r := f.report([gpl, class_three])
	f.codes(main.deny) == {"SBOM_DENIED_LICENSE", "MOF_CLASS_TOO_LOW"} with input as with_params(r, release)
}

test_foreign_signer_fails if {
	foreign := [object.union(x, {"signatures": [f.other_sig]}) | some x in [f.sbom, f.mof]]
	codes := f.codes(main.deny) with input as with_params(f.report(foreign), release)
	codes == {"SIGNATURES_NONE", "SBOM_UNTRUSTED", "MOF_UNTRUSTED"}
}

test_defaults_come_from_data if {
	main.params.signatures.fail_on_errors == true with input as f.good
	main.params.mof.min_class == "II" with input as with_params(f.good, release)
	main.params.sbom.predicate_types == ["https://cyclonedx.org/bom/v1.6", "https://spdx.dev/Document/v2.3", "https://spdx.dev/Document/v3"] with input as with_params(f.good, release)
}

test_parameters_are_not_part_of_the_report if {
	not main.report.parameters with input as with_params(f.good, release)
	main.report.subject.digest == "sha256:aaaa" with input as with_params(f.good, release)
}

test_null_parameters_mean_defaults if {
	f.codes(main.deny) == set() with input as object.union(f.good, {"parameters": null})
	"IDENTITY_NO_ALLOWLIST" in f.codes(main.warn) with input as object.union(f.good, {"parameters": null})
}

test_empty_report_is_denied_by_default if {
	"SIGNATURES_NONE" in f.codes(main.deny) with input as f.report([])
}
