"""Rego policies: engines (regorus, OPA in process, OPA server), the loader, decisions, bundles
as data, policy tests. No registry and no key here: :mod:`attest.flows.policy` and
:mod:`attest.flows.policy_bundle` pull, push, sign and verify."""
