package lib.modelpack.notation_test

import rego.v1

import data.lib.modelpack.evidence
import data.lib.modelpack.fixtures as f
import data.lib.modelpack.notation

acme_dn := {"C": "US", "ST": "WA", "L": "Seattle", "O": "Acme Rockets", "CN": "release"}

nsig(attrs, level, ok) := {
	"verified": ok,
	"kind": "notation",
	"format": "notation",
	"identity": {"issuer": "CN=Acme Root,O=Acme Rockets,ST=WA,C=US", "subject": "CN=release,O=Acme Rockets,L=Seattle,ST=WA,C=US"},
	"tlog": false,
	"timestamp": null,
	"notation": {"policy": "models", "level": level, "authentic": ok, "subjectAttributes": attrs, "logged": []},
}

nref(sig) := {
	"digest": "sha256:n0ta",
	"artifactType": "application/vnd.cncf.notary.signature",
	"predicateType": null,
	"annotations": {},
	"signatures": [sig],
	"summary": {},
	"errors": [],
}

signed := f.report([nref(nsig(acme_dn, "strict", true))])

need(allowed) := {"notation": {"required": true, "allowed": allowed}}

test_required_and_signed_by_an_allowed_identity if {
	count(notation.violations(signed, need(["x509.subject: C=US, ST=WA, O=Acme Rockets"]))) == 0
	count(notation.violations(signed, need([{"C": "US", "S": "WA", "O": "Acme Rockets", "CN": "release"}]))) == 0
	count(notation.violations(signed, need([]))) == 0
}

test_identity_is_a_subset_match_on_whole_values if {
	"NOTATION_UNTRUSTED" in f.codes(notation.violations(signed, need(["x509.subject: C=US, ST=WA, O=Acme"])))
	"NOTATION_UNTRUSTED" in f.codes(notation.violations(signed, need([{"C": "US", "O": "Acme Rockets", "OU": "Finance"}])))
}

test_missing_when_unsigned_or_not_verified if {
	"NOTATION_MISSING" in f.codes(notation.violations(f.good, need([])))
	unverified := f.report([nref(nsig(acme_dn, "audit", false))])
	"NOTATION_MISSING" in f.codes(notation.violations(unverified, need([])))
}

test_not_required_by_default if {
	count(notation.violations(f.good, {})) == 0
}

test_levels if {
	permissive := f.report([nref(nsig(acme_dn, "permissive", true))])
	count(notation.violations(permissive, need([]))) == 0
	strict_only := {"notation": {"required": true, "levels": ["strict"]}}
	"NOTATION_UNTRUSTED" in f.codes(notation.violations(permissive, strict_only))
}

test_sigstore_evidence_is_not_a_notation_signature if {
	count(notation.signatures(f.good)) == 0
	not notation.signed(f.good, {})
}

test_notation_signature_is_not_signed_evidence if {
	count(evidence.trusted(signed, {})) == 0
}

test_bad_params if {
	"NOTATION_PARAMS_INVALID" in f.codes(notation.violations(signed, need(["C=US, O=Acme"])))
	"NOTATION_PARAMS_INVALID" in f.codes(notation.violations(signed, need(["x509.subject: C=US, O"])))
	"NOTATION_PARAMS_INVALID" in f.codes(notation.violations(signed, {"notation": {"required": "yes"}}))
}

# "Either or both": a policy can ask for Sigstore evidence or a notation signature.
either(report, params) if count(evidence.trusted(report, params)) > 0

either(report, params) if notation.signed(report, params)

test_either_sigstore_or_notation if {
	either(f.good, {})
	either(signed, {})
	not either(f.report([]), {})
	both := f.report(array.concat(f.good.referrers, [nref(nsig(acme_dn, "strict", true))]))
	count(evidence.trusted(both, {})) > 0
	notation.signed(both, {})
}
