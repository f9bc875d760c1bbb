#!/usr/bin/env python3
"""Time reading a model manifest as its layer count grows (issue 11: 100k layers took 152 s).

    python bench/manifest_layers.py [--layers 1000 5000 10000 100000]

For each count, writes an OCI layout holding a manifest of that many raw layers and times
`read_subject` (parse, schema validation, layer checks) in this process. Counts above the
documented caps (4 MiB manifest, 10,000 layers) are refused; the time to refuse is reported.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from attest.errors import InputError  # noqa: E402
from attest.modelpack import media  # noqa: E402
from attest.modelpack.read import read_subject  # noqa: E402
from attest.oci import mediatypes as mt  # noqa: E402
from attest.oci.layout import LayoutStore  # noqa: E402
from attest.oci.store import Descriptor  # noqa: E402


def manifest(n: int, config: Descriptor) -> bytes:
    layers = [
        {
            "mediaType": media.model_layer_type("weight", "raw"),
            "digest": "sha256:" + hashlib.sha256(b"%d" % i).hexdigest(),
            "size": 1,
            "annotations": {mt.ANNOTATION_FILEPATH: f"shard-{i:06d}.bin"},
        }
        for i in range(n)
    ]
    body = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": mt.MODEL_ARTIFACT_TYPE,
        "config": config.to_dict(),
        "layers": layers,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, nargs="*", default=[1000, 5000, 10000, 100000])
    args = parser.parse_args()
    print(f"{'layers':>8} {'manifest':>10} {'seconds':>8}  result")
    for n in args.layers:
        with tempfile.TemporaryDirectory() as tmp:
            store = LayoutStore(Path(tmp), create=True)
            cfg = json.dumps(
                {
                    "descriptor": {"name": "m"},
                    "config": {},
                    "modelfs": {"type": "layers", "diffIds": ["sha256:" + "0" * 64]},
                }
            )
            config = Descriptor.for_bytes(mt.MODEL_CONFIG, cfg.encode())
            store.push_bytes(config, cfg.encode())
            body = manifest(n, config)
            store.push_manifest(body, mt.OCI_MANIFEST, tag="v1")
            start = time.perf_counter()
            try:
                read_subject(store, "v1")
                result = "read"
            except InputError as e:
                result = f"refused: {e.message[:70]}"
            seconds = time.perf_counter() - start
            print(f"{n:>8} {len(body) / 1048576:>8.1f}Mi {seconds:>8.2f}  {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
