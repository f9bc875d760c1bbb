package lib.modelpack.admission_test

import rego.v1

import data.lib.modelpack.admission

_pod_spec := {
	"containers": [{"name": "app", "image": "reg.example/app:1"}],
	"initContainers": [{"name": "init", "image": "reg.example/init:1"}],
	"ephemeralContainers": [{"name": "debug", "image": "reg.example/debug:1"}],
	"volumes": [
		{"name": "weights", "image": {"reference": "reg.example/models/llm:v1"}},
		{"name": "csi", "csi": {"driver": "model.csi.modelpack.org", "volumeAttributes": {"model.csi.modelpack.org/reference": "reg.example/models/csi:v1"}}},
		{"name": "seed", "csi": {"driver": "model.csi.modelpack.org", "volumeAttributes": {"modelRef": "reg.example/models/seed:v1"}}},
		{"name": "other", "csi": {"driver": "other.csi", "volumeAttributes": {"modelRef": "reg.example/ignored:v1"}}},
		{"name": "empty", "emptyDir": {}},
	],
}

test_pod_references_every_place if {
	refs := admission.references({"kind": "Pod", "spec": _pod_spec}, {})
	refs == {
		{"ref": "reg.example/app:1", "where": "spec.containers[app].image"},
		{"ref": "reg.example/init:1", "where": "spec.initContainers[init].image"},
		{"ref": "reg.example/debug:1", "where": "spec.ephemeralContainers[debug].image"},
		{"ref": "reg.example/models/llm:v1", "where": "spec.volumes[weights].image.reference"},
		{"ref": "reg.example/models/csi:v1", "where": "spec.volumes[csi].csi.volumeAttributes[model.csi.modelpack.org/reference]"},
		{"ref": "reg.example/models/seed:v1", "where": "spec.volumes[seed].csi.volumeAttributes[modelRef]"},
	}
}

test_csi_driver_is_a_parameter if {
	refs := admission.references({"kind": "Pod", "spec": _pod_spec}, {"csiDriver": "other.csi"})
	{"ref": "reg.example/ignored:v1", "where": "spec.volumes[other].csi.volumeAttributes[modelRef]"} in refs
	count({r | some r in refs; r.ref == "reg.example/models/csi:v1"}) == 0
}

