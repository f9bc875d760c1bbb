"""Orchestration: the only layer that combines stores, verification, policy and rendering.

``run`` (the ``attest run`` pipeline), ``publish`` (sign what a flow made, one session, and
attach it), ``sign``, ``verify``, ``policy`` and ``policy_bundle`` (policies pulled, pushed,
signed, verified), ``report``, ``register``, ``handoff``, ``audit``."""
