"""`attest serve`, the Gatekeeper external-data provider: the wire contract, mTLS, fail-closed
answers, caching, and the verdicts on signed, unsigned, tampered and foreign-key models in the
real docker-registry."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from attest.admission.cache import SingleFlight, TTLCache
from attest.admission.config import parse_config
from attest.admission.server import JsonFormatter, parse_provider_request
from attest.admission.validate import KeyFailure, normalize_key, parse_key
from attest.errors import InputError
from tests.admission_fixtures import ProviderOptions, start_provider, tls12_context


def items_by_key(response: dict) -> dict:
    return {i["key"]: i for i in response["response"]["items"]}


def test_verdicts_one_item_per_key_in_order(provider, admission_models) -> None:
    m = admission_models
    keys = [m.signed, m.unsigned, m.tampered, m.other_key, m.image, m.missing, m.signed]
    response = provider.validate(keys)
    assert response["apiVersion"] == "externaldata.gatekeeper.sh/v1beta1"
    assert response["kind"] == "ProviderResponse"
    assert response["response"]["systemError"] == ""
    items = response["response"]["items"]
    assert [i["key"] for i in items] == keys

    signed = items[0]["value"]
    assert "error" not in items[0]
    assert signed["applicable"] is True and signed["allowed"] is True, signed["violations"]
    assert signed["digest"] == m.signed_digest and signed["mofClass"] == "III"
    assert signed["reference"].endswith("@" + m.signed_digest)
    assert all(s["verified"] for r in signed["report"]["referrers"] for s in r["signatures"])
    assert "annotations" not in signed["report"]["subject"]

    unsigned = items[1]["value"]
    assert unsigned["applicable"] is True and unsigned["allowed"] is False
    assert "UNSIGNED" in {v["code"] for v in unsigned["violations"]}

    tampered = items[2]["value"]
    assert tampered["allowed"] is False
    assert "SIGNATURE_INVALID" in {v["code"] for v in tampered["violations"]}

    assert items[3]["value"]["allowed"] is False  # signed, but not by a trusted key

    assert items[4] == {"key": m.image, "value": {"applicable": False, "digest": m.image_digest}}

    assert "value" not in items[5] and "not found" in items[5]["error"]
    assert items[6] == items[0]


def test_digest_keys_are_answered_from_the_cache(provider, admission_models) -> None:
    pinned = admission_models.signed.rsplit(":", 1)[0] + "@" + admission_models.signed_digest
    first = provider.validate([pinned])["response"]["items"][0]["value"]
    hits = provider.server.metrics.cache.labels("hit")._value.get()
    second = provider.validate([pinned])["response"]["items"][0]["value"]
    assert second == first and first["allowed"] is True
    assert provider.server.metrics.cache.labels("hit")._value.get() == hits + 1


def test_kserve_uri_and_bad_keys(provider, admission_models) -> None:
    keys = ["oci://" + admission_models.signed, "oci:/etc/passwd", "http://x/y", "UP/Case:1", ""]
    items = provider.validate(keys)["response"]["items"]
    assert items[0]["value"]["allowed"] is True
    for item in items[1:]:
        assert "value" not in item and item["error"].startswith(item["key"] + ": ")


def test_mtls_and_tls13_are_required(provider) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        provider.session(client_cert=False).get(f"{provider.url}/healthz", timeout=5)
    rogue = provider.session(client_cert=False)
    rogue.cert = (str(provider.tls.rogue_cert), str(provider.tls.rogue_key))
    with pytest.raises(requests.exceptions.SSLError):
        rogue.get(f"{provider.url}/healthz", timeout=5)
    with pytest.raises((ssl.SSLError, urllib.request.URLError)):
        urllib.request.urlopen(f"{provider.url}/healthz", context=tls12_context(provider.tls),
                               timeout=5)  # fmt: skip
    assert provider.session().get(f"{provider.url}/healthz", timeout=5).text == "ok\n"


def _status_of_oversized_post(provider) -> int:
    """POST declaring a 2 MiB body, over TLS, and read the answer before sending the body: the
    provider refuses by the header alone (sending the whole body races the server's close, and
    the client then sees a reset instead of the 413)."""
    context = ssl.create_default_context(cafile=str(provider.tls.ca))
    context.load_cert_chain(str(provider.tls.client_cert), str(provider.tls.client_key))
    host, port = provider.url.removeprefix("https://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:  # fmt: skip
        tls.sendall(b"POST /validate HTTP/1.1\r\nHost: " + host.encode() +
                    b"\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n{")
        status_line = tls.recv(4096).split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


def test_health_ready_metrics_and_bad_requests(provider) -> None:
    s = provider.session()
    assert s.get(f"{provider.url}/readyz", timeout=5).status_code == 200
    bad = s.post(f"{provider.url}/validate", data=b'{"kind": "Nope"}', timeout=5)
    assert bad.status_code == 400
    assert bad.json()["response"]["systemError"].startswith("bad request")
    assert _status_of_oversized_post(provider) == 413
    assert s.get(f"{provider.url}/nowhere", timeout=5).status_code == 404
    metrics = s.get(f"{provider.url}/metrics", timeout=5).text
    for name in ("attest_provider_requests_total", "attest_provider_request_seconds_bucket",
                 "attest_provider_keys_total", "attest_provider_cache_total"):  # fmt: skip
        assert name in metrics


def test_keep_alive_reuses_one_connection(provider, admission_models) -> None:
    s = provider.session()
    for _ in range(3):
        provider.validate([admission_models.image], session=s)
    # one pooled connection served all three
    pool = next(iter(s.adapters["https://"].poolmanager.pools._container.values()))
    assert pool.num_connections == 1


def test_deadline_fails_closed_and_the_load_goes_on(provider_tls, admission_models) -> None:
    """A registry that accepts connections and never answers: the item errors at the deadline."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    running, thread = start_provider(
        provider_tls, ProviderOptions(key=admission_models.public_key, deadline=0.3)
    )
    try:
        items = running.validate([f"127.0.0.1:{port}/stuck/model:v1", admission_models.image])
        stuck, image = items["response"]["items"]
        assert "did not finish in time" in stuck["error"]
        assert image["value"]["applicable"] is False
        assert running.server.metrics.keys.labels("timeout")._value.get() == 1
    finally:
        running.server.shutdown()
        running.server.server_close()
        thread.join(5)
        silent.close()


