"""Commands over OCI artifacts: digest, pack, inspect, pull, attach, referrers, copy."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import click

from attest.cli.app import cli
from attest.cli.common import (
    FORMAT,
    copy_registry_options,
    emit,
    referrers_mode_option,
    registry_options,
    store_for,
    subject_ref,
)
from attest.cli.login_options import current_login
from attest.errors import UsageError
from attest.humanize import human_size
from attest.oci import mediatypes as mt
from attest.oci.reference import parse_reference
from attest.oci.stores import DEFAULT_TAG, resolve_target


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--no-cache", is_flag=True, help="Neither read nor write the digest cache.")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Files hashed at once.")
@FORMAT
def digest(directory: Path, no_cache: bool, concurrency: int | None, fmt: str) -> None:
    """Print the sha256 of every file of a model directory (parallel, cached)."""
    from attest.modelpack.files import list_model_files
    from attest.oci.digest import DigestCache, digest_files

    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    cache = DigestCache.disabled() if no_cache else DigestCache.default()
    files = digest_files(directory, list_model_files(directory), workers=concurrency, cache=cache)
    emit(
        fmt,
        [{"path": f.path, "size": f.size, "digest": f.digest} for f in files],
        lambda: "\n".join(f"{f.digest.split(':', 1)[1]}  {f.path}" for f in files),
    )


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--to", "to", required=True, help="Where to push: oci:PATH[:TAG] or HOST/REPO[:TAG].")
@click.option("--modelfile", type=click.Path(dir_okay=False, path_type=Path),
              help="A modctl Modelfile (default: DIRECTORY/Modelfile when present).")  # fmt: skip
@click.option("--name", help="Model name in the config (default: Modelfile NAME or directory).")
@click.option("--no-creation-time", is_flag=True, help="Omit createdAt: reproducible digests.")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Files hashed at once.")
@click.option("--media-types", type=click.Choice(["cncf", "cnai"]), default="cncf",
              show_default=True,
              help="cnai: the legacy namespace (Harbor <= 2.15, modctl v0.2.2).")  # fmt: skip
@registry_options
@FORMAT
def pack(
    directory: Path,
    to: str,
    modelfile: Path | None,
    name: str | None,
    no_creation_time: bool,
    concurrency: int | None,
    media_types: str,
    plain_http: bool,
    insecure: bool,
    fmt: str,
) -> None:
    """Pack a model directory into a ModelPack artifact, one raw layer per file."""
    from attest.modelpack.pack import pack as pack_model

    ref = parse_reference(to)
    if ref.digest:
        raise UsageError(f"--to {to}: a pack target takes a tag, not a digest")
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    ref = ref if ref.tag else ref.with_tag(DEFAULT_TAG)
    store = store_for(ref, plain_http, insecure, create=True)
    result = pack_model(
        directory,
        store,
        ref.tag,
        modelfile_path=modelfile,
        name=name,
        creation_time=not no_creation_time,
        workers=concurrency,
        media_types=media_types,
    )
    out = {
        "reference": subject_ref(ref, result.descriptor.digest),
        "digest": result.descriptor.digest,
        "mediaType": result.descriptor.media_type,
        "size": result.descriptor.size,
        "layers": len(result.manifest["layers"]),
        "blobsUploaded": result.blobs_uploaded,
        "config": result.config,
    }
    emit(fmt, out, lambda: f"{out['reference']}\n{out['digest']}")


@cli.command()
@click.argument("reference")
@registry_options
@FORMAT
def inspect(reference: str, plain_http: bool, insecure: bool, fmt: str) -> None:
    """Show a ModelPack artifact (cncf or legacy cnai) or KitOps ModelKit: files, roles, config."""
    from attest.modelpack.read import read_subject

    ref = parse_reference(reference)
    store = store_for(ref, plain_http, insecure)
    subject = read_subject(store, resolve_target(store, ref), reference)
    emit(fmt, subject.to_dict(), lambda: _inspect_text(subject))


def _inspect_text(subject: Any) -> str:
    from attest.text import safe as p  # config values and paths come from outside

    cfg = subject.config
    lines = [
        f"Reference:  {p(subject.reference)}",
        f"Digest:     {p(subject.digest)}",
        f"Type:       {subject.flavour} ({p(subject.manifest.get('artifactType') or '-')})",
    ]
    desc = cfg.get("descriptor") or {}
    model = cfg.get("config") or {}
    for label, value in (
        ("Name", desc.get("name")),
        ("Created", desc.get("createdAt")),
        ("Family", desc.get("family")),
        ("Format", model.get("format")),
        ("Architecture", model.get("architecture")),
        ("Parameters", model.get("paramSize")),
        ("Precision", model.get("precision")),
        ("Quantization", model.get("quantization")),
    ):
        if value:
            lines.append(f"{label + ':':<12}{p(value)}")
    total = sum(layer.descriptor.size for layer in subject.layers)
    lines.append(f"Files:      {len(subject.layers)} layers, {human_size(total)}")
    paths = [p(layer.path or "-") for layer in subject.layers]
    width = max((len(path) for path in paths), default=4)
    lines.append(f"  {'PATH':<{width}}  {'ROLE':<13} {'SIZE':>10}  DIGEST")
    for path, layer in zip(paths, subject.layers, strict=True):
        role = p(layer.kind + ("" if layer.encoding == "raw" else f" ({layer.encoding})"))
        lines.append(
            f"  {path:<{width}}  {role:<13} {human_size(layer.descriptor.size):>10}"
            f"  {p(layer.descriptor.digest)}"
        )
    return "\n".join(lines)


@cli.command()
@click.argument("reference")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the model's files into.")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace files that already exist.")
@click.option("--max-expand", "max_expand", metavar="SIZE", default=None,
              help="Most bytes one tar layer may expand to (e.g. 200G). Default: the size in "
                   "the layer's file metadata, else max(64M, 32 x the layer's size).")  # fmt: skip
@registry_options
@FORMAT
def pull(reference: str, output: Path, overwrite: bool, max_expand: str | None,
         plain_http: bool, insecure: bool, fmt: str) -> None:  # fmt: skip
    """Extract a model artifact's files into a directory (never writing outside it)."""
    from attest.humanize import parse_size
    from attest.modelpack.pull import pull as pull_files
    from attest.modelpack.read import read_subject

    try:
        cap = parse_size(max_expand) if max_expand is not None else None
    except ValueError:
        raise UsageError(f"--max-expand {max_expand!r} is not a size (e.g. 500M, 20G)") from None
    ref = parse_reference(reference)
    store = store_for(ref, plain_http, insecure)
    subject = read_subject(store, resolve_target(store, ref), reference)
    written = pull_files(subject, store, output, overwrite=overwrite, max_expand=cap,
                         progress=None)
    emit(
        fmt,
        {"reference": reference, "digest": subject.digest, "output": str(output), "files": written},
        lambda: f"{len(written)} files from {subject.digest} written to {output}",
    )


