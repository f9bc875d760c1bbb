package lib.modelpack.signatures_test

import rego.v1

import data.lib.modelpack.fixtures as f
import data.lib.modelpack.signatures

required(types) := object.union(f.release_params, {"signatures": {"required": types}})

test_good_report_passes if {
	count(signatures.violations(f.good, required([f.slsa, f.sbom_cdx, f.mof_type]))) == 0
}

test_missing_required_type if {
	r := f.report([f.sbom])
	v := signatures.violations(r, required([f.slsa]))
	f.codes(v) == {"SIGNATURES_MISSING"}
	some x in v
	contains(x.msg, f.slsa)
}

test_unsigned_document_where_signed_is_required if {
	r := f.report([f.mof, object.union(f.provenance, {"signatures": []})])
	v := signatures.violations(r, required([f.slsa]))
	f.codes(v) == {"SIGNATURES_UNSIGNED"}
	some x in v
	contains(x.msg, "sha256:9e0v")
}

test_failed_signature_counts_as_unsigned if {
	r := f.report([f.mof, object.union(f.provenance, {"signatures": [object.union(f.release_sig, {"verified": false})]})])
	f.codes(signatures.violations(r, required([f.slsa]))) == {"SIGNATURES_UNSIGNED"}
}

test_signed_by_another_identity if {
	r := f.report([f.mof, object.union(f.provenance, {"signatures": [f.other_sig]})])
	v := signatures.violations(r, required([f.slsa]))
	f.codes(v) == {"SIGNATURES_UNTRUSTED"}
	some x in v
	contains(x.msg, "https://github.com/mallory/models")
	contains(x.msg, "not an allowed signer")
}

test_signed_by_another_issuer if {
	forged := f.sig(f.release_subject, "https://issuer.evil.example", "keyless", "2025-05-30T10:00:00Z")
	r := f.report([f.mof, object.union(f.provenance, {"signatures": [forged]})])
	v := signatures.violations(r, required([f.slsa]))
	"SIGNATURES_UNTRUSTED" in f.codes(v)
	some x in v
	contains(x.msg, "issuer https://issuer.evil.example")
}

test_verification_errors_are_violations if {
	bad := object.union(f.sbom, {"errors": ["statement subject sha256:bbbb is not the subject sha256:aaaa"]})
	r := f.report([bad, f.mof])
	v := signatures.violations(r, f.release_params)
	f.codes(v) == {"SIGNATURES_INVALID"}
	some x in v
	contains(x.msg, "sha256:bbbb")
}

test_errors_ignored_when_fail_on_errors_is_off if {
	bad := object.union(f.sbom, {"errors": ["tampered payload"]})
	r := f.report([bad, f.mof])
	count(signatures.violations(r, object.union(f.release_params, {"signatures": {"fail_on_errors": false}}))) == 0
}

test_required_type_with_only_invalid_evidence if {
	bad := object.union(f.provenance, {"errors": ["tampered payload"]})
	r := f.report([bad, f.mof])
	v := signatures.violations(r, required([f.slsa]))
	f.codes(v) == {"SIGNATURES_INVALID"}
}

test_predicate_type_confusion if {
	# an SBOM statement re-labelled as provenance by the referrer: the verifier reports the
	# statement's own type and an error; it never counts as provenance
	confused := object.union(f.sbom, {"predicateType": f.sbom_cdx, "errors": ["annotation says https://slsa.dev/provenance/v1, statement is https://cyclonedx.org/bom/v1.6"]})
	r := f.report([confused, f.mof])
	v := signatures.violations(r, required([f.slsa]))
	f.codes(v) == {"SIGNATURES_MISSING", "SIGNATURES_INVALID"}
}

test_nothing_trusted_at_all if {
	r := f.report([object.union(f.sbom, {"signatures": [f.other_sig]})])
	"SIGNATURES_NONE" in f.codes(signatures.violations(r, f.release_params))
	"SIGNATURES_NONE" in f.codes(signatures.violations(f.report([]), {}))
}

test_require_any_can_be_switched_off if {
	count(signatures.violations(f.report([]), {"signatures": {"require_any": false}})) == 0
}

test_required_must_be_a_list if {
	"SIGNATURES_PARAMS_INVALID" in f.codes(signatures.violations(f.good, {"signatures": {"required": f.slsa}}))
}
