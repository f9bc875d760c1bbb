"""URLs fit to publish in evidence: no credentials, whatever the user's git remote carried.

A remote such as ``https://oauth2:glpat-xxx@gitlab.example/x.git``,
``https://host/x.git?private_token=...`` or Terraform-style ``git::https://u:p@host/x`` ends up in
provenance and SBOMs, which are public and signed forever. Userinfo is dropped, query
parameters whose names look like secrets are dropped, and so is the fragment.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameter names that carry secrets: tokens, keys, signatures (S3/GCS/Azure presigned).
_SECRET_PARAM = re.compile(
    r"(token|auth|pass|pwd|secret|key|sig|credential|session|cookie|^x-amz-|^x-goog-|^code$)",
    re.IGNORECASE,
)
_FORCED_GETTER = re.compile(r"^([a-z][a-z0-9+.-]*)::(?=[a-z][a-z0-9+.-]*://)", re.IGNORECASE)
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?([^:/]+):(?!//)(.+)$")  # git@github.com:org/repo.git


def public_url(url: str) -> str:
    """``url`` with userinfo, secret-looking query parameters and the fragment removed."""
    url = url.strip()
    forced = _FORCED_GETTER.match(url)  # git::https://... (go-getter, Terraform)
    prefix = forced.group(0) if forced else ""
    rest = url[len(prefix) :]
    if "://" not in rest:
        m = _SCP_LIKE.match(rest)
        return prefix + (f"ssh://{m.group(1)}/{m.group(2)}" if m else _strip_at(rest))
    parts = urlsplit(rest)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port:
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _SECRET_PARAM.search(k)]  # fmt: skip
    return prefix + urlunsplit((parts.scheme, host, parts.path, urlencode(query), ""))


def _strip_at(text: str) -> str:
    # Not a URL we can parse: keep nothing before an "@" that could be user:password.
    return text.rsplit("@", 1)[-1] if "@" in text else text
