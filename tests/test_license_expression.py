"""attest.facts.licenses.parse_expression: the one SPDX expression parser (license-expression),
and the places that used to parse expressions by hand (MOT reduction, SPDX validation, card
lint) reading through it."""

from __future__ import annotations

import pytest
from license_expression import LicenseSymbol

from attest.facts.licenses import (
    MAX_EXPRESSION_CHARS,
    expression_ids,
    is_spdx_expression,
    license_refs,
    parse_expression,
)
from attest.lint.card import same_license
from attest.mof.data import framework
from attest.mof.licenses import LicenseCatalog, is_expression, mot_license


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("MIT", ["MIT"]),
        ("mit or apache-2.0", ["mit", "apache-2.0"]),  # operators in any case; ids as written
        ("GPL-2.0+ WITH Classpath-exception-2.0", ["GPL-2.0+", "Classpath-exception-2.0"]),
        ("(MIT AND BSD-3-Clause) OR DocumentRef-a:LicenseRef-b",
         ["MIT", "BSD-3-Clause", "DocumentRef-a:LicenseRef-b"]),  # fmt: skip
    ],
)
def test_parses_structure_keeping_ids(text: str, ids: list[str]) -> None:
    parsed = parse_expression(text, spdx=False)
    assert parsed is not None and expression_ids(parsed, spdx=False) == ids


@pytest.mark.parametrize(
    "text", ["", "  ", "Apache 2.0", "MIT AND", "MIT (", "a/b", "(" * 3000 + "MIT" + ")" * 3000,
             "MIT OR " * (MAX_EXPRESSION_CHARS // 7) + "MIT"],
)  # fmt: skip
def test_what_is_no_expression(text: str) -> None:
    assert parse_expression(text) is None and parse_expression(text, spdx=False) is None


def test_deep_nesting_within_the_cap_is_read_without_recursion_errors() -> None:
    catalog = next(v for v in vars(framework()).values() if isinstance(v, LicenseCatalog))
    nested = "(LicenseRef-a OR (" * 170 + "MIT" + "))" * 170
    assert len(nested) < MAX_EXPRESSION_CHARS
    assert mot_license(nested, catalog).id == "MIT"


def test_spdx_index_knows_the_list() -> None:
    assert is_spdx_expression("MIT OR LicenseRef-x")
    assert is_spdx_expression("GPL-2.0-only WITH Classpath-exception-2.0")
    assert not is_spdx_expression("MIT OR not-a-licence")
    assert not is_spdx_expression("MIT WITH Apache-2.0")  # a licence is no exception
    assert license_refs("DocumentRef-a:LicenseRef-b OR LicenseRef-c AND MIT") == [
        "LicenseRef-b", "LicenseRef-c"]  # fmt: skip
    assert license_refs(None) == [] and license_refs("MIT AND") == []


def test_single_ids_are_not_expressions() -> None:
    assert isinstance(parse_expression("MIT"), LicenseSymbol)
    assert not is_expression("MIT") and not is_expression("(MIT)")
    assert is_expression("MIT OR Apache-2.0")
    assert is_expression("GPL-2.0+ WITH Classpath-exception-2.0")


@pytest.mark.parametrize(
    ("expression", "chosen", "why"),
    [
        ("MIT", "MIT", None),
        ("mit OR apache-2.0", "MIT", "'mit' is not on the MOT's licence list"),
        ("(MIT AND BSD-3-Clause) or GPL-2.0", "MIT", "an OR lets the recipient choose"),
        ("CC-BY-NC-4.0 AND MIT", "CC-BY-NC-4.0", "reduced"),
        ("GPL-2.0+ WITH Classpath-exception-2.0", "GPL-2.0+", "reduced"),
        ("Apache-2.0 AND LicenseRef-openrail", "LicenseRef-openrail", "reduced"),
        ("CC-BY-4.0 AND (MIT OR Apache-2.0) AND BSD-2-Clause", "CC-BY-4.0",
         "an OR lets the recipient choose"),  # fmt: skip
        ("Apache 2.0", "LicenseRef-Apache-2.0", "could not parse"),
        ("MIT OR", "LicenseRef-MIT-OR", "could not parse"),
    ],
)
def test_mot_reduction_reads_the_parsed_tree(expression: str, chosen: str, why: str | None) -> None:
    catalog = next(v for v in vars(framework()).values() if isinstance(v, LicenseCatalog))
    got = mot_license(expression, catalog)
    assert got.id == chosen
    assert (got.note is None) if why is None else (why in (got.note or ""))


def test_card_lint_compares_parsed_expressions() -> None:
    assert same_license("MIT OR Apache-2.0", "Apache-2.0 OR MIT")
    assert not same_license("MIT OR Apache-2.0", "MIT AND Apache-2.0")
    assert same_license("MIT AND", "MIT AND")  # the same text is the same, parsed or not
    assert not same_license("Apache 2.0 OR MIT", "MIT OR Apache 2.0")  # names, not ids
