"""ModelPack artifacts: pack a model directory (as modctl does) and read any ModelPack artifact.

Reading accepts the ``vnd.cncf`` and legacy ``vnd.cnai`` namespaces, raw and tar layers, and
KitOps ModelKits. A raw layer's digest *is* the file's sha256, so readers never re-hash it.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import posixpath
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, cast

from attest import jsonio
from attest.errors import InputError
from attest.facts.safetensors import (
    format_param_size,
    precision_from_dtypes,
)
from attest.names import check_file_name
from attest.oci import limits
from attest.oci import mediatypes as mt
from attest.oci.config_schema import validate_image_manifest, validate_model_config
from attest.oci.digest import DigestCache, FileDigest, digest_files
from attest.oci.layout import LayoutStore
from attest.oci.modelfile import Modelfile, classify_files, load_modelfile
from attest.oci.parallel import run_largest_first
from attest.oci.store import Descriptor, Manifest, Store, parse_json_object
from attest.progress import Progress, ProgressReader

# Formats by weight-file extension, as the ModelPack config's `format` names them.
WEIGHT_FORMATS = {
    ".safetensors": "safetensors",
    ".gguf": "gguf",
    ".onnx": "onnx",
    ".pt": "pt",
    ".pth": "pt",
    ".bin": "pt",
    ".jit": "pt",  # TorchScript (torch.jit.save): a zip like torch.save's, with code/
    ".h5": "h5",
    ".keras": "keras",
    ".pb": "tensorflow",
    ".tflite": "tflite",
    ".mlmodel": "coreml",
    ".msgpack": "flax",
    ".npz": "npz",
    ".pkl": "pickle",
    ".ckpt": "ckpt",
}


log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ModelLayer:
    """One layer of a ModelPack artifact, with the file it carries."""

    descriptor: Descriptor
    kind: str  # weight | weight.config | doc | code | dataset
    encoding: str  # raw | tar | tar+gzip | tar+zstd
    path: str | None  # org.cncf.model.filepath (relative, checked not to escape)
    metadata: dict[str, Any] | None = None
    untested: bool = False

    @property
    def file_sha256(self) -> str | None:
        """The file's sha256: the layer digest itself for raw layers, unknown for tars."""
        return self.descriptor.digest if self.encoding == "raw" else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "encoding": self.encoding,
            "mediaType": self.descriptor.media_type,
            "digest": self.descriptor.digest,
            "size": self.descriptor.size,
            "untested": self.untested,
        }


@dataclass
class Subject:
    """A resolved ModelPack (or KitOps) artifact: exact manifest bytes and what they name."""

    reference: str
    descriptor: Descriptor
    manifest_bytes: bytes = field(repr=False)
    manifest: dict[str, Any] = field(repr=False)
    config_descriptor: Descriptor
    config: dict[str, Any]
    layers: list[ModelLayer]
    flavour: str  # "modelpack", "modelpack-legacy" (cnai), "kitops"
    config_errors: list[str] = field(default_factory=list)  # why the config was not used

    @property
    def digest(self) -> str:
        return self.descriptor.digest

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.manifest.get("annotations") or {})

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "digest": self.descriptor.digest,
            "mediaType": self.descriptor.media_type,
            "size": self.descriptor.size,
            "artifactType": self.manifest.get("artifactType"),
            "flavour": self.flavour,
            "config": self.config,
            "annotations": self.annotations,
            "layers": [layer.to_dict() for layer in self.layers],
            **({"configErrors": self.config_errors} if self.config_errors else {}),
        }


# -- paths ------------------------------------------------------------------------------------


def safe_relpath(path: str, what: str = "file path") -> str:
    """Normalise a relative POSIX path from an artifact; reject anything that could escape
    (the one name rule, :func:`attest.names.check_file_name`)."""
    return check_file_name(path, what)


# -- reading ----------------------------------------------------------------------------------


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
    return Subject(
        reference=reference,
        descriptor=fetched.descriptor,
        manifest_bytes=fetched.data,
        manifest=manifest,
        config_descriptor=config_desc,
        config=config,
        layers=layers,
        flavour=flavour,
        config_errors=config_errors,
    )


def _flavour(manifest: dict[str, Any], config_type: str) -> str | None:
    if config_type == mt.KITOPS_CONFIG:
        return "kitops"
    if mt.is_model_config(config_type) or mt.is_model_artifact_type(manifest.get("artifactType")):
        return "modelpack-legacy" if ".cnai." in config_type else "modelpack"
    return None


