# The entry module of the AttestVerifiedModels ConstraintTemplate (`attest templates` puts it in
# the template's `rego` and the lib.modelpack.* library from policies/ in its `libs`).
# One batched external_data call per review; one violation per failing model reference.
package attestverifiedmodels

import rego.v1

import data.lib.modelpack.admission

parameters := object.get(input, "parameters", {})

locations := admission.references(object.get(input.review, "object", {}), parameters)

keys := sort({l.ref | some l in locations})

response := external_data({"provider": object.get(parameters, "provider", "attest-provider"), "keys": keys})

violation contains {"msg": _message(v), "details": {"code": v.code, "reference": v.reference, "where": v.where}} if {
	count(keys) > 0
	some v in admission.violations(locations, response, parameters)
}

_message(v) := sprintf("%s: %s: [%s] %s", [v.where, v.reference, v.code, v.msg]) if v.where != ""

_message(v) := sprintf("[%s] %s", [v.code, v.msg]) if v.where == ""
