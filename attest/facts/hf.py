"""Hugging Face repository conventions: config.json, generation_config.json, tokenizer files,
chat templates. Pure functions over names and bytes."""

from __future__ import annotations

import math
import posixpath
from collections.abc import Iterable
from typing import Any

from attest import jsonio

# Tokenizer files as transformers/tokenizers/sentencepiece name them.
TOKENIZER_FILES = frozenset(
    {
        "tokenizer.json",
        "tokenizer_config.json",
        "tokenizer.model",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.json",
        "vocab.txt",
        "merges.txt",
        "spiece.model",
        "sentencepiece.bpe.model",
        "chat_template.jinja",
        "chat_template.json",
    }
)
# Files that carry a chat template by themselves (transformers >= 4.43 writes the .jinja one).
CHAT_TEMPLATE_FILES = frozenset({"chat_template.jinja", "chat_template.json"})


def parse_json_file(data: bytes, path: str) -> dict[str, Any]:
    """A JSON object from ``path``; InputError naming the file, line and column otherwise.

    NaN/Infinity (Python's json writes them) are kept as strings so the facts stay valid JSON.
    """
    return _finite(jsonio.loads_object(data, path, parse_constant=str))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def tokenizer_files(paths: Iterable[str]) -> list[str]:
    """The tokenizer files among ``paths`` (any directory), sorted."""
    return sorted(p for p in paths if posixpath.basename(p).lower() in TOKENIZER_FILES)


def has_chat_template(tokenizer_config: dict[str, Any] | None, paths: Iterable[str]) -> bool:
    """A non-empty ``chat_template`` in tokenizer_config.json (a string, or a list of named
    templates), or a chat template file of its own."""
    if any(posixpath.basename(p).lower() in CHAT_TEMPLATE_FILES for p in paths):
        return True
    template = (tokenizer_config or {}).get("chat_template")
    if isinstance(template, str):
        return bool(template.strip())
    if isinstance(template, list):
        return any(isinstance(t, dict) and t.get("template") for t in template)
    return False
