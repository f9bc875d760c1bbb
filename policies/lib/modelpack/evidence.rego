# Shared helpers over the report's referrers: which evidence is trusted, when it was signed,
# which is the latest, and why evidence that is present does not count. The check modules
# (signatures, sbom, provenance, mof, cards, freshness) build on these.
package lib.modelpack.evidence

import rego.v1

import data.lib.modelpack.identity
import data.lib.modelpack.util

sbom_types := {
	"https://cyclonedx.org/bom/v1.6",
	"https://spdx.dev/Document/v2.3",
	"https://spdx.dev/Document/v3",
}

mof_types := {"https://attest.dev/mof/v1"}

provenance_types := {"https://slsa.dev/provenance/v1"}

model_card_type := "https://attest.dev/model-card/v1"

data_card_type := "https://attest.dev/data-card/v1"

referrers(report) := [r | some r in object.get(report, "referrers", []); is_object(r)]

trusted(report, params) := [r | some r in referrers(report); identity.trusted_referrer(r, params)]

of_types(rs, types) := [r | some r in rs; object.get(r, "predicateType", null) in types]

summary(r) := object.get(r, "summary", {}) if is_object(object.get(r, "summary", {}))

summary(r) := {} if not is_object(object.get(r, "summary", {}))

# "https://spdx.dev/Document/v2.3 evidence sha256:..." (or the artifactType of a plain referrer)
describe(r) := sprintf("%v evidence %v", [object.get(r, "predicateType", null), object.get(r, "digest", "?")]) if {
	object.get(r, "predicateType", null) != null
}

describe(r) := sprintf("%v referrer %v", [object.get(r, "artifactType", "unknown"), object.get(r, "digest", "?")]) if {
	object.get(r, "predicateType", null) == null
}

subject_name(report) := object.get(object.get(report, "subject", {}), "reference", "the subject")

# When the evidence was signed: the latest trusted signature timestamp (the transparency log's
# integrated time for keyless). Annotations are not signed, so they never count.
signed_at(r, params) := max(times) if {
	times := [t |
		some sig in identity.signatures_of(r)
		identity.trusted_signature(sig, params)
		t := util.time_ns(sig.timestamp)
	]
	count(times) > 0
}

# The trusted referrers of one set of types signed last (all of them when none has a time).
latest(report, params, types) := [r | some r in candidates; signed_at(r, params) == newest] if {
	candidates := of_types(trusted(report, params), types)
	times := [t | some r in candidates; t := signed_at(r, params)]
	count(times) > 0
	newest := max(times)
}

latest(report, params, types) := of_types(trusted(report, params), types) if {
	count([t | some r in of_types(trusted(report, params), types); t := signed_at(r, params)]) == 0
}

# Why a referrer that is present does not count, as (cause, words).
cause(r, _) := ["INVALID", sprintf("%s failed verification: %s", [describe(r), util.joined(identity.errors_of(r))])] if {
	count(identity.errors_of(r)) > 0
}

cause(r, _) := ["UNSIGNED", sprintf("%s carries no valid signature", [describe(r)])] if {
	count(identity.errors_of(r)) == 0
	count([s | some s in identity.signatures_of(r); identity.verified(s)]) == 0
}

cause(r, params) := ["UNTRUSTED", sprintf("%s is %s", [describe(r), problems])] if {
	count(identity.errors_of(r)) == 0
	verified := [s | some s in identity.signatures_of(r); identity.verified(s)]
	count(verified) > 0
	problems := util.joined({p | some s in verified; p := identity.problem(s, params)})
}

# Violations when no trusted evidence of `types` exists: PREFIX_MISSING when none is attached,
# else one per attached referrer naming why it does not count (PREFIX_INVALID, PREFIX_UNSIGNED,
# PREFIX_UNTRUSTED).
require(report, params, types, prefix, what) := set() if {
	count(of_types(trusted(report, params), types)) > 0
}

require(report, params, types, prefix, what) := {v} if {
	count(of_types(referrers(report), types)) == 0
	v := {
		"code": concat("_", [prefix, "MISSING"]),
		"msg": sprintf("no %s is attached to %s", [what, subject_name(report)]),
	}
}

require(report, params, types, prefix, what) := {v |
	some r in of_types(referrers(report), types)
	c := cause(r, params)
	v := {"code": concat("_", [prefix, c[0]]), "msg": sprintf("%s required, but %s", [what, c[1]])}
} if {
	count(of_types(trusted(report, params), types)) == 0
	count(of_types(referrers(report), types)) > 0
}
