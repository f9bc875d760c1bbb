"""Commands that sign: key, sign, provenance."""

from __future__ import annotations

import json
from pathlib import Path

import click

from attest.cli.app import cli
from attest.cli.common import (
    FACTS_FILE,
    FORMAT,
    choose_signer_from_flags,
    emit,
    load_facts,
    log,
    referrers_mode_option,
    registry_options,
    signer_options,
    store_for,
    subject_ref,
)
from attest.errors import UsageError
from attest.oci.reference import parse_reference
from attest.oci.stores import resolve_target


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
    emit(fmt, out, lambda: f"{files.private}\n{files.public}")


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
    "--document",
    "documents",
    multiple=True,
    metavar="DIGEST|FILE",
    help="An attached document or unsigned statement to sign, named by its referrer's or its "
    "content's sha256 digest, or by a local file with the same bytes; repeatable.",
)
@click.option(
    "--predicate-type",
    "predicate_types",
    multiple=True,
    help="Only sign statements of this predicate type; repeatable.",
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
    documents: tuple[str, ...],
    predicate_types: tuple[str, ...],
    oms: bool,
    oms_output: Path | None,
    oms_name: str | None,
    plain_http: bool,
    insecure: bool,
    referrers_mode: str,
    fmt: str,
) -> None:  # fmt: skip
    """Sign what you name about an artifact and attach it as cosign-layout referrers.

    Signs only --statement files, --document referrers named by digest or file, and the
    --oms statement made here; never whatever else is attached. Reads the manifest and the
    named documents only: never a weight file.
    """
    from attest.flows.sign import sign_subject
    from attest.modelpack.read import read_subject
    from attest.text import safe

    ref = parse_reference(reference)
    store = store_for(ref, plain_http, insecure)
    subject = read_subject(store, resolve_target(store, ref), reference)
    result = sign_subject(
        store, subject,
        lambda: choose_signer_from_flags(key, identity_token, interactive, staging, trust_config),
        statement_files=list(statement_files), documents=list(documents),
        predicate_types=predicate_types, oms=oms, oms_name=oms_name, oms_output=oms_output,
        mode=referrers_mode,  # type: ignore[arg-type]
    )  # fmt: skip
    signer = result.signer
    assert signer is not None  # sign_subject chose one, as there was something to sign
    out = {
        "reference": subject_ref(ref, subject.digest),
        "digest": subject.digest,
        "signer": {"kind": signer.kind, "identity": signer.identity},
        "signed": result.to_dicts(),
        "omsOutput": str(oms_output) if oms_output else None,
    }

    def text() -> str:
        lines = [f"Signed     {out['reference']}", f"Signer     {signer.describe()}"]
        for s, origin in zip(result.signed, result.origins, strict=True):
            lines.append(f"  {safe(s.predicate_type):<45} {s.statement_ref.digest}")
            lines.append(f"      from {safe(origin)}")
        if oms_output:
            lines.append(f"OMS        {oms_output}")
        return "\n".join(lines)

    emit(fmt, out, text)


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
    from attest.facts.build_env import read_source_facts
    from attest.fileio import atomic_write
    from attest.stages.provenance import build_provenance

    model, store, _ = load_facts(reference, facts_file, plain_http, insecure)
    if store is None:
        raise UsageError("provenance is about a ModelPack artifact: give a reference")
    model.source = read_source_facts(source_dir)
    # After the fact, the build finished when the artifact was created (if it says so).
    statement = build_provenance(model, started_on=None, finished_on=model.created_at)
    data = (json.dumps(statement, indent=2, sort_keys=True) + "\n").encode()
    if output:
        atomic_write(output, data)
    else:
        click.echo(data.decode(), nl=False)
