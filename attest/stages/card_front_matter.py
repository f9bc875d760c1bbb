"""The card's front matter (Hugging Face metadata), built from the same facts as the SBOM.

The model card's ``license``, ``datasets`` and ``base_model`` are those of
:func:`attest.stages.sbom.cyclonedx.build_cyclonedx`; the card's own other keys are kept. The data
card's front matter is what the Hub's dataset cards carry, from ``attest.yaml``'s
``extra.data_card`` and the datasets' facts.
"""

from __future__ import annotations

from typing import Any

import yaml

from attest.facts.card import card_license
from attest.facts.licenses import HF_LICENSE_REFS
from attest.facts.model import ModelFacts
from attest.lint.card_spec import unique_datasets

_HF_IDS = {ref: hf_id for hf_id, ref in HF_LICENSE_REFS.items()}
# Model card front matter keys in the order the Hub's template lists them; others follow.
_MODEL_KEY_ORDER = ("license", "license_name", "license_link", "language", "library_name",
                    "pipeline_tag", "tags", "base_model", "datasets", "metrics", "model-index")


def hf_license(spdx: str) -> tuple[str, str | None]:
    """``(license, license_name)`` front matter for an SPDX expression, spelled as the Hub does
    (``apache-2.0``, ``llama3``) whenever that spelling reads back as the same expression."""
    if spdx in _HF_IDS:
        return _HF_IDS[spdx], None
    single = " " not in spdx
    if single and spdx.startswith("LicenseRef-"):  # Hub convention for licences it does not list
        return "other", spdx.removeprefix("LicenseRef-")
    # One id in the Hub's lower case; an expression in SPDX spelling (the Hub has no syntax).
    for candidate in ((spdx.lower(), spdx) if single else (spdx,)):
        if card_license({"license": candidate}).spdx_id == spdx:
            return candidate, None
    return spdx, None


def model_front_matter(facts: ModelFacts) -> dict[str, Any]:
    """The README front matter: the card's own keys kept, the SBOM-shared ones from the facts."""
    original = dict(facts.card.front_matter) if facts.card else {}
    fm: dict[str, Any] = {}
    _set_license(fm, original, facts)
    datasets = [d.name for d in unique_datasets(facts.datasets)]
    if datasets:
        fm["datasets"] = datasets
    bases, base_source = facts.base_model_fact
    # A guess from config.json is said in the card's details, not written into the front
    # matter, where the Hub would take it for the author's own claim.
    if bases and base_source != "config.json _name_or_path":
        fm["base_model"] = bases[0] if len(bases) == 1 else list(bases)
    metric_types = sorted({m.type for m in (facts.card.metrics if facts.card else [])})
    if "metrics" not in original and metric_types:
        fm["metrics"] = metric_types
    for key, value in original.items():
        if key not in ("license", "license_name", "license_link", "datasets", "base_model"):
            fm.setdefault(key, value)
    ordered = {k: fm[k] for k in _MODEL_KEY_ORDER if k in fm}
    ordered.update((k, v) for k, v in fm.items() if k not in ordered)
    return ordered


def _set_license(fm: dict[str, Any], original: dict[str, Any], facts: ModelFacts) -> None:
    if facts.license:
        value, name = hf_license(facts.license)
    else:
        names = sorted({lic.name for lic in facts.licenses if lic.name})
        if len(names) != 1:
            return
        value, name = "other", names[0]
    fm["license"] = value
    if name:
        fm["license_name"] = name
    # A licence link still describes the licence only when the licence is the card's own.
    if "license_link" in original and card_license(original).spdx_id == facts.license:
        fm["license_link"] = original["license_link"]


def data_front_matter(facts: ModelFacts) -> dict[str, Any]:
    """A Hugging Face dataset card's front matter for the model's datasets."""
    declared = declared_extra(facts, "data_card")
    fm: dict[str, Any] = {}
    licenses = sorted({d.license for d in unique_datasets(facts.datasets) if d.license})
    if licenses:
        values = [hf_license(lic)[0] for lic in licenses]
        fm["license"] = values[0] if len(values) == 1 else values
    fm["pretty_name"] = text_or_none(declared.get("pretty_name")) or f"{facts.name} data"
    tasks = text_list(declared.get("task_categories"))
    pipeline_tag = facts.card.pipeline_tag if facts.card else None
    if tasks or pipeline_tag:
        fm["task_categories"] = tasks or [pipeline_tag]
    for key in ("language", "size_categories", "annotations_creators"):
        values = text_list(declared.get(key))
        if values:
            fm[key] = values
    names = [d.name for d in unique_datasets(facts.datasets)]
    if names:
        fm["source_datasets"] = names
    return fm


def dump_front_matter(fm: dict[str, Any]) -> str:
    """YAML for the front matter block (without the ``---`` lines); empty when there is none."""
    if not fm:
        return ""
    return yaml.safe_dump(fm, sort_keys=False, allow_unicode=True, default_flow_style=False,
                          width=1000)


# -- declared values, checked for type -----------------------------------------------------------


def declared_extra(facts: ModelFacts, key: str) -> dict[str, Any]:
    value = facts.declared.extra.get(key) if facts.declared else None
    return value if isinstance(value, dict) else {}


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def text_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int, float)) and str(v).strip()]
    return []
