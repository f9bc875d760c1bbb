"""Packages, and the top-level content directories shipped inside the wheel.

``mof/``, ``cards/`` and ``policies/`` are edited by people who do not write Python,
so they live at the repository top level; the wheel carries them as ``attest/_content/<name>``,
which ``attest/content.py`` finds.
"""

from setuptools import find_packages, setup

CONTENT = ("mof", "cards", "policies")

setup(
    packages=[
        *find_packages(include=["attest", "attest.*"]),
        *(f"attest._content.{name}" for name in CONTENT),
    ],
    package_dir={f"attest._content.{name}": name for name in CONTENT},
)
