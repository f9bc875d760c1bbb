# The local entry point (CLI, pre-commit, GitHub Action): input = the VerificationReport plus
# {"parameters": params}. `deny` and `warn` compose the library; parameters the user gives are
# deep-merged over the defaults in data.json (data.attest.defaults).
#
# To write your own entry point, copy this file into your policy directory and keep the
# package name, or pass your package with --entrypoint; see docs/policies.md.
package attest.main

import rego.v1

import data.lib.modelpack.cards
import data.lib.modelpack.freshness
import data.lib.modelpack.identity
import data.lib.modelpack.mof
import data.lib.modelpack.notation
import data.lib.modelpack.provenance
import data.lib.modelpack.sbom
import data.lib.modelpack.signatures

default defaults := {}

defaults := data.attest.defaults

user_parameters := input.parameters if is_object(input.parameters)

default user_parameters := {}

params := object.union(defaults, user_parameters)

report := object.remove(input, ["parameters"])

deny contains v if some v in signatures.violations(report, params)

deny contains v if some v in identity.violations(report, params)

deny contains v if some v in sbom.violations(report, params)

deny contains v if some v in provenance.violations(report, params)

deny contains v if some v in mof.violations(report, params)

deny contains v if some v in cards.violations(report, params)

deny contains v if some v in freshness.violations(report, params)

deny contains v if some v in notation.violations(report, params)

warn contains w if some w in identity.warnings(report, params)

warn contains w if some w in cards.warnings(report, params)
