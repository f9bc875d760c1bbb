"""Pack a model directory into a ModelPack artifact, as modctl does (one raw layer a file).

The config's facts (format, paramSize, precision, quantization) are read by the facts readers
and counted by the rule the SBOMs and cards use, so the config and the evidence cannot disagree.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, cast

from attest.errors import InputError
from attest.facts.model import model_parameter_count
from attest.facts.safetensors import format_param_size, precision_from_dtypes
from attest.facts.weights import (
    HEADER_FORMATS,
    WEIGHT_FORMATS,
    HeaderNotRead,
    capture_header,
    weight_facts,
    weight_format,
)
from attest.modelpack import media
from attest.modelpack.config_schema import validate_model_config
from attest.modelpack.files import list_model_files
from attest.modelpack.modelfile import Modelfile, classify_files, load_modelfile
from attest.oci import mediatypes as mt
from attest.oci.config_schema import validate_image_manifest
from attest.oci.digest import DigestCache, FileDigest, digest_files
from attest.oci.layout import LayoutStore
from attest.oci.parallel import run_largest_first
from attest.oci.store import Descriptor, Store
from attest.progress import Progress, ProgressReader


@dataclass
class PackResult:
    descriptor: Descriptor
    manifest: dict[str, Any]
    config: dict[str, Any]
    files: list[FileDigest]
    blobs_uploaded: int = 0


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
        media_type = media.model_layer_type(kind, "raw")
        layers.append(Descriptor(media_type, fd.digest, fd.size, annotations))

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
        manifest = media.to_legacy_namespace(manifest)
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
