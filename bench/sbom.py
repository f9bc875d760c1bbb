"""Benchmark: `attest sbom` on a large model in an OCI layout reads headers, not weights.

Makes a sparse safetensors file of --size-gib (default 10 GiB: no disk blocks are used), puts
it in an OCI image layout as a raw ModelPack weight layer (hard-linked, so the blob costs
nothing either), then runs `attest sbom oci:...` in a child process and reports its wall
time, peak RSS and the bytes it read (``rchar`` from /proc/self/io, every read syscall).

    python bench/sbom.py [--size-gib 10] [--json]

Targets (issue: SBOM stage): bytes read ≪ model size; peak RSS < 200 MiB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys
from attest.cli import cli
try:
    cli.main(sys.argv[1:], standalone_mode=False)
finally:
    io = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rchar": int(io["rchar"]), "maxrss_kib": rss}), file=sys.stderr)
"""


def sparse_safetensors(path: Path, size: int) -> None:
    """A valid safetensors file of ~``size`` bytes whose data is a hole (reads as zeros)."""
    n = (size // 2) // 4096 * 4096  # F16 elements
    header = {"__metadata__": {"format": "pt"},
              "w": {"dtype": "F16", "shape": [n], "data_offsets": [0, n * 2]}}  # fmt: skip
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        f.truncate(8 + len(raw) + n * 2)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def make_layout(root: Path, size: int) -> tuple[Path, int]:
    from attest.modelpack import media
    from attest.modelpack.pack import build_config
    from attest.oci import mediatypes as mt
    from attest.oci.layout import LayoutStore
    from attest.oci.store import Descriptor

    model = root / "model.safetensors"
    sparse_safetensors(model, size)
    digest = sha256_file(model)  # hashing the hole once here; attest must not do it again
    store = LayoutStore(root / "layout", create=True)
    os.link(model, store.blob_path(digest))
    readme = b"---\nlicense: apache-2.0\n---\n# big\n"
    layers = []
    for path, data, kind in ((None, None, "weight"), ("README.md", readme, "doc")):
        if data is None:
            desc = Descriptor(media.model_layer_type(kind), digest, model.stat().st_size,
                              {mt.ANNOTATION_FILEPATH: "model.safetensors"})  # fmt: skip
        else:
            desc = Descriptor.for_bytes(media.model_layer_type(kind), data,
                                        annotations={mt.ANNOTATION_FILEPATH: path})  # fmt: skip
            store.push_bytes(desc, data)
        layers.append(desc)
    config = build_config("big", None, {"format": "safetensors"}, [d.digest for d in layers], None)
    config_bytes = json.dumps(config).encode()
    cdesc = Descriptor.for_bytes(mt.MODEL_CONFIG, config_bytes)
    store.push_bytes(cdesc, config_bytes)
    manifest = {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
                "artifactType": mt.MODEL_ARTIFACT_TYPE, "config": cdesc.to_dict(),
                "layers": [d.to_dict() for d in layers]}  # fmt: skip
    store.push_manifest(json.dumps(manifest).encode(), mt.OCI_MANIFEST, tag="v1")
    return root / "layout", model.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gib", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="attest-bench-sbom-") as tmp:
        layout, size = make_layout(Path(tmp), int(args.size_gib * 2**30))
        results = {}
        for fmt in ("cyclonedx", "spdx", "spdx3"):
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, "sbom", f"oci:{layout}:v1", "--type", fmt,
                 "-o", str(Path(tmp) / f"{fmt}.json")],
                capture_output=True, text=True, env={**os.environ, "ATTEST_NO_CACHE": "1"},
            )  # fmt: skip
            wall = time.perf_counter() - start
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            stats = json.loads(proc.stderr.strip().splitlines()[-1])
            results[fmt] = {
                "wall_s": round(wall, 2),
                "read_mib": round(stats["rchar"] / 2**20, 1),
                "peak_rss_mib": round(stats["maxrss_kib"] / 1024, 1),
            }
    report = {"model_gib": round(size / 2**30, 2), "results": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"model: one safetensors weight of {report['model_gib']} GiB in an OCI layout")
    print(f"{'format':<10} {'wall s':>7} {'read MiB':>9} {'peak RSS MiB':>13}")
    for fmt, r in results.items():
        print(f"{fmt:<10} {r['wall_s']:>7} {r['read_mib']:>9} {r['peak_rss_mib']:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
