# Notary Project (notation) signatures on the model itself: require one, from whom.
#
# attest verifies notation signatures against the user's notation trust policy and trust store
# (`attest verify --notation-trust-policy FILE --notation-trust-store DIR`); the report lists
# each as a signature with "format": "notation", identity.subject = the signing certificate's
# subject DN and notation.subjectAttributes = that DN parsed ({"C": "US", "O": "...", ...}).
# A notation signature signs the model manifest (no predicate), so it does not count as signed
# evidence for lib.modelpack.signatures; use this module to require it.
#
# params.notation:
#   required   true: the model must carry a verified notation signature (default false)
#   allowed    signer entries; empty = any signature the trust policy accepted. An entry is
#              "x509.subject: C=US, ST=WA, O=Acme" (notation's trusted-identity form, no escaped
#              commas) or an object {"C": "US", "ST": "WA", "O": "Acme"}; it matches when every
#              attribute it lists is in the signer's subject with that value.
#   levels     trust-policy levels accepted (default ["strict", "permissive"]): an audit-level
#              result is never verified, and permissive may have logged an expiry/timestamp
#              failure, so list ["strict"] to refuse those.
package lib.modelpack.notation

import rego.v1

import data.lib.modelpack.util

defaults := {"required": false, "allowed": [], "levels": ["strict", "permissive"]}

settings(params) := object.union(defaults, object.get(params, "notation", {})) if {
	is_object(object.get(params, "notation", {}))
}

settings(params) := defaults if not is_object(object.get(params, "notation", {}))

# Every notation signature in the report, verified or not.
signatures(report) := [s |
	some r in object.get(report, "referrers", [])
	is_object(r)
	some s in object.get(r, "signatures", [])
	is_object(s)
	s.format == "notation"
]

verified(sig) if {
	sig.verified == true
	sig.format == "notation"
}

# An allowlist entry as {attribute: value}.
entry_attributes(entry) := entry if {
	is_object(entry)
	count(entry) > 0
	every k, v in entry {
		is_string(k)
		is_string(v)
	}
}

entry_attributes(entry) := {trim_space(kv[0]): trim_space(kv[1]) |
	some part in split(trim_space(substring(entry, count("x509.subject:"), -1)), ",")
	kv := split(part, "=")
	count(kv) == 2
} if {
	is_string(entry)
	startswith(entry, "x509.subject:")
}

valid_entry(entry) if {
	attrs := entry_attributes(entry)
	count(attrs) > 0
	not _malformed_string(entry)
}

_malformed_string(entry) if {
	is_string(entry)
	some part in split(trim_space(substring(entry, count("x509.subject:"), -1)), ",")
	count(split(part, "=")) != 2
}

matches(entry, sig) if {
	valid_entry(entry)
	attrs := object.get(object.get(sig, "notation", {}), "subjectAttributes", {})
	is_object(attrs)
	every k, v in entry_attributes(entry) {
		object.get(attrs, _key(k), null) == v
	}
}

_key(k) := "ST" if upper(k) == "S"

_key(k) := upper(k) if upper(k) != "S"

_level_ok(sig, params) if object.get(object.get(sig, "notation", {}), "level", "") in util.string_list(settings(params).levels)

_allowed(sig, params) if count(settings(params).allowed) == 0

_allowed(sig, params) if {
	some entry in settings(params).allowed
	matches(entry, sig)
}

# A notation signature that counts: verified under the trust policy, an accepted level, an
# allowed signer.
trusted(sig, params) if {
	verified(sig)
	_level_ok(sig, params)
	_allowed(sig, params)
}

trusted_signatures(report, params) := [s | some s in signatures(report); trusted(s, params)]

signed(report, params) if count(trusted_signatures(report, params)) > 0

violations(report, params) := _required(report, params) | _param_violations(params)

warnings(_, _) := set()

_required(report, params) := {v |
	settings(params).required == true
	not signed(report, params)
	count([s | some s in signatures(report); verified(s)]) == 0
	v := {"code": "NOTATION_MISSING", "msg": sprintf("no verified notation signature on %v (%d notation signature(s) found)", [
		object.get(object.get(report, "subject", {}), "reference", "the subject"),
		count(signatures(report)),
	])}
} | {v |
	settings(params).required == true
	not signed(report, params)
	some s in signatures(report)
	verified(s)
	v := {"code": "NOTATION_UNTRUSTED", "msg": sprintf("notation signature by %v (level %v) is not an allowed signer (notation.allowed, notation.levels)", [
		object.get(object.get(s, "identity", {}), "subject", null),
		object.get(object.get(s, "notation", {}), "level", null),
	])}
}

_param_violations(params) := {v |
	some i, entry in settings(params).allowed
	not valid_entry(entry)
	v := {"code": "NOTATION_PARAMS_INVALID", "msg": sprintf("notation.allowed[%d] is neither \"x509.subject: K=V, ...\" nor an object of DN attributes: %v", [i, entry])}
} | {v |
	not is_array(settings(params).allowed)
	v := {"code": "NOTATION_PARAMS_INVALID", "msg": "notation.allowed must be a list"}
} | {v |
	not is_boolean(settings(params).required)
	v := {"code": "NOTATION_PARAMS_INVALID", "msg": "notation.required must be true or false"}
}
