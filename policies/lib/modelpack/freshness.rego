# Freshness: evidence signed recently enough. "Now" is the verifier's clock (report.verifier.time)
# so a decision can be replayed; freshness.now overrides it.
#
# params.freshness:
#   max_age           "720h", "30d", "90m": the latest trusted evidence of each type must be
#                     at most this old
#   newer_than        RFC 3339 time: the latest trusted evidence must be signed after it
#                     (e.g. after a key rotation or a vulnerable builder was fixed)
#   predicate_types   which types to check (default: every type with trusted evidence); a type
#                     listed here without trusted evidence is a violation
#   now               RFC 3339 override of the verifier's clock
#
# Evidence time is the trusted signature's timestamp; evidence without one fails the check.
package lib.modelpack.freshness

import rego.v1

import data.lib.modelpack.evidence
import data.lib.modelpack.util

defaults := {"max_age": null, "newer_than": null, "predicate_types": [], "now": null}

settings(params) := object.union(defaults, object.get(params, "freshness", {})) if {
	is_object(object.get(params, "freshness", {}))
}

settings(params) := defaults if not is_object(object.get(params, "freshness", {}))

active(params) if settings(params).max_age != null

active(params) if settings(params).newer_than != null

now_ns(report, params) := util.time_ns(settings(params).now) if settings(params).now != null

now_ns(report, params) := util.time_ns(object.get(object.get(report, "verifier", {}), "time", null)) if {
	settings(params).now == null
}

checked_types(report, params) := {t | some t in util.string_list(settings(params).predicate_types)} if {
	count(util.string_list(settings(params).predicate_types)) > 0
}

checked_types(report, params) := {r.predicateType | some r in evidence.trusted(report, params); is_string(r.predicateType)} if {
	count(util.string_list(settings(params).predicate_types)) == 0
}

violations(report, params) := (_missing(report, params) | _stale(report, params)) | _param_violations(report, params)

warnings(_, _) := set()

_missing(report, params) := {v |
	active(params)
	some t in checked_types(report, params)
	count(evidence.latest(report, params, {t})) == 0
	v := {"code": "FRESHNESS_MISSING", "msg": sprintf("no trusted %s evidence to check for freshness", [t])}
}

_stale(report, params) := {v |
	active(params)
	some t in checked_types(report, params)
	some r in evidence.latest(report, params, {t})
	some v in _judge(report, r, params)
}

_judge(_, r, params) := {{
	"code": "FRESHNESS_NO_TIMESTAMP",
	"msg": sprintf("%s has no trusted signing time", [evidence.describe(r)]),
}} if not evidence.signed_at(r, params)

_judge(report, r, params) := {v |
	settings(params).max_age != null
	age := now_ns(report, params) - evidence.signed_at(r, params)
	age > util.duration_ns(settings(params).max_age)
	v := {
		"code": "FRESHNESS_TOO_OLD",
		"msg": sprintf("%s was signed %s, more than freshness.max_age (%s) before %s", [
			evidence.describe(r), _time_text(evidence.signed_at(r, params)), settings(params).max_age, _time_text(now_ns(report, params)),
		]),
	}
} | {v |
	settings(params).newer_than != null
	evidence.signed_at(r, params) < util.time_ns(settings(params).newer_than)
	v := {
		"code": "FRESHNESS_TOO_OLD",
		"msg": sprintf("%s was signed %s, before freshness.newer_than (%s)", [
			evidence.describe(r), _time_text(evidence.signed_at(r, params)), settings(params).newer_than,
		]),
	}
} if evidence.signed_at(r, params)

_time_text(ns) := time.format(ns)

_param_violations(report, params) := {v |
	settings(params).max_age != null
	not util.duration_ns(settings(params).max_age)
	v := {"code": "FRESHNESS_PARAMS_INVALID", "msg": sprintf("freshness.max_age must be a duration such as 720h or 30d, not %v", [settings(params).max_age])}
} | {v |
	settings(params).newer_than != null
	not util.time_ns(settings(params).newer_than)
	v := {"code": "FRESHNESS_PARAMS_INVALID", "msg": sprintf("freshness.newer_than must be an RFC 3339 time, not %v", [settings(params).newer_than])}
} | {v |
	active(params)
	not now_ns(report, params)
	v := {"code": "FRESHNESS_NO_CLOCK", "msg": "no current time to judge freshness by: report.verifier.time (or freshness.now) is missing or malformed"}
}
