"""RFC 7235 WWW-Authenticate parsing (attest.oci.challenge)."""

from __future__ import annotations

import pytest

from attest.errors import RegistryError
from attest.oci.challenge import MAX_HEADER, Challenge, find, parse_challenges


def test_docker_distribution_bearer_challenge() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/ubuntu:pull"'
    )
    assert parse_challenges(header) == [
        Challenge("bearer", {"realm": "https://auth.docker.io/token",
                             "service": "registry.docker.io",
                             "scope": "repository:library/ubuntu:pull"}),
    ]  # fmt: skip


def test_unquoted_parameters_and_spaces_around_equals() -> None:
    (c,) = parse_challenges('Bearer realm="https://a.example/token" , service = reg.example,x=1')
    assert c.params == {"realm": "https://a.example/token", "service": "reg.example", "x": "1"}
    # An unquoted value is a token: a URL (':' and '/') must be quoted, and is not cut short.
    with pytest.raises(RegistryError, match="expected ','"):
        parse_challenges("Bearer realm=https://a.example/token")


def test_scheme_and_parameter_names_are_case_insensitive_values_are_not() -> None:
    (c,) = parse_challenges('BEARER Realm="https://A.example/Token"')
    assert c.scheme == "bearer"
    assert c.params == {"realm": "https://A.example/Token"}
    assert find('bAsIc realm="x"', "Basic") == Challenge("basic", {"realm": "x"})


def test_several_challenges_in_one_header() -> None:
    header = 'Basic realm="reg", Bearer realm="https://t.example/token",service=reg, Negotiate'
    assert [c.scheme for c in parse_challenges(header)] == ["basic", "bearer", "negotiate"]
    bearer = find(header, "bearer")
    assert bearer is not None
    assert bearer.params == {"realm": "https://t.example/token", "service": "reg"}
    assert find(header, "digest") is None


def test_escaped_quotes_and_commas_inside_quoted_strings() -> None:
    (c,) = parse_challenges(r'Bearer realm="a \"quoted\" realm, with comma",error="x\\y"')
    assert c.params == {"realm": 'a "quoted" realm, with comma', "error": "x\\y"}


def test_token68_and_empty_list_elements() -> None:
    assert parse_challenges(", Negotiate abc+/def==, ,Basic realm=r,") == [
        Challenge("negotiate", {}, "abc+/def=="),
        Challenge("basic", {"realm": "r"}),
    ]
    assert parse_challenges("Basic") == [Challenge("basic")]


def test_oras_typo_characters_are_not_letters() -> None:
    # oras-py's [a-zA-z] also accepted [\]^_`; a scheme is a token and these mostly are not.
    with pytest.raises(RegistryError, match="expected an auth scheme"):
        parse_challenges('[Bearer] realm="x"')


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("", "no challenge"),
        ('Bearer realm="unterminated', "expected name=value"),
        ('Bearer realm="a" service="b"', "expected ','"),
        ('Bearer realm="a", realm="b"', "parameter 'realm' repeated"),
        ('Bearer realm="bad\x01char"', "expected name=value"),
        ("=x", "expected an auth scheme"),
    ],
)
def test_malformed_headers_are_registry_errors(header: str, why: str) -> None:
    with pytest.raises(RegistryError, match=why):
        parse_challenges(header)


def test_oversized_header_is_refused() -> None:
    with pytest.raises(RegistryError, match="too long"):
        parse_challenges("Bearer realm=" + "a" * MAX_HEADER)
