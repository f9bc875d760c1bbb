"""``attest pull``: write a ModelPack artifact's files into a directory, all or nothing.

Which layer becomes which file (raw layers by their path annotation, tar layers by their
members) and how far a layer may expand; the staging, journalled move and link checks are
:mod:`attest.oci.extract`'s.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from attest.errors import InputError
from attest.facts.subject import ModelLayer, Subject
from attest.names import check_file_name
from attest.oci.extract import (
    DEFAULT_EXPAND_FLOOR,
    DEFAULT_EXPAND_RATIO,
    TAR_OVERHEAD,
    ExpansionBudget,
    HashingReader,
    extract_tar,
    place,
    write_file,
)
from attest.oci.parallel import run_largest_first
from attest.oci.store import Store
from attest.progress import Progress, ProgressReader


def layer_cap(layer: ModelLayer, max_expand: int | None = None) -> int:
    """The most bytes ``layer`` may expand to: ``max_expand`` when the user gave one, else the
    file size its metadata annotation declares (plus tar overhead), else the larger of
    :data:`DEFAULT_EXPAND_FLOOR` and :data:`DEFAULT_EXPAND_RATIO` times its size."""
    if max_expand is not None:
        return max_expand
    meta = layer.metadata or {}
    size = meta.get("size")
    regular = meta.get("typeflag") in (None, ord("0"), "0", 0)
    if regular and isinstance(size, int) and not isinstance(size, bool) and size >= 0:
        return size + TAR_OVERHEAD
    return max(DEFAULT_EXPAND_FLOOR, DEFAULT_EXPAND_RATIO * layer.descriptor.size)


def pull(
    subject: Subject,
    store: Store,
    output: Path,
    *,
    overwrite: bool = False,
    max_expand: int | None = None,
    progress: bool | None = False,
) -> list[str]:
    """Write every file of ``subject`` under ``output``; return the relative paths written.

    Raw layers (one file each, as ``pack`` makes them) are fetched a few at a time, largest
    first; tar layers in order, as a later one may depend on what an earlier one made.
    """
    created_output = _make_output(output)
    try:
        staging = Path(tempfile.mkdtemp(prefix=".attest-pull-", dir=output))
        try:
            total = sum(layer.descriptor.size for layer in subject.layers)
            with Progress(total, "pull", enabled=progress) as bar:
                layers = list(enumerate(subject.layers))
                if all(layer.encoding == "raw" for layer in subject.layers):
                    parts = run_largest_first(
                        layers,
                        lambda item: item[1].descriptor.size,
                        lambda item: _extract_layer(store, item[1], item[0], staging,
                                                    max_expand, bar),  # fmt: skip
                    )
                else:
                    parts = [_extract_layer(store, la, i, staging, max_expand, bar)
                             for i, la in layers]  # fmt: skip
            written: list[str] = [rel for part in parts for rel in part]
            if not overwrite:
                clashes = [p for p in written if os.path.lexists(output / p)]
                if clashes:
                    raise InputError(
                        f"{output} already has {clashes[0]}"
                        + (f" and {len(clashes) - 1} more" if len(clashes) > 1 else "")
                        + "; use --overwrite to replace"
                    )
            place(output, staging, written)
            return written
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        for directory in reversed(created_output):  # the target did not exist: nor does it now
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise


def _make_output(output: Path) -> list[Path]:
    """Create ``output`` (the user named it, links in its path are theirs); return what was
    created, deepest last."""
    missing: list[Path] = []
    current = output
    while not os.path.lexists(current):
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    output.mkdir(parents=True, exist_ok=True)
    if not output.is_dir():
        raise InputError(f"{output} is not a directory")
    return list(reversed(missing))


def _extract_layer(
    store: Store,
    layer: ModelLayer,
    index: int,
    staging: Path,
    max_expand: int | None,
    bar: Progress | None = None,
) -> list[str]:
    where = f"layer {index} ({layer.descriptor.digest[:19]})"
    line = (bar.blob(layer.path or layer.descriptor.digest[7:19], layer.descriptor.size)
            if bar is not None else contextlib.nullcontext())  # fmt: skip
    with store.open_blob(layer.descriptor) as raw, line as blob:
        reader = HashingReader(ProgressReader(raw, blob) if blob is not None else raw)  # type: ignore[arg-type]
        if layer.encoding == "raw":
            assert layer.path is not None  # parse_subject guarantees it
            write_file(staging, layer.path, reader, mode=_mode(layer), budget=None)
            written = [check_file_name(layer.path)]
        else:
            budget = ExpansionBudget(layer_cap(layer, max_expand), where)
            written = extract_tar(reader, layer.encoding, staging, where, budget)
        reader.drain()
    if reader.digest != layer.descriptor.digest or reader.count != layer.descriptor.size:
        raise InputError(f"{where}: content does not match its digest; nothing was written")
    return written


def _mode(layer: ModelLayer) -> int:
    mode = (layer.metadata or {}).get("mode")
    return (mode & 0o777) if isinstance(mode, int) else 0o644
