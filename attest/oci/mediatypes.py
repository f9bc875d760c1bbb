"""The one table of media types attest reads and writes: constants only.

What a ModelPack or KitOps media type or annotation *means* (layer kinds, namespaces, the
legacy ``cnai`` rewrite) is :mod:`attest.modelpack.media`'s job: ``oci/`` knows no models.
"""

from __future__ import annotations

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
