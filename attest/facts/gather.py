"""Gather ModelFacts once per subject, from any :class:`ModelSource`.

Every file is listed (and hashed) once by the source; each fact is then read from the smallest
thing that holds it: a weight's header, a config file, the card, the head of a code file. No
stage ever reads the model again: they all read the ModelFacts this module returns.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from attest.errors import InputError
from attest.facts import hf
from attest.facts.card import card_license, parse_card
from attest.facts.declared import load_declared, parse_declared
from attest.facts.licenses import (
    SPDX_HEADER_BYTES,
    detect_license_text,
    is_license_file,
    normalize_license,
    spdx_header,
)
from attest.facts.model import (
    CardFacts,
    DatasetFact,
    Declared,
    FileFact,
    LicenseFact,
    ModelFacts,
    WeightFacts,
)
from attest.facts.onnx import INSTALL_HINT, onnx_installed
from attest.facts.source import WANTED_LIMIT, ModelSource
from attest.facts.subject import Subject
from attest.facts.weights import HEADER_FORMATS, HeaderNotRead, weight_facts, weight_format

DECLARED_FILE = "attest.yaml"
CARD_FILES = ("README.md", "readme.md", "README.MD", "Readme.md")
LICENSE_TEXT_LIMIT = 1024 * 1024


def gather_facts(
    source: ModelSource,
    *,
    subject: Subject | None = None,
    declared_path: Path | None = None,
    name: str | None = None,
) -> ModelFacts:
    """Everything known about the model ``source`` holds.

    ``declared_path`` (``--facts FILE``) replaces an ``attest.yaml`` found among the files.
    ``name`` overrides every other source of the model's name.
    """
    files = source.files()
    paths = [f.path for f in files]
    by_path = {f.path: f for f in files}
    warnings: list[str] = []

    weights = [_weight(source, f, warnings) for f in files if f.role == "weight"]
    hf_config = _json(source, by_path.get("config.json"))
    generation_config = _json(source, by_path.get("generation_config.json"))
    tokenizer_config = _json(source, by_path.get("tokenizer_config.json"))
    card = _card(source, by_path, warnings)
    declared = _declared(source, by_path, declared_path)

    files = [_with_spdx_header(source, f) for f in files]
    licenses = _licenses(source, files, card, declared, warnings)
    config = source.modelpack_config
    # ModelPack names the model in config.descriptor; a KitOps config (the Kitfile) in package.
    descriptor = (config or {}).get("descriptor") or (config or {}).get("package") or {}
    if not isinstance(descriptor, dict):
        descriptor = {}
    gguf_template = any("tokenizer.chat_template" in w.metadata for w in weights)

    warnings.extend(source.warnings)
    return ModelFacts(
        name=name
        or (declared.name if declared and declared.name else None)
        or _str(descriptor.get("name"))
        or source.default_name,
        files=files,
        subject=subject,
        version=(declared.version if declared and declared.version else None)
        or _str(descriptor.get("version")),
        weights=weights,
        hf_config=hf_config,
        generation_config=generation_config,
        tokenizer_files=hf.tokenizer_files(paths),
        chat_template=hf.has_chat_template(tokenizer_config, paths) or gguf_template,
        card=card,
        licenses=licenses,
        datasets=merge_datasets(card, declared, files),
        modelpack_config=config,
        modelfile=source.modelfile,
        kitfile=source.kitfile,
        declared=declared,
        warnings=warnings,
    )


# -- one fact at a time -----------------------------------------------------------------------


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _weight(source: ModelSource, f: FileFact, warnings: list[str]) -> WeightFacts:
    fmt = weight_format(f.path)
    if fmt not in HEADER_FORMATS:
        return WeightFacts(path=f.path, format=fmt)  # described by its format; nothing to read
    if fmt == "onnx" and not onnx_installed():
        warnings.append(f"{f.path}: ONNX graph facts not read: {INSTALL_HINT}")
        return WeightFacts(path=f.path, format=fmt)
    try:
        header = source.read_header(f.path)
        return weight_facts(fmt, header, path=f.path, size=f.size)
    except HeaderNotRead as why:
        warnings.append(str(why))
        return WeightFacts(path=f.path, format=fmt)


def _json(source: ModelSource, f: FileFact | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return hf.parse_json_file(source.read_all(f.path, WANTED_LIMIT), f.path)


def _text(source: ModelSource, f: FileFact, limit: int) -> str:
    data = source.read_all(f.path, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{f.path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None


def _card(
    source: ModelSource, by_path: dict[str, FileFact], warnings: list[str]
) -> CardFacts | None:
    f = next((by_path[p] for p in CARD_FILES if p in by_path), None)
    if f is None:
        return None
    return parse_card(_text(source, f, WANTED_LIMIT), f.path, warnings)


def _declared(
    source: ModelSource, by_path: dict[str, FileFact], declared_path: Path | None
) -> Declared | None:
    if declared_path is not None:
        return load_declared(declared_path)
    f = by_path.get(DECLARED_FILE)
    if f is None:
        return None
    return parse_declared(source.read_all(f.path, WANTED_LIMIT), f.path)


def _with_spdx_header(source: ModelSource, f: FileFact) -> FileFact:
    """A code file with its ``SPDX-License-Identifier`` (from its first 2 KiB) recorded."""
    if f.role != "code":
        return f
    head = source.read_head(f.path, SPDX_HEADER_BYTES).decode("utf-8", errors="replace")
    found = spdx_header(head)
    return replace(f, spdx_license=found) if found else f


def _licenses(
    source: ModelSource,
    files: list[FileFact],
    card: CardFacts | None,
    declared: Declared | None,
    warnings: list[str],
) -> list[LicenseFact]:
    found: list[LicenseFact] = []
    for f in files:
        text_role = f.role not in ("code", "weight")  # license.py is code, not a licence text
        if is_license_file(f.path) and text_role:
            if f.size > LICENSE_TEXT_LIMIT:
                warnings.append(f"{f.path}: {f.size} bytes is too large for a licence; not read")
                found.append(LicenseFact(f.path, None, None, f.sha256))
            else:
                text = source.read_all(f.path, LICENSE_TEXT_LIMIT).decode("utf-8", "replace")
                match = detect_license_text(text)
                found.append(LicenseFact(f.path, match.spdx_id, match.name, f.sha256))
        if f.spdx_license:
            match = normalize_license(f.spdx_license)
            name = match.name if match.spdx_id else f.spdx_license
            found.append(LicenseFact(f"{f.path}#SPDX-License-Identifier", match.spdx_id, name))
    if card:
        match = card_license(card.front_matter)
        if match.spdx_id or match.name:
            found.append(LicenseFact(f"{card.path}#front-matter", match.spdx_id, match.name))
    if declared and declared.license:
        found.append(LicenseFact(declared.path, declared.license, None))
    return sorted(found, key=lambda lic: lic.source)


def merge_datasets(
    card: CardFacts | None, declared: Declared | None, files: list[FileFact]
) -> list[DatasetFact]:
    """Datasets from attest.yaml, the card, its model-index and dataset files, deduplicated by
    name (case-insensitive) and by path; the first source wins: declared, card, layers."""
    merged: list[DatasetFact] = []
    by_name: dict[str, int] = {}
    by_path: dict[str, int] = {}
    dataset_files = {f.path: f for f in files if f.role == "dataset"}

    def add(fact: DatasetFact) -> None:
        key = fact.name.casefold()
        if key in by_name or (fact.path and fact.path in by_path):
            return
        if fact.path and fact.path in dataset_files and fact.sha256 is None:
            fact = replace(fact, sha256=dataset_files[fact.path].sha256)
        by_name[key] = len(merged)
        if fact.path:
            by_path[fact.path] = len(merged)
        merged.append(fact)

    for fact in declared.datasets if declared else []:
        add(fact)
    if card:
        for name in card.datasets:
            add(DatasetFact(name=name, use="training", source="card"))
        for metric in card.metrics:
            if metric.dataset:
                add(DatasetFact(name=metric.dataset, use="evaluation", source="model-index"))
    for path, f in sorted(dataset_files.items()):
        add(DatasetFact(name=path, path=path, sha256=f.sha256, source="layer"))
    return merged
