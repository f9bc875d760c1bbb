"""References: ``oci:PATH[:TAG|@DIGEST]`` (OCI layout) or ``HOST[:PORT]/REPO[:TAG|@DIGEST]``."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from attest.errors import UsageError
from attest.oci.store import validate_digest

# Distribution spec grammar for repository names and tags.
_REPO_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPO_RE = re.compile(rf"^{_REPO_COMPONENT}(?:/{_REPO_COMPONENT})*$")
_TAG_RE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
_HOST_RE = re.compile(r"^(?:[a-zA-Z0-9.-]+|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$")

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


@dataclass(frozen=True)
class Reference:
    """A parsed reference. Exactly one of ``layout_path`` / ``registry`` is set."""

    layout_path: str | None = None
    registry: str | None = None
    repository: str | None = None
    tag: str | None = None
    digest: str | None = None

    @property
    def is_layout(self) -> bool:
        return self.layout_path is not None

    @property
    def target(self) -> str | None:
        """What to resolve: the digest when given (it pins the content), else the tag."""
        return self.digest or self.tag

    @property
    def is_loopback(self) -> bool:
        registry = self.registry or ""
        if registry.startswith("["):  # [::1]:5000
            host = registry.split("]")[0] + "]"
        else:
            host = registry.rsplit(":", 1)[0]
        return host in LOOPBACK_HOSTS

    def with_digest(self, digest: str) -> Reference:
        return replace(self, digest=digest)

    def pinned(self, digest: str) -> Reference:
        """Exactly ``digest``, no tag: what a deployment names so a moved tag cannot follow."""
        return replace(self, tag=None, digest=digest)

    def with_tag(self, tag: str | None) -> Reference:
        return replace(self, tag=tag, digest=None)

    def repository_name(self) -> str:
        """The in-toto subject name: registry/repo, or the layout path."""
        return f"{self.registry}/{self.repository}" if self.registry else f"oci:{self.layout_path}"

    def __str__(self) -> str:
        base = f"oci:{self.layout_path}" if self.is_layout else f"{self.registry}/{self.repository}"
        if self.tag:
            base += f":{self.tag}"
        if self.digest:
            base += f"@{self.digest}"
        return base


def parse_reference(text: str) -> Reference:
    """Parse ``text``; raise :class:`UsageError` saying what is wrong."""
    if not text:
        raise UsageError("empty reference")
    if text.startswith("oci:"):
        return _parse_layout(text[4:], text)
    if text.startswith(("./", "../", "/", "~")) or text.split("/", 1)[0] in (".", ".."):
        # a path, not a registry: say so now rather than after DNS lookups and retries
        raise UsageError(
            f"{text!r} is a path, not a registry reference",
            hint=f"did you mean oci:{text}? (an OCI image layout on disk)",
        )
    return _parse_registry(text)


def _split_tag_digest(rest: str, original: str) -> tuple[str, str | None, str | None]:
    digest = None
    if "@" in rest:
        rest, digest = rest.rsplit("@", 1)
        try:
            validate_digest(digest)
        except Exception:
            raise UsageError(f"invalid digest in reference {original!r}: {digest!r}") from None
    return rest, None, digest


def _parse_layout(rest: str, original: str) -> Reference:
    path, _, digest = _split_tag_digest(rest, original)
    tag = None
    # A tag follows the last ':' only when what follows is a valid tag and not a path part.
    head, sep, tail = path.rpartition(":")
    if sep and head and "/" not in tail and _TAG_RE.match(tail):
        path, tag = head, tail
    if not path:
        raise UsageError(
            f"reference {original!r} names no layout directory (oci:PATH[:TAG|@DIGEST])"
        )
    return Reference(layout_path=path, tag=tag, digest=digest)


def _parse_registry(text: str) -> Reference:
    rest, _, digest = _split_tag_digest(text, text)
    host, slash, repo = rest.partition("/")
    if not slash or not repo:
        raise UsageError(
            f"invalid reference {text!r}: expected HOST[:PORT]/REPO[:TAG|@DIGEST] or oci:PATH"
        )
    if not ("." in host or ":" in host or host == "localhost"):
        raise UsageError(
            f"invalid reference {text!r}: {host!r} is not a registry host "
            "(attest does not assume docker.io; write the host, e.g. docker.io/library/x)"
        )
    if not _HOST_RE.match(host):
        raise UsageError(f"invalid registry host {host!r} in {text!r}")
    tag = None
    if ":" in repo:
        repo, tag = repo.rsplit(":", 1)
        if not _TAG_RE.match(tag):
            raise UsageError(f"invalid tag {tag!r} in {text!r}")
    if not _REPO_RE.match(repo):
        raise UsageError(f"invalid repository name {repo!r} in {text!r} (lowercase, [a-z0-9._-/])")
    return Reference(registry=host, repository=repo, tag=tag, digest=digest)


def fallback_tag(digest: str) -> str:
    """The referrers tag-schema name of a digest: ``<alg>-<hex>``, per distribution-spec 1.1."""
    alg, _, hexpart = digest.partition(":")
    alg = re.sub(r"[^a-zA-Z0-9_.-]", "-", alg[:32])
    hexpart = re.sub(r"[^a-zA-Z0-9_.-]", "-", hexpart[:64])
    return f"{alg}-{hexpart}"
