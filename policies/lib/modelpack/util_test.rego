package lib.modelpack.util_test

import rego.v1

import data.lib.modelpack.util

test_full_match_is_anchored if {
	util.full_match(`https://github\.com/acme/.*`, "https://github.com/acme/models")
	not util.full_match(`acme`, "https://github.com/acme/models")
	not util.full_match(`https://github\.com/acme/.*`, "https://evil.example/?https://github.com/acme/x")
}

test_full_match_rejects_invalid_regexp if {
	not util.full_match("(", "(")
}

test_pattern_match_exact_and_prefix if {
	util.pattern_match("GPL-3.0-only", "GPL-*")
	util.pattern_match("MIT", "MIT")
	not util.pattern_match("LGPL-2.1-only", "GPL-*")
	not util.pattern_match("MIT-0", "MIT")
}

test_pattern_match_fold_ignores_case if {
	util.pattern_match_fold("gpl-3.0-or-later", "GPL-*")
	not util.pattern_match("gpl-3.0-or-later", "GPL-*")
}

test_license_ids_split_expressions if {
	util.license_ids("(MIT OR GPL-2.0-only) AND Apache-2.0") == {"MIT", "GPL-2.0-only", "Apache-2.0"}
	util.license_ids("GPL-2.0-or-later WITH Classpath-exception-2.0") == {"GPL-2.0-or-later", "Classpath-exception-2.0"}
}

test_duration_ns if {
	util.duration_ns("30d") == 30 * 86400000000000
	util.duration_ns("720h") == 30 * 86400000000000
	util.duration_ns("1h30m") == 5400000000000
	not util.duration_ns("a month")
	not util.duration_ns(30)
}

test_time_ns if {
	util.time_ns("1970-01-01T00:00:01Z") == 1000000000
	util.time_ns("2025-06-01T14:00:00+02:00") == util.time_ns("2025-06-01T12:00:00Z")
	not util.time_ns("yesterday")
	not util.time_ns(null)
}

test_string_list if {
	util.string_list(["a", 1, "b"]) == ["a", "b"]
	util.string_list("a") == []
}
