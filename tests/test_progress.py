"""attest.progress: rich progress on stderr, only for a person watching (a terminal, no CI,
no -q), with the overall bytes and one line per blob in flight (hashing, pack, pull, copy)."""

from __future__ import annotations

import io
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from attest import progress as progress_mod
from attest.cli import cli
from attest.progress import Progress, progress_enabled
from tests.helpers import make_model_dir


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120), out


@pytest.fixture(autouse=True)
def _not_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    progress_mod.set_quiet(False)


def test_progress_enabled_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    assert progress_enabled(None, FakeTTY())
    assert not progress_enabled(False, FakeTTY())
    assert not progress_enabled(None, io.StringIO())  # a pipe or a file: no redraws in it
    assert not progress_enabled(True, io.StringIO())
    console, _ = terminal()
    assert progress_enabled(None, console=console)
    monkeypatch.setenv("CI", "true")
    assert not progress_enabled(None, FakeTTY())
    assert not progress_enabled(None, console=console)


def test_totals_and_advances_reach_rich_and_render() -> None:
    console, out = terminal()
    step = 10 * 1024
    with Progress(120 * step, "sha256", console=console) as p:
        for _ in range(120):
            p.advance(step)
        p.advance(0)  # nothing: no-op
        (task,) = p.rich.tasks
        assert (task.total, task.completed, task.description) == (120 * step, 120 * step, "sha256")
    assert p.done == 120 * step
    text = out.getvalue()
    assert "sha256" in text and "100%" in text and "1.2/1.2 MB" in text


def test_blob_lines_grow_an_unknown_total_and_go_when_done() -> None:
    console, out = terminal()
    with Progress(0, "copy", console=console) as p:
        with p.blob("sha256:aaaa", 1000) as a:
            with p.blob("model.safetensors", 3 * 1024 * 1024) as b:
                assert [t.description for t in p.rich.tasks] == [
                    "copy", "  sha256:aaaa", "  model.safetensors"]  # fmt: skip
                b.advance(3 * 1024 * 1024)
            a.advance(1000)
        (overall,) = p.rich.tasks  # the blob lines are gone, the overall line stays
        assert overall.total == overall.completed == 1000 + 3 * 1024 * 1024
    assert p.done == 1000 + 3 * 1024 * 1024
    assert "model.safetensors" in out.getvalue() and "100%" in out.getvalue()


def test_blob_lines_keep_a_known_total() -> None:
    console, _ = terminal()
    with Progress(500, "pull", console=console) as p, p.blob("a", 500) as a:
        a.advance(500)
        assert p.rich.tasks[0].total == 500


def test_labels_are_not_markup_nor_control_characters() -> None:
    console, out = terminal()
    with Progress(0, "pull", console=console) as p, p.blob("[red]x\x1b[2Jy", 1) as b:
        b.advance(1)
        (line,) = [t.description for t in p.rich.tasks][1:]
    assert "\x1b[2J" not in line and "[red]x" in line  # shown as written, escaped


def test_off_draws_nothing_but_still_counts() -> None:
    console, out = terminal()
    with Progress(100, "x", enabled=False, console=console) as p, p.blob("b", 100) as b:
        b.advance(100)
        assert p.rich is None
    assert out.getvalue() == "" and p.done == b.done == 100


def test_off_under_ci_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "1")
    console, out = terminal()
    with Progress(100, "x", console=console) as p:
        p.advance(100)
    assert p.rich is None and out.getvalue() == ""


def test_quiet_flag_turns_progress_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Progress made while `attest -q digest` runs stays off even on a terminal; without -q
    it draws; after the command the process is back to normal (in-process callers)."""
    import attest.oci.digest as digest_mod

    console, _ = terminal()
    seen: list[bool] = []
    real = digest_mod.digest_files

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(Progress(1, console=console).enabled)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(digest_mod, "digest_files", spy)
    model = str(make_model_dir(tmp_path / "m"))
    runner = CliRunner()
    for args in (["-q", "digest", model], ["digest", model, "-q"], ["digest", model]):
        assert runner.invoke(cli, [*args, "--no-cache"]).exit_code == 0
    assert seen == [False, False, True]  # -q anywhere on the line
    progress_mod.set_quiet(True)
    assert runner.invoke(cli, ["config", "path", "-q"]).exit_code == 0
    assert Progress(1, console=console).enabled  # reset when the command is done


def test_thread_safe() -> None:
    p = Progress(0, enabled=False)
    threads = [
        threading.Thread(target=lambda: [p.advance(1) for _ in range(10_000)]) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert p.done == 40_000


def _packed(tmp_path: Path) -> str:
    ref = f"oci:{tmp_path}/src:v1"
    result = CliRunner().invoke(cli, ["pack", str(make_model_dir(tmp_path / "m")), "--to", ref,
                                      "--no-creation-time"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return ref


def test_pull_and_copy_show_bytes_per_blob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from attest.cli.common import store_for
    from attest.modelpack.pull import pull
    from attest.modelpack.read import read_subject
    from attest.oci.copy import copy_artifact
    from attest.oci.reference import parse_reference

    ref = parse_reference(_packed(tmp_path))
    store = store_for(ref, False, False)
    subject = read_subject(store, "v1")
    stderr = FakeTTY()
    monkeypatch.setattr(sys, "stderr", stderr)
    pull(subject, store, tmp_path / "out", progress=None)
    pulled = stderr.getvalue()
    total = sum(layer.descriptor.size for layer in subject.layers)
    assert "pull" in pulled and "100%" in pulled
    assert all(layer.path in pulled for layer in subject.layers)  # one line per blob
    assert f"{total}/{total} bytes" in pulled

    dst = store_for(parse_reference(f"oci:{tmp_path}/dst"), False, False, create=True)
    _, stats = copy_artifact(store, "v1", dst, "v1", progress=None)
    copied = stderr.getvalue()[len(pulled):]
    assert "copy" in copied and "100%" in copied and stats.bytes_copied > 0
    assert subject.layers[0].descriptor.digest[7:19] in copied


def test_pull_without_a_terminal_draws_nothing(tmp_path: Path) -> None:
    ref = _packed(tmp_path)
    result = CliRunner().invoke(cli, ["pull", ref, "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "pull" not in result.stderr and "%" not in result.stderr
