package lib.modelpack.identity_test

import rego.v1

import data.lib.modelpack.fixtures as f
import data.lib.modelpack.identity

allow(entry) := {"identity": {"allowed": [entry]}}

test_workflow_without_ref_matches_any_ref if {
	identity.trusted_signature(f.release_sig, f.release_params)
}

test_workflow_with_ref_is_exact if {
	identity.trusted_signature(f.release_sig, allow({"github_workflow_ref": "acme/models/.github/workflows/release.yml@refs/tags/v1.0.0"}))
	not identity.trusted_signature(f.release_sig, allow({"github_workflow_ref": "acme/models/.github/workflows/release.yml@refs/heads/main"}))
}

test_other_workflow_of_same_repo_is_not_the_release_workflow if {
	s := f.sig("https://github.com/acme/models/.github/workflows/nightly.yml@refs/heads/main", f.gh_issuer, "keyless", "2025-05-30T10:00:00Z")
	not identity.trusted_signature(s, f.release_params)
	identity.trusted_signature(s, allow({"github_repository": "acme/models"}))
}

test_repository_is_not_a_prefix_match if {
	fork := f.sig("https://github.com/acme/models-fork/.github/workflows/release.yml@refs/heads/main", f.gh_issuer, "keyless", "2025-05-30T10:00:00Z")
	not identity.trusted_signature(fork, allow({"github_repository": "acme/models"}))
}

test_github_entries_imply_the_github_issuer if {
	forged := f.sig(f.release_subject, "https://issuer.evil.example", "keyless", "2025-05-30T10:00:00Z")
	not identity.trusted_signature(forged, f.release_params)
	not identity.trusted_signature(forged, allow({"github_repository": "acme/models"}))
}

test_exact_issuer_and_subject if {
	entry := {"issuer": f.gh_issuer, "subject": f.release_subject}
	identity.trusted_signature(f.release_sig, allow(entry))
	not identity.trusted_signature(f.other_sig, allow(entry))
	not identity.trusted_signature(f.release_sig, allow({"issuer": "https://accounts.google.com", "subject": f.release_subject}))
}

test_regexps_are_anchored if {
	identity.trusted_signature(f.release_sig, allow({"issuer": f.gh_issuer, "subject_regexp": `https://github\.com/acme/models/.*`}))
	not identity.trusted_signature(f.release_sig, allow({"issuer": f.gh_issuer, "subject_regexp": `acme`}))
	identity.trusted_signature(f.release_sig, allow({"issuer_regexp": `https://token\.actions\..*`, "subject": f.release_subject}))
}

test_entry_without_issuer_constraint_is_invalid if {
	p := allow({"subject": f.release_subject})
	not identity.trusted_signature(f.release_sig, p)
	"IDENTITY_PARAMS_INVALID" in f.codes(identity.violations(f.good, p))
}

test_entry_with_unknown_field_is_invalid if {
	p := allow({"github_workflow_ref": "acme/models/.github/workflows/release.yml", "subjet": "typo"})
	not identity.trusted_signature(f.release_sig, p)
	"IDENTITY_PARAMS_INVALID" in f.codes(identity.violations(f.good, p))
}

test_entry_with_bad_regexp_is_invalid if {
	p := allow({"issuer": f.gh_issuer, "subject_regexp": "("})
	"IDENTITY_PARAMS_INVALID" in f.codes(identity.violations(f.good, p))
}

test_unverified_signature_is_never_trusted if {
	s := object.union(f.release_sig, {"verified": false})
	not identity.trusted_signature(s, f.release_params)
	not identity.trusted_signature(s, {})
}

test_no_allowlist_trusts_any_verified_signature_with_a_warning if {
	identity.trusted_signature(f.other_sig, {})
	"IDENTITY_NO_ALLOWLIST" in f.codes(identity.warnings(f.good, {}))
	not "IDENTITY_NO_ALLOWLIST" in f.codes(identity.warnings(f.good, f.release_params))
}

