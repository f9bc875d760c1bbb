"""ModelFacts as a readable summary (``attest facts REF``); the JSON form is ``facts.to_dict()``.

The summary says what is missing as plainly as what is there: a sparse card or an unreadable
header is a fact about the model too. Every value comes from the model's own files (names,
README front matter, headers): each line is printed through ``safe``, so none can draw
lines of its own.
"""

from __future__ import annotations

from attest.facts.model import ModelFacts, WeightFacts
from attest.humanize import human_size
from attest.text import safe


def _count(n: int | None) -> str:
    return "unknown" if n is None else f"{n:,}"


def _weight_lines(w: WeightFacts) -> list[str]:
    parts = [w.format]
    if w.tensor_count is not None:
        parts.append(f"{_count(w.tensor_count)} tensors")
    if w.parameter_count is not None:
        parts.append(f"{_count(w.parameter_count)} parameters")
    if w.dtypes:
        parts.append("/".join(w.dtypes))
    for label, value in (
        ("arch", w.architecture),
        ("quantization", w.quantization),
        ("context", w.context_length),
        ("opset", w.opset),
        ("producer", w.producer),
    ):
        if value is not None:
            parts.append(f"{label} {value}")
    lines = [f"  {w.path}: {', '.join(parts)}"]
    if w.inputs:
        lines.append(f"    inputs:  {'; '.join(w.inputs)}")
    if w.outputs:
        lines.append(f"    outputs: {'; '.join(w.outputs)}")
    return lines


def facts_to_text(facts: ModelFacts) -> str:
    """A summary of ``facts`` for a terminal, one fact per line, nothing invented."""
    out: list[str] = []
    add = out.append
    add(f"Model         {facts.name}" + (f" {facts.version}" if facts.version else ""))
    if facts.subject:
        s = facts.subject
        add(f"Subject       {s.repository}@{s.digest}")
        add(f"              {s.media_type}, {human_size(s.size)}")
    add(f"Licence       {facts.license or 'none found'}")
    add(f"Architecture  {facts.architecture or 'unknown'}")
    add(f"Parameters    {_count(facts.parameter_count)}")
    add(f"Formats       {', '.join(facts.formats) or 'none'}")
    if facts.base_models:
        add(f"Base model    {', '.join(facts.base_models)}")

    total = sum(f.size for f in facts.files)
    add("")
    add(f"Files ({len(facts.files)}, {human_size(total)})")
    width = max((len(f.role) for f in facts.files), default=0)
    for f in facts.files:
        extra = f"  [{f.spdx_license}]" if f.spdx_license else ""
        add(f"  {f.role:<{width}}  {human_size(f.size):>10}  {f.sha256[:19]}…  {f.path}{extra}")

    if facts.weights:
        add("")
        add("Weights")
        out.extend(line for w in facts.weights for line in _weight_lines(w))

    add("")
    add("Licences")
    if not facts.licenses:
        add("  none found (no LICENSE file, no card licence, no declaration)")
    for lic in facts.licenses:
        said = lic.spdx_id or "not recognised"
        name = f" ({lic.name})" if lic.name else ""
        add(f"  {lic.source}: {said}{name}")

    add("")
    card = facts.card
    if card is None:
        add("Card          none (no README.md)")
    else:
        add(f"Card          {card.path}" + (f": {card.title}" if card.title else ""))
        for label, value in (
            ("language", ", ".join(card.language)),
            ("pipeline", card.pipeline_tag),
            ("library", card.library_name),
            ("tags", ", ".join(card.tags)),
            ("papers", ", ".join(card.arxiv)),
        ):
            if value:
                add(f"  {label}: {value}")
        add(f"  sections: {', '.join(card.sections) or 'none'}")
        for m in card.metrics:
            where = ", ".join(x for x in (m.task, m.dataset, m.split) if x)
            add(f"  metric: {m.name or m.type} = {m.value}" + (f" ({where})" if where else ""))

    add("")
    add("Datasets")
    if not facts.datasets:
        add("  none declared or found")
    for d in facts.datasets:
        extra = ", ".join(x for x in (d.path, d.license, d.url) if x)
        add(f"  {d.name}: {d.use}, from {d.source}" + (f" ({extra})" if extra else ""))

    add("")
    add(f"Tokenizer     {', '.join(facts.tokenizer_files) or 'none'}")
    add(f"Chat template {'yes' if facts.chat_template else 'no'}")
    add(f"HF config     {'config.json' if facts.hf_config is not None else 'none'}")
    add(f"Modelfile     {'yes' if facts.modelfile else 'no'}")
    if facts.kitfile:
        add("Kitfile       yes")
    if facts.declared:
        decl = facts.declared
        add(f"Declared      {decl.path}")
        for label, value in (
            ("paper", decl.paper_url),
            ("technical report", decl.technical_report_url),
            ("source", decl.source_repository),
            ("commit", decl.source_commit),
            ("authors", ", ".join(decl.authors)),
        ):
            if value:
                add(f"  {label}: {value}")
        for component, paths in decl.components.items():
            add(f"  component {component}: {', '.join(paths)}")
    if facts.warnings:
        add("")
        add("Warnings")
        out.extend(f"  - {w}" for w in facts.warnings)
    return "\n".join(safe(line) for line in out) + "\n"
