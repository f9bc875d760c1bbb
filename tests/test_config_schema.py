"""ModelPack config and OCI manifest/index schema validation (attest.modelpack.config_schema,
attest.oci.config_schema)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from attest.errors import InputError
from attest.modelpack import config_schema as model_schema
from attest.modelpack.config_schema import validate_model_config
from attest.oci import config_schema
from attest.oci.config_schema import validate_image_index, validate_image_manifest

REPO_ROOT = Path(__file__).resolve().parent.parent
VECTORS = REPO_ROOT / "testdata" / "vectors" / "modelpack"  # see testdata/vectors/README.md
CONFIG_VECTORS = VECTORS / "config-vectors"
DIGEST = "sha256:" + "ab" * 32


def _vector_index() -> list[dict[str, Any]]:
    # A missing copy fails collection: these tests never skip.
    index = json.loads((CONFIG_VECTORS / "index.json").read_text())
    vectors: list[dict[str, Any]] = index["vectors"]
    return vectors


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _minimal_config() -> dict[str, Any]:
    return {
        "descriptor": {"name": "tiny"},
        "config": {"paramSize": "1B"},
        "modelfs": {"type": "layers", "diffIds": [DIGEST]},
    }


def _manifest() -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cncf.model.manifest.v1+json",
        "config": {"mediaType": "application/vnd.cncf.model.config.v1+json", "digest": DIGEST,
                   "size": 10},
        "layers": [{"mediaType": "application/vnd.cncf.model.weight.v1.raw", "digest": DIGEST,
                    "size": 5, "annotations": {"org.cncf.model.filepath": "model.safetensors"}}],
    }  # fmt: skip


# --- ModelPack config: the spec's own 27 test documents ------------------------------------------


def test_vector_index_has_27_entries() -> None:
    vectors = _vector_index()
    assert len(vectors) == 27
    assert sum(v["expect_valid"] for v in vectors) == 3


@pytest.mark.parametrize(
    "vector", _vector_index(), ids=lambda v: v["file"]
)
def test_config_vector(vector: dict[str, Any]) -> None:
    obj = _load(CONFIG_VECTORS / vector["file"])
    if vector["expect_valid"]:
        validate_model_config(obj)
    else:
        with pytest.raises(InputError, match="invalid ModelPack model config"):
            validate_model_config(obj)


def test_spec_example_config_is_valid() -> None:
    validate_model_config(_load(VECTORS / "example-config.config.md.json"))


# --- ModelPack config: messages and the details the vectors do not pin down ----------------------


def test_error_lists_every_violation_with_its_path() -> None:
    cfg = _minimal_config()
    cfg["config"]["paramSize"] = 7
    cfg["config"]["capabilities"] = {"inputTypes": ["smell"]}
    with pytest.raises(InputError) as exc:
        validate_model_config(cfg)
    msg = exc.value.message
    assert "config.paramSize: 7 is not of type 'string'" in msg
    assert "config.capabilities.inputTypes[0]: 'smell' is not one of" in msg
    assert "\n" not in msg  # one line for the CLI


def test_missing_top_level_key_is_reported_at_the_root() -> None:
    cfg = _minimal_config()
    del cfg["modelfs"]
    with pytest.raises(InputError, match=r"\$: 'modelfs' is a required property"):
        validate_model_config(cfg)


def test_unknown_property_is_rejected_everywhere() -> None:
    cfg = _minimal_config()
    cfg["descriptor"]["colour"] = "blue"
    with pytest.raises(InputError, match="'colour' was unexpected"):
        validate_model_config(cfg)


@pytest.mark.parametrize("stamp", ["2025-01-01T00:00:00Z", "2025-06-30T12:34:56.789+02:00"])
def test_rfc3339_dates_pass(stamp: str) -> None:
    cfg = _minimal_config()
    cfg["descriptor"]["createdAt"] = stamp
    validate_model_config(cfg)


@pytest.mark.parametrize(
    "stamp", ["2025-01-01", "2025-01-01 00:00:00", "2025-02-30T00:00:00Z", "2025-01-01T00:00:00Z\n"]
)
def test_non_rfc3339_dates_fail(stamp: str) -> None:
    cfg = _minimal_config()
    cfg["descriptor"]["createdAt"] = stamp
    with pytest.raises(InputError, match="descriptor.createdAt: .* is not a 'date-time'"):
        validate_model_config(cfg)


@pytest.mark.parametrize("code", ["en", "zh", "xx"])
def test_two_letter_language_codes_pass(code: str) -> None:
    # The schema checks the shape ^[a-z]{2}$ only, not membership of ISO 639-1 ("xx" passes),
    # exactly like the spec's Go validator.
    cfg = _minimal_config()
    cfg["config"]["capabilities"] = {"languages": [code]}
    validate_model_config(cfg)


@pytest.mark.parametrize("code", ["fra", "EN", "e", "en\n", "en-US", ""])
def test_other_language_codes_fail(code: str) -> None:
    # "en\n" is the ECMA-262 `$` case: Python's `$` would accept it.
    cfg = _minimal_config()
    cfg["config"]["capabilities"] = {"languages": [code]}
    with pytest.raises(InputError, match=r"languages\[0\]"):
        validate_model_config(cfg)


def test_validator_is_compiled_once() -> None:
    assert model_schema.model_config_validator() is model_schema.model_config_validator()
    assert config_schema._oci_validator("image-manifest-schema.json") is (
        config_schema._oci_validator("image-manifest-schema.json")
    )


def test_schemas_load_from_the_package() -> None:
    for name in ("modelpack-config.schema.json", "oci/image-manifest-schema.json"):
        schema = config_schema.load_schema(
            name,
            config_schema.DRAFT202012_URI if "modelpack" in name else config_schema.DRAFT4_URI,
        )
        assert schema["type"] == "object"


def test_shipped_schemas_equal_the_vectors() -> None:
    # attest/schemas/ must stay byte-identical copies of the upstream files.
    schemas = REPO_ROOT / "attest" / "schemas"
    assert (schemas / "modelpack-config.schema.json").read_bytes() == (
        VECTORS / "config-schema.json"
    ).read_bytes()
    for shipped in (schemas / "oci").glob("*.json"):
        upstream = VECTORS / "oci-image-spec-v1.1.1" / shipped.name
        assert shipped.read_bytes() == upstream.read_bytes(), shipped.name


# --- OCI image manifest and index -----------------------------------------------------------


def test_spec_example_manifest_is_valid() -> None:
    validate_image_manifest(_load(VECTORS / "example-manifest.spec.md.json"))


def test_manifest_without_layer_digests_is_invalid() -> None:
    manifest = _load(VECTORS / "example-manifest.spec.md.json")
    for layer in manifest["layers"]:
        del layer["digest"]
    with pytest.raises(InputError) as exc:
        validate_image_manifest(manifest)
    assert "layers[0]: 'digest' is a required property" in exc.value.message
    assert "layers[3]: 'digest' is a required property" in exc.value.message


def test_manifest_with_subject_and_annotations_is_valid() -> None:
    manifest = _manifest()
    manifest["subject"] = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "digest": DIGEST, "size": 100}  # fmt: skip
    manifest["annotations"] = {"org.opencontainers.image.created": "2025-01-01T00:00:00Z"}
    validate_image_manifest(manifest)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda m: m.pop("layers"), "'layers' is a required property"),
        (lambda m: m.update(layers=[]), "layers: [] should be non-empty"),
        (lambda m: m.update(schemaVersion=1), "schemaVersion: 1 is less than the minimum"),
        (lambda m: m["config"].update(size="10"), "config.size: '10' is not of type 'integer'"),
        (lambda m: m["layers"][0].update(digest="sha256:ab\n"), "layers[0].digest"),
        (lambda m: m["layers"][0].update(digest="nocolon"), "layers[0].digest"),
        (lambda m: m["layers"][0].update(mediaType="weight"), "layers[0].mediaType"),
        (lambda m: m.update(annotations={"k": 1}), "annotations.k: 1 is not of type 'string'"),
        (lambda m: m.update(subject={"digest": DIGEST}), "subject: 'mediaType' is a required"),
    ],
)
def test_invalid_manifests(mutate: Any, expected: str) -> None:
    manifest = _manifest()
    mutate(manifest)
    with pytest.raises(InputError, match="invalid OCI image manifest") as exc:
        validate_image_manifest(manifest)
    assert expected in exc.value.message


def test_valid_index() -> None:
    validate_image_index({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": DIGEST,
             "size": 10, "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
             "annotations": {"dev.sigstore.bundle.content": "dsse-envelope"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": DIGEST,
             "size": 10, "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    })  # fmt: skip


def test_empty_index_is_valid() -> None:
    validate_image_index({"schemaVersion": 2, "manifests": []})


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        ({"schemaVersion": 2}, "'manifests' is a required property"),
        ({"schemaVersion": 2, "manifests": [{"mediaType": "a/b", "size": 1}]},
         "manifests[0]: 'digest' is a required property"),
        ({"schemaVersion": 2, "manifests": [{"mediaType": "a/b", "size": 1, "digest": DIGEST,
                                             "platform": {"os": "linux"}}]},
         "manifests[0].platform: 'architecture' is a required property"),
    ],
)  # fmt: skip
def test_invalid_indexes(index: dict[str, Any], expected: str) -> None:
    with pytest.raises(InputError, match="invalid OCI image index") as exc:
        validate_image_index(copy.deepcopy(index))
    assert expected in exc.value.message


def test_no_network_for_unknown_refs() -> None:
    # A $ref outside the shipped files must fail to resolve, never trigger an HTTP fetch.
    from referencing.exceptions import NoSuchResource

    with pytest.raises(NoSuchResource):
        config_schema._retrieve_oci("https://example.com/schema/defs.json")
    with pytest.raises(NoSuchResource):
        config_schema._retrieve_oci("https://opencontainers.org/schema/unknown.json")
