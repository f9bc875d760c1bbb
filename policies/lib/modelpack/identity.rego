# Who may sign evidence: the signer allowlist, accepted signature kinds, development keys.
#
# params.identity:
#   allowed       list of signer entries; a signature is trusted when it matches any entry.
#                 Fields of one entry all have to match:
#                   issuer | issuer_regexp      OIDC issuer (exact | anchored regexp)
#                   subject | subject_regexp    certificate identity (SAN) or key id
#                   github_repository           "owner/repo": a GitHub Actions workflow of it
#                   github_workflow_ref         "owner/repo/.github/workflows/f.yml[@ref]"
#                   kind                        "keyless" | "key" | "dev-key"
#                 An entry needs a subject constraint (subject, subject_regexp or a github_*
#                 field) and an issuer constraint (issuer, issuer_regexp or a github_* field):
#                 "any subject of this issuer" is never a useful allowlist. Key signatures carry
#                 no identity (the key given to the verifier is the identity), so an entry of
#                 kind key or dev-key needs neither: {"kind": "key"} trusts them.
#                 Empty list: any verified signature is trusted (and a warning says so).
#   kinds         signature kinds accepted at all (default all three)
#   dev_keys      "warn" (default) | "deny" | "allow": signatures by a development key
#   require_tlog  true: a signature needs a transparency-log entry (default false)
package lib.modelpack.identity

import rego.v1

import data.lib.modelpack.util

github_issuer := "https://token.actions.githubusercontent.com"

defaults := {
	"allowed": [],
	"kinds": ["keyless", "key", "dev-key"],
	"dev_keys": "warn",
	"require_tlog": false,
}

entry_keys := {
	"issuer", "issuer_regexp", "subject", "subject_regexp",
	"github_repository", "github_workflow_ref", "kind",
}

# The identity settings with defaults filled in.
settings(params) := object.union(defaults, object.get(params, "identity", {})) if {
	is_object(object.get(params, "identity", {}))
}

settings(params) := defaults if not is_object(object.get(params, "identity", {}))

# -- matching ---------------------------------------------------------------------------------

valid_entry(entry) if {
	is_object(entry)
	every key, value in entry {
		key in entry_keys
		is_string(value)
	}
	_has_subject_constraint(entry)
	_has_issuer_constraint(entry)
	_regexps_valid(entry)
}

_has_subject_constraint(entry) if {
	some key in ["subject", "subject_regexp", "github_repository", "github_workflow_ref"]
	entry[key] != ""
}

_has_subject_constraint(entry) if _key_kind(entry)

_has_issuer_constraint(entry) if {
	some key in ["issuer", "issuer_regexp", "github_repository", "github_workflow_ref"]
	entry[key] != ""
}

_has_issuer_constraint(entry) if _key_kind(entry)

_key_kind(entry) if entry.kind in {"key", "dev-key"}

_regexps_valid(entry) if {
	every key in ["issuer_regexp", "subject_regexp"] {
		regex.is_valid(object.get(entry, key, ""))
	}
}

_is_github(entry) if entry.github_repository
_is_github(entry) if entry.github_workflow_ref

# Whether a signer identity {issuer, subject} (and kind) matches one allowlist entry. Missing
# or null identity fields (key signatures) read as "", which no github_* field matches.
matches(entry, sig) if {
	valid_entry(entry)
	id := _object(object.get(sig, "identity", {}))
	_issuer_ok(entry, _string(object.get(id, "issuer", "")))
	_subject_ok(entry, _string(object.get(id, "subject", "")))
	_github_ok(entry, _string(object.get(id, "subject", "")))
	_kind_ok(entry, object.get(sig, "kind", ""))
}

_string(x) := x if is_string(x)

_string(x) := "" if not is_string(x)

_object(x) := x if is_object(x)

_object(x) := {} if not is_object(x)

_issuer_ok(entry, issuer) if entry.issuer == issuer

_issuer_ok(entry, issuer) if {
	not entry.issuer
	util.full_match(entry.issuer_regexp, issuer)
}

_issuer_ok(entry, issuer) if {
	not entry.issuer
	not entry.issuer_regexp
	_is_github(entry)
	issuer == github_issuer
}

_issuer_ok(entry, _) if {
	not entry.issuer
	not entry.issuer_regexp
	not _is_github(entry)
}

_subject_ok(entry, subject) if entry.subject == subject

_subject_ok(entry, subject) if {
	not entry.subject
	util.full_match(entry.subject_regexp, subject)
}

_subject_ok(entry, _) if {
	not entry.subject
	not entry.subject_regexp
}

_github_ok(entry, subject) if {
	_repository_ok(entry, subject)
	_workflow_ok(entry, subject)
}

# The repository is the path after https://github.com/ up to the next "/" but one; the
# trailing "/" keeps "acme/models" from matching "acme/models-fork".
_repository_ok(entry, _) if not entry.github_repository

_repository_ok(entry, subject) if {
	prefix := concat("", ["https://github.com/", lower(entry.github_repository), "/"])
	startswith(lower(subject), prefix)
}

_workflow_ok(entry, _) if not entry.github_workflow_ref

# With "@ref": that exact workflow at that exact ref.
_workflow_ok(entry, subject) if {
	contains(entry.github_workflow_ref, "@")
	subject == concat("", ["https://github.com/", entry.github_workflow_ref])
}

# Without: that workflow file at any ref.
_workflow_ok(entry, subject) if {
	not contains(entry.github_workflow_ref, "@")
	startswith(subject, concat("", ["https://github.com/", entry.github_workflow_ref, "@"]))
}

_kind_ok(entry, _) if not entry.kind

