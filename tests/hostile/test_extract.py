"""`attest pull` against hostile layers: symlink chains, links through the target's own links,
expansion bombs (zstd, gzip, sparse tar) and corrupt frames. Each must exit 2 and leave the
target exactly as it was (issue 11, items 7 and 9)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from attest.errors import InputError
from tests.hostile.hostile_artifacts import (
    encode,
    layout_with,
    metadata,
    raw_layer,
    run_cli,
    snapshot,
    sparse_tar,
    tar_bytes,
)

DEEP = 24  # more levels than any temp directory has: `..` that many times reaches "/"

CHAINS = {
    # s -> . makes s/.. the target's parent, though "s/.." looks like "." on paper
    "one-layer": [[("sym", "s", "."), ("sym", "p", "s/..")]],
    "two-layers": [[("sym", "s", ".")], [("sym", "p", "s/..")]],
    "in-a-directory": [[("dir", "d", None), ("sym", "d/s", ".."), ("sym", "d/p", "s/..")]],
    "to-etc-passwd": [
        [("sym", "s", "."), ("sym", "pw", "/".join(["s"] * DEEP + [".."] * DEEP) + "/etc/passwd")]
    ],
    "loop": [[("sym", "a", "b"), ("sym", "b", "a")]],
}


@pytest.fixture
def target(tmp_path: Path) -> Path:
    out = tmp_path / "target"
    out.mkdir()
    (out / "keep.txt").write_text("the user's file\n")
    return out


def _tar_layers(groups: list[list[tuple[str, str, object]]]) -> list:
    return [(tar_bytes(*entries), "tar", None) for entries in groups]


@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_symlink_chains_are_refused_and_the_target_is_unchanged(
    chain: str, tmp_path: Path, target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = layout_with(tmp_path, _tar_layers(CHAINS[chain]))
    before = snapshot(target)
    code, err = run_cli(capsys, "pull", ref, "-o", str(target))
    assert code == 2, err
    assert "symlink" in err and err.count("\n") <= 2
    assert snapshot(target) == before


def test_a_chain_split_across_two_pulls_is_refused(
    tmp_path: Path, target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = layout_with(tmp_path / "a", [(tar_bytes(("sym", "s", ".")), "tar", None)])
    second = layout_with(tmp_path / "b", [(tar_bytes(("sym", "p", "s/..")), "tar", None)])
    assert run_cli(capsys, "pull", first, "-o", str(target))[0] == 0
    after_first = snapshot(target)
    code, err = run_cli(capsys, "pull", second, "-o", str(target))
    assert code == 2, err
    assert snapshot(target) == after_first


def test_no_directory_is_created_through_a_link_in_the_target(
    tmp_path: Path, target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (target / "sub").symlink_to(outside)
    ref = layout_with(tmp_path, [raw_layer("sub/deeper/file.txt", b"x")])
    before = snapshot(target)
    code, err = run_cli(capsys, "pull", ref, "-o", str(target))
    assert code == 2, err
    assert list(outside.iterdir()) == []
    assert snapshot(target) == before


def test_a_late_failure_rolls_back_replaced_files(
    tmp_path: Path, target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The escape is only visible once everything is in place: the files already moved (one
    replacing the user's) are put back."""
    ref = layout_with(
        tmp_path,
        [
            raw_layer("keep.txt", b"replaced\n"),
            raw_layer("new/file.txt", b"new\n"),
            (tar_bytes(("sym", "s", "."), ("sym", "p", "s/..")), "tar", None),
        ],
    )
    before = snapshot(target)
    code, err = run_cli(capsys, "pull", ref, "-o", str(target), "--overwrite")
    assert code == 2, err
    assert snapshot(target) == before


