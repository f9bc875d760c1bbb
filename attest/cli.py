"""The `attest` command line: a click group whose commands are thin shells over one module each.

Data goes to stdout (``--format json`` on every reporting command); logs, progress and errors
to stderr. Exit codes: 0 ok, 1 verification/policy failed, 2 usage or bad input,
3 registry/network/internal error.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from attest import __version__
from attest.errors import AttestError, InputError, UsageError, VerificationError
from attest.oci.reference import Reference, parse_reference
from attest.oci.referrers import REFERRERS_MODES
from attest.oci.store import Store
from attest.oci.stores import StoreOptions, open_store

log = logging.getLogger("attest")

DEFAULT_TAG = "latest"
FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="Output format on stdout.",
)  # fmt: skip


def registry_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--plain-http/--insecure, as oras and cosign spell them."""
    f = click.option("--insecure", is_flag=True, help="Skip TLS certificate verification.")(f)
    f = click.option(
        "--plain-http", is_flag=True,
        help="Use HTTP instead of HTTPS (automatic for localhost and 127.0.0.1).",
    )(f)  # fmt: skip
    return f


def referrers_mode_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--referrers-mode", type=click.Choice(REFERRERS_MODES), default="auto", show_default=True,
        help="auto: Referrers API, fallback tag on 404; api: API only; tag: fallback tag only.",
    )(f)  # fmt: skip


def _emit(fmt: str, data: Any, text: Callable[[], str]) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(text())


def _store_for(ref: Reference, plain_http: bool, insecure: bool, *, create: bool = False) -> Store:
    return open_store(ref, StoreOptions(plain_http=plain_http, insecure=insecure), create=create)


def _target(store: Store, ref: Reference) -> str:
    """What to resolve when the reference names neither tag nor digest.

    A registry defaults to ``latest`` (as docker and oras do); a layout with exactly one tag
    uses it, and otherwise says which tags there are.
    """
    if ref.target:
        return ref.target
    if not ref.is_layout:
        return DEFAULT_TAG
    tags = [t for t in store.tags() if not t.startswith("sha256-")]
    if DEFAULT_TAG in tags or not tags:
        return DEFAULT_TAG
    if len(tags) == 1:
        return tags[0]
    raise UsageError(f"{ref} holds several tags ({', '.join(tags)}); add :TAG or @DIGEST")


def _subject_ref(ref: Reference, digest: str) -> str:
    return str(ref.with_digest(digest))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="attest")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
def cli(verbose: int, quiet: bool) -> None:
    """Supply-chain attestation and policy for AI models packaged as ModelPack OCI artifacts.

    References: oci:PATH[:TAG|@DIGEST] is an OCI image layout on disk;
    HOST[:PORT]/REPO[:TAG|@DIGEST] is a registry.
    """
    level = (
        logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    )
    logging.basicConfig(level=level, format="attest: %(levelname)s: %(message)s", stream=sys.stderr)


# -- digest -----------------------------------------------------------------------------------


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--no-cache", is_flag=True, help="Neither read nor write the digest cache.")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Files hashed at once.")
@FORMAT
def digest(directory: Path, no_cache: bool, concurrency: int | None, fmt: str) -> None:
    """Print the sha256 of every file of a model directory (parallel, cached)."""
    from attest.oci.digest import DigestCache, digest_files
    from attest.oci.modelpack import list_model_files

    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    cache = DigestCache.disabled() if no_cache else DigestCache.default()
    files = digest_files(directory, list_model_files(directory), workers=concurrency, cache=cache)
    _emit(
        fmt,
        [{"path": f.path, "size": f.size, "digest": f.digest} for f in files],
        lambda: "\n".join(f"{f.digest.split(':', 1)[1]}  {f.path}" for f in files),
    )


# -- pack / inspect / pull --------------------------------------------------------------------


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--to", "to", required=True, help="Where to push: oci:PATH[:TAG] or HOST/REPO[:TAG].")
@click.option("--modelfile", type=click.Path(dir_okay=False, path_type=Path),
              help="A modctl Modelfile (default: DIRECTORY/Modelfile when present).")  # fmt: skip
@click.option("--name", help="Model name in the config (default: Modelfile NAME or directory).")
@click.option("--no-creation-time", is_flag=True, help="Omit createdAt: reproducible digests.")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Files hashed at once.")
@registry_options
@FORMAT
def pack(
    directory: Path,
    to: str,
    modelfile: Path | None,
    name: str | None,
    no_creation_time: bool,
    concurrency: int | None,
    plain_http: bool,
    insecure: bool,
    fmt: str,
) -> None:
    """Pack a model directory into a ModelPack artifact, one raw layer per file."""
    result, ref = _pack(directory, to, modelfile, name, no_creation_time, concurrency, plain_http,
                        insecure)  # fmt: skip
    out = {
        "reference": _subject_ref(ref, result.descriptor.digest),
        "digest": result.descriptor.digest,
        "mediaType": result.descriptor.media_type,
        "size": result.descriptor.size,
        "layers": len(result.manifest["layers"]),
        "blobsUploaded": result.blobs_uploaded,
        "config": result.config,
    }
    _emit(fmt, out, lambda: f"{out['reference']}\n{out['digest']}")


