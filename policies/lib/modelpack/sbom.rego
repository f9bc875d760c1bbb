# The SBOM: present (signed by a trusted signer) and free of disallowed licences.
#
# params.sbom:
#   required            true: a trusted SBOM (CycloneDX 1.6, SPDX 2.3 or SPDX 3) must exist;
#                       implied by denied_licenses / allowed_licenses
#   denied_licenses     SPDX ids; "GPL-*" matches every id starting with "GPL-"; case-insensitive
#   allowed_licenses    when non-empty, every licence id must match one of these
#   predicate_types     which predicate types count as an SBOM (default: the three above)
#
# Every id of a licence expression is checked, OR branches included: "MIT OR GPL-2.0-only" is
# denied by "GPL-*" (the conservative reading; relax it by allowing the expression's choice).
package lib.modelpack.sbom

import rego.v1

import data.lib.modelpack.evidence
import data.lib.modelpack.util

defaults := {
	"required": false,
	"denied_licenses": [],
	"allowed_licenses": [],
	"predicate_types": [
		"https://cyclonedx.org/bom/v1.6",
		"https://spdx.dev/Document/v2.3",
		"https://spdx.dev/Document/v3",
	],
}

settings(params) := object.union(defaults, object.get(params, "sbom", {})) if {
	is_object(object.get(params, "sbom", {}))
}

settings(params) := defaults if not is_object(object.get(params, "sbom", {}))

types(params) := {t | some t in util.string_list(settings(params).predicate_types)}

denied(params) := util.string_list(settings(params).denied_licenses)

allowed(params) := util.string_list(settings(params).allowed_licenses)

required(params) if settings(params).required == true

required(params) if count(denied(params)) > 0

required(params) if count(allowed(params)) > 0

violations(report, params) := (_missing(report, params) | _denied(report, params)) | _not_allowed(report, params)

warnings(_, _) := set()

_missing(report, params) := evidence.require(report, params, types(params), "SBOM", "a signed SBOM") if {
	required(params)
}

_missing(_, params) := set() if not required(params)

# Every trusted SBOM is checked: CycloneDX and SPDX documents of one model must agree.
sbom_licenses(report, params) := {[r.digest, id] |
	some r in evidence.of_types(evidence.trusted(report, params), types(params))
	some expression in object.get(evidence.summary(r), "licenses", [])
	some id in util.license_ids(expression)
}

_denied(report, params) := {v |
	some [digest, id] in sbom_licenses(report, params)
	some pattern in denied(params)
	util.pattern_match_fold(id, pattern)
	v := {
		"code": "SBOM_DENIED_LICENSE",
		"msg": sprintf("SBOM %s lists licence %s, denied by sbom.denied_licenses (%s)", [digest, id, pattern]),
	}
}

_not_allowed(report, params) := {v |
	count(allowed(params)) > 0
	some [digest, id] in sbom_licenses(report, params)
	not util.any_match_fold(id, allowed(params))
	v := {
		"code": "SBOM_LICENSE_NOT_ALLOWED",
		"msg": sprintf("SBOM %s lists licence %s, not in sbom.allowed_licenses", [digest, id]),
	}
}
