"""What ModelPack and KitOps media types and annotations mean: layer kinds and encodings, the
``cncf``/legacy ``cnai`` namespaces, KitOps' layer names, where a layer names its file.

The media-type strings themselves are in the one table, :mod:`attest.oci.mediatypes`.
"""

from __future__ import annotations

from typing import Any

from attest.oci.mediatypes import (
    ANNOTATION_FILE_METADATA,
    ANNOTATION_FILEPATH,
    ANNOTATION_KIT_FILEPATH,
    MODEL_LAYER_ENCODINGS,
    MODEL_LAYER_KINDS,
    MODEL_NAMESPACES,
)

# KitOps layer names -> ModelPack layer kinds.
KITOPS_KINDS = {
    "model": "weight",
    "modelpart": "weight",
    "dataset": "dataset",
    "code": "code",
    "docs": "doc",
}


def model_layer_type(kind: str, encoding: str = "raw") -> str:
    """The media type a writer emits for a ModelPack layer of ``kind`` and ``encoding``."""
    if kind not in MODEL_LAYER_KINDS or encoding not in MODEL_LAYER_ENCODINGS:
        raise ValueError(f"unknown ModelPack layer kind/encoding: {kind!r}/{encoding!r}")
    return f"application/vnd.cncf.model.{kind}.v1.{encoding}"


def parse_model_layer_type(media_type: str) -> tuple[str, str] | None:
    """``(kind, encoding)`` of a ModelPack (cncf or cnai) or KitOps layer media type, else None."""
    for ns in MODEL_NAMESPACES:
        prefix = f"application/vnd.{ns}.model."
        if media_type.startswith(prefix):
            rest = media_type[len(prefix) :]
            kind, sep, encoding = rest.partition(".v1.")
            if sep and kind in MODEL_LAYER_KINDS and encoding in MODEL_LAYER_ENCODINGS:
                return kind, encoding
            return None
    prefix = "application/vnd.kitops.modelkit."
    if media_type.startswith(prefix):
        kit_kind, sep, encoding = media_type[len(prefix) :].partition(".v1.")
        if sep and kit_kind in KITOPS_KINDS and encoding in MODEL_LAYER_ENCODINGS:
            return KITOPS_KINDS[kit_kind], encoding
    return None


def is_model_config(media_type: str) -> bool:
    return media_type in {f"application/vnd.{ns}.model.config.v1+json" for ns in MODEL_NAMESPACES}


def is_model_artifact_type(media_type: str | None) -> bool:
    return media_type in {f"application/vnd.{ns}.model.manifest.v1+json" for ns in MODEL_NAMESPACES}


def filepath_annotation(annotations: dict[str, str] | None) -> str | None:
    """The file path a layer carries, under the cncf, cnai or KitOps annotation key."""
    if not annotations:
        return None
    for key in (ANNOTATION_FILEPATH, "org.cnai.model.filepath", ANNOTATION_KIT_FILEPATH):
        if key in annotations:
            return annotations[key]
    return None


def file_metadata_annotation(annotations: dict[str, str] | None) -> str | None:
    if not annotations:
        return None
    for key in (ANNOTATION_FILE_METADATA, "org.cnai.model.file.metadata+json"):
        if key in annotations:
            return annotations[key]
    return None


def to_legacy_namespace(manifest: dict[str, Any]) -> dict[str, Any]:
    """The same ModelPack manifest in the legacy ``cnai`` namespace (``attest pack --media-types
    cnai``): what Harbor up to 2.15 and modctl v0.2.2 recognise. Every media type and
    annotation key moves from ``vnd.cncf``/``org.cncf`` to ``vnd.cnai``/``org.cnai``; values,
    digests and the config document are unchanged."""

    def move(text: str) -> str:
        return text.replace("application/vnd.cncf.model.", "application/vnd.cnai.model.", 1) \
            .replace("org.cncf.", "org.cnai.", 1)

    def keys(notes: dict[str, str] | None) -> dict[str, str] | None:
        return None if notes is None else {move(k): v for k, v in notes.items()}

    out = dict(manifest)
    if "artifactType" in out:
        out["artifactType"] = move(out["artifactType"])
    out["config"] = {**out["config"], "mediaType": move(out["config"]["mediaType"])}
    out["layers"] = [
        {**layer, "mediaType": move(layer["mediaType"]),
         **({"annotations": keys(layer["annotations"])} if "annotations" in layer else {})}
        for layer in out["layers"]
    ]  # fmt: skip
    if "annotations" in out:
        out["annotations"] = keys(out["annotations"])
    return out
