package lib.modelpack.mof_test

import rego.v1

import data.lib.modelpack.fixtures as f
import data.lib.modelpack.mof

at_least(c) := object.union(f.release_params, {"mof": {"min_class": c}})

with_class(c) := f.report([object.union(f.mof, {"summary": {"class": c, "progress": {}}})])

test_class_two_meets_two if {
	count(mof.violations(f.good, at_least("II"))) == 0
}

test_class_one_is_more_open_than_two if {
	count(mof.violations(with_class("I"), at_least("II"))) == 0
}

test_class_three_is_below_two if {
	v := mof.violations(with_class("III"), at_least("II"))
	f.codes(v) == {"MOF_CLASS_TOO_LOW"}
	some x in v
	contains(x.msg, "Class III")
	contains(x.msg, "at least Class II")
}

test_class_two_is_below_one if {
	f.codes(mof.violations(f.good, at_least("I"))) == {"MOF_CLASS_TOO_LOW"}
}

test_unclassified if {
	f.codes(mof.violations(with_class(null), at_least("III"))) == {"MOF_UNCLASSIFIED"}
}

test_missing_report if {
	f.codes(mof.violations(f.report([f.sbom]), at_least("III"))) == {"MOF_MISSING"}
}

test_class_spellings if {
	count(mof.violations(f.good, at_least(2))) == 0
	count(mof.violations(f.good, at_least("Class II"))) == 0
	count(mof.violations(f.good, at_least("ii"))) == 0
}

test_bad_min_class if {
	"MOF_PARAMS_INVALID" in f.codes(mof.violations(f.good, at_least("IV")))
}

test_latest_report_counts if {
	old_three := object.union(f.mof, {"digest": "sha256:0ld3", "summary": {"class": "III"}, "signatures": [object.union(f.release_sig, {"timestamp": "2025-01-01T00:00:00Z"})]})
	count(mof.violations(f.report([old_three, f.mof]), at_least("II"))) == 0

	new_three := object.union(old_three, {"signatures": [object.union(f.release_sig, {"timestamp": "2025-05-31T00:00:00Z"})]})
	f.codes(mof.violations(f.report([new_three, f.mof]), at_least("II"))) == {"MOF_CLASS_TOO_LOW"}
}

test_no_floor_no_check if {
	count(mof.violations(with_class("III"), f.release_params)) == 0
}
