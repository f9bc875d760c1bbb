"""Notation's OCI trust policy (``trustpolicy.json`` / ``trustpolicy.oci.json``, version 1.0).

Parsed and validated as notation-go does: registry scopes (an exact repository, or one global
``*``), verification levels with per-check overrides, ``type:name`` trust stores and
``x509.subject:`` trusted identities (RFC 4514 distinguished names; C, ST and O required).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attest.errors import InputError
from attest.verify.notation.truststore import split_reference

ENFORCE, LOG, SKIP = "enforce", "log", "skip"
CHECKS = ("integrity", "authenticity", "authenticTimestamp", "expiry", "revocation")
LEVELS: dict[str, dict[str, str]] = {
    "strict": dict.fromkeys(CHECKS, ENFORCE),
    "permissive": {"integrity": ENFORCE, "authenticity": ENFORCE, "authenticTimestamp": LOG,
                   "expiry": LOG, "revocation": LOG},
    "audit": {"integrity": ENFORCE, "authenticity": LOG, "authenticTimestamp": LOG,
              "expiry": LOG, "revocation": LOG},
    "skip": dict.fromkeys(CHECKS, SKIP),
}  # fmt: skip
_OVERRIDABLE = {
    "authenticity": (ENFORCE, LOG),
    "authenticTimestamp": (ENFORCE, LOG),
    "expiry": (ENFORCE, LOG),
    "revocation": (ENFORCE, LOG, SKIP),
}
_MAX_BYTES = 1024 * 1024
_X509 = "x509.subject"


@dataclass
class TrustPolicy:
    name: str
    scopes: list[str]
    level: str
    actions: dict[str, str]
    verify_timestamp: str  # always | afterCertExpiry
    trust_stores: list[str] = field(default_factory=list)
    trusted_identities: list[str] = field(default_factory=list)

    def stores_of(self, kind: str) -> list[str]:
        return [s for s in self.trust_stores if s.split(":", 1)[0] == kind]


@dataclass
class TrustPolicyDocument:
    policies: list[TrustPolicy]

    def select(self, repository: str | None) -> TrustPolicy:
        """The policy for ``registry/repository`` (an exact scope wins over ``*``); a layout or
        unnamed artifact has no repository and only the global policy applies."""
        if repository:
            for p in self.policies:
                if repository in p.scopes:
                    return p
        for p in self.policies:
            if p.scopes == ["*"]:
                return p
        raise InputError(f"no notation trust policy applies to {repository or 'this artifact'}",
                         hint='add its repository to registryScopes, or a "*" policy')  # fmt: skip


def load_trust_policy(path: Path) -> TrustPolicyDocument:
    try:
        with open(path, "rb") as f:
            data = f.read(_MAX_BYTES + 1)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}") from None
    if len(data) > _MAX_BYTES:
        raise InputError(f"{path}: trust policy larger than {_MAX_BYTES} bytes")
    try:
        doc = json.loads(data, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as e:
        raise InputError(f"{path}: not JSON: {e}") from None
    try:
        return parse_trust_policy(doc)
    except InputError as e:
        raise InputError(f"{path}: {e.message}") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def parse_trust_policy(doc: Any) -> TrustPolicyDocument:
    if not isinstance(doc, dict) or doc.get("version") != "1.0":
        raise InputError('trust policy: "version" must be "1.0"')
    entries = doc.get("trustPolicies")
    if not isinstance(entries, list) or not entries:
        raise InputError("trust policy: trustPolicies must be a non-empty list")
    policies = [_policy(e) for e in entries]
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise InputError("trust policy: policy names must be unique")
    seen: set[str] = set()
    for p in policies:
        for scope in p.scopes:
            if scope in seen:
                raise InputError(f"trust policy: registry scope {scope!r} is in two policies")
            seen.add(scope)
    return TrustPolicyDocument(policies)


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{what} must be a list of strings")
    if len(set(value)) != len(value):
        raise InputError(f"{what} has duplicates")
    return list(value)


def _policy(entry: Any) -> TrustPolicy:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise InputError("trust policy: every policy needs a name")
    name = entry["name"]
    where = f"trust policy {name!r}"
    scopes = _strings(entry.get("registryScopes"), f"{where}: registryScopes")
    if not scopes:
        raise InputError(f"{where}: registryScopes is empty")
    if "*" in scopes and len(scopes) > 1:
        raise InputError(f"{where}: the wildcard scope * must be the only scope")
    for scope in scopes:
        if scope != "*" and not _valid_scope(scope):
            raise InputError(f"{where}: registry scope {scope!r} is not a fully qualified "
                             "repository (no tag or digest)")  # fmt: skip
    sv = entry.get("signatureVerification")
    if not isinstance(sv, dict) or sv.get("level") not in LEVELS:
        raise InputError(f"{where}: signatureVerification.level must be one of "
                         "strict, permissive, audit, skip")  # fmt: skip
    level = sv["level"]
    actions = dict(LEVELS[level])
    override = sv.get("override") or {}
    if not isinstance(override, dict):
        raise InputError(f"{where}: override must be an object")
    if override and level == "skip":
        raise InputError(f"{where}: level skip cannot be overridden")
    for check, action in override.items():
        if check not in _OVERRIDABLE or action not in _OVERRIDABLE[check]:
            raise InputError(f"{where}: override {check}: {action!r} is not allowed")
        actions[check] = action
    verify_ts = sv.get("verifyTimestamp", "always")
    if verify_ts not in ("always", "afterCertExpiry"):
        raise InputError(f"{where}: verifyTimestamp must be always or afterCertExpiry")
    stores = _strings(entry.get("trustStores"), f"{where}: trustStores")
    identities = _strings(entry.get("trustedIdentities"), f"{where}: trustedIdentities")
    if level == "skip":
        if stores or identities:
            raise InputError(f"{where}: level skip takes no trustStores or trustedIdentities")
        if scopes == ["*"]:
            raise InputError(f"{where}: level skip cannot apply to every repository (*)")
    else:
        if not stores:
            raise InputError(f"{where}: trustStores is empty")
        if not identities:
            raise InputError(f"{where}: trustedIdentities is empty")
        for s in stores:
            split_reference(s)
        _check_identities(identities, where)
    return TrustPolicy(name, scopes, level, actions, verify_ts, stores, identities)


_SCOPE = re.compile(r"[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)+\Z")


def _valid_scope(scope: str) -> bool:
    return bool(_SCOPE.match(scope)) and "@" not in scope


def _check_identities(identities: list[str], where: str) -> None:
    if "*" in identities:
        if len(identities) > 1:
            raise InputError(f"{where}: the wildcard identity * must be the only identity")
        return
    for identity in identities:
        prefix, sep, value = identity.partition(":")
        if not sep:
            raise InputError(f"{where}: trusted identity {identity!r} lacks a type prefix")
        if prefix.strip() == _X509:
            if not value.strip():
                raise InputError(f"{where}: trusted identity {identity!r} has an empty value")
            attrs = parse_dn(value)
            if not all(attrs.get(k) for k in ("C", "ST", "O")):
                raise InputError(f"{where}: trusted identity {identity!r} needs at least C, ST "
                                 "and O")  # fmt: skip


# -- distinguished names --------------------------------------------------------------------

_ALIASES = {"S": "ST"}


def parse_dn(text: str) -> dict[str, str]:
    """An RFC 4514 distinguished name as {attribute type: value}. Escapes are honoured; an
    unescaped ``=`` in a value or a repeated attribute type is an error (as go-ldap's parser)."""
    attrs: dict[str, str] = {}
    for rdn in _split(text, ","):
        for ava in _split(rdn, "+"):
            key, sep, raw = ava.partition("=")
            key = key.strip().upper()
            if not sep or not key or not re.match(r"[A-Z][A-Z0-9-]*\Z|[0-9]+(\.[0-9]+)*\Z", key):
                raise InputError(f"{text!r} is not a distinguished name")
            value = _unescape(raw.strip(), text)
            key = _ALIASES.get(key, key)
            if key in attrs:
                raise InputError(f"{text!r}: attribute {key} appears twice")
            attrs[key] = value
    if not attrs:
        raise InputError(f"{text!r} is not a distinguished name")
    return attrs


def _split(text: str, sep: str) -> list[str]:
    parts, cur, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur += text[i : i + 2]
            i += 2
            continue
        if ch == sep:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    return parts


def _unescape(raw: str, text: str) -> str:
    if raw.startswith("#"):
        raise InputError(f"{text!r}: hex-encoded attribute values are not supported")
    out, i = bytearray(), 0  # bytes: "\\C3\\A9" is one UTF-8 character
    while i < len(raw):
        ch = raw[i]
        if ch == "\\":
            if re.fullmatch(r"[0-9A-Fa-f]{2}", raw[i + 1 : i + 3]):
                out.append(int(raw[i + 1 : i + 3], 16))
                i += 3
                continue
            if i + 1 >= len(raw):
                raise InputError(f"{text!r}: dangling escape")
            out += raw[i + 1].encode()
            i += 2
            continue
        if ch in '="+,;<>':
            raise InputError(f"{text!r}: unescaped {ch!r} in a value")
        out += ch.encode()
        i += 1
    try:
        return out.decode()
    except UnicodeDecodeError:
        raise InputError(f"{text!r}: escaped bytes are not UTF-8") from None


def identity_matches(identities: list[str], subject_dn: str) -> bool:
    """Whether the leaf subject matches a trusted identity: ``*``, or an ``x509.subject:`` DN
    whose attributes all appear in the subject with equal values. Identities of other types
    are for plugins and ignored; with none of type x509.subject that is a policy error."""
    if identities == ["*"]:
        return True
    wanted = [parse_dn(v) for p, _, v in (i.partition(":") for i in identities)
              if p.strip() == _X509]  # fmt: skip
    if not wanted:
        raise InputError("trust policy has no x509.subject trusted identity to match")
    subject = parse_dn(subject_dn)
    return any(all(subject.get(k) == v for k, v in w.items()) for w in wanted)
