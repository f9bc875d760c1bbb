package lib.modelpack.evidence_test

import rego.v1

import data.lib.modelpack.evidence
import data.lib.modelpack.fixtures as f

at(r, ts) := object.union(r, {"signatures": [object.union(f.release_sig, {"timestamp": ts})]})

test_trusted_needs_a_trusted_signature_and_no_errors if {
	r := f.report([
		f.sbom,
		object.union(f.mof, {"signatures": [f.other_sig]}),
		object.union(f.card, {"signatures": []}),
		object.union(f.provenance, {"errors": ["tampered"]}),
	])
	[x.digest | some x in evidence.trusted(r, f.release_params)] == [f.sbom.digest]
}

test_signed_at_is_the_latest_trusted_timestamp if {
	r := object.union(f.sbom, {"signatures": [
		object.union(f.release_sig, {"timestamp": "2025-01-01T00:00:00Z"}),
		object.union(f.release_sig, {"timestamp": "2025-02-01T00:00:00Z"}),
		object.union(f.other_sig, {"timestamp": "2025-03-01T00:00:00Z"}), # untrusted: ignored
	]})
	evidence.signed_at(r, f.release_params) == time.parse_rfc3339_ns("2025-02-01T00:00:00Z")
	not evidence.signed_at(object.union(f.sbom, {"signatures": [f.other_sig]}), f.release_params)
}

test_annotations_never_date_evidence if {
	r := object.union(f.sbom, {
		"annotations": {"org.opencontainers.image.created": "2030-01-01T00:00:00Z"},
		"signatures": [object.union(f.release_sig, {"timestamp": null})],
	})
	not evidence.signed_at(r, f.release_params)
}

test_latest if {
	old := at(object.union(f.mof, {"digest": "sha256:01d"}), "2025-01-01T00:00:00Z")
	new := at(object.union(f.mof, {"digest": "sha256:e3e"}), "2025-05-01T00:00:00Z")
	[x.digest | some x in evidence.latest(f.report([new, old]), f.release_params, evidence.mof_types)] == ["sha256:e3e"]
}

test_latest_without_times_is_all if {
	a := at(object.union(f.mof, {"digest": "sha256:a"}), null)
	b := at(object.union(f.mof, {"digest": "sha256:b"}), null)
	count(evidence.latest(f.report([a, b]), f.release_params, evidence.mof_types)) == 2
}

test_require_names_each_cause if {
	r := f.report([
		object.union(f.mof, {"digest": "sha256:1", "signatures": []}),
		object.union(f.mof, {"digest": "sha256:2", "signatures": [f.other_sig]}),
		object.union(f.mof, {"digest": "sha256:3", "errors": ["subject mismatch"]}),
	])
	v := evidence.require(r, f.release_params, evidence.mof_types, "X", "a MOF report")
	f.codes(v) == {"X_UNSIGNED", "X_UNTRUSTED", "X_INVALID"}
	count(evidence.require(f.good, f.release_params, evidence.mof_types, "X", "a MOF report")) == 0
	f.codes(evidence.require(f.report([]), f.release_params, evidence.mof_types, "X", "a MOF report")) == {"X_MISSING"}
}

test_describe if {
	evidence.describe(f.sbom) == "https://cyclonedx.org/bom/v1.6 evidence sha256:5b0b"
	evidence.describe({"digest": "sha256:d0c", "artifactType": "application/spdx+json"}) == "application/spdx+json referrer sha256:d0c"
}

test_malformed_referrers_are_skipped_not_fatal if {
	r := object.union(f.good, {"referrers": [f.sbom, "junk", 42, {"digest": "sha256:x", "signatures": "nope", "errors": "nope"}]})
	[x.digest | some x in evidence.trusted(r, f.release_params)] == [f.sbom.digest]
}
