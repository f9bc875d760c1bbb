"""Shared fixtures. Registry fixtures live in registry_fixtures.py (imported here so pytest
finds them): ``registry``, ``registry_basic_auth``, ``referrers_api_registry``."""

import os
from collections.abc import Generator
from typing import Any

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

# session fixtures of signed/unsigned models in the registry (register, handoff, audit)
pytest_plugins = ["tests.handoff_fixtures"]


@pytest.fixture(autouse=True, scope="session")
def _isolated_attest_config(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Never create the development signing key (or any config) in the real home directory."""
    import os

    os.environ["ATTEST_CONFIG_DIR"] = str(tmp_path_factory.mktemp("attest-config"))


#: A skip reason starting with this may stand under CI; every other skip fails there.
CI_MAY_SKIP = "[not run in CI] "
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Every skip names its reason, and under CI (``CI=true``) a skip is a failure: CI must run
    everything, except what a reason marked ``CI_MAY_SKIP`` says cannot exist there."""
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr)
    reason = reason.removeprefix("Skipped: ").strip()
    if reason in ("", "unconditional skip", "condition: True"):
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid}: a skip must say why"
    elif IN_CI and not reason.startswith(CI_MAY_SKIP):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI ({reason}): CI must run this test"
from tests.admission_fixtures import (  # noqa: F401,E402 - pytest finds fixtures by name
    admission_models,
    provider,
    provider_tls,
)
