"""The one table of media types attest reads and writes."""

from __future__ import annotations

from typing import Any

# OCI image-spec v1.1
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYOUT_VERSION = "1.0.0"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"

MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
ALL_MANIFEST_TYPES = MANIFEST_TYPES + INDEX_TYPES

# The empty descriptor (image-spec 1.1): config of artifacts that have none.
EMPTY_JSON = b"{}"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
EMPTY_DESCRIPTOR = {"mediaType": OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2}

# Annotation keys
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
ANNOTATION_CREATED = "org.opencontainers.image.created"

# CNCF ModelPack. Writers emit `cncf`; readers accept the legacy `cnai` namespace too.
MODEL_NAMESPACES = ("cncf", "cnai")
MODEL_ARTIFACT_TYPE = "application/vnd.cncf.model.manifest.v1+json"
MODEL_CONFIG = "application/vnd.cncf.model.config.v1+json"
MODEL_LAYER_KINDS = ("weight", "weight.config", "doc", "code", "dataset")
MODEL_LAYER_ENCODINGS = ("raw", "tar", "tar+gzip", "tar+zstd")
ANNOTATION_FILEPATH = "org.cncf.model.filepath"
ANNOTATION_FILE_METADATA = "org.cncf.model.file.metadata+json"
ANNOTATION_UNTESTED = "org.cncf.model.file.mediatype.untested"
ANNOTATION_MODELFILE = "org.cncf.modctl.modelfile"

# KitOps ModelKits
KITOPS_CONFIG = "application/vnd.kitops.modelkit.config.v1+json"
KITOPS_KINDS = {
    "model": "weight",
    "modelpart": "weight",
    "dataset": "dataset",
    "code": "code",
    "docs": "doc",
}
ANNOTATION_KITFILE = "ml.kitops.modelkit.kitfile"
ANNOTATION_KIT_FILEPATH = "ml.kitops.modelkit.layer.path"

# Sigstore / evidence (annotation keys and predicate types: attest.evidence.table)
SIGSTORE_BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
# Older bundle versions a reader may meet (cosign and sigstore-js wrote them before v0.3).
SIGSTORE_BUNDLE_LEGACY = (
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
)
INTOTO_JSON = "application/vnd.in-toto+json"  # an in-toto statement; also the DSSE payload type
CYCLONEDX_JSON = "application/vnd.cyclonedx+json"
SPDX_JSON = "application/spdx+json"
MOT_YAML = "application/yaml"  # the MOF document (a Model Openness Tool YAML)
MOT_YAML_ARTIFACT_TYPE = "application/vnd.attest.mof.config.v1+yaml"
MARKDOWN = "text/markdown"
HTML = "text/html"
ANNOTATION_TITLE = "org.opencontainers.image.title"
# Plain OCI image parts (an OPA policy bundle is an image: config {} and a tar+gzip layer).
OCI_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

# Notary Project (notation) signatures: the referrer's artifactType, or its config.mediaType in
# the legacy form; one layer, the envelope (JWS or COSE); the signed payload's type.
NOTATION_SIGNATURE = "application/vnd.cncf.notary.signature"
NOTATION_JWS = "application/jose+json"
NOTATION_COSE = "application/cose"
NOTATION_ENVELOPES = (NOTATION_JWS, NOTATION_COSE)
NOTATION_PAYLOAD = "application/vnd.cncf.notary.payload.v1+json"
ANNOTATION_NOTATION_THUMBPRINTS = "io.cncf.notary.x509chain.thumbprint#S256"


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
