"""Which files of a model directory make up the model (modctl's rule), links contained."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from attest.errors import InputError
from attest.names import check_file_name


def list_model_files(root: Path) -> list[str]:
    """Relative POSIX paths of the files to pack, sorted; hidden files and dirs skipped (as
    modctl does: .git, .cache...). Symlinks are followed only when they stay inside ``root``."""
    root_real = root.resolve()
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                try:  # as the kernel resolves it; a loop is bad input, not a crash
                    target = Path(os.path.realpath(full, strict=True))
                except OSError as e:
                    if e.errno == errno.ELOOP:
                        raise InputError(f"{rel} is a symlink loop; refusing it") from None
                    continue  # dangling: nothing to pack
                if not target.is_relative_to(root_real):
                    raise InputError(f"{rel} is a symlink pointing outside {root}: {target}")
            if not full.is_file():
                continue  # sockets, fifos, dangling links
            # The rule every reader applies: never publish what pull/facts would refuse.
            check_file_name(rel, f"cannot pack {root}: file name")
            found.append(rel)
    return sorted(found)
