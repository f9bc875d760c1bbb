"""Signing keys: ECDSA P-256 key files, and the local development key.

``attest key generate PREFIX`` writes ``PREFIX.key`` (PKCS#8 PEM, encrypted when
``ATTEST_KEY_PASSWORD`` is set) and ``PREFIX.pub`` (SubjectPublicKeyInfo PEM, what cosign and
model_signing read). A password is only ever read from the environment: attest never prompts,
so the same command works in CI.

The **development key** makes ``attest run`` sign on a fresh machine with no network and no
account. It lives in the user's config directory, is created on first use, and every summary
calls it what it is: a dev key, not for release.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from attest.errors import InputError, UsageError
from attest.fileio import fsync_dir
from attest.paths import config_dir

ENV_PASSWORD = "ATTEST_KEY_PASSWORD"
DEV_KEY_NAME = "dev-signing"  # -> dev-signing.key / dev-signing.pub
SUPPORTED_CURVES = ("secp256r1", "secp384r1", "secp521r1")


@dataclass(frozen=True)
class KeyFiles:
    private: Path
    public: Path


def dev_key_path() -> Path:
    """Where the development key's private half lives (``.pub`` beside it): the user config
    directory (:func:`attest.paths.config_dir`, ``$ATTEST_CONFIG_DIR`` first)."""
    return config_dir() / f"{DEV_KEY_NAME}.key"


def key_files(prefix: str | Path) -> KeyFiles:
    p = str(prefix)
    for suffix in (".key", ".pub"):  # accept "release.key" as well as "release"
        if p.endswith(suffix):
            p = p[: -len(suffix)]
    return KeyFiles(Path(p + ".key"), Path(p + ".pub"))


def password_from_env(env: Mapping[str, str] | None = None) -> bytes | None:
    env = os.environ if env is None else env
    value = env.get(ENV_PASSWORD)
    return value.encode() if value else None


def generate_key(
    prefix: str | Path, *, password: bytes | None = None, overwrite: bool = False
) -> KeyFiles:
    """Write a new P-256 key pair as ``PREFIX.key`` (mode 0600) and ``PREFIX.pub``."""
    files = key_files(prefix)
    if not overwrite:
        for f in (files.private, files.public):
            if f.exists():
                raise UsageError(f"{f} already exists; refusing to overwrite a key")
    key = ec.generate_private_key(ec.SECP256R1())
    _write(files.private, private_pem(key, password), 0o600, replace=True)
    _write(files.public, public_pem(key.public_key()), 0o644, replace=True)
    return files


def private_pem(key: ec.EllipticCurvePrivateKey, password: bytes | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(
    path: str | Path, password: bytes | None = None, *, env: Mapping[str, str] | None = None
) -> ec.EllipticCurvePrivateKey:
    """A PEM private key; the password comes from ``password`` or ``ATTEST_KEY_PASSWORD``."""
    p = Path(path)
    data = _read(p)
    password = password if password is not None else password_from_env(env)
    try:
        key = serialization.load_pem_private_key(data, password)
    except TypeError:
        if password is None:
            raise UsageError(
                f"{p} is encrypted", hint=f"set {ENV_PASSWORD} to its password"
            ) from None
        raise UsageError(f"{p} is not encrypted, but {ENV_PASSWORD} is set") from None
    except ValueError:
        if password is not None and b"ENCRYPTED" in data:
            raise UsageError(f"cannot decrypt {p}: wrong {ENV_PASSWORD}?") from None
        raise InputError(f"{p} is not a PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InputError(f"{p} is a {type(key).__name__}; attest signs with ECDSA keys")
    _check_curve(key.public_key(), p)
    return key


def load_public_key(path: str | Path) -> ec.EllipticCurvePublicKey:
    """A PEM public key (``PREFIX.pub``, or cosign's ``cosign.pub``)."""
    p = Path(path)
    data = _read(p)
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise InputError(f"{p} is not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise InputError(f"{p} is a {type(key).__name__}; attest verifies ECDSA keys")
    _check_curve(key, p)
    return key


def ensure_dev_key() -> tuple[ec.EllipticCurvePrivateKey, Path]:
    """The development key, created (unencrypted, mode 0600) on first use."""
    path = dev_key_path()
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Two first runs at once: the loser of the link race reads the winner's key.
        if _write(path, private_pem(key, None), 0o600, replace=False):
            _write(path.with_suffix(".pub"), public_pem(key.public_key()), 0o644, replace=True)
            return key, path
    key = _load_plain(path)
    pub = path.with_suffix(".pub")
    if not pub.exists():
        _write(pub, public_pem(key.public_key()), 0o644, replace=True)
    return key, path


def _load_plain(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path), None)
    except (TypeError, ValueError):
        raise InputError(
            f"the development key {path} is unreadable", hint="delete it to start over"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InputError(
            f"the development key {path} is not an ECDSA key", hint="delete it to start over"
        )
    return key


def _check_curve(key: ec.EllipticCurvePublicKey, path: Path) -> None:
    if key.curve.name not in SUPPORTED_CURVES:
        raise InputError(f"{path}: unsupported curve {key.curve.name}")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"key file {path} does not exist") from None
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from None


def _write(target: Path, data: bytes, mode: int, *, replace: bool) -> bool:
    """Write through a temp file created with ``mode`` (never world-readable, even briefly).

    ``replace=False`` links it into place only if ``target`` does not exist: False if it did.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-key-")
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                return False
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent)
    return True
