"""The CLI contract, run through the real `attest` entry point: paths are not registry
references, copy keeps a tag that starts with "sha", written files respect the umask, usage
errors are one `attest: error:` line with exit 2."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import click
import pytest

from tests.helpers import REPO_ROOT, run_attest

MODEL = REPO_ROOT / "testdata" / "models" / "tiny-llm"


@pytest.mark.parametrize("ref", ["./out/x", "../out/x:v1", "/tmp/out/x", "./x"])
def test_a_path_is_not_a_registry_reference(ref: str) -> None:
    done = run_attest("inspect", ref)
    assert done.returncode == 2
    assert f"attest: error: '{ref}' is a path, not a registry reference" in done.stderr
    assert f"did you mean oci:{ref}?" in done.stderr


def test_copy_keeps_a_tag_that_starts_with_sha(tmp_path: Path) -> None:
    src, dst = tmp_path / "s", tmp_path / "d"
    assert run_attest("pack", str(MODEL), "--to", f"oci:{src}:sha-1a2b3c").returncode == 0
    done = run_attest("copy", f"oci:{src}:sha-1a2b3c", f"oci:{dst}")
    assert done.returncode == 0, done.stderr
    tags = run_attest("inspect", f"oci:{dst}:sha-1a2b3c")
    assert tags.returncode == 0, tags.stderr


def test_written_files_respect_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        done = run_attest("pack", str(MODEL), "--to", f"oci:{tmp_path / 'lay'}:v1")
        assert done.returncode == 0, done.stderr
        sbom = tmp_path / "sbom.json"
        assert run_attest("sbom", str(MODEL), "-o", str(sbom)).returncode == 0
    finally:
        os.umask(old)
    files = [sbom, tmp_path / "lay" / "index.json",
             *(tmp_path / "lay" / "blobs" / "sha256").iterdir()]  # fmt: skip
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f


def test_usage_errors_are_one_prefixed_line() -> None:
    for args in (["inspect"], ["verify", "x.example/r:v1", "--no-such-flag"], ["nosuchcommand"]):
        done = run_attest(*args)
        assert done.returncode == 2, args
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("attest: error: "), done.stderr


def test_global_flags_work_anywhere() -> None:
    aikit = f"oci:{REPO_ROOT / 'testdata' / 'vectors' / 'aikit' / 'layout'}:latest"
    loud = run_attest("inspect", aikit)
    assert loud.returncode == 0 and "WARNING" in loud.stderr  # its config is `{}`
    for args in (("-q", "inspect", aikit), ("inspect", aikit, "-q"), ("inspect", "-q", aikit)):
        done = run_attest(*args)
        assert done.returncode == 0 and done.stderr == "", (args, done.stderr)
        assert done.stdout == loud.stdout
    # a command's own flag of the same name stays the command's
    listed = run_attest("policy", "test", "-v")
    assert listed.returncode == 0 and listed.stdout.count("PASS") > 1


def _leaf_commands() -> list[tuple[str, click.Command]]:
    from attest.cli import cli

    out: list[tuple[str, click.Command]] = []

    def walk(group: click.Group, prefix: str) -> None:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                walk(command, f"{prefix}{name} ")
            else:
                out.append((f"{prefix}{name}", command))

    walk(cli, "")
    return out


def test_every_command_help_has_an_example_whose_flags_exist() -> None:
    for path, command in _leaf_commands():
        with click.Context(command, info_name=f"attest {path}") as ctx:
            text = command.get_help(ctx)
        assert "Example" in text, f"attest {path} --help has no example"
        example = text[text.index("Example"):].split("\n\n")[0].replace("\\\n", " ")
        lines = [ln[ln.index("attest "):] for ln in example.splitlines()[1:] if "attest " in ln]
        assert lines and lines[0].startswith(f"attest {path}"), f"attest {path}: {example}"
        known = {opt for p in command.params for opt in getattr(p, "opts", [])}
        used = {tok for tok in lines[0].split() if tok.startswith("-") and tok != "-"}
        assert used <= known | {"-q", "-v", "--help"}, f"attest {path}: {used - known}"
