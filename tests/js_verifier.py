"""sigstore-js (``@sigstore/verify``, ``@sigstore/sign`` on Node) as an independent Sigstore
implementation for tests: ``tests/js/verify_bundle.mjs`` and ``tests/js/sign_bundle.mjs``.

The test set-up installs it with ``npm ci --prefix tests/js`` (no network at test time). Without
Node or ``tests/js/node_modules`` the tests that need it skip -- except in CI (``CI`` set), where
they fail, so CI never passes without the second verifier.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).parent / "js"
VERIFY_SCRIPT = JS_DIR / "verify_bundle.mjs"
SIGN_SCRIPT = JS_DIR / "sign_bundle.mjs"
_TIMEOUT = 60


def sigstore_js_missing() -> str | None:
    """Why sigstore-js cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    for package in ("verify", "sign", "bundle", "core", "protobuf-specs"):
        if not (JS_DIR / "node_modules" / "@sigstore" / package).is_dir():
            return "sigstore-js is not installed (run: npm ci --prefix tests/js)"
    return None


def require_sigstore_js() -> None:
    """Skip the calling test when sigstore-js is unavailable; fail instead in CI."""
    reason = sigstore_js_missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} -- required in CI", pytrace=False)
    pytest.skip(reason)


def _run_node(script: Path, args: list[str]) -> tuple[bool, str]:
    # Loopback only: keep any proxy settings away from 127.0.0.1.
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    proc = subprocess.run(
        ["node", str(script), *args],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        env=env,
        check=False,
    )
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def verify_with_sigstore_js(
    bundle_path: str | Path,
    trusted_root_path: str | Path | None,
    identity: str | None = None,
    issuer: str | None = None,
    public_key: str | Path | None = None,
) -> tuple[bool, str]:
    """Verify a DSSE bundle with sigstore-js: ``(accepted, output)``.

    Keyless bundles need ``trusted_root_path`` (a TrustedRoot JSON, not the combined client trust
    config), ``identity`` (exact SAN) and ``issuer``; key-signed bundles need ``public_key`` (a
    PEM file; the trusted root may then be None).
    """
    require_sigstore_js()
    args = ["--bundle", str(bundle_path)]
    if trusted_root_path is not None:
        args += ["--trusted-root", str(trusted_root_path)]
    if identity is not None:
        args += ["--identity", identity]
    if issuer is not None:
        args += ["--issuer", issuer]
    if public_key is not None:
        args += ["--public-key", str(public_key)]
    return _run_node(VERIFY_SCRIPT, args)


def sign_with_sigstore_js(
    trust_config_path: str | Path,
    token: str,
    payload_path: str | Path,
    out_path: str | Path,
    payload_type: str = "application/vnd.in-toto+json",
) -> tuple[bool, str]:
    """Sign ``payload_path`` as a DSSE bundle with sigstore-js, against the trust config's
    services."""
    require_sigstore_js()
    return _run_node(
        SIGN_SCRIPT,
        [
            "--trust-config", str(trust_config_path),
            "--token", token,
            "--payload", str(payload_path),
            "--payload-type", payload_type,
            "--out", str(out_path),
        ],
    )
