# Signed evidence: require trusted evidence of given predicate types, reject evidence that
# failed verification.
#
# params.signatures:
#   required        predicate types that need trusted evidence, e.g.
#                   ["https://slsa.dev/provenance/v1", "https://spdx.dev/Document/v2.3"]
#   require_any     true (default): at least one piece of trusted evidence must exist
#   fail_on_errors  true (default): any referrer the verifier reported errors for is a violation
#                   (a subject mismatch or a tampered bundle is an attack, not noise)
package lib.modelpack.signatures

import rego.v1

import data.lib.modelpack.evidence
import data.lib.modelpack.util

defaults := {"required": [], "require_any": true, "fail_on_errors": true}

settings(params) := object.union(defaults, object.get(params, "signatures", {})) if {
	is_object(object.get(params, "signatures", {}))
}

settings(params) := defaults if not is_object(object.get(params, "signatures", {}))

violations(report, params) := ((_required(report, params) | _any(report, params)) | _errors(report, params)) | _param_violations(params)

warnings(_, _) := set()

_required(report, params) := {v |
	some ptype in util.string_list(settings(params).required)
	some v in evidence.require(report, params, {ptype}, "SIGNATURES", sprintf("signed %s evidence", [ptype]))
}

_any(report, params) := {v |
	settings(params).require_any == true
	count(evidence.trusted(report, params)) == 0
	v := {
		"code": "SIGNATURES_NONE",
		"msg": sprintf("no evidence attached to %s is signed by a trusted signer (%d referrers checked)", [
			evidence.subject_name(report), count(evidence.referrers(report)),
		]),
	}
}

_errors(report, params) := {v |
	settings(params).fail_on_errors == true
	some r in evidence.referrers(report)
	c := evidence.cause(r, params)
	c[0] == "INVALID"
	v := {"code": "SIGNATURES_INVALID", "msg": c[1]}
}

_param_violations(params) := {v |
	not is_array(settings(params).required)
	v := {"code": "SIGNATURES_PARAMS_INVALID", "msg": "signatures.required must be a list of predicate types"}
}