def _pack(
    directory: Path,
    to: str,
    modelfile: Path | None,
    name: str | None,
    no_creation_time: bool,
    concurrency: int | None,
    plain_http: bool,
    insecure: bool,
) -> tuple[Any, Reference]:
    from attest.oci.modelpack import pack as pack_model

    ref = parse_reference(to)
    if ref.digest:
        raise UsageError(f"--to {to}: a pack target takes a tag, not a digest")
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    ref = ref if ref.tag else ref.with_tag(DEFAULT_TAG)
    store = _store_for(ref, plain_http, insecure, create=True)
    result = pack_model(
        directory,
        store,
        ref.tag,
        modelfile_path=modelfile,
        name=name,
        creation_time=not no_creation_time,
        workers=concurrency,
    )
    return result, ref


@cli.command()
@click.argument("reference")
@registry_options
@FORMAT
def inspect(reference: str, plain_http: bool, insecure: bool, fmt: str) -> None:
    """Show a ModelPack artifact (cncf or legacy cnai) or KitOps ModelKit: files, roles, config."""
    from attest.oci.modelpack import read_subject

    ref = parse_reference(reference)
    store = _store_for(ref, plain_http, insecure)
    subject = read_subject(store, _target(store, ref), reference)
    _emit(fmt, subject.to_dict(), lambda: _inspect_text(subject))


def _human(n: int) -> str:
    from attest.humanize import human_size

    return human_size(n)


