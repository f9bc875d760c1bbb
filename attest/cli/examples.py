"""One example per command for its ``--help``, for commands whose docstring has none.

Kept in one table so a command added without an example fails `tests/test_cli_contract.py`."""

from __future__ import annotations

import click

EXAMPLES: dict[str, str] = {
    "digest": "attest digest ./my-model --format json",
    "pack": "attest pack ./my-model --to oci:./out/my-model:v1",
    "inspect": "attest inspect reg.example/llm:v1 --format json",
    "pull": "attest pull reg.example/llm:v1 -o ./llm --max-expand 200G",
    "attach": "attest attach oci:./out/m:v1 eval.json --artifact-type application/vnd.acme.eval",
    "referrers": "attest referrers reg.example/llm:v1 --format json",
    "freshness": "attest freshness ./my-model --sbom .attest/sbom.cdx.json --card README.md",
    "check-yaml": "attest check-yaml attest.yaml models/*/attest.yaml",
    "facts": "attest facts ./my-model --format json",
    "card render": "attest card render ./my-model -o MODEL_CARD.md",
    "card lint": "attest card lint README.md --subject ./my-model --format sarif",
    "report": "attest report reg.example/llm:v1 --key release.pub --format html -o r.html",
    "diff": "attest diff reg.example/llm:v1 reg.example/llm:v2 --fail-on license",
    "run": "attest run ./my-model --to reg.example/llm:v1 --key release.key",
    "serve": "attest serve --tls-cert t.crt --tls-key t.key --key release.pub --policy policies/",
    "key generate": "attest key generate release   # writes release.key and release.pub",
    "sign": "attest sign reg.example/llm:v1 --key release.key --statement eval.json",
    "provenance": "attest provenance oci:./out/my-model:v1 --source-dir ./my-model",
    "templates": "attest templates --out deploy/gatekeeper --check",
    "policy test": "attest policy test policies/",
    "policy push": "attest policy push policies/ reg.example/policies:v1 --key release.key",
}


def add_examples(group: click.Group, prefix: str = "") -> None:
    """Give every command of ``group`` named in :data:`EXAMPLES` its example as the epilog."""
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            add_examples(command, path + " ")
        elif path in EXAMPLES and not command.epilog:
            command.epilog = "\b\nExample:\n  " + EXAMPLES[path]
