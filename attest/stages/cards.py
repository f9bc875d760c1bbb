"""The cards stage: ModelFacts (+ the MOF report) -> model and data cards, Markdown and HTML.

Templates are Jinja2 files in ``cards/`` at the repository top level (content documentation
writers edit); a wheel carries them as ``attest/_content/cards/`` (see :mod:`attest.content`).
Rendering is deterministic: the same facts give byte-identical cards, so their digests in the
statement are reproducible.

Evidence: one in-toto statement per card kind (predicate types below, schemas in
``attest/schemas/``) whose predicate names the digests of both renderings, and the two renderings
as documents to attach as plain referrers (``text/markdown``, ``text/html``).
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from attest import __version__
from attest.content import content_dir
from attest.errors import InternalError, UsageError
from attest.facts.model import ModelFacts
from attest.lint.card_spec import KINDS
from attest.stages.card_context import build_context
from attest.stages.statement import Evidence, make_statement

CardFormat = Literal["markdown", "html"]
FORMATS: tuple[str, ...] = ("markdown", "html")

MODEL_CARD_PREDICATE_TYPE = "https://attest.dev/model-card/v1"
DATA_CARD_PREDICATE_TYPE = "https://attest.dev/data-card/v1"
PREDICATE_TYPES = {"model": MODEL_CARD_PREDICATE_TYPE, "data": DATA_CARD_PREDICATE_TYPE}
SCHEMA_FILES = {"model": "model-card-predicate.schema.json",
                "data": "data-card-predicate.schema.json"}
MEDIA_TYPES = {"markdown": "text/markdown", "html": "text/html"}
FILENAMES = {("model", "markdown"): "model-card.md", ("model", "html"): "model-card.html",
             ("data", "markdown"): "data-card.md", ("data", "html"): "data-card.html"}
TEMPLATES = {("model", "markdown"): "model-card.md.j2", ("model", "html"): "model-card.html.j2",
             ("data", "markdown"): "data-card.md.j2", ("data", "html"): "data-card.html.j2"}
ANNOTATION_PREDICATE_TYPE = "dev.attest.predicate-type"
ANNOTATION_CARD_KIND = "dev.attest.card.kind"


# -- public API -----------------------------------------------------------------------------------


def render_card(
    facts: ModelFacts, kind: str = "model", fmt: str = "markdown", mof: dict[str, Any] | None = None
) -> str:
    """The ``kind`` ("model" | "data") card of ``facts`` as ``fmt`` ("markdown" | "html").

    ``mof`` is a MOF report as ``MofReport.to_dict()`` gives it (or None: the card then says the
    openness is not assessed).
    """
    _check(kind, fmt)
    context = build_context(facts, kind, mof)
    try:
        text = _environment(fmt).get_template(TEMPLATES[(kind, fmt)]).render(context)
    except jinja2.TemplateError as exc:  # a template edit that does not fit the context
        raise InternalError(
            f"card template {TEMPLATES[(kind, fmt)]} failed: {exc}",
            hint=f"check the templates in {templates_dir()}",
        ) from None
    return text.rstrip("\n") + "\n"


def card_evidence(
    facts: ModelFacts, kind: str = "model", mof: dict[str, Any] | None = None
) -> list[Evidence]:
    """The statement about the ``kind`` card and both renderings to attach (Markdown, HTML).

    Both Evidence objects carry the same statement: sign it once, attach both documents.
    """
    _check(kind, "markdown")
    if facts.subject is None:
        raise UsageError("a card statement needs a ModelPack subject: give a reference")
    markdown = render_card(facts, kind, "markdown", mof).encode()
    html = render_card(facts, kind, "html", mof).encode()
    predicate = card_predicate(facts, kind, mof, markdown, html)
    statement = make_statement(facts.subject, PREDICATE_TYPES[kind], predicate)
    return [
        _evidence(statement, kind, "markdown", markdown),
        _evidence(statement, kind, "html", html),
    ]


def card_predicate(
    facts: ModelFacts, kind: str, mof: dict[str, Any] | None, markdown: bytes, html: bytes
) -> dict[str, Any]:
    """The predicate: digests of both renderings, the front matter, which sections say
    something and which required ones do not; checked against the predicate's JSON Schema."""
    context = build_context(facts, kind, mof)
    predicate = {
        "card": kind,
        "name": facts.name,
        "version": facts.version,
        "markdown": _document(kind, "markdown", markdown),
        "html": _document(kind, "html", html),
        "frontMatter": context["front_matter"],
        "sectionsPresent": [s["key"] for s in context["sections"] if s["present"]],
        "requiredSectionsMissing": [
            s["key"] for s in context["sections"] if s["required"] and not s["present"]
        ],
        "mofClass": context["mof"]["class"] if context["mof"] else None,
        "generator": {"name": "attest", "version": __version__},
    }
    errors = predicate_errors(predicate, kind)
    if errors:
        raise InternalError(f"{kind} card predicate fails its schema: " + "; ".join(errors))
    return predicate


