"""Notary Project (notation) signature verification: envelopes, trust store, trust policy."""