def _inspect_text(subject: Any) -> str:
    cfg = subject.config
    lines = [
        f"Reference:  {subject.reference}",
        f"Digest:     {subject.digest}",
        f"Type:       {subject.flavour} ({subject.manifest.get('artifactType') or '-'})",
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
            lines.append(f"{label + ':':<12}{value}")
    total = sum(layer.descriptor.size for layer in subject.layers)
    lines.append(f"Files:      {len(subject.layers)} layers, {_human(total)}")
    width = max((len(layer.path or "-") for layer in subject.layers), default=4)
    lines.append(f"  {'PATH':<{width}}  {'ROLE':<13} {'SIZE':>10}  DIGEST")
    for layer in subject.layers:
        role = layer.kind + ("" if layer.encoding == "raw" else f" ({layer.encoding})")
        lines.append(
            f"  {layer.path or '-':<{width}}  {role:<13} {_human(layer.descriptor.size):>10}"
            f"  {layer.descriptor.digest}"
        )
    return "\n".join(lines)


@cli.command()
@click.argument("reference")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write the model's files into.")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace files that already exist.")
@registry_options
@FORMAT
def pull(reference: str, output: Path, overwrite: bool, plain_http: bool, insecure: bool,
         fmt: str) -> None:  # fmt: skip
    """Extract a model artifact's files into a directory (never writing outside it)."""
    from attest.oci.extract import pull as pull_files
    from attest.oci.modelpack import read_subject

    ref = parse_reference(reference)
    store = _store_for(ref, plain_http, insecure)
    subject = read_subject(store, _target(store, ref), reference)
    written = pull_files(subject, store, output, overwrite=overwrite)
    _emit(
        fmt,
        {"reference": reference, "digest": subject.digest, "output": str(output), "files": written},
        lambda: f"{len(written)} files from {subject.digest} written to {output}",
    )


# -- referrers --------------------------------------------------------------------------------


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
    store = _store_for(ref, plain_http, insecure)
    subject = store.get_manifest(_target(store, ref)).descriptor
    layer = Descriptor(
        media_type or _guess_media_type(file),
        sha256_file(file),
        file.stat().st_size,
        annotations={"org.opencontainers.image.title": file.name},
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
        "reference": _subject_ref(ref.with_tag(None), desc.digest),
        "digest": desc.digest,
        "subject": subject.digest,
        "artifactType": artifact_type,
    }
    _emit(fmt, out, lambda: f"{out['reference']}\n{desc.digest}")


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

    ref = parse_reference(reference)
    store = _store_for(ref, plain_http, insecure)
    subject = store.get_manifest(_target(store, ref)).descriptor

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
            for e in entries:
                lines.append(f"{'  ' * indent}{e['digest']}  {e.get('artifactType') or '-'}")
                show(e.get("referrers", []), indent + 1)

        show(found, 0)
        return "\n".join(lines)

    _emit(fmt, {"subject": subject.digest, "referrers": found}, text)


@cli.command()
@click.argument("source")
@click.argument("destination")
@click.option("--no-referrers", is_flag=True, help="Copy the artifact only, not its referrers.")
@registry_options
@referrers_mode_option
@FORMAT
def copy(
    source: str,
    destination: str,
    no_referrers: bool,
    plain_http: bool,
    insecure: bool,
    referrers_mode: str,
    fmt: str,
) -> None:
    """Copy an artifact and all its referrers (recursively) between stores, byte for byte."""
    from attest.oci.copy import copy_artifact

    src_ref, dst_ref = parse_reference(source), parse_reference(destination)
    if dst_ref.digest:
        raise UsageError(f"destination {destination}: give a tag (or nothing), not a digest")
    src = _store_for(src_ref, plain_http, insecure)
    dst = _store_for(dst_ref, plain_http, insecure, create=True)
    target = _target(src, src_ref)
    tag = dst_ref.tag or (target if not target.startswith("sha") else DEFAULT_TAG)
    root, stats = copy_artifact(
        src, target, dst, tag, referrers=not no_referrers,
        src_mode=referrers_mode, dst_mode=referrers_mode,  # type: ignore[arg-type]
    )  # fmt: skip
    out = {
        "reference": _subject_ref(dst_ref.with_tag(tag), root.digest),
        "digest": root.digest,
        "manifests": stats.manifests,
        "referrers": stats.referrers,
        "blobsCopied": stats.blobs_copied,
        "blobsSkipped": stats.blobs_skipped,
        "bytesCopied": stats.bytes_copied,
    }
    _emit(
        fmt,
        out,
        lambda: (
            f"{out['reference']}\n{root.digest}\ncopied {stats.manifests} manifests "
            f"({len(stats.referrers)} referrers), {stats.blobs_copied} blobs "
            f"({_human(stats.bytes_copied)}), {stats.blobs_skipped} already present"
        ),
    )


# -- facts and SBOMs --------------------------------------------------------------------------


def _load_facts(
    source: str, facts_file: Path | None, plain_http: bool, insecure: bool
) -> tuple[Any, Store | None, Reference | None]:
    """ModelFacts of a model directory or of a ModelPack reference (never re-hashing layers)."""
    from attest.facts.gather import facts_for_directory, facts_for_reference

    if not source.startswith("oci:") and Path(source).is_dir():
        return facts_for_directory(Path(source), facts_file), None, None
    if not source.startswith("oci:") and "/" not in source:
        raise UsageError(f"{source} is neither a directory nor a reference")
    ref = parse_reference(source)
    store = _store_for(ref, plain_http, insecure)
    return facts_for_reference(store, _target(store, ref), source, facts_file), store, ref


FACTS_FILE = click.option(
    "--facts", "facts_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Declarations (attest.yaml schema); default: attest.yaml beside the model.",
)  # fmt: skip


@cli.command()
@click.argument("source")
@FACTS_FILE
@registry_options
@FORMAT
def facts(source: str, facts_file: Path | None, plain_http: bool, insecure: bool, fmt: str) -> None:
    """Print what is known about a model (a directory or a ModelPack reference)."""
    from attest.facts.render import facts_to_text

    model, _, _ = _load_facts(source, facts_file, plain_http, insecure)
    for warning in model.warnings:
        log.warning("%s", warning)
    _emit(fmt, model.to_dict(), lambda: facts_to_text(model))


@cli.command()
@click.argument("source")
@click.option("--format", "sbom_fmt", type=click.Choice(["cyclonedx", "spdx", "spdx3"]),
              default="cyclonedx", show_default=True, help="SBOM format.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the document here instead of stdout.")  # fmt: skip
@click.option("--statement", is_flag=True, help="Print the in-toto statement, not the document.")
@click.option("--attach", "do_attach", is_flag=True, help="Attach the SBOM to the artifact.")
@FACTS_FILE
@registry_options
@referrers_mode_option
def sbom(
    source: str,
    sbom_fmt: str,
    output: Path | None,
    statement: bool,
    do_attach: bool,
    facts_file: Path | None,
    plain_http: bool,
    insecure: bool,
    referrers_mode: str,
) -> None:
    """Generate a CycloneDX 1.6, SPDX 2.3 or SPDX 3.0.1 SBOM of a model, validated."""
    from attest.fileio import atomic_write
    from attest.stages.sbom.stage import build_document, document_bytes, sbom_evidence

    model, store, _ = _load_facts(source, facts_file, plain_http, insecure)
    if (statement or do_attach) and store is None:
        raise UsageError("--statement and --attach need a ModelPack reference, not a directory")
    if store is not None:
        evidence = sbom_evidence(model, sbom_fmt)
        assert evidence.document is not None
        data = (
            (json.dumps(evidence.statement, indent=2, sort_keys=True) + "\n").encode()
            if statement
            else evidence.document
        )
    else:
        _, doc = build_document(model, sbom_fmt)
        data = document_bytes(doc)
    if do_attach:
        assert store is not None
        for item in _attach_evidence(store, model, [evidence], referrers_mode):
            click.echo(f"attached {item.file} {item.digest}", err=True)
    if output:
        atomic_write(output, data)
    else:
        click.echo(data.decode(), nl=False)


# -- MOF --------------------------------------------------------------------------------------

MOF_CLASSES = {"III": 3, "II": 2, "I": 1}


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--format", "out_fmt", type=click.Choice(["text", "json", "markdown", "yaml"]),
              default="text", show_default=True,
              help="yaml: the MOT's own format (the MOF configuration file).")  # fmt: skip
@click.option("--min-class", type=click.Choice(list(MOF_CLASSES)),
              help="Exit 1 when a source is below this class (I is the most open).")  # fmt: skip
