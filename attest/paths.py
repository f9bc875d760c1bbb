"""Where attest keeps the user's files: config and cache, per platform (platformdirs).

Linux ``~/.config/attest`` and ``~/.cache/attest`` (or under ``$XDG_CONFIG_HOME`` and
``$XDG_CACHE_HOME``), macOS ``~/Library/Application Support/attest`` and
``~/Library/Caches/attest``, Windows ``%APPDATA%\\attest`` and
``%LOCALAPPDATA%\\attest\\Cache``. ``ATTEST_CONFIG_DIR`` and ``ATTEST_CACHE_DIR`` override them
(containers, tests).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "attest"
ENV_CONFIG_DIR = "ATTEST_CONFIG_DIR"
ENV_CACHE_DIR = "ATTEST_CACHE_DIR"


def config_dir() -> Path:
    """``$ATTEST_CONFIG_DIR``, else the platform's user config directory for attest."""
    if d := os.environ.get(ENV_CONFIG_DIR):
        return Path(d)
    return platformdirs.user_config_path(APP, appauthor=False, roaming=True)


def cache_dir() -> Path:
    """``$ATTEST_CACHE_DIR``, else the platform's user cache directory for attest."""
    if d := os.environ.get(ENV_CACHE_DIR):
        return Path(d)
    return platformdirs.user_cache_path(APP, appauthor=False)
