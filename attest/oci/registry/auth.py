"""Answering a registry's ``WWW-Authenticate`` challenges, as docker, oras and cosign do.

Requests go out anonymously; on ``401`` the challenge (parsed by :mod:`attest.oci.challenge`,
RFC 7235) asks either for HTTP basic credentials, then sent up front from then on, or for a
bearer token for the scope ``repository:<repo>:pull`` (reads) or ``repository:<repo>:pull,push``
(writes) from the token endpoint, cached per scope until it expires. oras-py is not used: its
``parse_auth_header`` ignores unquoted parameters and its ``TokenAuth`` keeps a single token for
every scope.

Basic credentials go to a token realm only over HTTPS when the registry itself is spoken to over
HTTPS: a hostile or misconfigured registry must not get them sent in clear.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from attest.errors import RegistryError
from attest.oci.challenge import find as challenge_find
from attest.oci.registry.credentials import ENV_PASSWORD, ENV_USERNAME, Credentials

_TOKEN_DEFAULT_TTL = 60  # seconds, per the Docker token spec when expires_in is missing


def scope(repository: str, push: bool) -> str:
    return f"repository:{repository}:{'pull,push' if push else 'pull'}"


class Authenticator:
    """Answers WWW-Authenticate challenges; holds bearer tokens per scope."""

    def __init__(
        self,
        registry: str,
        send: Callable[..., requests.Response],
        load_credentials: Callable[[], Credentials | None],
        *,
        secure: bool = True,
    ) -> None:
        self.registry = registry
        self.secure = secure  # the registry is spoken to over HTTPS
        self._send = send
        self._load_credentials = load_credentials
        self._credentials: Credentials | None = None
        self._credentials_loaded = False
        self._basic = False  # the registry asked for basic auth: send it up front from now on
        self._tokens: dict[str, tuple[str, float]] = {}

    @property
    def credentials(self) -> Credentials | None:
        # Loaded on the first challenge only: anonymous registries never run credential helpers.
        if not self._credentials_loaded:
            self._credentials = self._load_credentials()
            self._credentials_loaded = True
        return self._credentials

    def headers(self, scope: str) -> dict[str, str]:
        token = self._token_for(scope)
        if token:
            return {"Authorization": f"Bearer {token}"}
        if self._basic and self.credentials:
            return {"Authorization": self.credentials.basic_header()}
        return {}

    def _token_for(self, scope: str) -> str | None:
        candidates = [scope]
        if scope.endswith(":pull"):
            candidates.append(scope + ",push")  # a pull,push token also covers pulls
        now = time.monotonic()
        for candidate in candidates:
            token, expires = self._tokens.get(candidate, ("", 0.0))
            if token and expires > now:
                return token
        return None

    def answer(self, challenge: str, scope: str) -> bool:
        """Prepare credentials for ``challenge``; False when there is nothing new to try."""
        bearer = challenge_find(challenge, "bearer")
        if bearer is not None:
            self._tokens.pop(scope, None)
            self._fetch_token(bearer.params, scope)
            return True
        if challenge_find(challenge, "basic") is not None:
            if self._basic or self.credentials is None:
                return False  # already sent (and refused), or nothing to send
            self._basic = True
            return True
        return False

    def _fetch_token(self, challenge: dict[str, str], scope: str) -> None:
        realm = challenge.get("realm")
        if not realm:
            raise RegistryError(f"{self.registry} sent a bearer challenge without a realm")
        params = {"scope": scope}
        if challenge.get("service"):
            params["service"] = challenge["service"]
        headers = {"Accept": "application/json"}
        creds = self.credentials
        if creds:
            self._check_realm(realm, creds)
            headers["Authorization"] = creds.basic_header()
        resp = self._send("GET", realm, headers=headers, params=params)
        if resp.status_code in (401, 403):
            raise RegistryError(
                f"{self.registry}: the token service {realm} refused "
                + (f"the credentials from {creds.source}" if creds else "anonymous access")
                + f" for {scope}",
                hint=self.login_hint(),
            )
        if resp.status_code != 200:
            raise RegistryError(
                f"{self.registry}: token service {realm} answered HTTP {resp.status_code}"
            )
        try:
            body = resp.json()
            token = body.get("token") or body.get("access_token")
            ttl = float(body.get("expires_in") or _TOKEN_DEFAULT_TTL)
        except (ValueError, AttributeError, TypeError):
            token, ttl = None, 0.0
        if not token:
            raise RegistryError(f"{self.registry}: token service {realm} sent no token")
        # Renew a little early so a token does not expire between check and use.
        self._tokens[scope] = (token, time.monotonic() + max(ttl - 5, 1))

    def _check_realm(self, realm: str, creds: Credentials) -> None:
        """Basic credentials go to a token realm only over HTTPS when the registry uses HTTPS:
        a hostile or misconfigured registry must not get them sent in clear."""
        scheme = urlsplit(realm).scheme.lower()
        if scheme == "https" or (scheme == "http" and not self.secure):
            return
        raise RegistryError(
            f"{self.registry} asks for credentials at the token realm {realm}, which is not "
            f"HTTPS: refusing to send the credentials from {creds.source} in clear",
            hint="the registry's token service must be served over HTTPS",
        )

    def login_hint(self) -> str:
        creds = self._credentials
        if creds is None:
            return (
                f"log in with `docker login {self.registry}`, pass --username and "
                f"--password-stdin, or set {ENV_USERNAME}/{ENV_PASSWORD}"
            )
        return (
            f"check the credentials from {creds.source} and that they may access this "
            f"repository (`docker login {self.registry}` to renew them)"
        )