@click.option("--attach", "do_attach", is_flag=True,
              help="Attach the report and MOT YAML to each ModelPack reference.")  # fmt: skip
@FACTS_FILE
@registry_options
@referrers_mode_option
def mof(
    sources: tuple[str, ...],
    out_fmt: str,
    min_class: str | None,
    do_attach: bool,
    facts_file: Path | None,
    plain_http: bool,
    insecure: bool,
    referrers_mode: str,
) -> None:
    """Model Openness Framework class (I-III) of models, directories or MOT YAML files."""
    from attest.mof import dump_mot_yaml, load_mot_yaml, render, score
    from attest.mof.render import advice
    from attest.stages.mof import mof_evidence, mof_report

    reports = []
    for source in sources:
        if source.endswith((".yml", ".yaml")) and Path(source).is_file():
            if do_attach:
                raise UsageError(f"--attach needs a ModelPack reference, not {source}")
            reports.append(score(load_mot_yaml(source)))
            continue
        model, store, _ = _load_facts(source, facts_file, plain_http, insecure)
        report = mof_report(model)
        if do_attach:
            if store is None or model.subject is None:
                raise UsageError(f"--attach needs a ModelPack reference, not {source}")
            _attach_evidence(store, model, [mof_evidence(model, report)], referrers_mode)
        reports.append(report)

    if out_fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
    elif out_fmt == "yaml":
        click.echo("---\n".join(dump_mot_yaml(r) for r in reports), nl=False)
    else:
        click.echo(("\n\n" if out_fmt == "text" else "\n---\n\n").join(
            render(r, out_fmt) for r in reports))  # fmt: skip
    if min_class:
        floor = MOF_CLASSES[min_class]
        below = [(src, r) for src, r in zip(sources, reports, strict=True) if not r.meets(floor)]
        for src, r in below:
            click.echo(f"attest: {src}: {r.label}, below Class {min_class}; add:", err=True)
            for component in r.needed_for(floor):
                click.echo(f"  - {advice(component)}", err=True)
        if below:
            raise VerificationError(f"{len(below)} of {len(reports)} below Class {min_class}")


def _attach_evidence(
    store: Store, model: Any, evidence: list[Any], referrers_mode: str
) -> list[Any]:
    """Attach each piece of evidence: its statement (unsigned for now) and its document."""
    from attest.publish import publish_evidence

    subject = store.get_manifest(model.subject.digest).descriptor
    attached = publish_evidence(store, subject, evidence, mode=referrers_mode)  # type: ignore[arg-type]
    for item in attached:
        log.info("attached %s (%s) as %s", item.file, item.predicate_type, item.digest)
    return attached


# -- cards ------------------------------------------------------------------------------------


class _RenderByDefault(click.Group):
    """`attest card SOURCE ...` renders; `attest card lint FILE` lints."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["render", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_RenderByDefault)
def card() -> None:
    """Render a model or data card (attest card SOURCE), or lint one (attest card lint FILE)."""


@card.command("render")
@click.argument("source")
@click.option("--kind", type=click.Choice(["model", "data"]), default="model", show_default=True)
@click.option("--format", "card_fmt", type=click.Choice(["markdown", "html"]),
              default="markdown", show_default=True)  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-mof", is_flag=True, help="Do not score the MOF (the card says so).")
@FACTS_FILE
@registry_options
def card_render(
    source: str,
    kind: str,
    card_fmt: str,
    output: Path | None,
    no_mof: bool,
    facts_file: Path | None,
    plain_http: bool,
    insecure: bool,
) -> None:
    """Render a model or data card from the model's facts and MOF report."""
    from attest.fileio import atomic_write
    from attest.stages.cards import render_card
    from attest.stages.mof import mof_report

    model, _, _ = _load_facts(source, facts_file, plain_http, insecure)
    for warning in model.warnings:
        log.warning("%s", warning)
    mof_dict = None if no_mof else mof_report(model).to_dict()
    text = render_card(model, kind, card_fmt, mof_dict)  # type: ignore[arg-type]
    if output:
        atomic_write(output, text.encode())
    else:
        click.echo(text, nl=False)


@card.command("lint")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--subject", help="Also check the card against this model (directory or reference).")
@click.option("--kind", type=click.Choice(["model", "data"]), help="Default: told from the card.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]),
              default="text", show_default=True)  # fmt: skip
@FACTS_FILE
@registry_options
def card_lint(
    file: Path,
    subject: str | None,
    kind: str | None,
    fmt: str,
    facts_file: Path | None,
    plain_http: bool,
    insecure: bool,
) -> None:
    """Lint a Markdown card: Hugging Face metadata, MOF Class III sections, the artifact."""
    from attest.stages.card_lint import has_errors, lint_card
    from attest.stages.card_lint_report import render_findings

    if file.suffix.lower() in (".html", ".htm"):
        raise UsageError(f"{file}: attest card lint reads Markdown cards, not HTML")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {file}: {exc}") from None
    facts = _load_facts(subject, facts_file, plain_http, insecure)[0] if subject else None
    findings = lint_card(text, str(file), facts, kind)  # type: ignore[arg-type]
    click.echo(render_findings(findings, str(file), fmt), nl=False)  # type: ignore[arg-type]
    if has_errors(findings):
        raise VerificationError(f"{file}: the card has error-level findings")


