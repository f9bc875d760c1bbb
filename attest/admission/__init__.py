"""Admission: the Gatekeeper external-data provider (``attest serve``) and the generator of
ConstraintTemplates from ``policies/``."""