def test_provider_config_skip_and_require(provider_tls, admission_models, tmp_path) -> None:
    from attest.admission.config import load_config

    host = admission_models.image.split("/")[0]
    config = tmp_path / "provider.yaml"
    config.write_text(f"registries:\n  - prefix: docker.io/\n    mode: skip\n"
                      f"  - prefix: {host}/admission/app\n    mode: require\n")  # fmt: skip
    running, thread = start_provider(provider_tls, ProviderOptions(key=admission_models.public_key))
    running.server.validator.settings.config = load_config(config)
    try:
        nginx, app = running.validate(["nginx:1.27", admission_models.image])["response"]["items"]
        assert nginx["value"]["applicable"] is False and "error" not in nginx
        assert app["value"]["allowed"] is False
        assert app["value"]["violations"][0]["code"] == "NOT_A_MODEL"
    finally:
        running.server.shutdown()
        running.server.server_close()
        thread.join(5)


# -- pieces, without a server -------------------------------------------------------------------


@pytest.mark.parametrize("key,want", [
    ("nginx", "docker.io/library/nginx"),
    ("nginx:1.27", "docker.io/library/nginx:1.27"),
    ("bitnami/redis", "docker.io/bitnami/redis"),
    ("docker.io/nginx", "docker.io/library/nginx"),
    ("index.docker.io/org/x:1", "docker.io/org/x:1"),
    ("localhost:5000/m:v1", "localhost:5000/m:v1"),
    ("oci://reg.example/models/m:v1", "reg.example/models/m:v1"),
    ("oci+native://reg.example/m@sha256:" + "a" * 64, "reg.example/m@sha256:" + "a" * 64),
])  # fmt: skip
def test_normalize_key(key: str, want: str) -> None:
    assert normalize_key(key) == want


@pytest.mark.parametrize("key", ["", "oci:/etc", "a b", "x\n", "s3://bucket/m", "A/B", "x" * 2000])
def test_bad_keys(key: str) -> None:
    with pytest.raises(KeyFailure):
        parse_key(key)


def test_tag_defaults_to_latest() -> None:
    assert parse_key("reg.example/m").tag == "latest"