def test_links_that_stay_inside_are_extracted(
    tmp_path: Path, target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = layout_with(
        tmp_path,
        [
            (
                tar_bytes(
                    ("dir", "d", None),
                    ("file", "d/w.bin", b"w"),
                    ("sym", "link", "d/w.bin"),
                    ("sym", "d/up", ".."),
                ),
                "tar",
                None,
            )
        ],  # fmt: skip
    )
    code, err = run_cli(capsys, "pull", ref, "-o", str(target))
    assert code == 0, err
    assert (target / "link").read_bytes() == b"w"
    assert os.readlink(target / "d" / "up") == ".."


def test_a_new_target_is_not_left_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = layout_with(tmp_path, _tar_layers(CHAINS["one-layer"]))
    code, _ = run_cli(capsys, "pull", ref, "-o", str(tmp_path / "new" / "target"))
    assert code == 2
    assert not (tmp_path / "new").exists()


# -- expansion ------------------------------------------------------------------------------

MIB = 1024 * 1024


def _zeros_tar(size: int) -> bytes:
    """A tar of one file of ``size`` zero bytes, streamed (never held whole)."""
    import io

    class Zeros(io.RawIOBase):
        def __init__(self) -> None:
            self.left = size

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            n = min(len(b), self.left)
            b[:n] = bytes(n)
            self.left -= n
            return n

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("zeros.bin")
        info.size = size
        tar.addfile(info, Zeros())
    return buf.getvalue()


def test_a_zstd_bomb_is_stopped_at_the_default_cap(
    tmp_path: Path, target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import zstandard

    compressor = zstandard.ZstdCompressor(level=19)
    blob = compressor.compress(_zeros_tar(256 * MIB))
    assert len(blob) < 64 * 1024
    ref = layout_with(tmp_path, [(blob, "tar+zstd", None)])
    before = snapshot(target)
    code, err = run_cli(capsys, "pull", ref, "-o", str(target))
    assert code == 2, err
    assert "expands beyond" in err and "--max-expand" in err
    assert snapshot(target) == before


def test_a_gzip_layer_bigger_than_its_file_metadata_is_stopped(
    tmp_path: Path, target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blob = encode(_zeros_tar(4 * MIB), "tar+gzip")
    ref = layout_with(tmp_path, [(blob, "tar+gzip", metadata(10))])
    before = snapshot(target)
    code, err = run_cli(capsys, "pull", ref, "-o", str(target))
    assert code == 2, err
    assert snapshot(target) == before
    # the user can allow it explicitly
    code, err = run_cli(capsys, "pull", ref, "-o", str(target), "--max-expand", "8M")
    assert code == 0, err
    assert (target / "zeros.bin").stat().st_size == 4 * MIB


def test_a_sparse_tar_is_stopped_at_the_cap(
    tmp_path: Path, target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blob = sparse_tar("big.bin", 256 * MIB)
    assert len(blob) < 10 * 1024
    ref = layout_with(tmp_path, [(blob, "tar", None)])
    before = snapshot(target)
    code, err = run_cli(capsys, "pull", ref, "-o", str(target))
    assert code == 2, err
    assert snapshot(target) == before


def test_facts_on_an_expansion_bomb_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`facts` streams tar layers to hash them: the same cap applies."""
    blob = sparse_tar("big.bin", 256 * MIB)
    ref = layout_with(tmp_path, [(blob, "tar", None)])
    code, err = run_cli(capsys, "facts", ref)
    assert code == 2, err


@pytest.mark.parametrize("encoding", ["tar+zstd", "tar+gzip"])
def test_corrupt_compressed_frames_are_bad_input(
    encoding: str, tmp_path: Path, target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = encode(tar_bytes(("file", "a.txt", b"hello " * 1000)), encoding)
    bad = good[:20] + bytes(b ^ 0x5A for b in good[20:40]) + good[40:]
    ref = layout_with(tmp_path, [(bad, encoding, None)])
    before = snapshot(target)
    code, err = run_cli(capsys, "pull", ref, "-o", str(target))
    assert code == 2, err
    assert snapshot(target) == before


def test_max_expand_must_be_a_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = layout_with(tmp_path, [raw_layer("a.txt", b"a")])
    code, err = run_cli(capsys, "pull", ref, "-o", str(tmp_path / "o"), "--max-expand", "lots")
    assert code == 2 and "--max-expand" in err


def test_too_many_tar_members_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from attest.modelpack.pull import pull
    from attest.modelpack.read import read_subject
    from attest.oci import extract
    from attest.oci.layout import LayoutStore

    monkeypatch.setattr(extract, "MAX_TAR_MEMBERS", 3)
    entries = [("file", f"f{i}", b"") for i in range(5)]
    layout_with(tmp_path, [(tar_bytes(*entries), "tar", None)])
    store = LayoutStore(tmp_path / "layout")
    with pytest.raises(InputError, match="more than 3 tar entries"):
        pull(read_subject(store, "v1"), store, tmp_path / "out")
    assert not (tmp_path / "out").exists()
