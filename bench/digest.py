#!/usr/bin/env python3
"""Benchmark attest's file hashing against serial openssl and model_signing.

    python bench/digest.py --files 8 --size-mib 256 [--dir DIR] [--repeat 3] [--json]

Creates N files of distinct pseudo-random data, warms the page cache, then times each tool in
its own child process (so the peak RSS reported is that tool's alone, read with os.wait4):

  attest (cold)    digest_files with an empty digest cache
  attest (cached)  the same call again, served from the cache
  openssl          `openssl dgst -sha256 F1 ... FN`: one process, files in sequence
  model_signing    `model_signing sign key DIR` with a throwaway EC P-256 key (if installed)

Each tool runs --repeat times, interleaved; the table shows the median wall time and the highest
peak RSS. This is a benchmark, not a test: it never fails on a missed target, it reports it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024

# Targets from docs/performance.md.
TARGET_VS_OPENSSL = 1.7
TARGET_VS_MODEL_SIGNING = 1.0
TARGET_COLD_OVER_CACHED = 50.0
TARGET_PEAK_RSS_MIB = 150.0

# The attest child: prints the time spent importing and inside digest_files, and the digests.
ATTEST_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from attest.oci.digest import digest_files
t1 = time.perf_counter()
workers = int(sys.argv[2]) or None
res = digest_files(Path(sys.argv[1]), sys.argv[3:], workers=workers, progress=False)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "call_s": t2 - t1,
                  "digests": {d.path: d.digest for d in res}}))
"""