test_workload_templates if {
	deploy := admission.references({"kind": "Deployment", "spec": {"template": {"spec": _pod_spec}}}, {})
	{"ref": "reg.example/models/llm:v1", "where": "spec.template.spec.volumes[weights].image.reference"} in deploy
	cron := admission.references({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": _pod_spec}}}}}, {})
	{"ref": "reg.example/app:1", "where": "spec.jobTemplate.spec.template.spec.containers[app].image"} in cron
	count(admission.references({"kind": "ConfigMap", "data": {"image": "x"}}, {})) == 0
}

test_unnamed_items_are_indexed if {
	refs := admission.references({"kind": "Pod", "spec": {"containers": [{"image": "a/b:1"}]}}, {})
	refs == {{"ref": "a/b:1", "where": "spec.containers[0].image"}}
}

test_kserve_inference_service if {
	isvc := {"kind": "InferenceService", "spec": {
		"predictor": {
			"model": {"modelFormat": {"name": "huggingface"}, "storageUri": "oci://reg.example/models/a:v1"},
			"storageUris": [{"uri": "oci+native://reg.example/models/b:v1"}, {"uri": "s3://bucket/c"}],
			"containers": [{"name": "kserve-container", "image": "reg.example/runtime:1"}],
		},
		"transformer": {"storageUri": "oci://reg.example/models/t:v1"},
		"explainer": {"sklearn": {"storageUri": "gs://bucket/x"}},
	}}
	admission.references(isvc, {}) == {
		{"ref": "oci://reg.example/models/a:v1", "where": "spec.predictor.model.storageUri"},
		{"ref": "oci+native://reg.example/models/b:v1", "where": "spec.predictor.storageUris[0].uri"},
		{"ref": "oci://reg.example/models/t:v1", "where": "spec.transformer.storageUri"},
		{"ref": "reg.example/runtime:1", "where": "spec.predictor.containers[kserve-container].image"},
	}
}

test_llm_inference_service if {
	refs := admission.references({"kind": "LLMInferenceService", "spec": {"model": {"uri": "oci://reg.example/m:v1"}}}, {})
	refs == {{"ref": "oci://reg.example/m:v1", "where": "spec.model.uri"}}
	count(admission.references({"kind": "LLMInferenceService", "spec": {"model": {"uri": "hf://org/m"}}}, {})) == 0
}

_locs := {{"ref": "good", "where": "spec.volumes[a].image.reference"}, {"ref": "bad", "where": "spec.volumes[b].image.reference"}, {"ref": "img", "where": "spec.containers[c].image"}}

_good := {"applicable": true, "allowed": true, "digest": "sha256:1", "violations": [], "warnings": [], "report": {"subject": {}, "referrers": []}}

_bad := {"applicable": true, "allowed": false, "digest": "sha256:2", "violations": [{"code": "UNSIGNED", "msg": "no verified signature"}], "warnings": []}

_response(status) := {"responses": [["good", _good], ["bad", _bad], ["img", {"applicable": false}]], "errors": [], "status_code": status, "system_error": ""}

test_each_reference_is_judged_on_its_own if {
	vs := admission.violations(_locs, _response(200), {})
	vs == {{"code": "UNSIGNED", "msg": "no verified signature", "reference": "bad", "where": "spec.volumes[b].image.reference"}}
}

test_cached_answers_with_status_code_zero_decide_the_same if {
	admission.violations(_locs, _response(0), {}) == admission.violations(_locs, _response(200), {})
}

test_errors_missing_answers_and_system_errors_fail_closed if {
	resp := {"responses": [["good", _good]], "errors": [["bad", "bad: not found"]], "status_code": 200, "system_error": ""}
	vs := admission.violations(_locs, resp, {})
	{v.code | some v in vs} == {"PROVIDER_ERROR", "PROVIDER_NO_ANSWER"}
	sys := admission.violations(_locs, {"responses": [], "errors": [], "status_code": 200, "system_error": "timeout"}, {})
	"PROVIDER_SYSTEM_ERROR" in {v.code | some v in sys}
}

test_malformed_answers_fail_closed if {
	resp := {"responses": [["good", {"applicable": true}], ["bad", "yes"], ["img", {"applicable": false}]]}
	{v.reference | some v in admission.violations(_locs, resp, {}); v.code == "PROVIDER_MALFORMED"} == {"good", "bad"}
}

test_denied_without_listed_violations_is_still_denied if {
	resp := {"responses": [["good", {"applicable": true, "allowed": false, "violations": []}]]}
	vs := admission.violations({{"ref": "good", "where": "w"}}, resp, {})
	{v.code | some v in vs} == {"NOT_ADMITTED"}
}

test_exempt_references if {
	vs := admission.violations(_locs, _response(200), {"exemptReferences": ["ba*"]})
	count(vs) == 0
	count(admission.violations(_locs, _response(200), {"exemptReferences": ["b"]})) == 1
}

test_require_digest if {
	vs := admission.violations(_locs, _response(200), {"requireDigest": true})
	{v.reference | some v in vs; v.code == "REFERENCE_NOT_PINNED"} == {"good", "bad"}
}

test_constraint_policy_runs_the_library_over_the_report if {
	# an unsigned report: the library's signatures rule denies it even though the provider allowed
	vs := admission.violations({{"ref": "good", "where": "w"}}, {"responses": [["good", _good]]}, {"policy": {"mof": {"min_class": "II"}}})
	"SIGNATURES_NONE" in {v.code | some v in vs}
	count(admission.violations({{"ref": "good", "where": "w"}}, {"responses": [["good", _good]]}, {})) == 0
}