def test_provider_request_parsing() -> None:
    ok = {"apiVersion": "externaldata.gatekeeper.sh/v1beta1", "kind": "ProviderRequest",
          "request": {"keys": ["a", "b"]}}  # fmt: skip
    assert parse_provider_request(json.dumps(ok).encode()) == ["a", "b"]
    for bad in (b"[", b"[]", json.dumps({**ok, "apiVersion": "v9"}).encode(),
                json.dumps({**ok, "request": {"keys": [1]}}).encode(),
                json.dumps({**ok, "request": {"keys": ["k"] * 1001}}).encode(),
                b"[" * 100000):  # fmt: skip
        with pytest.raises(ValueError):
            parse_provider_request(bad)


def test_ttl_cache_expires_and_is_bounded() -> None:
    now = [0.0]
    cache: TTLCache[int] = TTLCache(10, 2, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and len(cache) == 2
    now[0] = 11
    assert cache.get("a") is None


def test_single_flight_runs_one_load_for_concurrent_callers() -> None:
    release = threading.Event()
    calls = []

    def load() -> int:
        calls.append(1)
        release.wait(5)
        return 42

    with ThreadPoolExecutor(4) as pool:
        flight: SingleFlight[int] = SingleFlight(pool)
        first, shared1 = flight.submit("k", load)
        second, shared2 = flight.submit("k", load)
        release.set()
        assert first.result(5) == second.result(5) == 42
        assert (shared1, shared2) == (False, True) and len(calls) == 1
        while flight._running:  # the done callback runs right after the result is set
            time.sleep(0.01)
        third, shared3 = flight.submit("k", lambda: 7)
        assert third.result(5) == 7 and shared3 is False


def test_config_file_is_checked() -> None:
    config = parse_config(b"registries:\n- prefix: reg.example/models\n  mode: require\n", "c")
    assert config.for_reference("reg.example/models/m:v1").mode == "require"
    assert config.for_reference("reg.example/models2/m:v1").mode == "detect"
    for bad in (b"registries:\n- mode: skip\n", b"registries:\n- prefix: r/\n  mode: maybe\n",
                b"other: 1\n", b"a: &x [1]\nb: *x\n"):  # fmt: skip
        with pytest.raises(InputError):
            parse_config(bad, "c")


def test_json_log_lines_carry_fields() -> None:
    record = logging.LogRecord("attest.admission", logging.INFO, "f", 1, "validate", None, None)
    record.fields = {"request_id": "abc", "status": 200}
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "validate" and line["request_id"] == "abc" and line["level"] == "info"


def test_attest_serve_command_end_to_end(provider_tls, admission_models, tmp_path) -> None:
    """The real command in a child process: health port, mTLS /validate, JSON log lines."""
    import os
    import subprocess
    import sys

    from tests.registry_fixtures import free_port

    port, health = free_port(), free_port()
    tls = provider_tls
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "attest", "serve", "--addr", f"127.0.0.1:{port}",
         "--health-addr", f"127.0.0.1:{health}", "--tls-cert", str(tls.cert),
         "--tls-key", str(tls.key), "--client-ca", str(tls.client_ca),
         "--key", str(admission_models.public_key)],
        stdout=subprocess.DEVNULL, stderr=log,
        env={**os.environ, "ATTEST_NO_CACHE": "1"},
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                if requests.get(f"http://127.0.0.1:{health}/readyz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.05)
        assert requests.get(f"http://127.0.0.1:{health}/healthz", timeout=2).text == "ok\n"
        assert requests.post(f"http://127.0.0.1:{health}/validate", timeout=2).status_code == 501
        s = requests.Session()
        s.trust_env = False
        s.verify, s.cert = str(tls.ca), (str(tls.client_cert), str(tls.client_key))
        body = {"apiVersion": "externaldata.gatekeeper.sh/v1beta1", "kind": "ProviderRequest",
                "request": {"keys": [admission_models.signed, admission_models.unsigned]}}
        resp = s.post(f"https://127.0.0.1:{port}/validate", json=body, timeout=10,
                      headers={"X-Request-Id": "req-42"})  # fmt: skip
        signed, unsigned = resp.json()["response"]["items"]
        assert signed["value"]["allowed"] is True and unsigned["value"]["allowed"] is False
        assert resp.headers["X-Request-Id"] == "req-42"
    finally:
        proc.terminate()  # SIGTERM, as Kubernetes stops a pod: drained, then exit 0
        code = proc.wait(30)
        log.close()
    lines = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines()]
    assert code == 0, lines
    validate = [entry for entry in lines if entry["msg"] == "validate"]
    assert validate and validate[0]["request_id"] == "req-42" and validate[0]["keys"] == 2
    assert any(entry["msg"] == "listening" for entry in lines)
    assert any(entry["msg"] == "shutting down" for entry in lines)


