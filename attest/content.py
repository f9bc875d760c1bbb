"""Find the content directories that non-Python people edit: ``mof/``, ``cards/``, ``policies/``.

They live at the repository top level. A wheel carries each as ``attest/_content/<name>/``
(``setup.py`` maps the directories there); a source checkout or an editable install reads
``<repo>/<name>`` directly.
"""

from __future__ import annotations

from pathlib import Path

from attest.errors import InternalError

_PACKAGE_DIR = Path(__file__).resolve().parent


def content_dir(name: str) -> Path:
    """``attest/_content/<name>`` in a wheel, else ``<repo>/<name>`` in a checkout."""
    for candidate in (_PACKAGE_DIR / "_content" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise InternalError(
        f"attest's {name}/ directory is missing (looked in {_PACKAGE_DIR / '_content' / name} "
        f"and {_PACKAGE_DIR.parent / name})",
        hint="reinstall attest; a wheel must carry attest/_content/" + name,
    )