test_dev_keys_warn_by_default if {
	r := f.report([object.union(f.sbom, {"signatures": [f.dev_sig]})])
	identity.trusted_signature(f.dev_sig, {})
	"IDENTITY_DEV_KEY" in f.codes(identity.warnings(r, {}))
	count(identity.violations(r, {})) == 0
}

test_dev_keys_deny if {
	r := f.report([object.union(f.sbom, {"signatures": [f.dev_sig]})])
	p := {"identity": {"dev_keys": "deny"}}
	not identity.trusted_signature(f.dev_sig, p)
	"IDENTITY_DEV_KEY" in f.codes(identity.violations(r, p))
}

test_dev_keys_allow_is_silent if {
	r := f.report([object.union(f.sbom, {"signatures": [f.dev_sig]})])
	p := {"identity": {"dev_keys": "allow"}}
	not "IDENTITY_DEV_KEY" in f.codes(identity.warnings(r, p))
	count(identity.violations(r, p)) == 0
}

test_dev_keys_bad_value_is_a_violation if {
	"IDENTITY_PARAMS_INVALID" in f.codes(identity.violations(f.good, {"identity": {"dev_keys": "maybe"}}))
}

# What the verifier reports for a signature checked with --key: no identity at all.
key_sig := {"verified": true, "kind": "key", "identity": {"issuer": null, "subject": null}, "tlog": false, "timestamp": null}

test_key_signatures_are_trusted_by_kind if {
	identity.trusted_signature(key_sig, allow({"kind": "key"}))
	not identity.trusted_signature(key_sig, allow({"kind": "dev-key"}))
	not identity.trusted_signature(f.release_sig, allow({"kind": "key"}))
	count(identity.violations(f.good, allow({"kind": "key"}))) == 0
}

test_null_identities_never_match_and_never_fail if {
	not identity.trusted_signature(key_sig, f.release_params)
	not identity.trusted_signature(key_sig, allow({"issuer": f.gh_issuer, "subject_regexp": ".*"}))
	not identity.trusted_signature(key_sig, allow({"github_repository": "acme/models"}))
	r := f.report([object.union(f.sbom, {"signatures": [key_sig]})])
	some w in identity.warnings(r, f.release_params)
	w.code == "IDENTITY_UNTRUSTED_SIGNER"
	contains(w.msg, "signed by a public key (no signer identity), not an allowed signer")
}

test_empty_strings_are_no_constraint if {
	"IDENTITY_PARAMS_INVALID" in f.codes(identity.violations(f.good, allow({"issuer": f.gh_issuer, "subject": ""})))
}

test_key_signatures_by_key_id if {
	k := f.sig("sha256:abcd", "", "key", "2025-05-30T10:00:00Z")
	identity.trusted_signature(k, allow({"kind": "key", "subject": "sha256:abcd"}))
	not identity.trusted_signature(k, allow({"kind": "key", "subject": "sha256:ffff"}))
	not identity.trusted_signature(f.release_sig, allow({"kind": "key", "subject": f.release_subject}))
}

test_kinds_restrict_accepted_signatures if {
	p := {"identity": {"kinds": ["keyless"]}}
	identity.trusted_signature(f.release_sig, p)
	not identity.trusted_signature(f.dev_sig, p)
}

test_require_tlog if {
	p := {"identity": {"require_tlog": true}}
	identity.trusted_signature(f.release_sig, p)
	not identity.trusted_signature(object.union(f.release_sig, {"tlog": false}), p)
}

test_untrusted_signer_is_warned_about if {
	r := f.report([object.union(f.sbom, {"signatures": [f.other_sig]})])
	some w in identity.warnings(r, f.release_params)
	w.code == "IDENTITY_UNTRUSTED_SIGNER"
	contains(w.msg, "mallory")
}

test_referrer_with_errors_is_not_trusted if {
	bad := object.union(f.sbom, {"errors": ["statement subject sha256:bbbb is not the subject sha256:aaaa"]})
	not identity.trusted_referrer(bad, f.release_params)
	identity.trusted_referrer(f.sbom, f.release_params)
}