# -- signing ----------------------------------------------------------------------------------


def signer_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """How to sign: cosign's flag names. No flag: CI credentials, else the dev key."""
    f = click.option(
        "--trust-config", type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="Client trust config of a private Sigstore instance (keyless).",
    )(f)  # fmt: skip
    f = click.option("--staging", is_flag=True, help="Use Sigstore's staging instance.")(f)
    f = click.option("--interactive", is_flag=True, help="Sign in with a browser (keyless).")(f)
    f = click.option(
        "--identity-token", metavar="JWT",
        help="OIDC identity token for keyless signing (default: $SIGSTORE_ID_TOKEN).",
    )(f)  # fmt: skip
    f = click.option(
        "--key", type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="Sign with this private key (PEM; password from ATTEST_KEY_PASSWORD).",
    )(f)  # fmt: skip
    return f


def _choose_signer(
    key: Path | None,
    identity_token: str | None,
    interactive: bool,
    staging: bool,
    trust_config: Path | None,
) -> Any:
    from attest.sign.signer import choose_signer

    signer = choose_signer(
        key=key, identity_token=identity_token, interactive=interactive, staging=staging,
        trust_config=trust_config,
    )  # fmt: skip
    if signer.kind == "dev-key":
        log.warning("signing with the local development key: not for release")
    return signer


# -- keys -------------------------------------------------------------------------------------


@cli.group(invoke_without_command=True)
@click.pass_context
def key(ctx: click.Context) -> None:
    """Signing keys. Without a subcommand: where the development key is."""
    if ctx.invoked_subcommand is None:
        from attest.sign.keys import dev_key_path

        path = dev_key_path()
        click.echo(f"{path}" if path.exists() else f"{path}  (created on first use)")


@key.command("generate")
@click.argument("prefix", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PREFIX.key and PREFIX.pub.")
@FORMAT
def key_generate(prefix: Path, force: bool, fmt: str) -> None:
    """Write PREFIX.key (ECDSA P-256) and PREFIX.pub; the key is encrypted with
    ATTEST_KEY_PASSWORD when it is set (attest never prompts)."""
    from attest.sign.key_signer import key_hint
    from attest.sign.keys import ENV_PASSWORD, generate_key, load_public_key, password_from_env

    password = password_from_env()
    files = generate_key(prefix, password=password, overwrite=force)
    if password is None:
        log.warning("%s is not encrypted: set %s to encrypt it", files.private, ENV_PASSWORD)
    out = {
        "private": str(files.private),
        "public": str(files.public),
        "encrypted": password is not None,
        "hint": key_hint(load_public_key(files.public)),
    }
    _emit(fmt, out, lambda: f"{files.private}\n{files.public}")


# -- sign / provenance ------------------------------------------------------------------------


@cli.command()
@click.argument("reference")
@signer_options
@click.option(
    "--statement",
    "statement_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="An in-toto statement about REFERENCE (JSON or JSON Lines); repeatable.",
)
@click.option(
    "--predicate-type",
    "predicate_types",
    multiple=True,
    help="Only sign statements of this predicate type; repeatable.",
)
@click.option(
    "--no-attached", is_flag=True, help="Do not sign the unsigned JSON documents already attached."
)
@click.option(
    "--oms",
    is_flag=True,
    help="Also sign an OpenSSF model-signing v1.0 statement made from the manifest.",
)
@click.option(
    "--oms-output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the OMS bundle here (model_signing's model.sig); implies --oms.",
)
@click.option("--oms-name", help="Model name in the OMS statement (default: the model's name).")
@registry_options
@referrers_mode_option
@FORMAT
def sign(
    reference: str,
    key: Path | None,
    identity_token: str | None,
    interactive: bool,
    staging: bool,
    trust_config: Path | None,
    statement_files: tuple[Path, ...],
    predicate_types: tuple[str, ...],
    no_attached: bool,
    oms: bool,
    oms_output: Path | None,
    oms_name: str | None,
    plain_http: bool,
    insecure: bool,
    referrers_mode: str,
    fmt: str,
) -> None:  # fmt: skip
    """Sign an artifact's statements and attach them as cosign-layout referrers.

    Reads the manifest and the attached documents only: never a weight file.
    """
    from attest.facts.gather import subject_info
    from attest.oci.modelpack import read_subject
    from attest.sign.oms import DEFAULT_SIGNATURE_NAME
    from attest.sign.subject import collect_evidence, load_statements, sign_collected

    statements = [s for f in statement_files for s in load_statements(f)]
    ref = parse_reference(reference)
    store = _store_for(ref, plain_http, insecure)
    subject = read_subject(store, _target(store, ref), reference)
    evidence = collect_evidence(
        store, subject, subject_info(subject, store), statements=statements,
        attached=not no_attached, predicate_types=predicate_types,
        oms=oms or oms_output is not None, oms_name=oms_name,
        oms_signature_name=oms_output.name if oms_output else DEFAULT_SIGNATURE_NAME,
        mode=referrers_mode,  # type: ignore[arg-type]
    )  # fmt: skip
    if not evidence:
        raise UsageError(
            f"nothing to sign on {subject.digest}",
            hint="give --statement FILE or --oms, or attach documents first (attest sbom --attach)",
        )
    signer = _choose_signer(key, identity_token, interactive, staging, trust_config)
    result = sign_collected(
        store, subject, evidence, signer, oms_output=oms_output,
        mode=referrers_mode,  # type: ignore[arg-type]
    )  # fmt: skip
    out = {
        "reference": _subject_ref(ref, subject.digest),
        "digest": subject.digest,
        "signer": {"kind": signer.kind, "identity": signer.identity},
        "signed": [s.to_dict() for s in result.signed],
        "omsOutput": str(oms_output) if oms_output else None,
    }

    def text() -> str:
        lines = [f"Signed     {out['reference']}", f"Signer     {signer.describe()}"]
        lines += [f"  {s.predicate_type:<45} {s.statement_ref.digest}" for s in result.signed]
        if oms_output:
            lines.append(f"OMS        {oms_output}")
        return "\n".join(lines)

    _emit(fmt, out, text)


@cli.command()
@click.argument("reference")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the statement here instead of stdout.",
)
@click.option(
    "--source-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The model directory that was packed: its git commit is the source.",
)
@FACTS_FILE
@registry_options
def provenance(
    reference: str,
    output: Path | None,
    source_dir: Path | None,
    facts_file: Path | None,
    plain_http: bool,
    insecure: bool,
) -> None:
    """Print the SLSA v1 provenance statement of a ModelPack artifact.

    Sign and attach it with `attest sign REF --statement FILE`.
    """
    from attest.fileio import atomic_write
    from attest.stages.provenance import build_provenance

    model, store, _ = _load_facts(reference, facts_file, plain_http, insecure)
    if store is None:
        raise UsageError("provenance is about a ModelPack artifact: give a reference")
    # After the fact, the build finished when the artifact was created (if it says so).
    statement = build_provenance(
        model, started_on=None, finished_on=model.created_at, source_dir=source_dir
    )
    data = (json.dumps(statement, indent=2, sort_keys=True) + "\n").encode()
    if output:
        atomic_write(output, data)
    else:
        click.echo(data.decode(), nl=False)


