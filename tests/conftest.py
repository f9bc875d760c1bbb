"""Shared fixtures. Registry fixtures live in registry_fixtures.py (imported here so pytest
finds them): ``registry``, ``registry_basic_auth``, ``referrers_api_registry``."""

import pytest  # noqa: E402

from tests.fault_proxy import proxied_registry  # noqa: F401 - fixture, by name
from tests.registry_fixtures import (  # noqa: F401 - pytest finds fixtures and hooks by name
    pytest_collection_modifyitems,
    referrers_api_registry,
    registry,
    registry_basic_auth,
    registry_basic_auth_server,
    registry_server,
)
from tests.sigstore_fixtures import (  # noqa: F401 - pytest finds fixtures by name
    sigstore_stand_in,
    sigstore_trust_config,
    sigstore_trusted_root,
)


@pytest.fixture(autouse=True, scope="session")
def _isolated_attest_config(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Never create the development signing key (or any config) in the real home directory."""
    import os

    os.environ["ATTEST_CONFIG_DIR"] = str(tmp_path_factory.mktemp("attest-config"))
