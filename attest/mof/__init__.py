"""Model Openness Framework: score a release exactly as the Model Openness Tool does.

- :func:`load_mot_yaml` / :func:`parse_mot_yaml`: a MOT YAML -> :class:`MofConfig`
- :func:`mof_config_from_facts`: ModelFacts -> (:class:`MofConfig`, evidence per component)
- :func:`score`: :class:`MofConfig` (+ evidence) -> :class:`MofReport`
- :func:`render`: a report as text, markdown or json; :func:`dump_mot_yaml`: as a MOT YAML

The framework data (components, classes, licences) is ``mof/`` at the repository top level.
"""

from attest.mof.config import ComponentEntry, MofConfig, ReleaseLicense
from attest.mof.data import Component, Framework, framework
from attest.mof.derive import mof_config_from_facts
from attest.mof.mot_yaml import dump_mot_yaml, load_mot_yaml, parse_mot_yaml, to_mot_dict
from attest.mof.render import render, render_json, render_markdown, render_text
from attest.mof.report import Basis, ClassResult, ComponentResult, MofReport
from attest.mof.scoring import score

__all__ = [
    "ClassResult",
    "Component",
    "ComponentEntry",
    "ComponentResult",
    "Basis",
    "Framework",
    "MofConfig",
    "MofReport",
    "ReleaseLicense",
    "dump_mot_yaml",
    "framework",
    "load_mot_yaml",
    "mof_config_from_facts",
    "parse_mot_yaml",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
    "score",
    "to_mot_dict",
]
