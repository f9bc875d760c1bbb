"""The provider config file (``attest serve --config FILE``): per-registry settings.

```yaml
registries:
  - prefix: registry.example.com/models/   # longest matching prefix wins
    mode: require      # every reference here must be a verified model (images are denied)
    plainHTTP: false
    insecure: false
  - prefix: registry.k8s.io/
    mode: skip         # never contacted: not applicable
default:
  mode: detect         # resolve; verify model artifacts; other images are not applicable
```

Registry credentials come from the Docker config file (``$DOCKER_CONFIG``), as for every
other command; the config file holds no secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attest.errors import InputError
from attest.yamlio import key_lines, load_yaml, read_user_file

MODES = ("detect", "require", "skip")
_REGISTRY_KEYS = {"prefix", "mode", "plainHTTP", "insecure"}


@dataclass(frozen=True)
class RegistrySettings:
    prefix: str = ""
    mode: str = "detect"
    plain_http: bool = False
    insecure: bool = False


@dataclass(frozen=True)
class ProviderConfig:
    registries: tuple[RegistrySettings, ...] = ()
    default: RegistrySettings = field(default_factory=RegistrySettings)

    def for_reference(self, name: str) -> RegistrySettings:
        """The settings of the longest prefix ``name`` (``host/repo[:tag|@digest]``) starts
        with; prefixes match whole path components (``reg/models`` is not ``reg/models2``)."""
        best: RegistrySettings | None = None
        for entry in self.registries:
            p = entry.prefix
            if (name == p or name.startswith(p if p.endswith("/") else p + "/")
                    or name.startswith(p + ":") or name.startswith(p + "@")) and (
                    best is None or len(p) > len(best.prefix)):  # fmt: skip
                best = entry
        return best or self.default


def _settings(raw: Any, where: str, *, need_prefix: bool) -> RegistrySettings:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: must be a mapping")
    allowed = _REGISTRY_KEYS if need_prefix else _REGISTRY_KEYS - {"prefix"}
    unknown = set(raw) - allowed
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    prefix = raw.get("prefix", "")
    if need_prefix and (not isinstance(prefix, str) or not prefix.strip("/")):
        raise InputError(f"{where}.prefix: a non-empty registry/repository prefix is required")
    mode = raw.get("mode", "detect")
    if mode not in MODES:
        raise InputError(f"{where}.mode: one of {', '.join(MODES)}, not {mode!r}")
    for flag in ("plainHTTP", "insecure"):
        if not isinstance(raw.get(flag, False), bool):
            raise InputError(f"{where}.{flag}: true or false")
    return RegistrySettings(
        prefix=prefix, mode=mode, plain_http=raw.get("plainHTTP", False),
        insecure=raw.get("insecure", False),
    )  # fmt: skip


def parse_config(data: bytes | str, source: str) -> ProviderConfig:
    node, doc = load_yaml(data, source)
    key_lines(node, source)  # refuses aliases and duplicate keys
    if doc is None:
        return ProviderConfig()
    if not isinstance(doc, dict):
        raise InputError(f"{source}: the provider config must be a mapping")
    unknown = set(doc) - {"registries", "default"}
    if unknown:
        raise InputError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    entries = doc.get("registries") or []
    if not isinstance(entries, list):
        raise InputError(f"{source}: registries must be a list")
    registries = tuple(
        _settings(e, f"{source}: registries[{i}]", need_prefix=True) for i, e in enumerate(entries)
    )
    default = _settings(doc.get("default") or {}, f"{source}: default", need_prefix=False)
    return ProviderConfig(registries=registries, default=default)


def load_config(path: Path | None) -> ProviderConfig:
    if path is None:
        return ProviderConfig()
    return parse_config(read_user_file(path, "a provider config"), str(path))