def _parse_layer(raw: dict[str, Any], index: int, reference: str) -> ModelLayer:
    desc = Descriptor.from_dict(raw)
    parsed = mt.parse_model_layer_type(desc.media_type)
    if parsed is None:
        raise InputError(f"{reference}: layer {index} has unknown media type {desc.media_type!r}")
    kind, encoding = parsed
    path = mt.filepath_annotation(desc.annotations)
    if path is not None:
        path = safe_relpath(path, f"layer {index} file path")
    meta_text = mt.file_metadata_annotation(desc.annotations)
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


# -- packing ----------------------------------------------------------------------------------


@dataclass
class PackResult:
    descriptor: Descriptor
    manifest: dict[str, Any]
    config: dict[str, Any]
    files: list[FileDigest]
    blobs_uploaded: int = 0


def list_model_files(root: Path) -> list[str]:
    """Relative POSIX paths of the files to pack, sorted; hidden files and dirs skipped (as
    modctl does: .git, .cache...). Symlinks are followed only when they stay inside ``root``."""
    root_real = root.resolve()
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                try:  # as the kernel resolves it; a loop is bad input, not a crash
                    target = Path(os.path.realpath(full, strict=True))
                except OSError as e:
                    if e.errno == errno.ELOOP:
                        raise InputError(f"{rel} is a symlink loop; refusing it") from None
                    continue  # dangling: nothing to pack
                if not target.is_relative_to(root_real):
                    raise InputError(f"{rel} is a symlink pointing outside {root}: {target}")
            if not full.is_file():
                continue  # sockets, fifos, dangling links
            # The rule every reader applies: never publish what pull/facts would refuse.
            check_file_name(rel, f"cannot pack {root}: file name")
            found.append(rel)
    return sorted(found)


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _file_metadata(path: Path, rel: str, clamp: int | None) -> str:
    st = path.stat()
    mtime = st.st_mtime if clamp is None else min(st.st_mtime, clamp)
    meta = {
        "name": posixpath.basename(rel),
        "mode": stat.S_IMODE(st.st_mode),
        "uid": st.st_uid if clamp is None else 0,
        "gid": st.st_gid if clamp is None else 0,
        "size": st.st_size,
        "mtime": _rfc3339(mtime),
        "typeflag": ord("0"),  # tar.TypeReg, as modctl writes it
    }
    return json.dumps(meta, separators=(",", ":"))