# -- policy -----------------------------------------------------------------------------------

ENGINE_OPTION = click.option(
    "--engine", type=click.Choice(["regorus", "opa", "opa-golib"]), default="regorus",
    show_default=True,
    help="Rego engine: embedded regorus, an OPA server (--opa-url), or real OPA in process.",
)  # fmt: skip
OPA_URL_OPTION = click.option(
    "--opa-url", help="OPA server for --engine opa, e.g. http://127.0.0.1:8181"
)


@cli.group()
def policy() -> None:
    """Rego policies: run their unit tests, publish them as OPA bundles."""


@policy.command("test")
@click.argument("source", required=False)
@click.option("--run", "match", metavar="REGEXP", help="Only tests whose package.rule matches.")
@click.option(
    "-v", "--verbose", "verbose", is_flag=True, help="List every test, not only failures."
)
@ENGINE_OPTION
@OPA_URL_OPTION
@registry_options
@FORMAT
def policy_test(
    source: str | None,
    match: str | None,
    verbose: bool,
    engine: str,
    opa_url: str | None,
    plain_http: bool,
    insecure: bool,
    fmt: str,
) -> None:
    """Run the Rego unit tests (test_* rules) of a policy DIR, FILE or OCI REF.

    Without SOURCE, the tests of the built-in policy library.
    """
    from attest.policy.cli_glue import run_policy_tests

    report = run_policy_tests(
        source, engine=engine, opa_url=opa_url, match=match,
        plain_http=plain_http, insecure=insecure,
    )  # fmt: skip
    _emit(fmt, report.to_dict(), lambda: report.text(verbose=verbose))
    if not report.results:
        raise UsageError(f"no test_* rules in {source or 'the built-in policy'}")
    if not report.ok:
        raise VerificationError(
            f"policy tests failed: {report.count('fail')} failed, {report.count('error')} errors"
        )


@policy.command("push")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.argument("reference")
@click.option("--revision", help="Bundle revision (default: a digest of the files), e.g. a commit.")
@click.option("--include-tests", is_flag=True, help="Ship the *_test.rego files too.")
@click.option("--no-library", is_flag=True,
              help="Leave out the lib.modelpack packages the policy imports.")  # fmt: skip
