"""Verification: discover every referrer, verify every bundle, emit a VerificationReport."""
