"""Stages: pure functions ModelFacts (+ earlier statements) -> evidence documents."""
