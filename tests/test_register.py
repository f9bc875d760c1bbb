"""`attest register`: verify first, then register through the official Model Registry client
(PyPI model-registry) against the loopback stand-in, whose every request and response is checked
against the upstream OpenAPI document."""

from __future__ import annotations

import json

import pytest

from tests.handoff_fixtures import MODEL
from tests.helpers import run_attest
from tests.model_registry_stand_in import ModelRegistryStandIn

pytest.importorskip("model_registry", reason="model-registry is a runtime dependency")


@pytest.mark.parametrize("prefix", ["/api/model_registry/v1", "/api/model_registry/v1alpha3"])
def test_register_pins_digest_and_links_evidence(signed_ref, release_key, prefix) -> None:
    with ModelRegistryStandIn(prefix) as mr:
        done = run_attest("register", signed_ref, "--key", f"{release_key}.pub", "--model-registry",
                          mr.url, "--name", "open-llm", "--format", "json")  # fmt: skip
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert out["api"] == prefix and out["created"] is True
        assert out["uri"].startswith("oci://" + signed_ref.rsplit(":", 1)[0] + "@sha256:")
        assert mr.state.schema_errors == []
        (version,) = mr.state.versions.values()
        props = version["customProperties"]
        assert props["attest.verified"] == {"bool_value": True, "metadataType": "MetadataBoolValue"}
        assert props["attest.manifest.digest"]["string_value"] == out["uri"].rsplit("@", 1)[1]
        assert props["attest.mof.class"]["string_value"] == "III"
        for key in ("attest.sbom.cyclonedx", "attest.sbom.spdx", "attest.sbom.spdx3",
                    "attest.mof", "attest.provenance"):  # fmt: skip
            assert props[key]["string_value"].startswith("sha256:"), key
        (artifact,) = mr.state.artifacts.values()
        assert artifact["uri"] == out["uri"] and artifact["modelFormatName"] == "safetensors"

        writes = len(mr.writes)
        again = run_attest("register", signed_ref, "--key", f"{release_key}.pub",
                           "--model-registry", mr.url, "--name", "open-llm")  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert "nothing updated" in again.stdout
        assert len(mr.writes) == writes  # idempotent: no write at all


def test_register_refuses_what_does_not_verify(unsigned_ref, release_key) -> None:
    with ModelRegistryStandIn() as mr:
        done = run_attest("register", unsigned_ref, "--key", f"{release_key}.pub",
                          "--model-registry", mr.url)  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert "no verified signature" in done.stderr
        assert mr.state.requests == []  # nothing was even asked of the registry


def test_register_refuses_another_digest_under_a_taken_version(
    signed_ref, release_key, registry_server
) -> None:
    other = f"{registry_server.host}/handoff/open-llm:v2"
    done = run_attest("run", str(MODEL), "--to", other, "--key", f"{release_key}.key")
    assert done.returncode == 0, done.stderr
    with ModelRegistryStandIn() as mr:
        first = run_attest("register", signed_ref, "--key", f"{release_key}.pub",
                           "--model-registry", mr.url, "--name", "m", "--version", "1")  # fmt: skip
        assert first.returncode == 0, first.stderr
        clash = run_attest("register", other, "--key", f"{release_key}.pub",
                           "--model-registry", mr.url, "--name", "m", "--version", "1")  # fmt: skip
        assert clash.returncode == 1
        assert "already registered with another artifact" in clash.stderr


def test_register_unreachable_server_is_exit_3(signed_ref, release_key) -> None:
    done = run_attest("register", signed_ref, "--key", f"{release_key}.pub",
                      "--model-registry", "http://127.0.0.1:9")  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert done.stderr.count("\n") == 1
