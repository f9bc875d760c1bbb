# Small pure helpers the library shares: anchored regexps, "*"-suffix patterns, time parsing.
# Every helper is total on bad input (undefined, never an evaluation error), so a malformed
# report or parameter makes a check fail closed instead of aborting the whole decision.
package lib.modelpack.util

import rego.v1

# Whole-value regexp match. Unanchored identity regexps are how allowlists get bypassed
# ("acme/models" also matching "evil/acme/models-fork"), so every pattern is anchored here.
full_match(pattern, value) if {
	is_string(pattern)
	is_string(value)
	regex.is_valid(pattern)
	regex.match(concat("", ["^(?:", pattern, ")$"]), value)
}

# Exact match, or a prefix match when the pattern ends in "*": "GPL-*", "https://github.com/acme/*".
pattern_match(value, pattern) if {
	is_string(value)
	value == pattern
}

pattern_match(value, pattern) if {
	is_string(value)
	is_string(pattern)
	endswith(pattern, "*")
	startswith(value, trim_suffix(pattern, "*"))
}

# The same, ignoring letter case (SPDX licence ids and GitHub repositories are case-insensitive).
pattern_match_fold(value, pattern) if {
	is_string(value)
	is_string(pattern)
	pattern_match(lower(value), lower(pattern))
}

any_match_fold(value, patterns) if {
	some p in patterns
	pattern_match_fold(value, p)
}

rfc3339_pattern := `^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$`

# Nanoseconds since the epoch of an RFC 3339 timestamp; undefined when malformed.
time_ns(ts) := time.parse_rfc3339_ns(ts) if {
	is_string(ts)
	regex.match(rfc3339_pattern, ts)
}

# Nanoseconds of a duration: Go syntax ("720h", "90m", "1h30m") or whole days ("30d").
duration_ns(d) := to_number(trim_suffix(d, "d")) * 86400000000000 if {
	is_string(d)
	regex.match(`^[0-9]+d$`, d)
}

duration_ns(d) := time.parse_duration_ns(d) if {
	is_string(d)
	regex.match(`^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$`, d)
}

# The licence ids of an SPDX expression: "(MIT OR GPL-2.0-only)" -> {"MIT", "GPL-2.0-only"}.
license_ids(expression) := {id |
	is_string(expression)
	some id in regex.split(`[\s()]+`, expression)
	id != ""
	not upper(id) in {"AND", "OR", "WITH"}
}

# A setting that must be a list of strings; anything else counts as empty (and is reported by
# the module that owns the setting).
string_list(value) := [s | some s in value; is_string(s)] if is_array(value)

string_list(value) := [] if not is_array(value)

# Sorted, joined text of a collection, for deterministic messages.
joined(values) := concat(", ", sort([sprintf("%v", [v]) | some v in values]))
