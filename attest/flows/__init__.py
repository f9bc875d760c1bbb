"""Orchestration: the only layer that combines stores, verification, policy and rendering."""
