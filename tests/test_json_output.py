"""Every `--format json` output, from the real CLI in process, against its JSON Schema in
docs/schemas/ (docs/json-output.md), and every key that is not data in camelCase.

The fixture runs each command once on testdata/models and on OCI layouts made in tmp (copy,
register and handoff against the session's docker-registry and the Model Registry stand-in).
A command that gains `--format json` without a schema fails ``test_every_json_command_is_covered``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from attest.cli import cli
from tests.helpers import REPO_ROOT
from tests.model_registry_stand_in import ModelRegistryStandIn

MODELS = REPO_ROOT / "testdata" / "models"
MODEL = MODELS / "tiny-llm"
SCHEMAS = REPO_ROOT / "docs" / "schemas"
SHIPPED = REPO_ROOT / "attest" / "schemas"
SERVING = "registry.example/serve@sha256:" + "a" * 64
CAMEL = re.compile(r"^\$?[a-z][a-zA-Z0-9]*$")

#: Where keys are data and keep their own spelling, per command: annotation keys (anywhere),
#: documents attest reproduces (config.json, card front matter, a ModelPack config, GGUF
#: metadata), names used as keys (roles, statuses, MOF classes, custom properties), and the
#: fields a policy rule chose to return. ``[]`` stands for any list item.
DATA_PATHS: dict[str, tuple[str, ...]] = {
    "facts": ("hfConfig", "generationConfig", "modelpackConfig", "card.frontMatter",
              "card.sections", "weights[].metadata", "declared.extra",
              "declared.componentLicenses", "declared.components"),
    "mof": ("[].progress", "[].classes"),
    "pack": ("config",),
    "inspect": ("config",),
    "run": ("config", "roles"),
    "verify": ("referrers[].summary.progress", "policy.violations[]", "policy.warnings[]",
               "referrers[].signatures[].notation.subjectAttributes"),
    "report": ("subject.roles", "mof.progress", "policy.violations[]", "policy.warnings[]",
               "model.config"),
    "audit": ("summary",),
    "register": ("customProperties", "ids"),
}  # fmt: skip


def invoke(args: list[str], codes: tuple[int, ...] = (0,)) -> Any:
    result = CliRunner().invoke(cli, args)
    if result.exit_code not in codes:
        raise AssertionError(f"attest {' '.join(args)}: exit {result.exit_code}\n{result.output}"
                             f"\n{result.exception!r}")  # fmt: skip
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def outputs(
    tmp_path_factory: pytest.TempPathFactory, registry_server: Any
) -> Iterator[dict[str, list[Any]]]:
    """``command path -> [parsed JSON output, ...]``, each command run once (or twice)."""
    t = tmp_path_factory.mktemp("json-output")
    key = t / "release"
    packed, run_ref = f"oci:{t / 'packed'}:v1", f"oci:{t / 'run'}:v1"
    remote = f"{registry_server.host}/json-output/tiny-llm:v1"
    pub = ["--key", f"{key}.pub"]
    out: dict[str, list[Any]] = {}

    def j(name: str, *args: str, codes: tuple[int, ...] = (0,)) -> None:
        out.setdefault(name, []).append(invoke([*args, "--format", "json"], codes))

    j("key generate", "key", "generate", str(key))
    j("digest", "digest", str(MODEL), "--no-cache")
    j("pack", "pack", str(MODEL), "--to", packed, "--no-creation-time")
    j("inspect", "inspect", packed)
    j("facts", "facts", str(MODEL))
    j("facts", "facts", packed)
    j("mof", "mof", str(MODEL), str(MODELS / "open-llm"))
    j("run", "run", str(MODEL), "--to", run_ref, "--key", f"{key}.key", "--no-creation-time")
    j("sign", "sign", packed, "--oms", "--key", f"{key}.key")
    j("attach", "attach", packed, str(MODEL / "config.json"), "--artifact-type",
      "application/vnd.example.note", "--annotation", "org.example.note=yes")
    j("referrers", "referrers", run_ref, "--recursive")
    j("copy", "copy", run_ref, remote)
    j("pull", "pull", run_ref, "-o", str(t / "pulled"))
    j("verify", "verify", run_ref, *pub, "--policy", str(REPO_ROOT / "policies"),
      "--mode", "warn")
    j("report", "report", run_ref, *pub)
    j("diff", "diff", str(MODEL), str(MODELS / "open-llm"), "--fail-on", "none")
    j("policy test", "policy", "test", str(REPO_ROOT / "policies"))
    j("policy push", "policy", "push", str(REPO_ROOT / "policies"), f"oci:{t / 'policy'}:v1",
      "--key", f"{key}.key")
    sbom = t / "sbom.cdx.json"
    assert CliRunner().invoke(cli, ["sbom", str(MODEL), "-o", str(sbom)]).exit_code == 0
    j("freshness", "freshness", str(MODEL), "--sbom", str(sbom))
    card = t / "README.md"  # Class III sections missing: findings to validate
    card.write_text("---\nlicense: mit\n---\n# Tiny\n\n## Model details\n\nA model.\n")
    j("card lint", "card", "lint", str(card), "--subject", str(MODEL), codes=(1,))
    fleet = t / "fleet.txt"
    fleet.write_text(f"{remote}\n{run_ref}\n")
    j("audit", "audit", str(fleet), *pub)
    j("handoff", "handoff", remote, *pub, "--target", "deployment", "--serving-image", SERVING,
      "--out", str(t / "handoff"))
    j("config show", "config", "show", "verify", "--all")
    j("config path", "config", "path")
    with ModelRegistryStandIn() as mr:
        j("register", "register", remote, *pub, "--model-registry", mr.url, "--name", "tiny")
    yield out


def _schema_registry() -> Registry:
    resources = []
    for path in [*SHIPPED.glob("*.schema.json"), *SCHEMAS.glob("*.schema.json")]:
        schema = json.loads(path.read_text())
        if "$id" in schema:
            resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def schema_path(command: str) -> Path:
    return SCHEMAS / f"{command.replace(' ', '-')}.schema.json"


def json_commands() -> list[str]:
    """Every command path whose --format offers json."""
    found: list[str] = []

    def walk(cmd: click.Command, path: list[str]) -> None:
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
        for p in cmd.params:
            opts = getattr(p, "opts", ())
            if "--format" in opts and isinstance(p.type, click.Choice) and "json" in p.type.choices:
                found.append(" ".join(path))

    walk(cli, [])
    return sorted(found)


def test_every_json_command_is_covered() -> None:
    assert json_commands() == sorted(COVERED)
    for command in COVERED:
        assert schema_path(command).is_file(), command


COVERED = ("key generate", "digest", "pack", "inspect", "facts", "mof", "run", "sign", "attach",
           "referrers", "copy", "pull", "verify", "report", "diff", "policy test", "policy push",
           "freshness", "card lint", "audit", "handoff", "register", "config show",
           "config path")  # fmt: skip


@pytest.mark.parametrize("command", COVERED)
def test_output_matches_its_schema(outputs: dict[str, list[Any]], command: str) -> None:
    schema = json.loads(schema_path(command).read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = Draft202012Validator(schema, registry=_schema_registry())
    for doc in outputs[command]:
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def _keys(value: Any, path: str, data: tuple[str, ...]) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _keys(item, f"{path}[]", data)
    elif isinstance(value, dict) and path not in data and not path.endswith("annotations"):
        for key, item in value.items():
            yield f"{path}.{key}".lstrip(".")
            yield from _keys(item, f"{path}.{key}".lstrip("."), data)


@pytest.mark.parametrize("command", COVERED)
def test_every_key_that_is_not_data_is_camel_case(
    outputs: dict[str, list[Any]], command: str
) -> None:
    data = DATA_PATHS.get(command, ())
    for doc in outputs[command]:
        keys = list(_keys(doc, "", data))
        assert keys, command
        bad = sorted({k for k in keys if not CAMEL.match(k.rsplit(".", 1)[-1])})
        assert not bad, f"{command}: keys not in camelCase: {bad}"


def test_the_data_exemptions_are_there(outputs: dict[str, list[Any]]) -> None:
    """The exemptions are real data maps, so they cannot hide a renamed field: config.json's
    snake_case keys and the MOF class numerals come through unchanged."""
    facts = outputs["facts"][0]
    assert facts["hfConfig"]["model_type"] and "parameterCount" in facts
    assert set(outputs["mof"][0][0]["progress"]) == {"I", "II", "III"}
    assert outputs["attach"][0]["artifactType"] == "application/vnd.example.note"


def test_sbom_format_is_refused_with_the_type_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--format` is the output format on every command: on sbom it is one usage error line
    (through the real entry point) naming --type."""
    from attest.cli import main

    monkeypatch.setattr("sys.argv", ["attest", "sbom", str(MODEL), "--format", "spdx"])
    with pytest.raises(SystemExit) as exit_:
        main()
    captured = capsys.readouterr()
    assert exit_.value.code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("attest: error: ")
    assert "use --type spdx" in captured.err
    result = CliRunner().invoke(cli, ["sbom", str(MODEL), "--type", "spdx"])
    assert result.exit_code == 0 and json.loads(result.stdout)["spdxVersion"] == "SPDX-2.3"
