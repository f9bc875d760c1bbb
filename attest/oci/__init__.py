"""Pure OCI: media types, digests, references, the two stores, referrers, copy, extraction.

Knows no model semantics and imports no higher layer (tests/test_layers_oci.py); ModelPack is
:mod:`attest.modelpack`'s.
"""
