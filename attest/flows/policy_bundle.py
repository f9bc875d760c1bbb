"""Policy bundles on the wire: pushed, pulled, signed when pushed, verified before obeyed.

The artifact is what OPA's OCI downloader reads: an image manifest whose config is
``application/vnd.oci.image.config.v1+json`` = ``{}`` and whose first
``application/vnd.oci.image.layer.v1.tar+gzip`` layer is the bundle
(:mod:`attest.policy.bundle` builds and reads it). One layer, not one per file as conftest
pushes them (OPA cannot read those).

``attest policy push`` signs a statement about the bundle manifest (predicate
``https://attest.dev/policy-bundle/v1``) in the cosign layout; ``attest verify --policy REF``
first verifies that signature with the same trust options as the model's evidence, then
evaluates exactly the bundle it verified (pinned by digest).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, replace
from typing import Any

from attest.errors import InputError, UsageError, VerificationError
from attest.evidence import table
from attest.facts.subject import Subject
from attest.flows.publish import sign_and_attach
from attest.oci import mediatypes as mt
from attest.oci.reference import parse_reference
from attest.oci.store import Descriptor, Store
from attest.oci.stores import DEFAULT_TAG, StoreOptions, open_store
from attest.policy.bundle import MAX_BUNDLE_BYTES, Bundle, policy_from_bundle, read_bundle
from attest.policy.loader import Policy
from attest.sign.signer import Signer
from attest.stages.statement import Evidence, make_statement
from attest.verify.verifier import VerifyOptions, verify_subject

BUNDLE_CONFIG_BYTES = b"{}"
BUNDLE_FILENAME = "bundle.tar.gz"


@dataclass(frozen=True)
class PushedBundle:
    reference: str  # REF@sha256:... of the manifest
    manifest: Descriptor
    layer: Descriptor
    bundle: Bundle

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "digest": self.manifest.digest,
            "mediaType": self.manifest.media_type,
            "layer": self.layer.to_dict(),
            "revision": self.bundle.manifest["revision"],
            "roots": self.bundle.manifest["roots"],
            "files": list(self.bundle.files),
        }


def bundle_manifest(bundle: Bundle, annotations: dict[str, str] | None = None) -> bytes:
    """The OCI image manifest of a bundle (exact bytes; digest is computed over them)."""
    config = Descriptor.for_bytes(mt.OCI_IMAGE_CONFIG, BUNDLE_CONFIG_BYTES)
    layer = _layer_descriptor(bundle)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": config.to_dict(),
        "layers": [layer.to_dict()],
    }
    if annotations:
        manifest["annotations"] = dict(sorted(annotations.items()))
    return json.dumps(manifest, separators=(",", ":")).encode()


def _layer_descriptor(bundle: Bundle) -> Descriptor:
    return Descriptor.for_bytes(
        mt.OCI_LAYER_TAR_GZIP, bundle.data, annotations={mt.ANNOTATION_TITLE: BUNDLE_FILENAME}
    )


def push_bundle(
    bundle: Bundle,
    reference: str,
    *,
    store_options: StoreOptions | None = None,
    annotations: dict[str, str] | None = None,
) -> PushedBundle:
    """Push ``bundle`` to ``reference`` (``oci:PATH[:TAG]`` or ``HOST/REPO[:TAG]``)."""
    ref = parse_reference(reference)
    if ref.digest:
        raise UsageError(f"push to a tag, not a digest: {reference}")
    tag = ref.tag or DEFAULT_TAG
    store = open_store(ref, store_options, create=True)
    config = Descriptor.for_bytes(mt.OCI_IMAGE_CONFIG, BUNDLE_CONFIG_BYTES)
    store.push_blob(config, io.BytesIO(BUNDLE_CONFIG_BYTES))
    layer = _layer_descriptor(bundle)
    store.push_blob(layer, io.BytesIO(bundle.data))
    result = store.push_manifest(bundle_manifest(bundle, annotations), mt.OCI_MANIFEST, tag=tag)
    return PushedBundle(
        reference=str(ref.with_digest(result.descriptor.digest)),
        manifest=result.descriptor,
        layer=layer,
        bundle=bundle,
    )


# -- pull ---------------------------------------------------------------------------------------


def fetch_bundle(store: Store, target: str) -> tuple[Descriptor, bytes]:
    """The manifest descriptor and bundle bytes of the artifact ``target`` names: its first
    tar+gzip layer, as OPA's OCI downloader takes it."""
    manifest = store.get_manifest(target, accept=(mt.OCI_MANIFEST,))
    doc = manifest.json()
    layers = doc.get("layers")
    if doc.get("mediaType", mt.OCI_MANIFEST) != mt.OCI_MANIFEST or not isinstance(layers, list):
        raise InputError(f"{store.location}@{manifest.descriptor.digest} is not an image manifest")
    for entry in layers:
        if isinstance(entry, dict) and entry.get("mediaType") == mt.OCI_LAYER_TAR_GZIP:
            layer = Descriptor.from_dict(entry)
            break
    else:
        raise InputError(
            f"{store.location}@{manifest.descriptor.digest} holds no "
            f"{mt.OCI_LAYER_TAR_GZIP} layer: not a policy bundle",
            hint="publish policies with `attest policy push DIR REF`",
        )
    if layer.size > MAX_BUNDLE_BYTES:
        raise InputError(f"policy bundle layer of {layer.size} bytes exceeds {MAX_BUNDLE_BYTES}")
    return manifest.descriptor, store.fetch_blob(layer)


