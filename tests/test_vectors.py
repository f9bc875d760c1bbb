"""The upstream conformance data in testdata/vectors is complete and unedited.

The suite must test itself from a plain clone: nothing may read a checkout beside the repository.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VECTORS = REPO_ROOT / "testdata" / "vectors"


def test_every_vector_file_matches_its_recorded_sha256() -> None:
    listed: dict[str, str] = {}
    for line in (VECTORS / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(None, 1)
        listed[name.removeprefix("./")] = digest
    present = {
        p.relative_to(VECTORS).as_posix()
        for p in VECTORS.rglob("*")
        if p.is_file() and p.name not in ("SHA256SUMS", "README.md")
    }
    assert present == set(listed), "SHA256SUMS and the files differ (see README: refresh)"
    for name, digest in listed.items():
        assert hashlib.sha256((VECTORS / name).read_bytes()).hexdigest() == digest, name
    assert len(listed) >= 70


def test_no_test_or_module_reads_outside_the_repository() -> None:
    # ../shared (the developers' side checkout) is not part of a clone.
    pattern = re.compile(r"""\.\./shared|/work/shared|["']shared["']\s*/|REPO_ROOT\.parent""")
    offenders = [
        f"{p.relative_to(REPO_ROOT)}:{n}"
        for root in ("attest", "tests")
        for p in (REPO_ROOT / root).rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line) and p.name != "test_vectors.py"
    ]
    assert offenders == []
