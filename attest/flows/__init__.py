"""Orchestration: the places that decide what happens, in order, combining the layers below
(``sign`` decides what a signer may sign; the signer itself only turns statements into
bundles)."""
