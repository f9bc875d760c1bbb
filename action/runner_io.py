"""The GitHub runner's side of the attest action (action.yml): standard library only.

Subcommands, each used by one step of the composite action:

- ``oidc TOKEN_FILE``: fetch the job's OIDC token from ``ACTIONS_ID_TOKEN_REQUEST_URL`` with
  audience ``sigstore`` (what ``@actions/core`` ``getIDToken`` does), mask it, write it to
  TOKEN_FILE (mode 0600), and output the signing identity and issuer read from its claims.
- ``login DESTINATION CONFIG_DIR``: a docker ``config.json`` in CONFIG_DIR holding the existing
  docker config's entries plus ``REGISTRY_USERNAME``/``REGISTRY_TOKEN`` for DESTINATION's host
  only (credentials never go to another host), the token masked.
- ``output NAME VALUE [NAME VALUE ...]``: append outputs to ``$GITHUB_OUTPUT`` in the
  heredoc form with a random delimiter (as ``@actions/core`` ``setOutput`` does).
- ``field FILE KEY``: print one top-level field of a JSON file (``attest run --format json``).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import NoReturn

AUDIENCE = "sigstore"
MAX_RESPONSE = 64 * 1024  # an ID token response is a few KiB


def fail(message: str) -> NoReturn:
    print(f"::error title=attest::{message}")
    sys.exit(1)


def output(pairs: list[str]) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        fail("GITHUB_OUTPUT is not set: not running in a GitHub Actions step")
    with open(path, "a", encoding="utf-8") as f:
        for name, value in zip(pairs[::2], pairs[1::2], strict=True):
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            if delimiter in value or "\n" in name:  # the runner refuses these too
                fail(f"output {name!r} cannot be written safely")
            f.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def _claims(token: str) -> dict[str, object]:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        fail("the OIDC token is not a JWT")
    if not isinstance(claims, dict):
        fail("the OIDC token's claims are not an object")
    return claims


def oidc(token_file: str) -> None:
    url = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL")
    request_token = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not request_token:
        fail("keyless signing needs the job's OIDC token: add `permissions: id-token: write` "
             "to the job (or use signing: key / none)")  # fmt: skip
    sep = "&" if "?" in url else "?"
    request = urllib.request.Request(
        f"{url}{sep}audience={urllib.parse.quote(AUDIENCE)}",
        headers={"Authorization": f"Bearer {request_token}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - runner URL
            body = response.read(MAX_RESPONSE + 1)
    except OSError as exc:
        fail(f"could not get the OIDC token from ACTIONS_ID_TOKEN_REQUEST_URL: {exc}")
    try:
        token = json.loads(body)["value"] if len(body) <= MAX_RESPONSE else None
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        fail("the OIDC token endpoint answered without a token")
    print(f"::add-mask::{token}")
    claims = _claims(token)
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    # Fulcio's identity for a GitHub workflow token (the SAN URI of the certificate)
    workflow = claims.get("job_workflow_ref")
    identity = f"https://github.com/{workflow}" if workflow else str(claims.get("sub", ""))
    output(["identity", identity, "issuer", str(claims.get("iss", ""))])


def login(destination: str, config_dir: str) -> None:
    username = os.environ.get("REGISTRY_USERNAME", "")
    token = os.environ.get("REGISTRY_TOKEN", "")
    if destination.startswith("oci:"):
        return  # an OCI layout on disk needs no login
    if not token:
        fail("registry-token is empty")
    print(f"::add-mask::{token}")
    host = destination.split("/", 1)[0]
    existing = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        config = json.loads(existing.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    if not isinstance(config, dict):
        config = {}
    auths = config.get("auths")
    if not isinstance(auths, dict):
        auths = {}
    auth = base64.b64encode(f"{username or 'token'}:{token}".encode()).decode()
    config["auths"] = {**auths, host: {"auth": auth}}
    # a credential helper for this host would win over the entry we add
    if isinstance(config.get("credHelpers"), dict):
        config["credHelpers"].pop(host, None)
    config.pop("credsStore", None)
    Path(config_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    target = Path(config_dir) / "config.json"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(config, f)
    print(f"logged in to {host} as {username or 'token'}")


def field(path: str, key: str) -> None:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError, AttributeError):
        value = None
    print("" if value is None else value)


def main(argv: list[str]) -> None:
    commands = {"oidc": (oidc, 1), "login": (login, 2), "field": (field, 2)}
    if argv and argv[0] == "output" and len(argv) % 2 == 1:
        output(argv[1:])
    elif argv and argv[0] in commands and len(argv) == commands[argv[0]][1] + 1:
        commands[argv[0]][0](*argv[1:])  # type: ignore[operator]
    else:
        fail(f"usage: runner_io.py oidc|login|output|field ... (got {argv[:1]})")


if __name__ == "__main__":
    main(sys.argv[1:])
