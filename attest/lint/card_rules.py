"""The card lint rules, their default levels, and the finding a rule reports.

:mod:`attest.lint.card` applies them; :mod:`attest.lint.card_report` renders the findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["error", "warning", "note"]
LEVELS: tuple[str, ...] = ("error", "warning", "note")


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level  # default level (a rule may report a lighter one for a lesser case)
    summary: str


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("front-matter-missing", "warning",
         "The card has no YAML front matter (the Hub shows no licence, datasets or tags)."),
    Rule("front-matter-invalid", "error",
         "The front matter is not valid YAML, is not closed, or is not a mapping."),
    Rule("duplicate-key", "error", "A front matter key appears twice; YAML keeps only the last."),
    Rule("unknown-key", "warning", "A front matter key the Hub does not know (often a typo)."),
    Rule("key-type", "error", "A front matter value has the wrong type (e.g. tags not a list)."),
    Rule("license-missing", "warning", "The front matter names no licence."),
    Rule("license-not-spdx", "error",
         "The licence is neither an SPDX id/expression nor a Hugging Face licence id."),
    Rule("pipeline-tag-unknown", "warning", "pipeline_tag/task_categories is not a Hub task id."),
    Rule("size-category-invalid", "warning", "size_categories is not one of the Hub's buckets."),
    Rule("model-index-invalid", "error",
         "model-index does not have the Hub's structure (name, results: task, dataset, metrics)."),
    Rule("title-missing", "note", "The card has no H1 title."),
    Rule("section-missing", "error", "A section a MOF Class III card needs is absent."),
    Rule("section-empty", "warning",
         "A section a MOF Class III card needs only says 'Not provided' or holds a placeholder."),
    Rule("license-mismatch", "error", "The card's licence differs from the artifact's."),
    Rule("dataset-mismatch", "error", "The card's datasets differ from the artifact's."),
    Rule("base-model-mismatch", "error", "The card's base model differs from the artifact's."),
    Rule("file-mismatch", "error",
         "The card's file table lists a file or digest the artifact does not have, or misses one."),
)}  # fmt: skip


@dataclass(frozen=True)
class Finding:
    rule: str
    level: Level
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "level": self.level, "message": self.message,
                "line": self.line}


def has_errors(findings: list[Finding]) -> bool:
    """True when a finding is an error: ``attest card lint`` then exits 1."""
    return any(f.level == "error" for f in findings)



def finding(rule: str, message: str, line: int | None) -> Finding:
    """A finding of ``rule`` at its default level."""
    return Finding(rule, RULES[rule].level, message, line)
