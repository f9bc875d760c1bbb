"""Sigstore fixtures: the loopback stand-in for the public-good services (test code only).

``sigstore_stand_in`` (session): a running :class:`tests.sigstore_stand_in.SigstoreStandIn`.
``sigstore_trust_config`` (session): its ClientTrustConfig written to a file, for
``--trust-config`` and ``ClientTrustConfig.from_json``.
``sigstore_trusted_root`` (session): its TrustedRoot alone (what sigstore-js's verifier takes).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sigstore_stand_in import SigstoreStandIn


@pytest.fixture(scope="session")
def sigstore_stand_in() -> Iterator[SigstoreStandIn]:
    with SigstoreStandIn() as stand_in:
        yield stand_in


@pytest.fixture(scope="session")
def sigstore_trust_config(
    sigstore_stand_in: SigstoreStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("sigstore") / "trust_config.json"
    return sigstore_stand_in.write_trust_config(path)


@pytest.fixture(scope="session")
def sigstore_trusted_root(
    sigstore_stand_in: SigstoreStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("sigstore") / "trusted_root.json"
    return sigstore_stand_in.write_trusted_root(path)
