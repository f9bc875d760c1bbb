"""Policy bundles are evidence too: signed when pushed, verified before they are obeyed.

``attest policy push`` signs a statement about the bundle manifest (predicate
``https://attest.dev/policy-bundle/v1``) in the cosign layout; ``attest verify --policy REF``
first verifies that signature with the same trust options as the model's evidence, then
evaluates exactly the bundle it verified (pinned by digest).
"""

from __future__ import annotations

from dataclasses import replace

from attest.errors import VerificationError
from attest.modelpack.subject import Subject
from attest.oci.reference import parse_reference
from attest.oci.store import Descriptor
from attest.oci.stores import StoreOptions, open_store
from attest.policy.bundle import PushedBundle
from attest.sign.publish import sign_and_attach
from attest.sign.signer import Signer
from attest.stages.statement import Evidence, make_statement
from attest.verify.verifier import VerifyOptions, verify_subject

PREDICATE_TYPE = "https://attest.dev/policy-bundle/v1"


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
    return Evidence(statement=make_statement(subject, PREDICATE_TYPE, predicate))


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
    trusted = [r for r in report.verified if r.predicate_type == PREDICATE_TYPE]
    if report.failures or not trusted:
        cause = report.failures[0] if report.failures else "no valid signature"
        raise VerificationError(
            f"policy bundle {reference} is not signed by a trusted signer: {cause}",
            hint="sign it with `attest policy push ... --key/--identity-token`, or use a "
            "local policy directory",
        )
    return str(ref.with_digest(manifest.digest))