_kind_ok(entry, kind) if entry.kind == kind

# -- trust ------------------------------------------------------------------------------------

allowlist(params) := [e | some e in object.get(settings(params), "allowed", []); e]

_signer_allowed(sig, params) if count(allowlist(params)) == 0

_signer_allowed(sig, params) if {
	some entry in allowlist(params)
	matches(entry, sig)
}

_kind_accepted(sig, params) if sig.kind in util.string_list(settings(params).kinds)

_dev_key_denied(sig, params) if {
	sig.kind == "dev-key"
	settings(params).dev_keys == "deny"
}

_tlog_ok(_, params) if settings(params).require_tlog != true

_tlog_ok(sig, _) if sig.tlog == true

verified(sig) if {
	is_object(sig)
	sig.verified == true
}

# A signature that counts: verified by attest, of an accepted kind, from an allowed signer.
trusted_signature(sig, params) if {
	verified(sig)
	_kind_accepted(sig, params)
	not _dev_key_denied(sig, params)
	_tlog_ok(sig, params)
	_signer_allowed(sig, params)
}

signatures_of(referrer) := [s | some s in object.get(referrer, "signatures", []); is_object(s)]

errors_of(referrer) := [e | some e in object.get(referrer, "errors", [])] if {
	is_array(object.get(referrer, "errors", []))
}

errors_of(referrer) := ["errors is not a list"] if not is_array(object.get(referrer, "errors", []))

# A referrer whose content counts as evidence: no verification errors, a trusted signature.
trusted_referrer(referrer, params) if {
	count(errors_of(referrer)) == 0
	some sig in signatures_of(referrer)
	trusted_signature(sig, params)
}

# Who signed, in words; key signatures have no identity but their kind.
signer(sig) := sprintf("%v (issuer %v)", [
	object.get(_object(object.get(sig, "identity", {})), "subject", null),
	object.get(_object(object.get(sig, "identity", {})), "issuer", null),
]) if {
	_string(object.get(_object(object.get(sig, "identity", {})), "subject", null)) != ""
}

signer(sig) := object.get(_anonymous, object.get(sig, "kind", ""), "an unidentified signer") if {
	_string(object.get(_object(object.get(sig, "identity", {})), "subject", null)) == ""
}

_anonymous := {"key": "a public key (no signer identity)", "dev-key": "a development key"}

problem(sig, params) := sprintf("a %v signature, a kind identity.kinds does not accept", [sig.kind]) if {
	not _kind_accepted(sig, params)
}

problem(sig, params) := "a development-key signature, which identity.dev_keys denies" if {
	_kind_accepted(sig, params)
	_dev_key_denied(sig, params)
}

problem(sig, params) := "a signature without a transparency-log entry (identity.require_tlog)" if {
	_kind_accepted(sig, params)
	not _dev_key_denied(sig, params)
	not _tlog_ok(sig, params)
}

problem(sig, params) := sprintf("signed by %s, not an allowed signer", [signer(sig)]) if {
	_kind_accepted(sig, params)
	not _dev_key_denied(sig, params)
	_tlog_ok(sig, params)
	not _signer_allowed(sig, params)
}

# -- checks -----------------------------------------------------------------------------------

violations(report, params) := _param_violations(params) | _dev_key_violations(report, params)

warnings(report, params) := _dev_key_warnings(report, params) | _allowlist_warnings(report, params)

_param_violations(params) := {v |
	some i, entry in object.get(settings(params), "allowed", [])
	not valid_entry(entry)
	v := {
		"code": "IDENTITY_PARAMS_INVALID",
		"msg": sprintf(
			"identity.allowed[%d] is not a valid signer entry (known fields: %s; it needs a subject and an issuer constraint; regexps must compile): %v",
			[i, util.joined(entry_keys), entry],
		),
	}
} | {v |
	not settings(params).dev_keys in {"warn", "deny", "allow"}
	v := {
		"code": "IDENTITY_PARAMS_INVALID",
		"msg": sprintf("identity.dev_keys must be warn, deny or allow, not %v", [settings(params).dev_keys]),
	}
} | {v |
	not is_array(settings(params).allowed)
	v := {"code": "IDENTITY_PARAMS_INVALID", "msg": "identity.allowed must be a list of signer entries"}
}

_dev_key_signed(report) := {r.digest |
	some r in object.get(report, "referrers", [])
	some sig in signatures_of(r)
	verified(sig)
	sig.kind == "dev-key"
}

_dev_key_violations(report, params) := {v |
	settings(params).dev_keys == "deny"
	some digest in _dev_key_signed(report)
	v := {"code": "IDENTITY_DEV_KEY", "msg": sprintf("evidence %s is signed with a development key, which identity.dev_keys denies", [digest])}
}

_dev_key_warnings(report, params) := {w |
	settings(params).dev_keys == "warn"
	some digest in _dev_key_signed(report)
	w := {"code": "IDENTITY_DEV_KEY", "msg": sprintf("evidence %s is signed with a development key: fine on a laptop, not for release", [digest])}
}

_allowlist_warnings(report, params) := {w |
	count(allowlist(params)) == 0
	w := {"code": "IDENTITY_NO_ALLOWLIST", "msg": "no signer allowlist (identity.allowed): any valid signature is trusted"}
} | {w |
	count(allowlist(params)) > 0
	some r in object.get(report, "referrers", [])
	some sig in signatures_of(r)
	verified(sig)
	not _signer_allowed(sig, params)
	w := {"code": "IDENTITY_UNTRUSTED_SIGNER", "msg": sprintf("evidence %s is %s; it is ignored", [r.digest, problem(sig, params)])}
}