def pull_policy(
    reference: str, *, include_tests: bool = False, store_options: StoreOptions | None = None
) -> Policy:
    """``--policy REF``: the bundle at ``reference`` as a :class:`Policy`."""
    try:
        ref = parse_reference(reference)
    except UsageError:
        raise UsageError(
            f"--policy {reference}: no such file or directory, and not an OCI reference"
        ) from None
    store = open_store(ref, store_options)
    descriptor, data = fetch_bundle(store, ref.target or DEFAULT_TAG)
    pinned = str(ref.with_digest(descriptor.digest))
    return policy_from_bundle(
        read_bundle(data), origin=pinned, digest=descriptor.digest, include_tests=include_tests
    )


# -- sign and verify ----------------------------------------------------------------------------


def policy_bundle_evidence(pushed: PushedBundle) -> Evidence:
    ref = parse_reference(pushed.reference)
    subject = Subject(
        reference=pushed.reference,
        repository=ref.repository_name(),
        digest=pushed.manifest.digest,
        size=pushed.manifest.size,
        media_type=pushed.manifest.media_type,
    )  # not a model: no config, no layers
    predicate = {
        "revision": pushed.bundle.manifest.get("revision"),
        "roots": pushed.bundle.manifest.get("roots", []),
        "layer": pushed.layer.digest,
        "files": sorted(pushed.bundle.files),
    }
    return Evidence(statement=make_statement(subject, table.POLICY_BUNDLE, predicate))


def sign_policy_bundle(
    pushed: PushedBundle, signer: Signer, store_options: StoreOptions | None = None
) -> Descriptor:
    """Sign the pushed bundle and attach the signature; the bundle referrer's descriptor."""
    store = open_store(parse_reference(pushed.reference), store_options)
    signed = sign_and_attach(store, pushed.manifest, [policy_bundle_evidence(pushed)], signer)
    return signed[0].statement_ref


def verify_policy_bundle(
    reference: str, options: VerifyOptions, store_options: StoreOptions | None = None
) -> str:
    """Verify the policy bundle at ``reference``; its digest-pinned reference when trusted."""
    ref = parse_reference(reference)
    store = open_store(ref, store_options)
    manifest = store.get_manifest(ref.target or "latest").descriptor
    # the trust flags were given for the model: here either the key or the identity may vouch
    report = verify_subject(store, manifest, reference, replace(options, identity_binds=False))
    trusted = [r for r in report.verified if r.predicate_type == table.POLICY_BUNDLE]
    if report.failures or not trusted:
        cause = report.failures[0] if report.failures else "no valid signature"
        raise VerificationError(
            f"policy bundle {reference} is not signed by a trusted signer: {cause}",
            hint="sign it with `attest policy push ... --key/--identity-token`, or use a "
            "local policy directory",
        )
    return str(ref.with_digest(manifest.digest))
