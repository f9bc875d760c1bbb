# Model and data cards: present (signed by a trusted signer) with the sections you require.
#
# params.cards:
#   required           card predicate types that must exist, e.g.
#                      ["https://attest.dev/model-card/v1", "https://attest.dev/data-card/v1"]
#   sections           {card type: [section keys]} that card must contain, e.g.
#                      {"https://attest.dev/model-card/v1": ["intended-use", "limitations"]};
#                      a type listed here is required too
#   missing_sections   what to do with the sections the card generator itself found missing
#                      (summary.missingSections): "warn" (default) | "deny" | "ignore"
#
# The latest trusted card of each type counts.
package lib.modelpack.cards

import rego.v1

import data.lib.modelpack.evidence
import data.lib.modelpack.util

defaults := {"required": [], "sections": {}, "missing_sections": "warn"}

settings(params) := object.union(defaults, object.get(params, "cards", {})) if {
	is_object(object.get(params, "cards", {}))
}

settings(params) := defaults if not is_object(object.get(params, "cards", {}))

section_rules(params) := settings(params).sections if is_object(settings(params).sections)

section_rules(params) := {} if not is_object(settings(params).sections)

required_types(params) := {t | some t in util.string_list(settings(params).required)} | {t |
	some t, _ in section_rules(params)
}

violations(report, params) := ((_missing(report, params) | _sections(report, params)) | _generator_missing(report, params, "deny")) | _param_violations(params)

warnings(report, params) := _generator_missing(report, params, "warn")

_missing(report, params) := {v |
	some t in required_types(params)
	some v in evidence.require(report, params, {t}, "CARDS", sprintf("a signed %s", [_name(t)]))
}

_name(t) := "model card" if t == evidence.model_card_type

_name(t) := "data card" if t == evidence.data_card_type

_name(t) := sprintf("card (%s)", [t]) if not t in {evidence.model_card_type, evidence.data_card_type}

_sections(report, params) := {v |
	some t, wanted in section_rules(params)
	some r in evidence.latest(report, params, {t})
	present := {s | some s in object.get(evidence.summary(r), "sections", [])}
	some section in util.string_list(wanted)
	not section in present
	v := {
		"code": "CARDS_SECTION_MISSING",
		"msg": sprintf("%s %s has no section %q (required by cards.sections)", [_name(t), r.digest, section]),
	}
}

_generator_missing(report, params, mode) := {v |
	settings(params).missing_sections == mode
	some t in {evidence.model_card_type, evidence.data_card_type}
	some r in evidence.latest(report, params, {t})
	missing := object.get(evidence.summary(r), "missingSections", [])
	count(missing) > 0
	v := {
		"code": "CARDS_INCOMPLETE",
		"msg": sprintf("%s %s is missing sections: %s", [_name(t), r.digest, util.joined(missing)]),
	}
}

_param_violations(params) := {v |
	not settings(params).missing_sections in {"warn", "deny", "ignore"}
	v := {"code": "CARDS_PARAMS_INVALID", "msg": sprintf("cards.missing_sections must be warn, deny or ignore, not %v", [settings(params).missing_sections])}
}
