"""One name rule, applied when packing and when reading (issue 11, item 11): `pack` and `run`
refuse the names that `pull` and `facts` would refuse, so no unreadable artifact is published
and no tag is left on one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attest.errors import InputError
from tests.helpers import make_model_dir
from tests.hostile.hostile_artifacts import layout_with, raw_layer, run_cli, snapshot, tar_bytes

BAD_NAMES = ["C:evil.txt", "dir\\file.txt", "sub/D:x.txt"]


def _model_with(tmp_path: Path, name: str) -> Path:
    model = make_model_dir(tmp_path / "model")
    path = model / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("hostile\n")
    return model


def _tags(layout: Path) -> list[str]:
    if not (layout / "index.json").exists():
        return []
    index = json.loads((layout / "index.json").read_text())
    return [(m.get("annotations") or {}).get("org.opencontainers.image.ref.name", "")
            for m in index["manifests"]]  # fmt: skip


@pytest.mark.parametrize("name", BAD_NAMES)
def test_pack_refuses_names_readers_refuse(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _model_with(tmp_path, name)
    out = tmp_path / "out"
    code, err = run_cli(capsys, "pack", str(model), "--to", f"oci:{out}:v1")
    assert code == 2, err
    assert "cannot pack" in err and err.count("\n") == 1
    assert "v1" not in _tags(out)


@pytest.mark.parametrize("name", ["C:evil.txt", "dir\\file.txt"])
def test_run_leaves_no_tag_on_an_unreadable_artifact(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _model_with(tmp_path, name)
    out = tmp_path / "out"
    code, err = run_cli(capsys, "run", str(model), "--to", f"oci:{out}:v1", "--no-sign")
    assert code == 2, err
    assert "v1" not in _tags(out)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_readers_refuse_the_same_names(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Raw layers (path annotation) and tar members alike, for pull and facts."""
    for i, layer in enumerate(
        [raw_layer(name, b"x"), (tar_bytes(("file", name, b"x")), "tar", None)]
    ):
        ref = layout_with(tmp_path / str(i), [layer])
        target = tmp_path / f"target{i}"
        code, err = run_cli(capsys, "pull", ref, "-o", str(target))
        assert code == 2, err
        assert snapshot(target) == {"<absent>": True}
        code, err = run_cli(capsys, "facts", ref)
        assert code == 2, err


def test_the_rule_itself() -> None:
    from attest.names import check_file_name

    assert check_file_name("a//b/./c.txt") == "a/b/c.txt"
    assert check_file_name("weights/model-00001.safetensors") == "weights/model-00001.safetensors"
    assert check_file_name("ünïcode/名前.txt") == "ünïcode/名前.txt"
    assert check_file_name("ab:c.txt") == "ab:c.txt"  # a colon is fine; a drive prefix ("a:") not
    for bad in [*BAD_NAMES, "", "/abs", "../up", "a/../../up", ".", "x" * 256, "a\x00b"]:
        with pytest.raises(InputError):
            check_file_name(bad)


def test_pull_writes_what_pack_accepts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Round trip: a name at the edge of the rule packs, pulls and reads back."""
    model = _model_with(tmp_path, "odd dir/spaced name, with:colon [1].txt")
    out = tmp_path / "out"
    assert run_cli(capsys, "pack", str(model), "--to", f"oci:{out}:v1")[0] == 0
    target = tmp_path / "target"
    code, err = run_cli(capsys, "pull", f"oci:{out}:v1", "-o", str(target))
    assert code == 0, err
    assert (target / "odd dir" / "spaced name, with:colon [1].txt").read_text() == "hostile\n"
