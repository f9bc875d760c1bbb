"""Read any ModelPack artifact into a :class:`Subject`.

Reading accepts the ``vnd.cncf`` and legacy ``vnd.cnai`` namespaces, raw and tar layers, and
KitOps ModelKits. A raw layer's digest *is* the file's sha256, so readers never re-hash it.
"""

from __future__ import annotations

import logging
from typing import Any

from attest import jsonio
from attest.errors import InputError
from attest.facts.subject import ModelLayer, Subject, repository_of
from attest.modelpack import media
from attest.modelpack.config_schema import validate_model_config
from attest.names import check_file_name
from attest.oci import limits
from attest.oci import mediatypes as mt
from attest.oci.config_schema import validate_image_manifest
from attest.oci.store import Descriptor, Manifest, Store, parse_json_object

log = logging.getLogger(__name__)


def read_subject(store: Store, target: str, reference: str | None = None) -> Subject:
    """Resolve ``target`` (tag or digest) in ``store`` and parse it as a model artifact."""
    fetched = store.get_manifest(target)
    reference = reference or f"{store.location}@{fetched.descriptor.digest}"
    return parse_subject(store, fetched, reference)


def parse_subject(store: Store, fetched: Manifest, reference: str) -> Subject:
    manifest = fetched.json()
    if fetched.descriptor.media_type in mt.INDEX_TYPES or "manifests" in manifest:
        raise InputError(f"{reference} is an image index, not a model artifact manifest")
    listed = manifest.get("layers")
    if isinstance(listed, list) and len(listed) > limits.MAX_LAYERS:
        raise InputError(
            f"{reference} has {len(listed)} layers; at most {limits.MAX_LAYERS} are read"
        )
    validate_image_manifest(manifest)
    config_desc = Descriptor.from_dict(manifest["config"])
    limits.check_declared_size(config_desc.size, limits.MAX_CONFIG_SIZE, f"config of {reference}")
    flavour = _flavour(manifest, config_desc.media_type)
    if flavour is None:
        raise InputError(
            f"{reference} is not a ModelPack or KitOps artifact "
            f"(artifactType {manifest.get('artifactType')!r}, config {config_desc.media_type!r})"
        )
    config = parse_json_object(store.fetch_blob(config_desc), f"config of {reference}")
    config_errors: list[str] = []
    if flavour == "modelpack":
        # Legacy cnai configs predate the current schema and KitOps has its own: only the
        # current namespace is held to the current schema. A config that fails it (AIKit's
        # packager writes `{}`) is reported and read as empty: the facts then come from the
        # layers themselves, and nothing downstream reads unchecked config fields.
        try:
            validate_model_config(config)
        except InputError as e:
            log.warning("%s: %s; reading the model from its layers only", reference, e.message)
            config_errors.append(e.message)
            config = {}
    layers = [_parse_layer(d, i, reference) for i, d in enumerate(manifest.get("layers") or [])]
    seen: dict[str, int] = {}
    for i, layer in enumerate(layers):
        if layer.path and layer.encoding == "raw":
            if layer.path in seen:
                raise InputError(
                    f"{reference}: layers {seen[layer.path]} and {i} both claim {layer.path!r}"
                )
            seen[layer.path] = i
    artifact_type = manifest.get("artifactType")
    return Subject(
        reference=reference,
        repository=repository_of(reference, store.location),
        digest=fetched.descriptor.digest,
        size=fetched.descriptor.size,
        media_type=fetched.descriptor.media_type,
        manifest_bytes=fetched.data,
        manifest=manifest,
        artifact_type=artifact_type if isinstance(artifact_type, str) else None,
        config_descriptor=config_desc,
        config=config,
        layers=layers,
        flavour=flavour,
        config_errors=config_errors,
    )


def _flavour(manifest: dict[str, Any], config_type: str) -> str | None:
    if config_type == mt.KITOPS_CONFIG:
        return "kitops"
    artifact_type = manifest.get("artifactType")
    if media.is_model_config(config_type) or media.is_model_artifact_type(artifact_type):
        return "modelpack-legacy" if ".cnai." in config_type else "modelpack"
    return None


def _parse_layer(raw: dict[str, Any], index: int, reference: str) -> ModelLayer:
    desc = Descriptor.from_dict(raw)
    parsed = media.parse_model_layer_type(desc.media_type)
    if parsed is None:
        raise InputError(f"{reference}: layer {index} has unknown media type {desc.media_type!r}")
    kind, encoding = parsed
    path = media.filepath_annotation(desc.annotations)
    if path is not None:
        path = check_file_name(path, f"layer {index} file path")
    meta_text = media.file_metadata_annotation(desc.annotations)
    metadata = None
    if meta_text:
        try:
            metadata = jsonio.loads_object(meta_text, "file metadata")
        except InputError as e:
            raise InputError(f"{reference}: layer {index} has malformed {e.message}") from None
    untested = (desc.annotations or {}).get(mt.ANNOTATION_UNTESTED) == "true"
    if encoding == "raw" and path is None:
        raise InputError(f"{reference}: raw layer {index} has no file path annotation")
    return ModelLayer(desc, kind, encoding, path, metadata, untested)
