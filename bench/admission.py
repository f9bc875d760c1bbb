#!/usr/bin/env python3
"""Benchmark the admission provider (`attest serve`) under bounded load on loopback.

    python bench/admission.py [--rates 50,200,500] [--duration 5] [--cold-duration 2] [--json]

Starts Debian's docker-registry and `attest serve` (a child process, mTLS, the built-in policy,
trusting one key) on loopback, then drives POST /validate at a fixed rate for a fixed duration
(open loop: each request is scheduled at start + i/rate and its latency counts from then, so a
slow server cannot hide its queue) and stops by itself. One key per request, as for a Pod with
one model.

  cached  every request names the same model by digest (verified once beforehand)
  cold    every request names a digest the provider has never seen, with 7 signed referrers
          (rates --cold-rates; the first, low rate shows one cold verification's latency)
          (the bundles of `attest run`, re-signed for that digest), so each is a full
          resolution + discovery + 7 signature verifications + policy evaluation

Reports p50/p99/max latency as the load generator sees it, the provider's own p50/p99 (the
bucket edge of its latency histogram: time inside the server, without client-side queueing on
this shared machine), errors (transport failures and items with an `error`: deadline
misses fail closed), and the provider's peak RSS (VmHWM). A benchmark, not a test: it reports
missed targets (docs/performance.md), it never fails on them.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from attest.evidence.attach import attach_bundle  # noqa: E402
from attest.oci import mediatypes as mt  # noqa: E402
from attest.oci.reference import parse_reference  # noqa: E402
from attest.oci.referrers import discover  # noqa: E402
from attest.oci.store import Descriptor  # noqa: E402
from attest.oci.stores import open_store  # noqa: E402
from attest.sign.key_signer import KeySigner  # noqa: E402
from attest.sign.keys import load_private_key  # noqa: E402
from tests.admission_fixtures import make_tls  # noqa: E402
from tests.registry_fixtures import free_port, run_docker_registry  # noqa: E402

MODEL = REPO / "testdata" / "models" / "open-llm"
TARGETS = {"cached_p99_ms_at_200": 5.0, "cold_p99_ms": 300.0, "rss_mib": 200.0}


def attest(*args: str, env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "attest", *args], capture_output=True,
                          text=True, env=env)  # fmt: skip
    if proc.returncode:
        raise SystemExit(f"attest {args[0]} failed: {proc.stderr}")


class ColdModels:
    """Distinct model digests, each with the 7 signed statements of one `attest run`."""

    def __init__(self, base: str, key: Path) -> None:
        ref = parse_reference(base)
        self.repo = f"{ref.registry}/{ref.repository}"
        self.store = open_store(ref)
        self.manifest = self.store.get_manifest(ref.tag or "latest").json()
        subject = self.store.get_manifest(ref.tag or "latest").descriptor
        self.statements = []
        for r in discover(self.store, subject.digest, artifact_type=mt.SIGSTORE_BUNDLE_V03):
            layer = Descriptor.from_dict(r.manifest["layers"][0])
            bundle = json.loads(self.store.fetch_blob(layer))
            payload = bundle["dsseEnvelope"]["payload"]
            self.statements.append(json.loads(base64.b64decode(payload)))
        assert len(self.statements) == 7, len(self.statements)
        self.signer = KeySigner(load_private_key(key))
        self._lock = threading.Lock()

    def make(self, i: int) -> str:
        manifest = dict(self.manifest)
        annotations = {**(manifest.get("annotations") or {}), "dev.attest.bench": str(i)}
        manifest["annotations"] = annotations
        data = json.dumps(manifest).encode()
        store = open_store(parse_reference(self.repo))  # one session per thread
        subject = store.push_manifest(data, mt.OCI_MANIFEST, tag=f"bench-{i}").descriptor
        for statement in self.statements:
            statement = {**statement,
                         "subject": [{**statement["subject"][0],
                                      "digest": {"sha256": subject.digest.split(":")[1]}}]}
            (bundle,) = self.signer.sign_statements([statement])
            attach_bundle(store, subject, bundle, statement["predicateType"])
        return f"{self.repo}@{subject.digest}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def drive(url: str, tls: Any, keys: list[str], rate: int, duration: float) -> dict[str, Any]:
    """Open-loop load: request i is due at start + i/rate; latency counts from then."""
    count = int(rate * duration)
    local = threading.local()

    def session() -> requests.Session:
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
            s.trust_env = False
            s.verify = str(tls.ca)
            s.cert = (str(tls.client_cert), str(tls.client_key))
        return s

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(i: int, due: float) -> None:
        body = {"apiVersion": "externaldata.gatekeeper.sh/v1beta1", "kind": "ProviderRequest",
                "request": {"keys": [keys[i % len(keys)]]}}
        try:
            resp = session().post(url, json=body, timeout=10)
            items = resp.json()["response"]["items"]
            error = None if resp.ok and "error" not in items[0] else (
                items[0].get("error") if resp.ok else f"HTTP {resp.status_code}")
        except Exception as e:  # transport failure: an error, never a pass
            error = type(e).__name__
        elapsed = time.perf_counter() - due
        with lock:
            latencies.append(elapsed)
            if error:
                errors.append(str(error)[:120])

    with ThreadPoolExecutor(max_workers=64) as pool:
        start = time.perf_counter() + 0.05
        for i in range(count):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, i, due)
    ms = [x * 1000 for x in latencies]
    return {"rate": rate, "requests": count, "p50_ms": round(percentile(ms, 50), 2),
            "p99_ms": round(percentile(ms, 99), 2), "max_ms": round(max(ms), 2),
            "mean_ms": round(statistics.fmean(ms), 2), "errors": len(errors),
            "first_error": errors[0] if errors else None}  # fmt: skip


def server_histogram(health_url: str) -> dict[float, float]:
    """The provider's own /validate latency histogram (cumulative bucket counts)."""
    buckets: dict[float, float] = {}
    for line in requests.get(f"{health_url}/metrics", timeout=5).text.splitlines():
        if line.startswith("attest_provider_request_seconds_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return buckets


def server_percentiles(before: dict[float, float], after: dict[float, float]) -> dict[str, Any]:
    """p50/p99 upper bounds (bucket edges, ms) of the requests between two scrapes: time
    inside the provider, without the load generator's own queueing."""
    total = after[float("inf")] - before.get(float("inf"), 0.0)
    out: dict[str, Any] = {}
    for name, q in (("server_p50_le_ms", 0.5), ("server_p99_le_ms", 0.99)):
        for le in sorted(after):
            if after[le] - before.get(le, 0.0) >= q * total:
                out[name] = le * 1000 if le != float("inf") else "inf"
                break
    return out


def vm_hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,200,500")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per cached run")
    parser.add_argument("--cold-rates", default="2,50,200,500",
                        help="cold rates; the first, low one shows one verification's latency")
    parser.add_argument("--cold-duration", type=float, default=1.0, help="seconds per cold run")
    parser.add_argument("--workers", type=int, default=8, help="provider --workers")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    cold_rates = [int(r) for r in args.cold_rates.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="attest-bench-admission-"))
    env = {**os.environ, "ATTEST_CONFIG_DIR": str(tmp / "config"), "ATTEST_NO_CACHE": "1"}
    with run_docker_registry(tmp / "registry") as registry:
        print("preparing: key, signed model, TLS ...", file=sys.stderr)
        attest("key", "generate", str(tmp / "release"), env=env)
        base = f"{registry.host}/bench/model:v1"
        attest("run", str(MODEL), "--to", base, "--key", str(tmp / "release.key"), env=env)
        tls = make_tls(tmp / "tls")
        cold = ColdModels(base, tmp / "release.key")
        needed = sum(int(r * args.cold_duration) for r in cold_rates)
        print(f"preparing {needed} cold model digests (7 signed referrers each) ...",
              file=sys.stderr)  # fmt: skip
        t = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            cold_keys = []
            for i, key in enumerate(pool.map(cold.make, range(needed))):
                cold_keys.append(key)
                if i % 100 == 99:
                    print(f"  {i + 1}/{needed}", file=sys.stderr)
        print(f"  {time.perf_counter() - t:.0f}s", file=sys.stderr)
        port, health = free_port(), free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "attest", "serve", f"--addr=127.0.0.1:{port}",
             f"--health-addr=127.0.0.1:{health}", f"--tls-cert={tls.cert}",
             f"--tls-key={tls.key}", f"--client-ca={tls.client_ca}",
             f"--key={tmp / 'release.pub'}", f"--workers={args.workers}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while True:
                try:
                    if requests.get(f"http://127.0.0.1:{health}/readyz", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    time.sleep(0.1)
            url = f"https://127.0.0.1:{port}/validate"
            digest = open_store(parse_reference(base)).get_manifest("v1").descriptor.digest
            digest_key = f"{registry.host}/bench/model@{digest}"
            warm = drive(url, tls, [digest_key], 10, 0.5)
            assert warm["errors"] == 0, warm
            results: dict[str, list[dict[str, Any]]] = {"cached": [], "cold": []}
            offset = 0
            health_url = f"http://127.0.0.1:{health}"
            for rate in rates:
                before = server_histogram(health_url)
                run = drive(url, tls, [digest_key], rate, args.duration)
                results["cached"].append({**run, **server_percentiles(
                    before, server_histogram(health_url))})  # fmt: skip
            for rate in cold_rates:
                n = int(rate * args.cold_duration)
                before = server_histogram(health_url)
                run = drive(url, tls, cold_keys[offset:offset + n], rate, args.cold_duration)
                time.sleep(3)  # let the run's stragglers finish (the deadline bounds them)
                results["cold"].append({**run, **server_percentiles(
                    before, server_histogram(health_url))})  # fmt: skip
                offset += n
            rss = vm_hwm_mib(server.pid)
        finally:
            server.terminate()
            server.wait(10)
    report = {"cpus": os.cpu_count(), "provider_workers": args.workers,
              "peak_rss_mib": round(rss, 1), "targets": TARGETS, **results}  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"provider peak RSS {rss:.0f} MiB (target < {TARGETS['rss_mib']:.0f}); "
          f"{os.cpu_count()} CPUs; --workers {args.workers}")
    head = ("mode", "rps", "reqs", "p50 ms", "p99 ms", "max ms", "errors", "srv p50≤", "srv p99≤")
    print(f"{head[0]:<7} {head[1]:>5} {head[2]:>6} " + " ".join(f"{h:>8}" for h in head[3:]))
    for mode in ("cached", "cold"):
        for r in results[mode]:
            print(f"{mode:<7} {r['rate']:>5} {r['requests']:>6} {r['p50_ms']:>8} {r['p99_ms']:>8}"
                  f" {r['max_ms']:>8} {r['errors']:>8} {r.get('server_p50_le_ms', '-'):>8}"
                  f" {r.get('server_p99_le_ms', '-'):>8}")  # fmt: skip


if __name__ == "__main__":
    main()
