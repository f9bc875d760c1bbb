package lib.modelpack.freshness_test

import rego.v1

import data.lib.modelpack.fixtures as f
import data.lib.modelpack.freshness

fresh(cfg) := object.union(f.release_params, {"freshness": cfg})

# Signed 2025-05-30T10:00:00Z, checked at 2025-06-01T12:00:00Z: 50 hours old.
test_recent_evidence_passes if {
	count(freshness.violations(f.good, fresh({"max_age": "30d"}))) == 0
	count(freshness.violations(f.good, fresh({"max_age": "51h"}))) == 0
}

test_old_evidence_fails if {
	v := freshness.violations(f.good, fresh({"max_age": "24h"}))
	f.codes(v) == {"FRESHNESS_TOO_OLD"}
	count(v) == 4 # one per evidence type
}

test_newer_than if {
	count(freshness.violations(f.good, fresh({"newer_than": "2025-05-01T00:00:00Z"}))) == 0
	f.codes(freshness.violations(f.good, fresh({"newer_than": "2025-05-31T00:00:00Z"}))) == {"FRESHNESS_TOO_OLD"}
}

test_latest_of_a_type_counts if {
	old := object.union(f.sbom, {"digest": "sha256:01d5", "signatures": [object.union(f.release_sig, {"timestamp": "2024-01-01T00:00:00Z"})]})
	p := fresh({"max_age": "7d", "predicate_types": [f.sbom_cdx]})
	count(freshness.violations(f.report([old, f.sbom]), p)) == 0
	f.codes(freshness.violations(f.report([old]), p)) == {"FRESHNESS_TOO_OLD"}
}

test_listed_type_without_evidence if {
	f.codes(freshness.violations(f.report([f.sbom]), fresh({"max_age": "7d", "predicate_types": [f.slsa]}))) == {"FRESHNESS_MISSING"}
}

test_no_timestamp if {
	r := f.report([object.union(f.sbom, {"signatures": [object.union(f.release_sig, {"timestamp": null})]})])
	f.codes(freshness.violations(r, fresh({"max_age": "7d"}))) == {"FRESHNESS_NO_TIMESTAMP"}
}

test_now_override if {
	f.codes(freshness.violations(f.good, fresh({"max_age": "7d", "now": "2026-01-01T00:00:00Z"}))) == {"FRESHNESS_TOO_OLD"}
}

test_no_clock if {
	r := object.remove(f.good, ["verifier"])
	"FRESHNESS_NO_CLOCK" in f.codes(freshness.violations(r, fresh({"max_age": "7d"})))
}

test_bad_params if {
	"FRESHNESS_PARAMS_INVALID" in f.codes(freshness.violations(f.good, fresh({"max_age": "a month"})))
	"FRESHNESS_PARAMS_INVALID" in f.codes(freshness.violations(f.good, fresh({"newer_than": "last week"})))
}

test_inactive_by_default if {
	count(freshness.violations(f.report([]), f.release_params)) == 0
}
