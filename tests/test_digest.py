"""Tests for attest.oci.digest (streaming parallel sha256 + digest cache) and attest.progress."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from attest.errors import InputError
from attest.oci import digest as dg
from attest.oci.digest import CHUNK_SIZE, DigestCache, FileDigest, digest_files, sha256_file
from attest.progress import Progress

OLD = 1_600_000_000  # an mtime well outside the racy window


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the real ~/.cache, and start every test with the cache enabled."""
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("ATTEST_CACHE_DIR", str(cache_dir))
    monkeypatch.delenv("ATTEST_NO_CACHE", raising=False)
    return cache_dir


def _write(path: Path, data: bytes, mtime: int = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def _expected(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def model(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A small model dir: an empty file, one > CHUNK_SIZE (not a multiple), and a few others."""
    root = tmp_path / "model"
    files = {
        "empty.bin": b"",
        "big.safetensors": os.urandom(4096) * ((CHUNK_SIZE * 2 + 12345) // 4096 + 1),
        "exact.bin": b"\xab" * CHUNK_SIZE,
        "config.json": b'{"a": 1}\n',
        "sub/dir/tokenizer.json": b"tok" * 1000,
    }
    for rel, data in files.items():
        _write(root / rel, data)
    return root, files


class CountingHash:
    """Counts calls to the low-level hash routine: a cache hit must not reach it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[Path] = []
        self._lock = threading.Lock()
        real = dg._hash_path

        def counted(path: Path, *args: object, **kwargs: object) -> dg._Hashed:
            with self._lock:
                self.paths.append(Path(path))
            return real(path, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(dg, "_hash_path", counted)


# --- sha256_file -----------------------------------------------------------------------------


def test_sha256_file_matches_hashlib(model: tuple[Path, dict[str, bytes]]) -> None:
    root, files = model
    assert len(files["big.safetensors"]) > 2 * CHUNK_SIZE
    assert len(files["big.safetensors"]) % CHUNK_SIZE != 0
    for rel, data in files.items():
        assert sha256_file(root / rel) == _expected(data), rel


def test_empty_file_digest(tmp_path: Path) -> None:
    p = _write(tmp_path / "e", b"")
    assert sha256_file(p) == (
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.skipif(
    shutil.which("openssl") is None,
    reason="openssl not installed (apt-get install openssl; scripts/test does; fails under CI)",
)
def test_sha256_file_matches_openssl(model: tuple[Path, dict[str, bytes]]) -> None:
    root, files = model
    for rel in files:
        out = subprocess.run(
            ["openssl", "dgst", "-sha256", "-r", str(root / rel)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert sha256_file(root / rel) == "sha256:" + out.split()[0], rel


def test_sha256_file_reports_progress(tmp_path: Path) -> None:
    data = b"x" * (CHUNK_SIZE + 10)
    p = _write(tmp_path / "f", data)
    prog = Progress(len(data), "t", enabled=False)
    sha256_file(p, prog)
    assert prog.done == len(data)


def test_sha256_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope.bin") as ei:
        sha256_file(tmp_path / "nope.bin")
    assert ei.value.exit_code == 2


def test_sha256_file_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="directory"):
        sha256_file(tmp_path)


def test_sha256_file_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        sha256_file(fifo)


@pytest.mark.timeout(20)
def test_path_turned_fifo_after_stat_does_not_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stat pass saw a regular file; by open() time it is a FIFO with no writer.
    fifo = tmp_path / "was-a-file"
    os.mkfifo(fifo)
    fake = os.stat(__file__)
    monkeypatch.setattr(dg, "_stat_regular", lambda path: fake)
    with pytest.raises(InputError, match="not a regular file"):
        sha256_file(fifo)


def test_sha256_file_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # We run as root, where chmod 000 does not stop reads: simulate EACCES at open().
    p = _write(tmp_path / "secret.bin", b"data")
    real_open = os.open

    def deny(file: object, *args: object, **kwargs: object) -> int:
        if Path(str(file)) == p:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dg.os, "open", deny)
    with pytest.raises(InputError, match=r"secret\.bin.*permission denied"):
        sha256_file(p)


# --- digest_files ----------------------------------------------------------------------------


def test_digest_files_values_and_order(model: tuple[Path, dict[str, bytes]]) -> None:
    root, files = model
    rels = sorted(files, reverse=True)  # an order that is neither insertion nor sorted
    got = digest_files(root, rels, cache=DigestCache.disabled())
    assert [d.path for d in got] == rels
    for d in got:
        assert d == FileDigest(d.path, len(files[d.path]), _expected(files[d.path]))


def test_parallel_equals_serial(tmp_path: Path) -> None:
    root = tmp_path / "m"
    rels = [f"shard-{i:03}.bin" for i in range(24)]
    for i, rel in enumerate(rels):
        _write(root / rel, os.urandom(1000 + i * 7919))
    off = DigestCache.disabled()
    serial = digest_files(root, rels, workers=1, cache=off)
    parallel = digest_files(root, rels, workers=8, cache=off)
    assert parallel == serial
    assert [d.path for d in parallel] == rels


def test_duplicate_paths_hashed_once(
    model: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, files = model
    counter = CountingHash(monkeypatch)
    got = digest_files(root, ["config.json", "config.json"], cache=DigestCache.disabled())
    assert got[0] == got[1]
    assert len(counter.paths) == 1


def test_cache_hit_does_not_read(
    model: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch, _isolated_cache: Path
) -> None:
    root, files = model
    rels = list(files)
    counter = CountingHash(monkeypatch)
    first = digest_files(root, rels)
    assert len(counter.paths) == len(rels)
    assert (_isolated_cache / DigestCache.FILENAME).is_file()

    # A new DigestCache object: the hit must come from the file on disk, not from memory.
    counter.paths.clear()
    second = digest_files(root, rels, cache=DigestCache())
    assert second == first
    assert counter.paths == []


def test_cache_hit_never_opens_file(
    model: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, files = model
    digest_files(root, list(files))
    real_open, real_os_open = open, os.open

    def no_model_open(file: object, *args: object, **kwargs: object) -> object:
        assert not str(file).startswith(str(root)), f"opened {file}"
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    def no_model_os_open(file: object, *args: object, **kwargs: object) -> int:
        assert not str(file).startswith(str(root)), f"opened {file}"
        return real_os_open(file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("builtins.open", no_model_open)
    monkeypatch.setattr(dg.os, "open", no_model_os_open)
    assert [d.digest for d in digest_files(root, list(files))] == [
        _expected(b) for b in files.values()
    ]


def test_cache_miss_after_mtime_change(
    model: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = model
    digest_files(root, ["config.json", "empty.bin"])
    os.utime(root / "config.json", (OLD + 5, OLD + 5))  # same bytes, new mtime
    counter = CountingHash(monkeypatch)
    digest_files(root, ["config.json", "empty.bin"])
    assert counter.paths == [root / "config.json"]


def test_cache_miss_after_content_change_same_mtime(
    model: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = model
    digest_files(root, ["config.json"])
    # Rewrite with a different size but put the old mtime back: size alone must force a miss.
    _write(root / "config.json", b'{"a": 22}\n', mtime=OLD)
    counter = CountingHash(monkeypatch)
    (got,) = digest_files(root, ["config.json"])
    assert counter.paths == [root / "config.json"]
    assert got == FileDigest("config.json", 10, _expected(b'{"a": 22}\n'))


def test_cache_miss_after_replace_same_size_and_mtime(
    model: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = model
    digest_files(root, ["config.json"])
    # Atomic replace (new inode) with same size and mtime: the inode must force a miss.
    tmp = _write(root / "config.json.new", b'{"b": 2}\n', mtime=OLD)
    keep = root / "keep-old-inode-busy"
    os.link(root / "config.json", keep)  # so the old inode number cannot be reused at once
    os.replace(tmp, root / "config.json")
    counter = CountingHash(monkeypatch)
    (got,) = digest_files(root, ["config.json"])
    assert counter.paths == [root / "config.json"]
    assert got.digest == _expected(b'{"b": 2}\n')


def test_recent_file_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # mtime within the racy window: a same-size rewrite could keep the mtime, so no caching.
    p = tmp_path / "m" / "fresh.bin"
    p.parent.mkdir()
    p.write_bytes(b"fresh")
    digest_files(p.parent, ["fresh.bin"])
    counter = CountingHash(monkeypatch)
    digest_files(p.parent, ["fresh.bin"])
    assert len(counter.paths) == 1


@pytest.mark.parametrize("change", ["append", "rewrite-same-size"])
def test_file_changed_while_hashing_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    root = tmp_path / "m"
    p = _write(root / "grow.bin", b"a" * (CHUNK_SIZE + 1))
    real_fstat = os.fstat
    calls = {"n": 0}

    def fstat_then_modify(fd: int) -> os.stat_result:
        calls["n"] += 1
        if calls["n"] == 2:  # the "after" fstat: simulate a writer busy meanwhile
            if change == "append":
                with open(p, "ab") as f:
                    f.write(b"more")
            else:
                with open(p, "r+b") as f:
                    f.write(b"b")
            os.utime(p, (OLD + 9, OLD + 9))
        return real_fstat(fd)

    monkeypatch.setattr(dg.os, "fstat", fstat_then_modify)
    digest_files(root, ["grow.bin"], workers=1)
    monkeypatch.setattr(dg.os, "fstat", real_fstat)
    assert len(DigestCache()) == 0


def test_corrupt_cache_tolerated(
    model: tuple[Path, dict[str, bytes]], _isolated_cache: Path
) -> None:
    root, files = model
    cache_file = _isolated_cache / DigestCache.FILENAME
    for junk in (
        b"{not json",
        b"\x00\xff\xfe garbage",
        b"[]",
        b'{"version": 1, "entries": []}',
        b'{"version": 1, "entries": {"/x": "oops", "/y": [1, 2]}}',
        b'{"version": 999, "entries": {}}',
        b"",
    ):
        _isolated_cache.mkdir(exist_ok=True)
        cache_file.write_bytes(junk)
        got = digest_files(root, ["config.json"])
        assert got[0].digest == _expected(files["config.json"])
        # ... and the corrupt file was replaced by a valid one.
        doc = json.loads(cache_file.read_bytes())
        assert doc["version"] == DigestCache.VERSION
        assert len(doc["entries"]) == 1


@pytest.mark.parametrize("bad_digest", [12345, "sha256:abc", "md5:" + "0" * 64])
def test_cache_entry_with_bad_digest_is_a_miss(
    model: tuple[Path, dict[str, bytes]],
    _isolated_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    bad_digest: object,
) -> None:
    root, files = model
    digest_files(root, ["config.json"])
    cache_file = _isolated_cache / DigestCache.FILENAME
    doc = json.loads(cache_file.read_bytes())
    (key,) = doc["entries"]
    doc["entries"][key][3] = bad_digest
    cache_file.write_text(json.dumps(doc))
    counter = CountingHash(monkeypatch)
    assert digest_files(root, ["config.json"])[0].digest == _expected(files["config.json"])
    assert len(counter.paths) == 1


def test_cache_hit_refreshes_old_last_used(
    model: tuple[Path, dict[str, bytes]], _isolated_cache: Path
) -> None:
    root, _ = model
    digest_files(root, ["config.json"])
    cache_file = _isolated_cache / DigestCache.FILENAME
    doc = json.loads(cache_file.read_bytes())
    (key,) = doc["entries"]
    doc["entries"][key][4] = 0  # last used in 1970
    cache_file.write_text(json.dumps(doc))
    before = int(time.time())  # no time limit: the refresh happens after this, however slow
    digest_files(root, ["config.json"])
    used = json.loads(cache_file.read_bytes())["entries"][key][4]
    assert used >= before


def test_unwritable_cache_dir_does_not_fail(
    model: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root, files = model
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ATTEST_CACHE_DIR", str(blocker / "sub"))
    got = digest_files(root, ["config.json"])
    assert got[0].digest == _expected(files["config.json"])


def test_concurrent_writers_merge(model: tuple[Path, dict[str, bytes]]) -> None:
    root, _ = model
    a, b = DigestCache(), DigestCache()
    a.lookup("/nothing", os.stat(root))  # both load the (empty) file before either saves
    b.lookup("/nothing", os.stat(root))
    digest_files(root, ["config.json"], cache=a)
    digest_files(root, ["empty.bin"], cache=b)
    assert len(DigestCache()) == 2


def test_cache_bounded_drops_oldest(tmp_path: Path, _isolated_cache: Path) -> None:
    root = tmp_path / "m"
    rels = [f"f{i}" for i in range(5)]
    for rel in rels:
        _write(root / rel, rel.encode())
    cache = DigestCache(max_entries=3)
    now = int(time.time())
    for i, rel in enumerate(rels):
        real = os.path.realpath(root / rel)
        cache.store(real, os.stat(root / rel), _expected(rel.encode()))
        cache._load()[real][4] = now - 100 + i  # f0 is the oldest, f4 the newest
    cache._dirty.update(cache._load())
    cache.save()
    doc = json.loads((_isolated_cache / DigestCache.FILENAME).read_bytes())
    assert sorted(doc["entries"]) == sorted(os.path.realpath(root / r) for r in rels[2:])


def test_cache_written_atomically(
    model: tuple[Path, dict[str, bytes]], _isolated_cache: Path
) -> None:
    root, files = model
    digest_files(root, list(files))
    leftovers = [p.name for p in _isolated_cache.iterdir() if p.name != DigestCache.FILENAME]
    assert leftovers == []


def test_cache_location_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ATTEST_CACHE_DIR", str(tmp_path / "c1"))
    assert DigestCache().path == tmp_path / "c1" / DigestCache.FILENAME
    monkeypatch.delenv("ATTEST_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert DigestCache().path == tmp_path / "xdg" / "attest" / DigestCache.FILENAME
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert DigestCache().path == tmp_path / "home" / ".cache" / "attest" / DigestCache.FILENAME


def test_no_cache_env(
    model: tuple[Path, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    _isolated_cache: Path,
) -> None:
    root, files = model
    monkeypatch.setenv("ATTEST_NO_CACHE", "1")
    counter = CountingHash(monkeypatch)
    digest_files(root, ["config.json"])
    digest_files(root, ["config.json"])
    assert len(counter.paths) == 2
    assert not (_isolated_cache / DigestCache.FILENAME).exists()


def test_disabled_cache(model: tuple[Path, dict[str, bytes]], _isolated_cache: Path) -> None:
    root, _ = model
    digest_files(root, ["config.json"], cache=DigestCache.disabled())
    assert not (_isolated_cache / DigestCache.FILENAME).exists()


def test_missing_file_input_error(model: tuple[Path, dict[str, bytes]]) -> None:
    root, _ = model
    with pytest.raises(InputError, match="weights/missing.bin") as ei:
        digest_files(root, ["config.json", "weights/missing.bin"])
    assert ei.value.exit_code == 2


def test_error_in_worker_propagates(
    model: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The file vanishes after the stat pass, while the pool is hashing.
    root, files = model
    real = dg._hash_path

    def vanish(path: Path, *args: object, **kwargs: object) -> dg._Hashed:
        if path.name == "config.json":
            raise InputError(f"file not found: {path}")
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dg, "_hash_path", vanish)
    with pytest.raises(InputError, match="config.json"):
        digest_files(root, list(files), workers=2, cache=DigestCache.disabled())


@pytest.mark.parametrize("bad", ["../outside", "/etc/passwd", "a/../../b", ""])
def test_escaping_paths_rejected(model: tuple[Path, dict[str, bytes]], bad: str) -> None:
    root, _ = model
    with pytest.raises(InputError):
        digest_files(root, [bad])


def test_progress_counts_hashed_bytes_only(
    model: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, files = model
    seen: list[Progress] = []
    real_init = Progress.__init__

    def spy(self: Progress, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        seen.append(self)

    monkeypatch.setattr(Progress, "__init__", spy)
    digest_files(root, list(files), progress=False)
    assert seen[0].done == seen[0].total == sum(len(b) for b in files.values())
    seen.clear()
    digest_files(root, list(files), progress=False)  # all cached: nothing to report
    assert seen == []
