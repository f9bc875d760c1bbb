"""`attest run`: the whole job in one command."""

from __future__ import annotations

from pathlib import Path

import click

from attest.cli.app import cli
from attest.cli.common import (
    FACTS_FILE,
    FORMAT,
    choose_signer_from_flags,
    emit,
    referrers_mode_option,
    registry_options,
    signer_options,
    store_for,
    subject_ref,
)
from attest.errors import UsageError, VerificationError
from attest.humanize import human_size
from attest.oci.reference import parse_reference
from attest.oci.stores import DEFAULT_TAG


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
    from attest.flows.run import run_pipeline
    from attest.text import safe

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
        signer = choose_signer_from_flags(key, identity_token, interactive, staging, trust_config)
    store = store_for(ref, plain_http, insecure, create=True)
    result = run_pipeline(
        source, store, ref.tag or DEFAULT_TAG, modelfile=modelfile, facts_file=facts_file,
        creation_time=not no_creation_time, referrers_mode=referrers_mode,  # type: ignore[arg-type]
        reference=str(ref), signer=signer, policy=policy_source, params=params,
        policy_mode=policy_mode,
    )  # fmt: skip
    layers = result.packed.manifest["layers"]
    summary = {
        "reference": subject_ref(ref, result.digest),
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
            f"Files      {summary['files']} ({human_size(summary['bytes'])}): "
            + ", ".join(f"{n} {k}" for k, n in sorted(result.roles().items())),
            f"Model      {facts or 'no weight facts'}; licence {summary['license'] or 'unknown'}",
        ]
        for stage in result.stages:
            lines.append(f"{stage.stage:<10} {stage.status}: {safe(stage.detail)}")
            for item in stage.attached:  # policy messages quote annotations: escaped
                if "digest" in item:
                    lines.append(f"             {safe(item['file']):<20} {item['digest']}")
                elif item["level"] == "violation" or item["code"] != "IDENTITY_DEV_KEY":
                    code, msg = safe(item["code"]), safe(item["msg"])
                    lines.append(f"             [{code}] {msg}")
            dev = sum(1 for i in stage.attached if i.get("code") == "IDENTITY_DEV_KEY")
            if dev:
                lines.append(f"             [IDENTITY_DEV_KEY] {dev} statements signed with the "
                             "development key: fine on a laptop, not for release")  # fmt: skip
        return "\n".join(lines)

    emit(fmt, summary, text)
    failed = [s for s in result.stages if s.status == "failed"]
    if failed:
        raise VerificationError(f"{failed[0].stage} failed: {failed[0].detail}")


def _tag_for(name: str) -> str:
    import re

    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", name).lstrip(".-") or DEFAULT_TAG
    return tag[:128]