def predicate_schema(kind: str) -> dict[str, Any]:
    text = resources.files("attest").joinpath("schemas", SCHEMA_FILES[kind]).read_text("utf-8")
    return dict(json.loads(text))


def predicate_errors(predicate: dict[str, Any], kind: str) -> list[str]:
    """Schema errors of a card predicate (empty when valid)."""
    validator = _validator(kind)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
        for e in sorted(validator.iter_errors(predicate), key=lambda e: list(e.absolute_path))
    ]


def templates_dir() -> Path:
    """``attest/_content/cards`` in a wheel, else ``<repo>/cards`` in a checkout."""
    return content_dir("cards")


# -- internals ------------------------------------------------------------------------------------


def _check(kind: str, fmt: str) -> None:
    if kind not in KINDS:
        raise UsageError(f"unknown card kind {kind!r} ({', '.join(KINDS)})")
    if fmt not in FORMATS:
        raise UsageError(f"unknown card format {fmt!r} ({', '.join(FORMATS)})")


def _document(kind: str, fmt: str, data: bytes) -> dict[str, Any]:
    return {
        "mediaType": MEDIA_TYPES[fmt],
        "filename": FILENAMES[(kind, fmt)],
        "digest": {"sha256": hashlib.sha256(data).hexdigest()},
        "size": len(data),
    }


def _evidence(statement: dict[str, Any], kind: str, fmt: str, data: bytes) -> Evidence:
    media_type = MEDIA_TYPES[fmt]
    return Evidence(
        statement=statement,
        document=data,
        media_type=media_type,
        artifact_type=media_type,
        annotations={
            ANNOTATION_PREDICATE_TYPE: PREDICATE_TYPES[kind],
            ANNOTATION_CARD_KIND: kind,
            "org.opencontainers.image.title": FILENAMES[(kind, fmt)],
        },
        filename=FILENAMES[(kind, fmt)],
    )


@cache
def _validator(kind: str) -> Any:
    from jsonschema import Draft202012Validator

    schema = predicate_schema(kind)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def _environment(fmt: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=fmt == "html",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md_text=md_text, md_cell=md_cell, md_code_cell=md_code_cell, markdown=markdown_html,
        inline_code=inline_code,
    )  # fmt: skip
    return env


# -- filters --------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_text(value: Any) -> str:
    """A fact as Markdown text: characters Markdown would act on are escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def md_cell(value: Any) -> str:
    """A fact in a table cell: one line, Markdown characters and ``|`` escaped."""
    return md_text(value)


def md_code_cell(value: Any) -> str:
    """A code span inside a table cell (``|`` stays escaped: GFM splits cells before spans)."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


@cache
def _markdown() -> MarkdownIt:
    # CommonMark + tables; raw HTML off (escaped) and images off: the page stays self-contained
    # and a card's prose cannot inject markup.
    md = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")
    md.disable("image")
    return md


_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def markdown_html(text: str | None) -> Markup:
    """User prose (Markdown) as safe HTML: comments dropped, raw HTML escaped, no images."""
    if not text:
        return Markup("")
    return Markup(_markdown().render(_COMMENT.sub("", text)))  # noqa: S704 - escaped by md


def inline_code(text: str | None) -> Markup:
    """Our own hint strings (with `code` spans) as HTML: escaped, backticks to <code>."""
    escaped = str(escape(text or ""))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))  # noqa: S704 - escaped
