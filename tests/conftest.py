"""Shared fixtures. Registry fixtures live in registry_fixtures.py (imported here so pytest
finds them): ``registry``, ``registry_basic_auth``, ``referrers_api_registry``."""

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
