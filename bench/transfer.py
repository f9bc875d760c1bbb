"""Benchmark: moving a model between an OCI layout and a registry, attest against skopeo.

Not a test. Starts Debian's ``docker-registry`` on loopback (as the tests do), makes the model
files, packs them into an OCI layout once, then times, each run in its own child process with
its peak RSS (GNU time ``%M``):

| row | what runs |
|---|---|
| push: attest copy | ``attest copy oci:LAYOUT:v1 HOST/REPO:v1`` (fresh repository) |
| push: skopeo copy | ``skopeo copy oci:LAYOUT:v1 docker://HOST/REPO:v1`` |
| pull: attest copy | ``attest copy HOST/REPO:v1 oci:OUT:v1`` (fresh layout) |
| pull: skopeo copy | ``skopeo copy docker://HOST/REPO:v1 oci:OUT:v1`` |
| pull: attest pull | ``attest pull HOST/REPO:v1 -o DIR`` (the model's files) |

Models: (a) 4 x 512 MiB, (b) 1 x 2 GiB + 200 small files (1-64 KiB). ``--sparse-gib N`` adds
one N GiB sparse file model pushed with ``attest pack --to HOST/REPO`` and pulled with ``attest
pull``, for memory (peak RSS must not grow with model size). Runs are interleaved; the best wall
time of ``--repeat`` runs is reported with the throughput and the ratio against skopeo
(``skopeo s / attest s``: above 1 means attest is faster). The registry and both tools share the
machine's cores: the figures are the whole system's, as a user on one box sees them.

    .venv/bin/python bench/transfer.py                       # table
    .venv/bin/python bench/transfer.py --json --repeat 3
    .venv/bin/python bench/transfer.py --models a --sparse-gib 20
    .venv/bin/python bench/transfer.py --mib 16 --repeat 1          # a quick smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.digest import (  # noqa: E402 - after the path insert
    GNU_TIME,
    MIB,
    Run,
    child_env,
    cpu_model,
    log,
    make_files,
    run_child,
    tool_version,
)
from tests.registry_fixtures import run_docker_registry  # noqa: E402

TARGET_RATIO = 1.1
TARGET_PEAK_RSS_MIB = 150.0


def make_model(root: Path, kind: str, mib: int) -> None:
    rels = make_files(root, 4, mib) if kind == "a" else make_files(root, 1, 4 * mib)
    for rel in rels:  # random bytes are no safetensors file: name them as opaque weights
        os.rename(root / rel, root / rel.replace(".safetensors", ".bin"))
        block = os.urandom(64 * 1024)
        for i in range(200):
            size = 1024 * (1 + (i * 37) % 64)
            (root / "small" / f"{i // 50}").mkdir(parents=True, exist_ok=True)
            (root / "small" / f"{i // 50}" / f"f{i:03d}.json").write_bytes(
                i.to_bytes(4, "little") + block[: size - 4]
            )


def attest(*args: str) -> list[str]:
    return [sys.executable, "-m", "attest", *args]


def skopeo(*args: str) -> list[str]:
    return ["skopeo", "copy", "--quiet", *args]


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.wall_s)


def bench_model(
    kind: str, work: Path, host: str, repeat: int, env: dict[str, str], mib: int
) -> dict[str, Any]:
    model, layout, out = work / f"model-{kind}", work / f"layout-{kind}", work / "out"
    log(f"model {kind}: writing files")
    make_model(model, kind, mib)
    size = sum(p.stat().st_size for p in model.rglob("*") if p.is_file())
    run_child(attest("pack", str(model), "--to", f"oci:{layout}:v1"), env)
    has_skopeo = shutil.which("skopeo") is not None
    rows: dict[str, list[Run]] = {}

    def timed(name: str, argv: list[str], cleanup: Path | None = None) -> None:
        log(f"  {name}")
        rows.setdefault(name, []).append(run_child(argv, env))
        if cleanup is not None:
            shutil.rmtree(cleanup, ignore_errors=True)

    for r in range(repeat):
        timed("push: attest copy", attest("copy", f"oci:{layout}:v1", f"{host}/a{kind}{r}:v1"))
        if has_skopeo:
            timed("push: skopeo copy", skopeo("--dest-tls-verify=false", f"oci:{layout}:v1",
                                              f"docker://{host}/s{kind}{r}:v1"))  # fmt: skip
        src = f"{host}/a{kind}0:v1"
        timed("pull: attest copy", attest("copy", src, f"oci:{out}:v1"), out)
        if has_skopeo:
            timed("pull: skopeo copy", skopeo("--src-tls-verify=false", f"docker://{src}",
                                              f"oci:{out}:v1"), out)  # fmt: skip
        timed("pull: attest pull", attest("pull", src, "-o", str(out)), out)
    shutil.rmtree(model)
    shutil.rmtree(layout)
    return {"model": kind, "bytes": size, "skopeo": has_skopeo, "rows": summarize(rows, size)}


def summarize(rows: dict[str, list[Run]], size: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, runs in rows.items():
        b = best(runs)
        out[name] = {
            "best_s": round(b.wall_s, 2),
            "runs_s": [round(r.wall_s, 2) for r in runs],
            "mib_per_s": round(size / MIB / b.wall_s, 1),
            "peak_rss_mib": round(max(r.rss_mib for r in runs), 1),
            "cpu_s": round(b.cpu_s, 2),
        }
    for direction in ("push", "pull"):
        sk = out.get(f"{direction}: skopeo copy")
        for name in (f"{direction}: attest copy", f"{direction}: attest pull"):
            if sk and name in out:
                out[name]["vs_skopeo"] = round(sk["best_s"] / out[name]["best_s"], 2)
    return out


def bench_sparse(gib: int, work: Path, host: str, env: dict[str, str]) -> dict[str, Any]:
    model = work / "sparse"
    model.mkdir()
    with open(model / "model.bin", "wb") as f:
        f.truncate(gib * 1024 * MIB)
    log(f"sparse {gib} GiB: pack to the registry, then pull")
    push = run_child(attest("pack", str(model), "--to", f"{host}/sparse:v1"), env)
    pull = run_child(attest("pull", f"{host}/sparse:v1", "-o", str(work / "sparse-out")), env)
    shutil.rmtree(work / "sparse-out", ignore_errors=True)
    shutil.rmtree(model)
    return {
        "gib": gib,
        "pack_to_registry": {"wall_s": round(push.wall_s, 1), "rss_mib": round(push.rss_mib, 1)},
        "pull": {"wall_s": round(pull.wall_s, 1), "rss_mib": round(pull.rss_mib, 1)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="a,b", help="a, b or a,b")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--mib", type=int, default=512, help="a: 4 x MIB; b: 1 x 4*MIB + 200")
    parser.add_argument("--sparse-gib", type=int, default=0)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="attest-transfer-", dir=args.dir))
    env = child_env(work / "cache")
    env["DOCKER_CONFIG"] = str(work / "no-docker-config")
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "skopeo": tool_version(["skopeo", "--version"]),
        "registry": tool_version(["docker-registry", "--version"]),
        "peak_rss_method": "GNU time %M" if GNU_TIME else "os.wait4",
        "load_before": os.getloadavg()[0],
        "models": [],
    }
    try:
        with run_docker_registry(work / "registry") as server:
            for kind in filter(None, args.models.split(",")):
                result = bench_model(kind, work, server.host, args.repeat, env, args.mib)
                report["models"].append(result)
            if args.sparse_gib:
                report["sparse"] = bench_sparse(args.sparse_gib, work, server.host, env)
    finally:
        report["load_after"] = os.getloadavg()[0]
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


def print_table(report: dict[str, Any]) -> None:
    print(f"{report['date']}  {report['cpu']} x{report['cores']}  {report['skopeo']}")
    print(f"load average before/after: {report['load_before']:.1f}/{report['load_after']:.1f}")
    for m in report["models"]:
        print(f"\nmodel {m['model']}: {m['bytes'] / MIB:,.0f} MiB")
        print(f"{'':22} {'best s':>8} {'MiB/s':>8} {'RSS MiB':>8} {'CPU s':>7} {'vs skopeo':>9}")
        for name, row in m["rows"].items():
            ratio = f"{row['vs_skopeo']:.2f}x" if "vs_skopeo" in row else ""
            print(f"{name:22} {row['best_s']:8.2f} {row['mib_per_s']:8.1f} "
                  f"{row['peak_rss_mib']:8.1f} {row['cpu_s']:7.2f} {ratio:>9}")  # fmt: skip
    if "sparse" in report:
        s = report["sparse"]
        print(f"\nsparse {s['gib']} GiB: pack to registry {s['pack_to_registry']}")
        print(f"sparse {s['gib']} GiB: pull {s['pull']}")


if __name__ == "__main__":
    sys.exit(main())