@click.option("--no-sign", is_flag=True, help="Push the bundle unsigned.")
@signer_options
@registry_options
@FORMAT
def policy_push(
    source: Path,
    reference: str,
    revision: str | None,
    include_tests: bool,
    no_library: bool,
    no_sign: bool,
    key: Path | None,
    identity_token: str | None,
    interactive: bool,
    staging: bool,
    trust_config: Path | None,
    plain_http: bool,
    insecure: bool,
    fmt: str,
) -> None:
    """Publish a policy DIR (or one .rego FILE) as an OPA bundle OCI artifact at REFERENCE."""
    from attest.policy.cli_glue import push_policy

    signer = None
    if not no_sign:  # chosen first: a bad flag or token fails before anything is pushed
        signer = _choose_signer(key, identity_token, interactive, staging, trust_config)
    pushed = push_policy(
        source, reference, revision=revision, include_tests=include_tests,
        library=not no_library, plain_http=plain_http, insecure=insecure,
    )  # fmt: skip
    out = pushed.to_dict()
    if signer is not None:
        from attest.policy.signing import sign_policy_bundle

        options = StoreOptions(plain_http=plain_http, insecure=insecure)
        out["signature"] = sign_policy_bundle(pushed, signer, options).digest
        out["signer"] = signer.describe()
    _emit(fmt, out, lambda: pushed.reference)


# -- verify -----------------------------------------------------------------------------------


