"""Open the store a reference names: an OCI layout directory or a registry repository."""

from __future__ import annotations

from dataclasses import dataclass

from attest.oci.layout import LayoutStore
from attest.oci.reference import Reference
from attest.oci.registry import Login, RegistryStore
from attest.oci.store import Store


@dataclass(frozen=True)
class StoreOptions:
    """Registry plumbing flags, shared by every command that talks to a store."""

    plain_http: bool = False
    insecure: bool = False
    login: Login | None = None  # credentials and config named on the command line


def open_store(
    ref: Reference, options: StoreOptions | None = None, *, create: bool = False
) -> Store:
    """The store for ``ref``; ``create`` makes a missing layout directory (for writes)."""
    options = options or StoreOptions()
    if ref.is_layout:
        assert ref.layout_path is not None
        return LayoutStore(ref.layout_path, create=create)
    return RegistryStore.from_reference(
        ref, plain_http=options.plain_http, insecure=options.insecure, login=options.login
    )
