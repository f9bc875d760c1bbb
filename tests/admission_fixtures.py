"""The admission provider for tests: real TLS material (a CA, the provider's certificate, and
Gatekeeper-like client certificates), models in the real docker-registry (signed, unsigned,
tampered, and an ordinary image), and ``attest serve``'s server running in process on loopback.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from attest.admission.server import ProviderServer, ServerSettings
from attest.admission.validate import Validator, ValidatorSettings
from attest.oci import mediatypes as mt
from attest.oci.reference import parse_reference
from attest.oci.stores import open_store
from attest.policy.loader import load_policy
from attest.sign.publish import attach_bundle
from attest.verify.verifier import VerifyOptions
from tests.helpers import REPO_ROOT, make_model_dir, push_artifact, push_raw_blob, run_attest

MODEL = REPO_ROOT / "testdata" / "models" / "open-llm"


# -- TLS ------------------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(path: Path, key: Any) -> None:
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))  # fmt: skip


def _cert(subject: str, key: Any, issuer: tuple[x509.Name, Any] | None, *, ca: bool,
          sans: list[x509.GeneralName] | None = None, usage: Any = None,
          ) -> x509.Certificate:  # fmt: skip
    now = datetime.datetime.now(datetime.timezone.utc)
    issuer_name, issuer_key = issuer or (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject)).issuer_name(issuer_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )  # fmt: skip
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class TlsMaterial:
    ca: Path  # signs the provider's certificate (the Provider's caBundle)
    cert: Path
    key: Path
    client_ca: Path  # Gatekeeper's CA
    client_cert: Path
    client_key: Path
    rogue_cert: Path  # a client certificate from another CA
    rogue_key: Path


def make_tls(root: Path) -> TlsMaterial:
    """A provider CA and an EC P-256 server certificate for 127.0.0.1/localhost (as cert steps in
    docs/admission.md make), and an RSA client certificate as Gatekeeper's webhook has."""
    root.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("attest-provider-ca", ca_key, None, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.DNSName("attest-provider.attest-system.svc")]  # fmt: skip
    cert = _cert("attest-provider", key, (ca.subject, ca_key), ca=False, sans=sans,
                 usage=ExtendedKeyUsageOID.SERVER_AUTH)  # fmt: skip
    gk_ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    gk_ca = _cert("gatekeeper-ca", gk_ca_key, None, ca=True)
    client_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client = _cert("gatekeeper-webhook-service.gatekeeper-system.svc", client_key,
                   (gk_ca.subject, gk_ca_key), ca=False, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    rogue = _cert("rogue", rogue_key, None, ca=False, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    files = {}
    for name, obj in {"ca.crt": ca, "tls.crt": cert, "gatekeeper-ca.crt": gk_ca,
                      "client.crt": client, "rogue.crt": rogue}.items():  # fmt: skip
        files[name] = root / name
        files[name].write_bytes(obj.public_bytes(serialization.Encoding.PEM))
    for name, k in {"tls.key": key, "client.key": client_key, "rogue.key": rogue_key}.items():
        files[name] = root / name
        _write_key(files[name], k)
    return TlsMaterial(files["ca.crt"], files["tls.crt"], files["tls.key"],
                       files["gatekeeper-ca.crt"], files["client.crt"], files["client.key"],
                       files["rogue.crt"], files["rogue.key"])  # fmt: skip


# -- models in the registry -------------------------------------------------------------------


@dataclass(frozen=True)
class Models:
    signed: str  # host/repo:tag, signed with the release key (7 statements)
    signed_digest: str
    unsigned: str  # packed, never signed
    tampered: str  # signed, then one bundle's payload edited
    other_key: str  # signed with a key the provider does not trust
    image: str  # an ordinary container image (not a model)
    image_digest: str
    missing: str  # a tag that does not exist
    public_key: Path


def _digest(ref: str) -> str:
    reference = parse_reference(ref)
    return open_store(reference).get_manifest(reference.target or "latest").descriptor.digest


def _tamper(ref: str) -> None:
    reference = parse_reference(ref)
    store = open_store(reference)
    subject = store.get_manifest(reference.target or "latest").descriptor
    from attest.oci.referrers import discover
    from attest.oci.store import Descriptor

    bundles = discover(store, subject.digest, artifact_type=mt.SIGSTORE_BUNDLE_V03)
    first = bundles[0]
    bundle = json.loads(store.fetch_blob(Descriptor.from_dict(first.manifest["layers"][0])))
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["predicate"] = {"forged": True}
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    attach_bundle(store, subject, json.dumps(bundle).encode(),
                  first.annotations["dev.sigstore.bundle.predicateType"])  # fmt: skip


def make_models(registry_host: str, root: Path) -> Models:
    keys = root / "keys"
    keys.mkdir(parents=True)
    for name in ("release", "other"):
        assert run_attest("key", "generate", str(keys / name)).returncode == 0
    base = f"{registry_host}/admission"
    signed, unsigned = f"{base}/signed:v1", f"{base}/unsigned:v1"
    tampered, other = f"{base}/tampered:v1", f"{base}/other-key:v1"
    jobs = [("run", str(MODEL), "--to", ref, "--key", str(keys / f"{key}.key"))
            for ref, key in ((signed, "release"), (tampered, "release"), (other, "other"))]
    jobs.append(("pack", str(make_model_dir(root / "m")), "--to", unsigned))
    for args in jobs:
        proc = run_attest(*args)
        assert proc.returncode == 0, proc.stderr
    _tamper(tampered)
    image_ref = parse_reference(f"{base}/app:1.0")
    store = open_store(image_ref)
    layer = push_raw_blob(store, b"not really a tar", "application/vnd.oci.image.layer.v1.tar")
    image = push_artifact(
        store, [layer], config={"architecture": "amd64", "os": "linux", "rootfs": {}},
        config_type="application/vnd.oci.image.config.v1+json", artifact_type=None, tag="1.0",
    )  # fmt: skip
    return Models(signed, _digest(signed), unsigned, tampered, other, f"{base}/app:1.0",
                  image.digest, f"{base}/signed:does-not-exist", keys / "release.pub")  # fmt: skip


# -- the provider -------------------------------------------------------------------------------


@dataclass
class Provider:
    url: str
    tls: TlsMaterial
    server: ProviderServer

    def session(self, *, client_cert: bool = True) -> requests.Session:
        s = requests.Session()
        s.trust_env = False  # REQUESTS_CA_BUNDLE would replace the provider's CA
        s.verify = str(self.tls.ca)
        if client_cert:
            s.cert = (str(self.tls.client_cert), str(self.tls.client_key))
        return s

    def validate(self, keys: list[str], session: requests.Session | None = None) -> dict[str, Any]:
        body = {"apiVersion": "externaldata.gatekeeper.sh/v1beta1", "kind": "ProviderRequest",
                "request": {"keys": keys}}  # fmt: skip
        resp = (session or self.session()).post(f"{self.url}/validate", json=body, timeout=10)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())


@dataclass(frozen=True)
class ProviderOptions:
    key: Path | None
    params: dict[str, Any] | None = None
    notation: Any = None  # NotationSettings
    deadline: float = 5.0
    cache_ttl: float = 300.0
    tag_ttl: float = 10.0
    workers: int = 4
    client_ca: bool = True


def start_provider(tls: TlsMaterial, options: ProviderOptions) -> tuple[Provider, threading.Thread]:
    settings = ValidatorSettings(
        verify=VerifyOptions(key=options.key, notation=options.notation),
        policy=load_policy(None),
        params=options.params or {}, cache_ttl=options.cache_ttl, tag_ttl=options.tag_ttl,
        workers=options.workers, registry_timeout=3.0,
    )  # fmt: skip
    server = ProviderServer(
        ServerSettings("127.0.0.1", 0, tls.cert, tls.key,
                       tls.client_ca if options.client_ca else None, options.deadline),
        Validator(settings),
    )  # fmt: skip
    server.ready = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return Provider(f"https://127.0.0.1:{server.port}", tls, server), thread


@pytest.fixture(scope="session")
def provider_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    return make_tls(tmp_path_factory.mktemp("provider-tls"))


@pytest.fixture(scope="session")
def admission_models(registry_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Models:
    return make_models(registry_server.host, tmp_path_factory.mktemp("admission-models"))


@pytest.fixture(scope="session")
def provider(provider_tls: TlsMaterial, admission_models: Models) -> Iterator[Provider]:
    """``attest serve`` in process: mTLS, trusting the release key, the built-in policy."""
    running, thread = start_provider(provider_tls, ProviderOptions(key=admission_models.public_key))
    yield running
    running.server.shutdown()
    running.server.server_close()
    thread.join(5)


def tls12_context(tls: TlsMaterial) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(tls.ca))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(tls.client_cert), str(tls.client_key))
    return context
