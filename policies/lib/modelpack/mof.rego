# Model Openness Framework class: at least a given class. Class I (Open Science) is the most
# open, then Class II (Open Tooling), then Class III (Open Model): "at least II" accepts I and II.
#
# params.mof:
#   required    true: a trusted MOF report must exist (implied by min_class)
#   min_class   "I" | "II" | "III" (1, 2, 3 and "Class II" are accepted too); null: no floor
#
# The latest trusted MOF report counts (by signature time): an older, lower report is history.
package lib.modelpack.mof

import rego.v1

import data.lib.modelpack.evidence

defaults := {"required": false, "min_class": null}

settings(params) := object.union(defaults, object.get(params, "mof", {})) if {
	is_object(object.get(params, "mof", {}))
}

settings(params) := defaults if not is_object(object.get(params, "mof", {}))

# Openness rank: smaller is more open.
ranks := {"I": 1, "II": 2, "III": 3}

rank(c) := ranks[upper(trim_prefix(trim_prefix(c, "Class "), "class "))] if is_string(c)

rank(c) := c if c in {1, 2, 3}

roman := {1: "I", 2: "II", 3: "III"}

min_rank(params) := rank(settings(params).min_class)

required(params) if settings(params).required == true

required(params) if settings(params).min_class != null

violations(report, params) := (_missing(report, params) | _class(report, params)) | _param_violations(params)

warnings(_, _) := set()

_missing(report, params) := evidence.require(report, params, evidence.mof_types, "MOF", "a signed MOF report") if {
	required(params)
}

_missing(_, params) := set() if not required(params)

_class(report, params) := {v |
	lowest := min_rank(params)
	some r in evidence.latest(report, params, evidence.mof_types)
	v := _judge(r, object.get(evidence.summary(r), "class", null), lowest)
}

_judge(r, class, _) := v if {
	not rank(class)
	v := {
		"code": "MOF_UNCLASSIFIED",
		"msg": sprintf("MOF report %s places the model in no class (it meets no MOF class)", [r.digest]),
	}
}

_judge(r, class, lowest) := v if {
	rank(class) > lowest
	v := {
		"code": "MOF_CLASS_TOO_LOW",
		"msg": sprintf("MOF report %s says Class %s; at least Class %s is required (Class I is the most open)", [
			r.digest, roman[rank(class)], roman[lowest],
		]),
	}
}

_param_violations(params) := {v |
	settings(params).min_class != null
	not min_rank(params)
	v := {"code": "MOF_PARAMS_INVALID", "msg": sprintf("mof.min_class must be I, II or III, not %v", [settings(params).min_class])}
}
