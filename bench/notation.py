"""Benchmark: verifying one notation signature envelope (the cost `attest verify` adds per
notation referrer, registry I/O aside).

Runs the full verification (envelope parse, signature, chain, trust store, trust policy,
expiry, RFC 3161 timestamp where present, revocation, target) of notation-go's vectors in
testdata/vectors/notation, each --repeat times, and reports the median per envelope.

    python bench/notation.py [--repeat 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

from attest.verify.notation import verifier as nv
from attest.verify.notation.trustpolicy import parse_trust_policy
from attest.verify.notation.truststore import TrustStore

VECTORS = Path(__file__).resolve().parent.parent / "testdata" / "vectors" / "notation"
CASES = {
    "ca-valid": "JWS PS384, 2-certificate chain",
    "sa-valid": "JWS PS384, signingAuthority",
    "jws-timestamp-valid": "JWS PS256 + RFC 3161 timestamp (GlobalSign)",
    "cose-timestamp-valid": "COSE PS256 + RFC 3161 timestamp (GlobalSign)",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    index = {c["id"]: c for c in json.loads((VECTORS / "index.json").read_text())}
    rows = []
    for case_id, what in CASES.items():
        case = index[case_id]
        data = (VECTORS / case["file"]).read_bytes()
        settings = nv.NotationSettings(
            parse_trust_policy(case["trustPolicy"]), TrustStore(VECTORS / "truststore"),
            unknown_revocation="log", now=datetime(2026, 1, 1, tzinfo=timezone.utc),
        )  # fmt: skip
        ref = case["artifactReference"]
        repo = ref.split("@", 1)[0] if ref else None
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            out = nv.verify_envelope(data, case["mediaType"], settings, repository=repo,
                                     subject=case["targetArtifact"])  # fmt: skip
            times.append(time.perf_counter() - start)
            assert out.passed, out.failure
        rows.append({"case": case_id, "what": what, "median_ms": statistics.median(times) * 1e3,
                     "p95_ms": sorted(times)[int(len(times) * 0.95) - 1] * 1e3})  # fmt: skip
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'case':<22} {'median ms':>10} {'p95 ms':>8}  envelope")
    for r in rows:
        print(f"{r['case']:<22} {r['median_ms']:>10.2f} {r['p95_ms']:>8.2f}  {r['what']}")


if __name__ == "__main__":
    main()
