"""attest: supply-chain attestation and policy for AI models packaged as ModelPack OCI artifacts."""

__version__ = "0.1.0"
