"""Readers of SBOM documents (CycloneDX 1.6, SPDX 2.3, SPDX 3.0.1): format constants, validation
and a comparable summary. verify/, report/ and lint/ read evidence with these, without the writers
in :mod:`attest.stages.sbom`."""
