"""Signing: DSSE envelopes in Sigstore v0.3 bundles, keyless (Fulcio/Rekor) or with a key.

One module a job: ``dsse`` (PAE and envelopes), ``bundle`` (bundle JSON I/O), ``keys`` (key
files and the local development key), ``key_signer`` and ``keyless`` (the two ways to sign),
``signer`` (which one a run uses) and ``oms`` (the OpenSSF model-signing statement from a
ModelPack manifest). Statements in, bundles out: attaching them is :mod:`attest.evidence`, and
what to sign is decided by the flow (:mod:`attest.flows.publish`, :mod:`attest.flows.sign`).
"""
