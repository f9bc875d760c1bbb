"""A Distribution API registry as a Store, in four parts with one job each.

``credentials`` (where credentials come from: flags, a docker config, credential helpers),
``auth`` (WWW-Authenticate challenges, bearer tokens, basic), ``transport`` (the HTTP session,
retries, deadlines, resumable ranged reads), ``upload`` (chunked and streamed blob uploads) and
``store`` (:class:`RegistryStore`, the Store protocol on top).
"""

from attest.oci.registry.credentials import (
    ENV_PASSWORD,
    ENV_USERNAME,
    Credentials,
    Login,
    credentials_from_docker_config,
    docker_config_file,
    resolve_credentials,
)
from attest.oci.registry.store import DEFAULT_CHUNK_SIZE, ReferrerList, RegistryStore

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ENV_PASSWORD",
    "ENV_USERNAME",
    "Credentials",
    "Login",
    "ReferrerList",
    "RegistryStore",
    "credentials_from_docker_config",
    "docker_config_file",
    "resolve_credentials",
]
