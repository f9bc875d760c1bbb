package lib.modelpack.sbom_test

import rego.v1

import data.lib.modelpack.fixtures as f
import data.lib.modelpack.sbom

no_gpl := object.union(f.release_params, {"sbom": {"denied_licenses": ["GPL-*", "AGPL-*"]}})

with_licenses(licenses) := f.report([object.union(f.sbom, {"summary": f.sbom_summary(licenses)}), f.mof])

test_clean_sbom_passes if {
	count(sbom.violations(f.good, no_gpl)) == 0
}

test_gpl_is_denied if {
	v := sbom.violations(with_licenses(["MIT", "GPL-3.0-only"]), no_gpl)
	f.codes(v) == {"SBOM_DENIED_LICENSE"}
	some x in v
	contains(x.msg, "GPL-3.0-only")
}

test_agpl_and_legacy_ids_are_denied if {
	count(sbom.violations(with_licenses(["AGPL-3.0-or-later", "GPL-2.0+"]), no_gpl)) == 2
}

test_lgpl_is_not_gpl if {
	count(sbom.violations(with_licenses(["LGPL-2.1-only"]), no_gpl)) == 0
}

test_ids_are_case_insensitive if {
	"SBOM_DENIED_LICENSE" in f.codes(sbom.violations(with_licenses(["gpl-2.0-only"]), no_gpl))
}

test_expressions_are_checked_per_id if {
	"SBOM_DENIED_LICENSE" in f.codes(sbom.violations(with_licenses(["(MIT OR GPL-2.0-only)"]), no_gpl))
}

test_allowlist if {
	p := object.union(f.release_params, {"sbom": {"allowed_licenses": ["Apache-2.0", "MIT"]}})
	count(sbom.violations(f.good, p)) == 0
	f.codes(sbom.violations(with_licenses(["BSD-3-Clause"]), p)) == {"SBOM_LICENSE_NOT_ALLOWED"}
}

test_missing_sbom if {
	v := sbom.violations(f.report([f.mof]), no_gpl)
	f.codes(v) == {"SBOM_MISSING"}
}

test_not_required_by_default if {
	count(sbom.violations(f.report([f.mof]), f.release_params)) == 0
}

test_untrusted_sbom_does_not_count if {
	# a GPL-free SBOM signed by someone else neither satisfies the requirement ...
	r := f.report([object.union(f.sbom, {"signatures": [f.other_sig]}), f.mof])
	f.codes(sbom.violations(r, no_gpl)) == {"SBOM_UNTRUSTED"}

	# ... nor is its content judged
	gpl := object.union(f.sbom, {"signatures": [f.other_sig], "summary": f.sbom_summary(["GPL-3.0-only"])})
	not "SBOM_DENIED_LICENSE" in f.codes(sbom.violations(f.report([gpl, f.sbom]), no_gpl))
}

test_every_trusted_sbom_is_checked if {
	spdx := object.union(f.sbom, {"digest": "sha256:5bd0", "predicateType": f.sbom_spdx, "summary": f.sbom_summary(["GPL-2.0-only"])})
	v := sbom.violations(f.report([f.sbom, spdx]), no_gpl)
	some x in v
	contains(x.msg, "sha256:5bd0")
}
