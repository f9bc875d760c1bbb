"""Answer one external-data key: resolve it, verify it with attest's verifier, judge it with
the policy, and reduce the result to the compact value Gatekeeper caches and Rego reads.

Verification is :func:`attest.verify.verifier.verify_subject` and the judgement
:func:`attest.policy.decision.evaluate`, exactly as ``attest verify --policy`` runs them: the
provider is only as good as ``verify`` and adds no trust logic of its own. What it adds is
admission plumbing: Kubernetes image-name normalisation, a cache by digest, single flight,
bounded concurrency and a deadline.

The value of a model key::

    {"applicable": true, "reference": "host/repo@sha256:..", "digest": "sha256:..",
     "allowed": false, "violations": [{"code", "msg"}], "warnings": [...],
     "mofClass": "II", "report": {compact VerificationReport for the template's libs}}

and of anything else ``{"applicable": false, "digest": ...}``. A key that cannot be resolved or
verified raises :class:`KeyError_`; the server turns it into the item's ``error`` (fail closed).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from typing import Any

from attest.admission.cache import SingleFlight, TTLCache
from attest.admission.config import ProviderConfig, RegistrySettings
from attest.admission.metrics import Metrics
from attest.admission.prefetch import PrefetchedStore
from attest.errors import AttestError, NotFoundError, UsageError
from attest.evidence import table
from attest.modelpack import media
from attest.oci import mediatypes as mt
from attest.oci.reference import Reference, parse_reference
from attest.oci.registry import Login, RegistryStore
from attest.policy.decision import evaluate
from attest.policy.engine import create_engine
from attest.policy.loader import Policy
from attest.verify.report import VerificationReport
from attest.verify.verifier import VerifyOptions, verify_subject

log = logging.getLogger("attest.admission")

MAX_KEY_LENGTH = 1024
# KServe storage URIs name OCI artifacts with these schemes; the template strips them too.
OCI_SCHEMES = ("oci://", "oci+native://", "oci+fetch://", "oci+modelcar://")
DOCKER_HUB = "docker.io"
_MAX_LISTED = 20  # violations/warnings per key: values stay small in every Gatekeeper pod
# Gatekeeper keeps every value in every pod's cache and reads the body without a limit
MAX_REPORT_BYTES = 64 * 1024


class KeyFailure(Exception):
    """A key that could not be answered; its message becomes the item's ``error``."""


@dataclass
class ValidatorSettings:
    verify: VerifyOptions
    policy: Policy
    params: dict[str, Any] = field(default_factory=dict)
    engine: str = "regorus"
    opa_url: str | None = None
    entrypoint: str | None = None
    #: enforce: policy violations deny; warn: they are reported as warnings; off: no policy
    mode: str = "enforce"
    config: ProviderConfig = field(default_factory=ProviderConfig)
    cache_ttl: float = 300.0
    cache_size: int = 10_000
    tag_ttl: float = 10.0
    workers: int = 8
    registry_timeout: float = 2.0
    registry_retries: int = 1
    login: Login | None = None  # --registry-config of `attest serve`


def normalize_key(key: str) -> str:
    """A Kubernetes image name (or a KServe ``oci://`` URI) as a full ``host/repo[:tag][@digest]``
    reference, spelled as the kubelet resolves it (``nginx`` is ``docker.io/library/nginx``)."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise KeyFailure("not a reference (empty or longer than 1024 characters)")
    if any(c.isspace() or ord(c) < 0x20 for c in key):
        raise KeyFailure("not a reference (contains whitespace or control characters)")
    for scheme in OCI_SCHEMES:
        if key.startswith(scheme):
            key = key[len(scheme) :]
            break
    if "://" in key or key.startswith("oci:"):
        raise KeyFailure("not a registry reference")
    first, slash, rest = key.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost"):
        key = f"{DOCKER_HUB}/{key}" if slash else f"{DOCKER_HUB}/library/{key}"
    elif first in ("index.docker.io", "registry-1.docker.io"):
        key = f"{DOCKER_HUB}/{rest}"
    if key.startswith(f"{DOCKER_HUB}/") and key.count("/") == 1:
        key = f"{DOCKER_HUB}/library/{key.split('/', 1)[1]}"
    return key


def parse_key(key: str) -> Reference:
    try:
        ref = parse_reference(normalize_key(key))
    except UsageError as e:
        raise KeyFailure(e.message) from None
    if ref.is_layout:  # never a path on the provider's own disk
        raise KeyFailure("not a registry reference")
    return ref if ref.target else ref.with_tag("latest")


def is_model_manifest(manifest: dict[str, Any]) -> bool:
    config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
    media_type = config.get("mediaType") if isinstance(config, dict) else None
    return (
        media.is_model_artifact_type(manifest.get("artifactType"))
        or (isinstance(media_type, str) and media.is_model_config(media_type))
        or media_type == mt.KITOPS_CONFIG
    )


def compact_report(report: dict[str, Any]) -> dict[str, Any]:
    """The report without annotations (no library rule reads them; they can be large)."""
    subject = {k: v for k, v in report["subject"].items() if k != "annotations"}
    referrers = [{k: v for k, v in r.items() if k != "annotations"} for r in report["referrers"]]
    return {"subject": subject, "referrers": referrers, "verifier": report["verifier"]}


def bounded_report(doc: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """``doc``, or, past :data:`MAX_REPORT_BYTES`, the report without referrers and a warning:
    a Constraint's own policy then sees no evidence and denies (fail closed)."""
    if len(json.dumps(doc, separators=(",", ":"))) <= MAX_REPORT_BYTES:
        return doc, []
    warning = {"code": "REPORT_TOO_LARGE",
               "msg": f"the verification report exceeds {MAX_REPORT_BYTES} bytes; "
                      "Constraint policies see no referrers"}  # fmt: skip
    return {"subject": doc["subject"], "referrers": [], "verifier": doc["verifier"]}, [warning]


