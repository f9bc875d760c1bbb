# SLSA provenance: present (signed by a trusted signer), from an allowed builder and an
# allowed source repository.
#
# params.provenance:
#   required                true: trusted provenance must exist (implied by every list below)
#   builder_ids             allowed builder.id values; "*" at the end matches a prefix, e.g.
#                           "https://github.com/acme/models/.github/workflows/release.yml@refs/tags/*"
#   source_repositories     allowed source repositories, e.g. "https://github.com/acme/models"
#                           or "https://github.com/acme/*"; compared without "git+", "@ref",
#                           ".git", trailing "/" and letter case
#   build_types             allowed buildType URIs
#   require_source_commit   true: the provenance must name the source commit
#
# Every trusted provenance statement is checked.
package lib.modelpack.provenance

import rego.v1

import data.lib.modelpack.evidence
import data.lib.modelpack.util

defaults := {
	"required": false,
	"builder_ids": [],
	"source_repositories": [],
	"build_types": [],
	"require_source_commit": false,
}

settings(params) := object.union(defaults, object.get(params, "provenance", {})) if {
	is_object(object.get(params, "provenance", {}))
}

settings(params) := defaults if not is_object(object.get(params, "provenance", {}))

builders(params) := util.string_list(settings(params).builder_ids)

repositories(params) := util.string_list(settings(params).source_repositories)

build_types(params) := util.string_list(settings(params).build_types)

required(params) if settings(params).required == true

required(params) if settings(params).require_source_commit == true

required(params) if count(builders(params)) + count(repositories(params)) + count(build_types(params)) > 0

# "git+https://github.com/Acme/models.git@refs/heads/main" -> "https://github.com/acme/models"
normalize_repository(uri) := trim_suffix(trim_suffix(lower(bare), "/"), ".git") if {
	is_string(uri)
	bare := regex.replace(trim_prefix(uri, "git+"), `^([a-z][a-z0-9+.-]*://[^/]+/[^@]*)@.*$`, "$1")
}

violations(report, params) := (_missing(report, params) | _statements(report, params))

warnings(_, _) := set()

_missing(report, params) := evidence.require(report, params, evidence.provenance_types, "PROVENANCE", "signed SLSA provenance") if {
	required(params)
}

_missing(_, params) := set() if not required(params)

_trusted(report, params) := evidence.of_types(evidence.trusted(report, params), evidence.provenance_types)

_statements(report, params) := {v |
	some r in _trusted(report, params)
	some v in _check(r, evidence.summary(r), params)
}

_check(r, s, params) := {v |
	count(builders(params)) > 0
	not _builder_ok(object.get(s, "builderId", null), params)
	v := {
		"code": "PROVENANCE_BUILDER_NOT_ALLOWED",
		"msg": sprintf("provenance %s was built by %v, not an allowed builder (%s)", [r.digest, object.get(s, "builderId", null), util.joined(builders(params))]),
	}
} | {v |
	count(repositories(params)) > 0
	not _repository_ok(object.get(s, "sourceRepository", null), params)
	v := {
		"code": "PROVENANCE_SOURCE_NOT_ALLOWED",
		"msg": sprintf("provenance %s names source repository %v, not an allowed one (%s)", [r.digest, object.get(s, "sourceRepository", null), util.joined(repositories(params))]),
	}
} | {v |
	count(build_types(params)) > 0
	not object.get(s, "buildType", null) in build_types(params)
	v := {
		"code": "PROVENANCE_BUILD_TYPE_NOT_ALLOWED",
		"msg": sprintf("provenance %s has build type %v, not an allowed one (%s)", [r.digest, object.get(s, "buildType", null), util.joined(build_types(params))]),
	}
} | {v |
	settings(params).require_source_commit == true
	not _has_commit(s)
	v := {"code": "PROVENANCE_NO_SOURCE_COMMIT", "msg": sprintf("provenance %s names no source commit", [r.digest])}
}

_builder_ok(id, params) if {
	some pattern in builders(params)
	util.pattern_match(id, pattern)
}

_repository_ok(uri, params) if {
	some pattern in repositories(params)
	util.pattern_match(normalize_repository(uri), _normalize_pattern(pattern))
}

# A pattern is normalised like the value but keeps its "*"; "https://github.com/acme/*" keeps
# its "/" too, or it would match "https://github.com/acme-evil/...".
_normalize_pattern(p) := concat("", [normalize_repository(trim_suffix(p, "/*")), "/*"]) if endswith(p, "/*")

_normalize_pattern(p) := lower(trim_prefix(p, "git+")) if {
	endswith(p, "*")
	not endswith(p, "/*")
}

_normalize_pattern(p) := normalize_repository(p) if not endswith(p, "*")

_has_commit(s) if {
	is_string(s.sourceCommit)
	s.sourceCommit != ""
}
