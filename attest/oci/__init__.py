"""OCI plumbing: media types, digests, references, the two stores, referrers, copy, ModelPack."""
