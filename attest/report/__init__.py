"""Evidence people can read: one page about one artifact (``attest report``) and the evidence
differences between two (``attest diff``). Pure: built from a VerificationReport and the
statements the verifier accepted; no store, no network."""
