"""The one Subject type: what pack/read give, what the OCI layer gets, what facts show."""

from __future__ import annotations

from pathlib import Path

import pytest

from attest.facts.subject import Subject
from attest.modelpack.facts import facts_for_subject
from attest.modelpack.pack import pack
from attest.modelpack.read import read_subject
from attest.oci import mediatypes as mt
from attest.oci.digest import DigestCache
from attest.oci.layout import LayoutStore
from attest.stages.statement import make_statement
from tests.helpers import make_model_dir


@pytest.fixture
def packed(tmp_path: Path) -> tuple[LayoutStore, Subject, str]:
    store = LayoutStore(tmp_path / "layout", create=True)
    model = make_model_dir(tmp_path / "model")
    pack(model, store, "v1", progress=False, cache=DigestCache.disabled())
    reference = f"oci:{tmp_path / 'layout'}:v1"
    return store, read_subject(store, "v1", reference), str(tmp_path / "layout")


def test_read_subject_holds_the_exact_manifest_and_its_layers(
    packed: tuple[LayoutStore, Subject, str],
) -> None:
    store, subject, layout = packed
    fetched = store.get_manifest("v1")
    assert subject.manifest_bytes == fetched.data
    assert (subject.digest, subject.size, subject.media_type) == (
        fetched.descriptor.digest, fetched.descriptor.size, mt.OCI_MANIFEST)  # fmt: skip
    assert subject.artifact_type == mt.MODEL_ARTIFACT_TYPE
    assert subject.repository == f"oci:{layout}"
    assert subject.config["modelfs"]["type"] == "layers"
    raw = {layer.path: layer for layer in subject.layers}
    assert set(raw) >= {"model.safetensors", "config.json", "README.md"}
    weight = raw["model.safetensors"]
    assert weight.digest == weight.file_sha256 and weight.size > 0
    assert weight.media_type == "application/vnd.cncf.model.weight.v1.raw"


def test_the_oci_layer_gets_the_descriptor(packed: tuple[LayoutStore, Subject, str]) -> None:
    store, subject, _ = packed
    assert subject.descriptor() == store.get_manifest(subject.digest).descriptor
    assert subject.descriptor().to_dict() == {
        "mediaType": mt.OCI_MANIFEST, "digest": subject.digest, "size": subject.size}  # fmt: skip


def test_facts_and_statements_take_the_subject_itself(
    packed: tuple[LayoutStore, Subject, str],
) -> None:
    store, subject, layout = packed
    facts = facts_for_subject(store, subject)
    assert facts.subject is subject
    # `attest facts --format json` keeps its subject shape (camelCase): no bytes, no layers
    assert facts.to_dict()["subject"] == {
        "reference": subject.reference, "repository": f"oci:{layout}", "digest": subject.digest,
        "mediaType": mt.OCI_MANIFEST, "size": subject.size, "annotations": {},
    }  # fmt: skip
    statement = make_statement(subject, "https://example.org/p/v1", {"x": 1})
    assert statement["subject"] == [
        {"name": f"oci:{layout}", "digest": {"sha256": subject.digest.removeprefix("sha256:")}}
    ]


def test_a_subject_that_is_no_model_has_no_config_and_no_layers() -> None:
    digest = "sha256:" + "ab" * 32
    bundle = Subject("r.example/p:v1", "r.example/p", digest, 10, mt.OCI_MANIFEST)
    assert (bundle.config, bundle.layers, bundle.annotations, bundle.flavour) == ({}, [], {}, "")
    assert bundle.descriptor().digest == digest
