"""How evidence sits on the wire: the one table of annotation keys and predicate types
(:mod:`attest.evidence.table`) and the one attach module (:mod:`attest.evidence.attach`).

This ``__init__`` imports nothing, so a layer that may only read the table (stages, sign) does
not load the attach machinery with it."""