def _parse_annotations(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--annotation {pair!r}: expected KEY=VALUE")
        out[key] = value
    return out


def _guess_media_type(path: Path) -> str:
    known = {
        ".json": "application/json",
        ".md": "text/markdown",
        ".html": "text/html",
        ".yaml": "application/yaml",
        ".yml": "application/yaml",
        ".txt": "text/plain",
    }
    return (
        known.get(path.suffix.lower())
        or mimetypes.guess_type(path.name)[0]
        or ("application/octet-stream")
    )


@cli.command()
@click.argument("reference")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--artifact-type", required=True, help="artifactType of the referrer manifest.")
@click.option("--media-type", help="Media type of the file's layer (default: from its extension).")
@click.option("--annotation", "annotations", multiple=True, metavar="KEY=VALUE",
              help="Manifest annotation (repeatable).")  # fmt: skip
@registry_options
@referrers_mode_option
@FORMAT
def attach(
    reference: str,
    file: Path,
    artifact_type: str,
    media_type: str | None,
    annotations: tuple[str, ...],
    plain_http: bool,
    insecure: bool,
    referrers_mode: str,
    fmt: str,
) -> None:
    """Attach FILE to an artifact as an OCI 1.1 referrer (fallback tag where there is no API)."""
    from attest.oci.digest import sha256_file
    from attest.oci.referrers import Blob
    from attest.oci.referrers import attach as attach_blob
    from attest.oci.store import Descriptor

    notes = _parse_annotations(annotations)
    ref = parse_reference(reference)
    store = store_for(ref, plain_http, insecure)
    subject = store.get_manifest(resolve_target(store, ref)).descriptor
    layer = Descriptor(
        media_type or _guess_media_type(file),
        sha256_file(file),
        file.stat().st_size,
        annotations={mt.ANNOTATION_TITLE: file.name},
    )
    desc = attach_blob(
        store,
        subject,
        artifact_type,
        [Blob(layer, file)],
        notes,
        mode=referrers_mode,  # type: ignore[arg-type]
    )
    out = {
        "reference": subject_ref(ref.with_tag(None), desc.digest),
        "digest": desc.digest,
        "subject": subject.digest,
        "artifactType": artifact_type,
    }
    emit(fmt, out, lambda: f"{out['reference']}\n{desc.digest}")


@cli.command()
@click.argument("reference")
@click.option("--artifact-type", help="Only referrers of this artifactType.")
@click.option("--recursive", is_flag=True, help="Also list referrers of referrers.")
@registry_options
@referrers_mode_option
@FORMAT
def referrers(
    reference: str,
    artifact_type: str | None,
    recursive: bool,
    plain_http: bool,
    insecure: bool,
    referrers_mode: str,
    fmt: str,
) -> None:
    """List the referrers of an artifact (each checked to point at it)."""
    from attest.oci.referrers import discover
    from attest.text import safe

    ref = parse_reference(reference)
    store = store_for(ref, plain_http, insecure)
    subject = store.get_manifest(resolve_target(store, ref)).descriptor

    def walk(digest: str, depth: int) -> list[dict[str, Any]]:
        out = []
        for r in discover(store, digest, artifact_type=None if depth else artifact_type,
                          mode=referrers_mode):  # type: ignore[arg-type]  # fmt: skip
            entry = r.to_dict()
            if recursive:
                entry["referrers"] = walk(r.descriptor.digest, depth + 1)
            out.append(entry)
        return out

    found = walk(subject.digest, 0)

    def text() -> str:
        if not found:
            return f"no referrers of {subject.digest}"
        lines: list[str] = []

        def show(entries: list[dict[str, Any]], indent: int) -> None:
            for e in entries:  # an index entry's fields are whatever its writer put there
                what = safe(e.get("artifactType") or "-")
                lines.append(f"{'  ' * indent}{safe(e['digest'])}  {what}")
                show(e.get("referrers", []), indent + 1)

        show(found, 0)
        return "\n".join(lines)

    emit(fmt, {"subject": subject.digest, "referrers": found}, text)


@cli.command()
@click.argument("source")
@click.argument("destination")
@click.option("--no-referrers", is_flag=True, help="Copy the artifact only, not its referrers.")
@copy_registry_options
@referrers_mode_option
@FORMAT
def copy(
    source: str,
    destination: str,
    no_referrers: bool,
    plain_http: bool,
    insecure: bool,
    from_plain_http: bool,
    from_insecure: bool,
    to_plain_http: bool,
    to_insecure: bool,
    referrers_mode: str,
    fmt: str,
) -> None:
    """Copy an artifact and all its referrers (recursively) between stores, byte for byte.

    Each side has its own registry flags (--from-*, --to-*); the plain ones apply to both.
    See docs/registry-auth.md.

    \b
    Example:
      printf %s "$SRC_TOKEN" | attest copy src.example/models/llm:v1 dst.example/llm:v1 \\
        --from-username robot --from-password-stdin --to-registry-config dst-config.json
    """
    from attest.oci.copy import copy_artifact

    src_ref, dst_ref = parse_reference(source), parse_reference(destination)
    if dst_ref.digest:
        raise UsageError(f"destination {destination}: give a tag (or nothing), not a digest")
    src = store_for(src_ref, plain_http or from_plain_http, insecure or from_insecure,
                    login=current_login("from"))  # fmt: skip
    dst = store_for(dst_ref, plain_http or to_plain_http, insecure or to_insecure, create=True,
                    login=current_login("to"))  # fmt: skip
    target = resolve_target(src, src_ref)
    # the source's tag carries over; a digest is no tag (a tag never holds ':', a digest does)
    tag = dst_ref.tag or (target if ":" not in target else DEFAULT_TAG)
    root, stats = copy_artifact(
        src, target, dst, tag, referrers=not no_referrers, progress=None,
        src_mode=referrers_mode, dst_mode=referrers_mode,  # type: ignore[arg-type]
    )  # fmt: skip
    out = {
        "reference": subject_ref(dst_ref.with_tag(tag), root.digest),
        "digest": root.digest,
        "manifests": stats.manifests,
        "referrers": stats.referrers,
        "blobsCopied": stats.blobs_copied,
        "blobsSkipped": stats.blobs_skipped,
        "bytesCopied": stats.bytes_copied,
    }
    emit(
        fmt,
        out,
        lambda: (
            f"{out['reference']}\n{root.digest}\ncopied {stats.manifests} manifests "
            f"({len(stats.referrers)} referrers), {stats.blobs_copied} blobs "
            f"({human_size(stats.bytes_copied)}), {stats.blobs_skipped} already present"
        ),
    )
