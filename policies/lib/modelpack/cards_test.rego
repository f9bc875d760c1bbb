package lib.modelpack.cards_test

import rego.v1

import data.lib.modelpack.cards
import data.lib.modelpack.fixtures as f

needs(cfg) := object.union(f.release_params, {"cards": cfg})

test_model_card_present if {
	count(cards.violations(f.good, needs({"required": [f.model_card]}))) == 0
}

test_data_card_missing if {
	v := cards.violations(f.good, needs({"required": [f.model_card, f.data_card]}))
	f.codes(v) == {"CARDS_MISSING"}
	some x in v
	contains(x.msg, "data card")
}

test_required_sections_present if {
	p := needs({"sections": {f.model_card: ["intended-use", "limitations"]}})
	count(cards.violations(f.good, p)) == 0
}

test_required_section_missing if {
	p := needs({"sections": {f.model_card: ["intended-use", "environmental-impact"]}})
	v := cards.violations(f.good, p)
	f.codes(v) == {"CARDS_SECTION_MISSING"}
	some x in v
	contains(x.msg, "environmental-impact")
}

test_sections_imply_the_card_is_required if {
	p := needs({"sections": {f.data_card: ["composition"]}})
	f.codes(cards.violations(f.good, p)) == {"CARDS_MISSING"}
}

test_generator_missing_sections_warn_by_default if {
	thin := object.union(f.card, {"summary": {"sections": ["model-details"], "missingSections": ["evaluation"]}})
	r := f.report([thin])
	"CARDS_INCOMPLETE" in f.codes(cards.warnings(r, f.release_params))
	count(cards.violations(r, f.release_params)) == 0
	"CARDS_INCOMPLETE" in f.codes(cards.violations(r, needs({"missing_sections": "deny"})))
	count(cards.warnings(r, needs({"missing_sections": "ignore"}))) == 0
}

test_unsigned_card_does_not_count if {
	r := f.report([object.union(f.card, {"signatures": []})])
	f.codes(cards.violations(r, needs({"required": [f.model_card]}))) == {"CARDS_UNSIGNED"}
}

test_bad_mode if {
	"CARDS_PARAMS_INVALID" in f.codes(cards.violations(f.good, needs({"missing_sections": "sometimes"})))
}
