"""Open the store a reference names: an OCI layout directory or a registry repository."""

from __future__ import annotations

from dataclasses import dataclass

from attest.errors import UsageError
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


DEFAULT_TAG = "latest"


def resolve_target(store: Store, ref: Reference) -> str:
    """What to resolve when the reference names neither tag nor digest.

    A registry defaults to ``latest`` (as docker and oras do); a layout with exactly one tag
    uses it, and otherwise says which tags there are.
    """
    if ref.target:
        return ref.target
    if not ref.is_layout:
        return DEFAULT_TAG
    tags = [t for t in store.tags() if not t.startswith("sha256-")]
    if DEFAULT_TAG in tags or not tags:
        return DEFAULT_TAG
    if len(tags) == 1:
        return tags[0]
    raise UsageError(f"{ref} holds several tags ({', '.join(tags)}); add :TAG or @DIGEST")