def _source_date_epoch() -> int | None:
    """reproducible-builds.org: with SOURCE_DATE_EPOCH set, clamp file times, drop uid/gid."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InputError(f"SOURCE_DATE_EPOCH={value!r} is not an integer") from None


def _weight_facts(root: Path, weights: list[str]) -> dict[str, Any]:
    """format, paramSize, precision and quantization from the weights' headers only, read by
    the facts readers and counted by the same rule the SBOMs and cards use (never the weights)."""
    from attest.facts.model import model_parameter_count  # facts imports this module
    from attest.facts.weights import (
        HEADER_FORMATS,
        HeaderNotRead,
        capture_header,
        weight_facts,
        weight_format,
    )

    facts: dict[str, Any] = {}
    suffixes = {Path(w).suffix.lower() for w in weights}
    formats = sorted({WEIGHT_FORMATS[s] for s in suffixes if s in WEIGHT_FORMATS})
    if formats:
        facts["format"] = ",".join(formats)
    read = []
    for rel in weights:
        fmt = weight_format(rel)
        if fmt not in HEADER_FORMATS:
            continue
        size = (root / rel).stat().st_size
        try:
            with open(root / rel, "rb") as stream:
                head = capture_header(fmt, stream, path=rel, size=size)
            read.append(weight_facts(fmt, head, path=rel, size=size))
        except HeaderNotRead:
            continue  # e.g. ONNX without the onnx extra: the config just says less
    params = model_parameter_count(read)
    if params:
        facts["paramSize"] = format_param_size(params)
    dtypes = {t for w in read if w.format != "gguf" for t in w.dtypes}
    if dtypes:
        facts["precision"] = precision_from_dtypes(dtypes)
    quantizations = {w.quantization for w in read if w.quantization}
    if quantizations:
        facts["quantization"] = ",".join(sorted(quantizations))
    return facts


def build_config(
    name: str,
    modelfile: Modelfile | None,
    weight_facts: dict[str, Any],
    diff_ids: list[str],
    created_at: str | None,
) -> dict[str, Any]:
    descriptor: dict[str, Any] = {"name": name}
    if created_at:
        descriptor["createdAt"] = created_at
    if modelfile and modelfile.family:
        descriptor["family"] = modelfile.family
    config: dict[str, Any] = dict(weight_facts)
    if modelfile:
        declared = {
            "architecture": modelfile.arch,
            "format": modelfile.format,
            "paramSize": modelfile.param_size,
            "precision": modelfile.precision,
            "quantization": modelfile.quantization,
        }
        config.update({k: v for k, v in declared.items() if v})  # the Modelfile wins
    return {
        "descriptor": descriptor,
        "config": config,
        "modelfs": {"type": "layers", "diffIds": diff_ids},
    }


def pack(
    source: Path,
    store: Store,
    tag: str | None,
    *,
    modelfile_path: Path | None = None,
    name: str | None = None,
    creation_time: bool = True,
    progress: bool | None = None,
    workers: int | None = None,
    cache: DigestCache | None = None,
    on_upload: Callable[[str, bool], None] | None = None,
    media_types: str = "cncf",
) -> PackResult:
    """Pack directory ``source`` into ``store`` as a ModelPack artifact (one raw layer a file).

    Everything is checked before anything is written: the config must pass the schema, every
    path must stay inside ``source``. Blobs go first, the manifest last, so a failure leaves
    no tag pointing at a half-pushed artifact.
    """
    if not source.is_dir():
        raise InputError(f"{source} is not a directory")
    modelfile = None
    if modelfile_path is None and (source / "Modelfile").is_file():
        modelfile_path = source / "Modelfile"
    if modelfile_path is not None:
        modelfile = load_modelfile(modelfile_path)
    rels = list_model_files(source)
    if modelfile_path is not None and modelfile_path.resolve().parent == source.resolve():
        rels = [r for r in rels if r != modelfile_path.name]  # stored as an annotation instead
    if not rels:
        raise InputError(f"{source} has no files to pack")
    # modctl's fallback needs sizes: an unmatched file over 128 MB is a weight, else code.
    sizes = {rel: (source / rel).stat().st_size for rel in rels}
    classified = classify_files(rels, modelfile, sizes=sizes)
    files = [c[0] for c in classified]
    digests = digest_files(source, files, workers=workers, cache=cache, progress=progress)
    weights = [path for path, kind, _ in classified if kind == "weight"]
    clamp = _source_date_epoch()

    layers: list[Descriptor] = []
    for (rel, kind, untested), fd in zip(classified, digests, strict=True):
        annotations = {
            mt.ANNOTATION_FILEPATH: rel,
            mt.ANNOTATION_FILE_METADATA: _file_metadata(source / rel, rel, clamp),
        }
        if untested:
            annotations[mt.ANNOTATION_UNTESTED] = "true"
        layers.append(Descriptor(mt.model_layer_type(kind, "raw"), fd.digest, fd.size, annotations))

    created_at = None
    if creation_time:
        now = datetime.now(timezone.utc).timestamp()
        created_at = _rfc3339(clamp if clamp is not None else now)
    model_name = (
        name
        or (modelfile.name if modelfile and modelfile.name else None)
        or (source.resolve().name)
    )
    diff_ids = [d.digest for d in layers]  # raw layers: the uncompressed content is the blob
    config = build_config(
        model_name, modelfile, _weight_facts(source, weights), diff_ids, created_at
    )
    validate_model_config(config)
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    config_desc = Descriptor.for_bytes(mt.MODEL_CONFIG, config_bytes)

    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": mt.MODEL_ARTIFACT_TYPE,
        "config": config_desc.to_dict(),
        "layers": [d.to_dict() for d in layers],
    }
    if modelfile is not None:
        manifest["annotations"] = {mt.ANNOTATION_MODELFILE: modelfile.text}
    if media_types == "cnai":  # Harbor <= 2.15 shows only the legacy namespace as a model
        manifest = mt.to_legacy_namespace(manifest)
    validate_image_manifest(manifest)
    manifest_bytes = json.dumps(manifest, indent=2).encode()

    with Progress(sum(d.size for d in layers), "push", enabled=progress) as bar:

        def push_one(item: tuple[str, Descriptor]) -> bool:
            rel, desc = item
            if isinstance(store, LayoutStore):
                # Local to local: the kernel copies (copy_file_range); the digest was just
                # computed from this file (or its cache entry), so it is not hashed again.
                pushed = store.push_file(desc, source / rel, progress=bar)
            else:
                with open(source / rel, "rb") as stream:
                    pushed = store.push_blob(desc, cast(IO[bytes], ProgressReader(stream, bar)))
            if not pushed:
                bar.advance(desc.size)  # already there: done without a byte sent
            if on_upload:
                on_upload(rel, pushed)
            return pushed

        items = list(zip(files, layers, strict=True))
        pushed = run_largest_first(items, lambda item: item[1].size, push_one)
    uploaded = sum(pushed)
    uploaded += store.push_blob(config_desc, io.BytesIO(config_bytes))
    result = store.push_manifest(manifest_bytes, mt.OCI_MANIFEST, tag=tag)
    return PackResult(result.descriptor, manifest, config, digests, uploaded)