@dataclass
class Run:
    wall_s: float
    rss_mib: float
    cpu_s: float  # user + system time of the child and its descendants
    stdout: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    tool: str
    runs: list[Run] = field(default_factory=list)
    note: str = ""

    @property
    def wall_s(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def best_s(self) -> float:
        return min(r.wall_s for r in self.runs)

    @property
    def cpu_s(self) -> float:
        return statistics.median(r.cpu_s for r in self.runs)

    @property
    def rss_mib(self) -> float:
        return max(r.rss_mib for r in self.runs)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def gnu_time() -> str | None:
    """/usr/bin/time if it is GNU time (it accepts -f and -o)."""
    path = shutil.which("time", path="/usr/bin:/bin")
    if path is None:
        return None
    probe = subprocess.run([path, "-f", "%M", "true"], capture_output=True, text=True)
    return path if probe.returncode == 0 and probe.stderr.strip().isdigit() else None


GNU_TIME = gnu_time()


def run_child(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Run one child; wall time from spawn to reap, peak RSS of that child alone.

    Peak RSS comes from GNU time when present: a child spawned straight from this Python
    process starts from our own RSS (Linux carries the pre-exec high-water mark into
    ru_maxrss), which would put a ~25 MiB floor under every tool. Without GNU time we fall
    back to os.wait4 and say so in the report.
    """
    with tempfile.NamedTemporaryFile() as rss_file, tempfile.TemporaryFile() as out, \
            tempfile.TemporaryFile() as err:  # fmt: skip
        if GNU_TIME:
            argv = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *argv]
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        # os.wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the maximum over
        # every child reaped so far).
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
        rss_kib = float(usage.ru_maxrss)  # KiB on Linux
        if GNU_TIME:
            rss_file.seek(0)
            rss_kib = float(rss_file.read().decode().split()[-1])
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {stderr.strip()[-2000:]}")
    return Run(wall, rss_kib / 1024, usage.ru_utime + usage.ru_stime, stdout)


def make_files(root: Path, n: int, size_mib: int) -> list[str]:
    """N files of size_mib MiB; each MiB is one random block stamped with (file, MiB) so that
    no two files, and no two MiB within a file, are identical."""
    root.mkdir(parents=True, exist_ok=True)
    block = bytearray(os.urandom(MIB))
    rels = []
    for i in range(n):
        rel = f"model-{i + 1:05d}-of-{n:05d}.safetensors"
        with open(root / rel, "wb") as f:
            for j in range(size_mib):
                block[:16] = struct.pack("<QQ", i, j)
                f.write(block)
        # Pretend the model was written an hour ago: digest_files does not cache files whose
        # mtime is within its 2 s "racy" window, and real models are older than that.
        old = time.time() - 3600
        os.utime(root / rel, (old, old))
        rels.append(rel)
    return rels


def warm(root: Path, rels: list[str]) -> None:
    buf = bytearray(8 * MIB)
    for rel in rels:
        with open(root / rel, "rb", buffering=0) as f:
            while f.readinto(buf):
                pass


def mem_available_mib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def tool_version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unavailable"


def find_model_signing() -> str | None:
    """The model_signing CLI beside this interpreter (a venv not on PATH), else on PATH."""
    beside = Path(sys.executable).parent / "model_signing"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("model_signing")


def child_env(cache_dir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("ATTEST_NO_CACHE", None)
    env.pop("CI", None)
    if cache_dir is not None:
        env["ATTEST_CACHE_DIR"] = str(cache_dir)
    return env


def parse_openssl(stdout: str) -> dict[str, str]:
    # "SHA2-256(/path/name)= hex" (OpenSSL 3) or "SHA256(/path/name)= hex" (1.1)
    digests = {}
    for line in stdout.splitlines():
        head, _, hexd = line.rpartition("= ")
        name = head[head.index("(") + 1 : -1]
        digests[Path(name).name] = "sha256:" + hexd.strip()
    return digests


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--files", type=int, default=8, help="number of files (default 8)")
    ap.add_argument("--size-mib", type=int, default=256, help="size of each file in MiB")
    ap.add_argument("--dir", type=Path, help="where to create the files (default: $TMPDIR)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; median reported")
    ap.add_argument("--workers", type=int, default=0, help="attest workers (0: os.cpu_count())")
    ap.add_argument("--no-model-signing", action="store_true", help="skip model_signing")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    args = ap.parse_args(argv)
    if args.files < 1 or args.size_mib < 1 or args.repeat < 1:
        ap.error("--files, --size-mib and --repeat must be at least 1")

    openssl = shutil.which("openssl")
    if openssl is None:
        ap.error("openssl is required as the baseline")

    total_mib = args.files * args.size_mib
    avail = mem_available_mib()
    if avail is not None and total_mib > 0.8 * avail:
        log(
            f"warning: {total_mib} MiB of files vs {avail:.0f} MiB available memory: the page "
            "cache cannot hold them, so figures include disk reads"
        )

    work = Path(tempfile.mkdtemp(prefix="attest-bench-", dir=args.dir))
    model = work / "model"
    try:
        log(f"creating {args.files} x {args.size_mib} MiB in {model} ...")
        rels = make_files(model, args.files, args.size_mib)
        log("warming the page cache ...")
        warm(model, rels)
        files = [str(model / r) for r in rels]

        rows = {
            name: Row(name)
            for name in ("attest (cold)", "attest (cached)", "openssl (serial)", "model_signing")
        }
        ms_cli = None if args.no_model_signing else find_model_signing()
        ms_version = "not run"
        if args.no_model_signing:
            rows["model_signing"].note = "skipped (--no-model-signing)"
        elif ms_cli is None:
            rows["model_signing"].note = "skipped: not installed (pip install 'attest[bench]')"
        else:
            probe = subprocess.run([ms_cli, "--help"], capture_output=True, text=True)
            if probe.returncode != 0:
                last = (probe.stderr.strip().splitlines() or ["?"])[-1]
                rows["model_signing"].note = f"skipped: model_signing does not start: {last}"
                ms_cli = None
            else:
                ms_version = tool_version(
                    [sys.executable, "-c", "import model_signing; print(model_signing.__version__)"]
                )
        key = work / "ec-p256.pem"
        if ms_cli:
            subprocess.run(
                [openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-out", str(key)],
                check=True,
                capture_output=True,
            )  # fmt: skip

        expected: dict[str, str] | None = None
        startup: list[float] = []  # bare interpreter start: the floor under a cached run
        for rep in range(args.repeat):
            log(f"run {rep + 1}/{args.repeat} ...")
            r = run_child([openssl, "dgst", "-sha256", *files])
            rows["openssl (serial)"].runs.append(r)
            expected = parse_openssl(r.stdout)

            startup.append(run_child([sys.executable, "-c", "pass"], env=child_env()).wall_s)

            cache_dir = work / f"cache-{rep}"  # empty: a cold run
            attest_argv = [sys.executable, "-c", ATTEST_CHILD, str(model), str(args.workers), *rels]
            for name in ("attest (cold)", "attest (cached)"):
                r = run_child(attest_argv, env=child_env(cache_dir))
                r.extra = json.loads(r.stdout)
                if r.extra["digests"] != expected:
                    raise RuntimeError(f"{name}: digests differ from openssl's")
                rows[name].runs.append(r)

            if ms_cli:
                sig = work / f"model-{rep}.sig"
                r = run_child(
                    [ms_cli, "sign", "key", str(model), "--private_key", str(key),
                     "--signature", str(sig)]
                )  # fmt: skip
                rows["model_signing"].runs.append(r)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    report = build_report(args, rows, total_mib, ms_version)
    report["python_startup_s"] = round(statistics.median(startup), 4)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


def build_report(
    args: argparse.Namespace, rows: dict[str, Row], total_mib: int, ms_version: str
) -> dict[str, Any]:
    base = rows["openssl (serial)"].wall_s
    results = []
    for row in rows.values():
        if not row.runs:
            results.append({"tool": row.tool, "skipped": row.note})
            continue
        entry: dict[str, Any] = {
            "tool": row.tool,
            "wall_s": round(row.wall_s, 4),
            "best_wall_s": round(row.best_s, 4),
            "cpu_s": round(row.cpu_s, 3),
            "mib_per_s": round(total_mib / row.wall_s, 1),
            "peak_rss_mib": round(row.rss_mib, 1),
            "vs_openssl": round(base / row.wall_s, 3),
            "vs_openssl_best": round(rows["openssl (serial)"].best_s / row.best_s, 3),
            "runs_wall_s": [round(r.wall_s, 4) for r in row.runs],
        }
        if row.runs[0].extra:
            entry["in_call_s"] = round(statistics.median(r.extra["call_s"] for r in row.runs), 5)
            entry["import_s"] = round(statistics.median(r.extra["import_s"] for r in row.runs), 4)
        results.append(entry)
    by_tool = {r["tool"]: r for r in results}
    cold, cached = by_tool["attest (cold)"], by_tool["attest (cached)"]
    ms = by_tool["model_signing"]
    cold_over_cached = cold["wall_s"] / cached["wall_s"]
    cold_over_cached_call = cold["in_call_s"] / max(cached["in_call_s"], 1e-6)
    targets = {
        f"attest >= {TARGET_VS_OPENSSL}x serial openssl": cold["vs_openssl"] >= TARGET_VS_OPENSSL,
        "attest at least as fast as model_signing": (
            None if "skipped" in ms else cold["wall_s"] <= ms["wall_s"] / TARGET_VS_MODEL_SIGNING
        ),
        f"cached re-run >= {TARGET_COLD_OVER_CACHED:.0f}x faster than cold (process wall)": (
            cold_over_cached >= TARGET_COLD_OVER_CACHED
        ),
        f"cached re-run >= {TARGET_COLD_OVER_CACHED:.0f}x faster than cold (digest_files call)": (
            cold_over_cached_call >= TARGET_COLD_OVER_CACHED
        ),
        f"attest peak RSS < {TARGET_PEAK_RSS_MIB:.0f} MiB": (
            max(cold["peak_rss_mib"], cached["peak_rss_mib"]) < TARGET_PEAK_RSS_MIB
        ),
    }
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "nproc": os.cpu_count(),
            "cpu": cpu_model(),
            "python": platform.python_version(),
            "openssl": tool_version(["openssl", "version"]),
            "model_signing": ms_version,
            "platform": platform.platform(),
            "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "peak_rss_method": "GNU time %M" if GNU_TIME else "os.wait4 (includes bench's own RSS)",
        "params": {
            "files": args.files,
            "size_mib": args.size_mib,
            "total_mib": total_mib,
            "repeat": args.repeat,
            "workers": args.workers or os.cpu_count(),
        },
        "results": results,
        "cold_over_cached": round(cold_over_cached, 1),
        "cold_over_cached_in_call": round(cold_over_cached_call, 1),
        "targets": targets,
    }


def print_table(report: dict[str, Any]) -> None:
    m, p = report["machine"], report["params"]
    print(
        f"{p['files']} files x {p['size_mib']} MiB = {p['total_mib']} MiB, page cache warm, "
        f"{p['repeat']} runs each, attest workers={p['workers']}"
    )
    print(f"{m['cpu']}, nproc={m['nproc']}, Python {m['python']}, {m['openssl']}, {report['date']}")
    print(
        f"peak RSS via {report['peak_rss_method']}; load average at end "
        f"{' '.join(str(x) for x in m['loadavg_at_end'])} (other load skews the figures)"
    )
    print()
    head = (
        f"{'tool':<18} {'median s':>9} {'best s':>7} {'MiB/s':>7} {'CPU s':>6} "
        f"{'peak RSS MiB':>13} {'vs openssl':>11} {'(best)':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in report["results"]:
        if "skipped" in r:
            print(f"{r['tool']:<18} {r['skipped']}")
            continue
        print(
            f"{r['tool']:<18} {r['wall_s']:>9.3f} {r['best_wall_s']:>7.3f} "
            f"{r['mib_per_s']:>7.0f} {r['cpu_s']:>6.2f} {r['peak_rss_mib']:>13.1f} "
            f"{r['vs_openssl']:>10.2f}x {r['vs_openssl_best']:>6.2f}x"
        )
    cached = next(r for r in report["results"] if r["tool"] == "attest (cached)")
    print()
    print(
        f"cold/cached: {report['cold_over_cached']}x by process wall time "
        f"(cached run = {cached['import_s'] * 1000:.0f} ms import + "
        f"{cached['in_call_s'] * 1000:.1f} ms in digest_files; bare `python -c pass` "
        f"takes {report['python_startup_s'] * 1000:.0f} ms), "
        f"{report['cold_over_cached_in_call']}x inside digest_files"
    )
    print()
    print("targets (judged on medians):")
    for name, ok in report["targets"].items():
        mark = "n/a " if ok is None else ("met " if ok else "MISS")
        print(f"  [{mark}] {name}")


if __name__ == "__main__":
    sys.exit(main())
