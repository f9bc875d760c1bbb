"""Bounded property-based fuzzing of every hostile-input reader (the long run is bench/fuzz.py).

Each reader returns or raises InputError: never another exception, never a hang. Crashes found
here or by bench/fuzz.py are kept as regression tests below (``@example``)."""

from __future__ import annotations

import json
import struct

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.hostile import fuzz_targets as ft

SUITE = settings(
    max_examples=50,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SUITE
@given(ft.mutated_manifests() | st.binary(max_size=200))
@example(b"[" * 100_000)
@example(b'{"layers": ' + b"[" * 5000 + b"]" * 5000 + b"}")
def test_manifest_and_index_parsers(data: bytes) -> None:
    ft.fuzz_manifest(data)


@SUITE
@given(ft.mutated_manifests())
@example(b'{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "sha256:0", "size": -1}}')
@example(  # found by bench/fuzz.py: the layer-count cap called len() on a non-list
    b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", '
    b'"artifactType": "application/vnd.cncf.model.manifest.v1+json", "config": {"mediaType": '
    b'"application/vnd.cncf.model.config.v1+json", "digest": "sha256:' + b"ab" * 32 + b'", '
    b'"size": 2}, "layers": true}'
)
def test_manifest_to_subject(data: bytes) -> None:
    ft.fuzz_subject(data)


@SUITE
@given(ft.json_values.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=100))
@example(b'{"descriptor": NaN}')
def test_config_parser(data: bytes) -> None:
    ft.fuzz_config(data)


@SUITE
@given(ft.safetensors_headers())
@example((b'{"w": {"dtype": "F32", "shape": [' + b"1," * 1000 + b'1], "data_offsets": [0, 4]}}', 4))
@example((b'{"w": {"dtype": "F32", "shape": [18446744073709551616], "data_offsets": [0, 4]}}', 4))
def test_safetensors_header_reader(case: tuple[bytes, int]) -> None:
    ft.fuzz_safetensors(*case)
    raw, data_size = case
    ft.fuzz_weight_file("safetensors", struct.pack("<Q", len(raw)) + raw + bytes(data_size % 64))


@SUITE
@given(st.binary(max_size=300))
def test_gguf_header_reader(data: bytes) -> None:
    ft.fuzz_gguf(data)


@SUITE
@given(st.binary(max_size=300))
@example(b"\x3a\x05\x0a\x03\x2a\x01\x00")
def test_onnx_reader(data: bytes) -> None:
    ft.fuzz_onnx(data)


@SUITE
@given(ft.yaml_texts)
@example("a: &x [*x]")
@example("a: " + "[" * 5000)
def test_front_matter(text: str) -> None:
    ft.fuzz_front_matter(text)


@SUITE
@given(ft.yaml_texts)
@example("a: &x 1\nb: *x")
def test_mot_yaml(text: str) -> None:
    ft.fuzz_mot_yaml(text)


@SUITE
@given(st.lists(ft.tar_entries, min_size=1, max_size=2))
@example([[("sym", "s", "."), ("sym", "p", "s/..")]])
@example([[("sym", "s", ".")], [("sym", "p", "s/s/s/..")]])
@example([[("dir", "d", ""), ("sym", "d/s", ".."), ("sym", "d/p", "s/..")]])
@example([[("sym", "a", "b"), ("sym", "b", "a")]])
@example([[("sym", "keep", "."), ("file", "keep/x", "y")]])
def test_tar_extraction(layers: list[list[tuple[str, str, str]]]) -> None:
    ft.fuzz_extract(layers)
