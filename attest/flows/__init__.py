"""Orchestration: the only layer that combines the pieces below it, in order."""