def test_prefetched_view_serves_the_verifier_and_refuses_writes(admission_models) -> None:
    """The per-verification view: referrers warmed concurrently, then the unchanged verifier
    reads the same digest-checked bytes from it; nothing can be written through it."""
    import io
    from concurrent.futures import ThreadPoolExecutor as Pool

    from attest.admission.prefetch import PrefetchedStore
    from attest.errors import InternalError
    from attest.oci.stores import open_store
    from attest.verify.verifier import VerifyOptions, verify_subject

    ref = parse_key(admission_models.signed)
    store = open_store(ref)
    manifest = store.get_manifest("v1")
    view = PrefetchedStore(store)
    view.seed(manifest)
    with Pool(4) as pool:
        view.prefetch(manifest.descriptor.digest, "auto", pool, lambda: open_store(ref))
    assert len(view._manifests) >= 1 + 7 and len(view._blobs) >= 7
    report = verify_subject(view, manifest.descriptor, str(ref),
                            VerifyOptions(key=admission_models.public_key))  # fmt: skip
    direct = verify_subject(store, manifest.descriptor, str(ref),
                            VerifyOptions(key=admission_models.public_key))  # fmt: skip
    strip = lambda r: {**r.to_dict(), "verifier": None}  # noqa: E731 - the clock differs
    assert strip(report) == strip(direct) and len(report.verified) == 7
    with pytest.raises(InternalError):
        view.push_manifest(b"{}", "application/json", tag="x")
    with pytest.raises(InternalError):
        view.push_blob(manifest.descriptor, io.BytesIO(b""))


def test_serve_refuses_to_start_without_trust(provider_tls) -> None:
    from tests.helpers import run_attest

    tls = provider_tls
    proc = run_attest("serve", "--addr", "127.0.0.1:0", "--tls-cert", str(tls.cert),
                      "--tls-key", str(tls.key))  # fmt: skip
    assert proc.returncode == 2 and "trusts nothing" in proc.stderr


def test_oversized_reports_are_dropped_from_the_value() -> None:
    from attest.admission import validate

    big = {"subject": {"digest": "sha256:x"}, "verifier": {},
           "referrers": [{"summary": {"licenses": ["x" * 100] * 1000}}]}  # fmt: skip
    doc, warnings = validate.bounded_report(validate.compact_report(big))
    assert doc["referrers"] == [] and warnings[0]["code"] == "REPORT_TOO_LARGE"
    small = validate.compact_report({**big, "referrers": [{"summary": {}}]})
    assert validate.bounded_report(small) == (small, [])


@pytest.mark.parametrize("mode", ["enforce", "warn", "off"])
def test_policy_mode(admission_models, mode: str) -> None:
    """--mode as in `attest verify`: enforce denies on policy violations, warn reports them as
    warnings, off skips the policy; failed or missing signatures deny in every mode."""
    import time as _time

    from attest.admission.validate import Validator, ValidatorSettings
    from attest.policy.loader import load_policy
    from attest.verify.verifier import VerifyOptions

    validator = Validator(ValidatorSettings(
        verify=VerifyOptions(key=admission_models.public_key), policy=load_policy(None),
        params={"mof": {"min_class": "II"}}, mode=mode, workers=2,
    ))  # fmt: skip
    keys = [admission_models.signed] + ([admission_models.unsigned] if mode == "off" else [])
    try:
        items = validator.validate(keys, _time.monotonic() + 30)
    finally:
        validator.close()
    signed = items[0]
    codes = {v["code"] for v in signed["value"]["violations"]}
    warned = {w["code"] for w in signed["value"]["warnings"]}
    if mode == "enforce":
        assert signed["value"]["allowed"] is False and "MOF_CLASS_TOO_LOW" in codes
    elif mode == "warn":
        assert signed["value"]["allowed"] is True and "MOF_CLASS_TOO_LOW" in warned
    else:
        assert signed["value"]["allowed"] is True and "MOF_CLASS_TOO_LOW" not in warned
    if mode == "off":  # no policy at all, and still no unsigned model
        unsigned = items[1]["value"]
        assert unsigned["allowed"] is False and unsigned["violations"][0]["code"] == "UNSIGNED"
