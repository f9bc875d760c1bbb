"""Deployment manifests for a verified model, pinned to its digest (pure builders, no I/O)."""
