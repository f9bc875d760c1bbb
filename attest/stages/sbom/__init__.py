"""SBOM stage: CycloneDX 1.6 ML-BOM and SPDX documents built from ModelFacts."""
