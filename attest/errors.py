"""The one exception hierarchy. The CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations


class AttestError(Exception):
    """Base of every error attest raises on purpose. ``exit_code`` is what the CLI exits with."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class VerificationError(AttestError):
    """A signature, digest or policy check failed (exit 1)."""

    exit_code = 1


class UsageError(AttestError):
    """The command line or an input file is wrong (exit 2)."""

    exit_code = 2


class InputError(UsageError):
    """Bad input data: a malformed manifest, an escaping path, a failing config (exit 2)."""


class NotFoundError(InputError):
    """A reference, tag or blob does not exist in the store (exit 2)."""


class RegistryError(AttestError):
    """The registry or network failed, or answered against the protocol (exit 3)."""

    exit_code = 3


class ConcurrentUpdateError(RegistryError):
    """A conditional update lost a race (HTTP 412 on If-Match): re-read and try again."""


class InternalError(AttestError):
    """A bug or an unexpected state in attest itself (exit 3)."""

    exit_code = 3