def mof_class(report: VerificationReport) -> str | None:
    for r in report.verified:
        if r.predicate_type == table.MOF and isinstance(r.summary.get("class"), str):
            return str(r.summary["class"])
    return None


def verification_findings(report: VerificationReport) -> list[dict[str, str]]:
    """What makes ``attest verify`` exit 1 before any policy: failed or missing signatures."""
    found = [{"code": "SIGNATURE_INVALID", "msg": f} for f in report.failures]
    if not report.verified:
        found.append({"code": "UNSIGNED",
                      "msg": f"no verified signature on {report.subject['digest']}"})  # fmt: skip
    return found


class Validator:
    """Thread-safe; one per server. Cold verifications run on a bounded pool."""

    def __init__(self, settings: ValidatorSettings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self._results: TTLCache[dict[str, Any]] = TTLCache(settings.cache_ttl, settings.cache_size)
        self._tags: TTLCache[str] = TTLCache(settings.tag_ttl, settings.cache_size)
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="attest-verify")
        # referrer prefetches get their own threads: verify workers wait on them
        self._fetch_pool = ThreadPoolExecutor(min(32, 2 * settings.workers),
                                              thread_name_prefix="attest-fetch")  # fmt: skip
        self._flight: SingleFlight[dict[str, Any]] = SingleFlight(self._pool)
        self._local = threading.local()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._fetch_pool.shutdown(wait=False, cancel_futures=True)

    # -- the request path ---------------------------------------------------------------------

    def validate(self, keys: list[str], deadline: float) -> list[dict[str, Any]]:
        """One ProviderResponse item per key, in order, by ``deadline`` (time.monotonic)."""
        pending: list[tuple[int, Future[dict[str, Any]]]] = []
        items: list[dict[str, Any]] = []
        for i, key in enumerate(keys):
            item: dict[str, Any] = {"key": key}
            items.append(item)
            try:
                answer = self._lookup(key)
            except KeyFailure as e:
                item["error"] = f"{key}: {e}"
                self.metrics.keys.labels("error").inc()
                continue
            if isinstance(answer, Future):
                pending.append((i, answer))
            else:
                self._settle(item, answer)
        for i, future in pending:
            item = items[i]
            try:
                value = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                # fail closed now; the verification goes on and fills the cache for the retry
                item["error"] = f"{item['key']}: verification did not finish in time; retry"
                self.metrics.keys.labels("timeout").inc()
                continue
            except KeyFailure as e:
                item["error"] = f"{item['key']}: {e}"
                self.metrics.keys.labels("error").inc()
                continue
            except Exception as e:  # a bug: still an error item, never a pass
                log.exception("internal error verifying %s", item["key"])
                item["error"] = f"{item['key']}: internal error: {type(e).__name__}"
                self.metrics.keys.labels("error").inc()
                continue
            self._settle(item, value)
        return items

    def _settle(self, item: dict[str, Any], value: dict[str, Any]) -> None:
        item["value"] = value
        outcome = "not_applicable" if not value.get("applicable") else (
            "allowed" if value.get("allowed") else "denied")  # fmt: skip
        self.metrics.keys.labels(outcome).inc()

    def _lookup(self, key: str) -> dict[str, Any] | Future[dict[str, Any]]:
        """A cached value, or the future of the load that will produce it."""
        ref = parse_key(key)
        settings = self.settings.config.for_reference(str(ref))
        if settings.mode == "skip":
            return {"applicable": False, "reason": "registry not checked (provider config)"}
        name = f"{ref.registry}/{ref.repository}"
        digest = ref.digest or self._tags.get(f"{name}:{ref.tag}")
        if digest:
            cached = self._results.get(f"{name}@{digest}")
            if cached is not None:
                self.metrics.cache.labels("hit").inc()
                return cached
        future, shared = self._flight.submit(str(ref), lambda: self._load(ref, settings))
        self.metrics.cache.labels("shared" if shared else "miss").inc()
        return future

    # -- the cold path (pool threads) ----------------------------------------------------------

    def _load(self, ref: Reference, settings: RegistrySettings) -> dict[str, Any]:
        self.metrics.in_flight.inc()
        start = time.monotonic()
        try:
            return self._resolve_and_verify(ref, settings)
        except KeyFailure:
            raise
        except NotFoundError as e:
            raise KeyFailure(f"not found: {e.message}") from None
        except AttestError as e:
            raise KeyFailure(e.message) from None
        finally:
            self.metrics.in_flight.dec()
            self.metrics.verify_seconds.observe(time.monotonic() - start)

    def _resolve_and_verify(self, ref: Reference, settings: RegistrySettings) -> dict[str, Any]:
        store = self._store(ref, settings)
        name = f"{ref.registry}/{ref.repository}"
        manifest = store.get_manifest(ref.target or "latest")
        digest = manifest.descriptor.digest
        if ref.digest and digest != ref.digest:
            raise KeyFailure(f"registry answered {digest} for {ref.digest}")
        if not ref.digest:
            self._tags.put(f"{name}:{ref.tag}", digest)
        cached = self._results.get(f"{name}@{digest}")
        if cached is not None:
            return cached
        value = self._judge(store, manifest, ref.with_digest(digest), settings)
        self._results.put(f"{name}@{digest}", value)
        return value

    def _judge(
        self, store: RegistryStore, manifest: Any, pinned: Reference, settings: RegistrySettings
    ) -> dict[str, Any]:
        digest = manifest.descriptor.digest
        is_model = manifest.descriptor.media_type in mt.MANIFEST_TYPES and is_model_manifest(
            manifest.json()
        )
        if not is_model:
            if settings.mode != "require":
                return {"applicable": False, "digest": digest}
            finding = {"code": "NOT_A_MODEL",
                       "msg": f"{pinned} is not a ModelPack artifact, and its registry "
                              "prefix requires one"}  # fmt: skip
            return {"applicable": True, "reference": str(pinned), "digest": digest,
                    "allowed": False, "violations": [finding], "warnings": []}  # fmt: skip
        view = PrefetchedStore(store)
        view.seed(manifest)
        view.prefetch(digest, self.settings.verify.referrers_mode, self._fetch_pool,
                      lambda: self._store(pinned, settings))  # fmt: skip
        report = verify_subject(view, manifest.descriptor, str(pinned), self.settings.verify)
        raw = report.to_dict()
        violations = verification_findings(report)
        warnings: list[dict[str, str]] = []
        if self.settings.mode != "off":
            decision = self._decide(raw)
            denied = [{"code": f.code, "msg": f.msg} for f in decision.violations]
            if self.settings.mode == "enforce":
                violations += denied
            else:
                warnings += denied
            warnings += [{"code": f.code, "msg": f.msg} for f in decision.warnings]
        report_doc, too_large = bounded_report(compact_report(raw))
        warnings += too_large
        value: dict[str, Any] = {
            "applicable": True,
            "reference": str(pinned),
            "digest": digest,
            "allowed": not violations,
            "violations": violations[:_MAX_LISTED],
            "warnings": warnings[:_MAX_LISTED],
            "report": report_doc,
        }
        cls = mof_class(report)
        if cls:
            value["mofClass"] = cls
        return value

    def _decide(self, report: dict[str, Any]) -> Any:
        engine = create_engine(self.settings.engine, opa_url=self.settings.opa_url)
        try:
            return evaluate(report, self.settings.policy, self.settings.params, engine=engine,
                            entrypoint=self.settings.entrypoint)  # fmt: skip
        finally:
            close = getattr(engine, "close", None)
            if close:
                close()

    def _store(self, ref: Reference, settings: RegistrySettings) -> RegistryStore:
        """One store (HTTP session) per repository per pool thread: sessions are not shared
        between threads, connections are reused; at most 64 per thread."""
        stores: OrderedDict[tuple[Any, ...], RegistryStore] | None = getattr(
            self._local, "stores", None
        )
        if stores is None:
            stores = self._local.stores = OrderedDict()
        key = (ref.registry, ref.repository, settings.plain_http, settings.insecure)
        store = stores.get(key)
        if store is None:
            store = RegistryStore.from_reference(
                replace(ref, tag=None, digest=None), plain_http=settings.plain_http,
                insecure=settings.insecure, timeout=self.settings.registry_timeout,
                retries=self.settings.registry_retries, backoff=0.1, login=self.settings.login,
            )  # fmt: skip
            stores[key] = store
            while len(stores) > 64:
                stores.popitem(last=False)[1].close()
        stores.move_to_end(key)
        return store
