"""Rego policies: engines (regorus, OPA in process, OPA server), the loader, decisions, bundles."""