@cli.command()
@click.argument("reference")
@click.option("--key", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Public key for key-signed bundles (PEM; cosign.pub works too).")  # fmt: skip
@click.option("--identity", help="Exact signer identity (certificate SAN) for keyless bundles.")
@click.option("--identity-regexp", help="Fully anchored regular expression for the identity.")
@click.option(
    "--issuer", help="Exact OIDC issuer, e.g. https://token.actions.githubusercontent.com"
)
@click.option("--repository", help="GitHub: the source repository (owner/repo) in the certificate.")
@click.option("--workflow-ref", help="GitHub: owner/repo/.github/workflows/F.yml@REF that signed.")
@click.option("--trust-config", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Client trust config of a private Sigstore instance.")  # fmt: skip
@click.option("--staging", is_flag=True, help="Trust Sigstore's staging instance.")
@click.option("--offline", is_flag=True,
              help="No call to any Sigstore service: the trust root at hand only.")  # fmt: skip
@click.option(
    "--policy", "policy_source", help="Rego policy: a directory, a .rego file or an OCI ref."
)
@click.option("--params", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Policy parameters (JSON or YAML).")  # fmt: skip
@click.option("--mode", type=click.Choice(["enforce", "warn", "off"]), default="enforce",
              show_default=True, help="What policy violations do.")  # fmt: skip
@click.option("--entrypoint", help="Policy package with deny/warn (default: attest.main).")
@ENGINE_OPTION
@OPA_URL_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True)  # fmt: skip
@registry_options
@referrers_mode_option
def verify(
    reference: str,
    key: Path | None,
    identity: str | None,
    identity_regexp: str | None,
    issuer: str | None,
    repository: str | None,
    workflow_ref: str | None,
    trust_config: Path | None,
    staging: bool,
    offline: bool,
    policy_source: str | None,
    params: Path | None,
    mode: str,
    entrypoint: str | None,
    engine: str,
    opa_url: str | None,
    fmt: str,
    plain_http: bool,
    insecure: bool,
    referrers_mode: str,
) -> None:
    """Verify every signed referrer of an artifact, then (with --policy) judge the report.

    Exit 1 when a signature fails, when nothing verifies, or on policy violations (enforce).
    """
    from attest.verify.identity import IdentityPolicy
    from attest.verify.render import render_report
    from attest.verify.verifier import VerifyOptions, verify_subject

    ref = parse_reference(reference)
    store = _store_for(ref, plain_http, insecure)
    subject = store.get_manifest(_target(store, ref)).descriptor
    options = VerifyOptions(
        key=key,
        identity=IdentityPolicy(identity, identity_regexp, issuer, repository, workflow_ref),
        trust_config=trust_config, staging=staging, offline=offline,
        referrers_mode=referrers_mode,  # type: ignore[arg-type]
    )  # fmt: skip
    report = verify_subject(store, subject, str(ref.with_digest(subject.digest)), options)
    decision = None
    if policy_source and not Path(policy_source).exists() and mode != "off":
        # a policy from a registry is obeyed only once its own signature verifies, and the
        # bundle evaluated is the one verified (pinned by digest)
        from attest.policy.signing import verify_policy_bundle

        store_options = StoreOptions(plain_http=plain_http, insecure=insecure)
        policy_source = verify_policy_bundle(policy_source, options, store_options)
    if (policy_source or params) and mode != "off":
        from attest.policy.cli_glue import evaluate_policy

        decision = evaluate_policy(
            report.to_dict(), policy_source, params, engine=engine, opa_url=opa_url,
            plain_http=plain_http, insecure=insecure, mode=mode, entrypoint=entrypoint,
        )  # fmt: skip
    click.echo(render_report(report, decision, fmt), nl=False)
    if report.failures:
        raise VerificationError(f"{len(report.failures)} signature(s) failed: {report.failures[0]}")
    if not report.verified:
        raise VerificationError(
            f"no verified signature on {subject.digest}",
            hint="sign with `attest sign` or `attest run`; give --key or --identity/--issuer",
        )
    if decision is not None and decision.failed:
        first = decision.violations[0]
        raise VerificationError(
            f"policy: {len(decision.violations)} violation(s): [{first.code}] {first.msg}"
        )
    if decision is not None and decision.violations:
        log.warning("policy (warn mode): %d violation(s)", len(decision.violations))


# -- run --------------------------------------------------------------------------------------


@cli.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--to", "to", help="Where to put the artifact (default: oci:./attest-out:NAME).")
@click.option("--modelfile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-creation-time", is_flag=True, help="Omit createdAt: reproducible digests.")
@click.option("--no-sign", is_flag=True, help="Attach the evidence unsigned.")
@click.option("--policy", "policy_source", help="Rego policy DIR|FILE|REF (default: built-in).")
@click.option("--params", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Policy parameters (JSON or YAML).")  # fmt: skip
@click.option("--mode", "policy_mode", type=click.Choice(["enforce", "warn", "off"]),
              default="warn", show_default=True,
              help="The closing policy check: enforce exits 1 on violations.")  # fmt: skip
@signer_options
@FACTS_FILE
@registry_options
@referrers_mode_option
@FORMAT
def run(
    source: Path,
    to: str | None,
    modelfile: Path | None,
    no_creation_time: bool,
    no_sign: bool,
    policy_source: str | None,
    params: Path | None,
    policy_mode: str,
    key: Path | None,
    identity_token: str | None,
    interactive: bool,
    staging: bool,
    trust_config: Path | None,
    facts_file: Path | None,
    plain_http: bool,
    insecure: bool,
    referrers_mode: str,
    fmt: str,
) -> None:
    """Pack a model, generate and attach its evidence, and print one summary."""
    from attest.pipeline import run_pipeline

    if not source.is_dir():
        raise UsageError(f"{source} is not a model directory")
    if to is None:
        to = f"oci:./attest-out:{_tag_for(source.resolve().name)}"
    ref = parse_reference(to)
    if ref.digest:
        raise UsageError(f"--to {to}: give a tag, not a digest")
    ref = ref if ref.tag else ref.with_tag(DEFAULT_TAG)
    # The signer is chosen before packing: a bad flag or token fails fast, and provenance
    # needs the token's claims.
    signer = None
    if not no_sign:
        signer = _choose_signer(key, identity_token, interactive, staging, trust_config)
    store = _store_for(ref, plain_http, insecure, create=True)
    result = run_pipeline(
        source, store, ref.tag or DEFAULT_TAG, modelfile=modelfile, facts_file=facts_file,
        creation_time=not no_creation_time, referrers_mode=referrers_mode,  # type: ignore[arg-type]
        reference=str(ref), signer=signer, policy=policy_source, params=params,
        policy_mode=policy_mode,
    )  # fmt: skip
    layers = result.packed.manifest["layers"]
    summary = {
        "reference": _subject_ref(ref, result.digest),
        "digest": result.digest,
        "files": len(layers),
        "bytes": sum(layer["size"] for layer in layers),
        "roles": result.roles(),
        "config": result.packed.config["config"],
        "license": result.facts.license,
        "mofClass": result.mof_class,
        "stages": [s.to_dict() for s in result.stages],
        "warnings": result.facts.warnings,
    }

    def text() -> str:
        cfg = summary["config"]
        facts = ", ".join(f"{k} {cfg[k]}" for k in ("format", "paramSize", "precision") if k in cfg)
        lines = [
            f"Packed     {summary['reference']}",
            f"Files      {summary['files']} ({_human(summary['bytes'])}): "
            + ", ".join(f"{n} {k}" for k, n in sorted(result.roles().items())),
            f"Model      {facts or 'no weight facts'}; licence {summary['license'] or 'unknown'}",
        ]
        for stage in result.stages:
            lines.append(f"{stage.stage:<10} {stage.status}: {stage.detail}")
            for item in stage.attached:
                if "digest" in item:
                    lines.append(f"             {item['file']:<20} {item['digest']}")
                elif item["level"] == "violation" or item["code"] != "IDENTITY_DEV_KEY":
                    lines.append(f"             [{item['code']}] {item['msg']}")
            dev = sum(1 for i in stage.attached if i.get("code") == "IDENTITY_DEV_KEY")
            if dev:
                lines.append(f"             [IDENTITY_DEV_KEY] {dev} statements signed with the "
                             "development key: fine on a laptop, not for release")  # fmt: skip
        return "\n".join(lines)

    _emit(fmt, summary, text)
    failed = [s for s in result.stages if s.status == "failed"]
    if failed:
        raise VerificationError(f"{failed[0].stage} failed: {failed[0].detail}")


def _tag_for(name: str) -> str:
    import re

    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", name).lstrip(".-") or DEFAULT_TAG
    return tag[:128]


def main() -> None:
    """Console entry point: one clear line on stderr and the documented exit code on failure."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("attest: aborted", err=True)
        sys.exit(2)
    except click.ClickException as e:  # usage errors: exit 2, as documented
        e.show()
        sys.exit(2)
    except AttestError as e:
        click.echo(f"attest: error: {e.diagnostics()}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("attest: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as e:  # a bug: still one line, exit 3
        log.debug("internal error", exc_info=True)
        click.echo(f"attest: internal error: {type(e).__name__}: {e}", err=True)
        sys.exit(3)
    sys.exit(0)
