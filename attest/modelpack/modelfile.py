"""modctl's Modelfile syntax and its default classification of model files into layer kinds.

Behaviour follows modctl (github.com/modelpack/modctl), read from its sources:

- ``pkg/modelfile/parser/parser.go`` and ``command/command.go``: one directive per line; blank
  lines and lines starting with ``#`` (after trimming) are skipped; the directive word is
  case-insensitive; arguments are whitespace-separated and joined back with single spaces (so
  unquoted paths may contain spaces); leading ``--flag=value`` words are flags (``--`` ends them).
  There are no inline comments and no line continuations.
- ``pkg/modelfile/modelfile.go``: ``NAME ARCH FAMILY FORMAT PARAMSIZE PRECISION QUANTIZATION``
  may each appear once ("duplicate ... command" otherwise); ``CONFIG MODEL CODE DOC DATASET``
  repeat, their patterns de-duplicated in order.
- ``pkg/backend/build.go`` + ``processor/base.go`` (``modctl build``): each file directive's
  pattern is a Go ``filepath.Glob`` relative to the work dir (``*`` never crosses ``/``, no
  ``**``); a pattern without wildcards must exist ("file specified in Modelfile does not exist");
  a glob matching nothing is fine; **files no directive matches are not packaged**; layers come
  out grouped CONFIG, MODEL, CODE, DOC, each group sorted by path.
- ``pkg/modelfile/constants.go`` + ``NewModelfileByWorkspace`` (``modctl modelfile generate``,
  used when there is no Modelfile): skip hidden files/dirs, ``modelfile``, ``__pycache__``,
  ``*.pyc|pyo|pyd``; classify the *base name*, case-insensitively, trying config, then model,
  then code, then doc patterns; anything else becomes a weight if larger than 128 MB and code
  otherwise, labelled ``org.cncf.model.file.mediatype.untested=true``.

Where attest departs from modctl it says so below (1-based line numbers, DATASET is packaged,
a file matched by two directives gets one layer, stricter flag checks).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from attest.errors import InputError
from attest.oci.mediatypes import ANNOTATION_UNTESTED

# A Modelfile (or Kitfile): a few KB of directives.
MODELFILE_MAX_SIZE = 1024 * 1024

# Layer kinds in the order modctl's build processors run (= manifest layer order). DATASET comes
# last: modctl parses DATASET but never packages it; attest DOES package DATASET files as
# `dataset` layers, because the datasets a model ships are evidence for later MOF scoring.
KIND_ORDER = ("weight.config", "weight", "code", "doc", "dataset")

# Directive -> layer kind (file directives) and directive -> Modelfile field (single values).
FILE_DIRECTIVES = {
    "CONFIG": "weight.config",
    "MODEL": "weight",
    "CODE": "code",
    "DOC": "doc",
    "DATASET": "dataset",
}
VALUE_DIRECTIVES = {
    "NAME": "name",
    "ARCH": "arch",
    "FAMILY": "family",
    "FORMAT": "format",
    "PARAMSIZE": "param_size",
    "PRECISION": "precision",
    "QUANTIZATION": "quantization",
}
LABEL_FLAG = "--label="
# Both spellings of the untested annotation (modctl v0.1.0/v0.2.2 write the legacy `cnai` one).
UNTESTED_KEYS = (ANNOTATION_UNTESTED, "org.cnai.model.file.mediatype.untested")

# --- modctl's default patterns (pkg/modelfile/constants.go, main, 2025-2026) -------------------
# Matched against the lower-cased base name with Go filepath.Match semantics, in the order
# config, model, code, doc; the first list that matches wins (so `*.meta` is config,
# `tokenizer.model` is config, `requirements.txt` is code and `merges.txt` is doc).
CONFIG_PATTERNS = (
    "*.json", "*.jsonl", "*.json5", "*.jsonc", "*.yaml", "*.yml", "*.toml", "*.ini", "*.config",
    "*.cfg", "*.conf", "*.properties", "*.props", "*.prop", "*.xml", "*.xsd", "*.rng",
    "*.modelcard", "*.meta", "*tokenizer.model*", "config.json.*", "*.hparams", "*.params",
    "*.hyperparams", "*.wandb", "*.mlflow", "*.tensorboard",
)  # fmt: skip
MODEL_PATTERNS = (
    "*.safetensors", "*.bin", "*.pt", "*.pth", "*.mar", "*.pte", "*.pt2", "*.ptl", "*.tflite",
    "*.h5", "*.hdf", "*.hdf5", "*.pb", "*.meta", "*.data-*", "*.index", "*.gguf", "*.ggml",
    "*.ggmf", "*.ggjt", "*.q4_0", "*.q4_1", "*.q5_0", "*.q5_1", "*.q8_0", "*.f16", "*.f32",
    "*.ckpt", "*.checkpoint", "*.dist_ckpt", "*.tensor", "*.weights", "*.state", "*.embedding",
    "*.vocab", "*.ot", "*.engine", "*.trt", "*.onnx", "*.msgpack", "*.model", "*.pkl",
    "*.pickle", "*.keras", "*.joblib", "*.npy", "*.npz", "*.nc", "*.mlmodel", "*.coreml",
    "*.mleap", "*.surml", "*.llamafile", "*.caffemodel", "*.prototxt", "*.dlc", "*.circle",
    "*.nb",
)  # fmt: skip
CODE_PATTERNS = (
    "*.py", "*.ipynb", "*.sh", "*.patch", "*.c", "*.h", "*.hxx", "*.cpp", "*.cc", "*.cxx",
    "*.c++", "*.hpp", "*.hh", "*.h++", "*.java", "*.js", "*.mjs", "*.cjs", "*.jsx", "*.ts",
    "*.tsx", "*.go", "*.rs", "*.swift", "*.rb", "*.php", "*.scala", "*.kt", "*.kts", "*.r",
    "*.R", "*.m", "*.mm", "*.f", "*.f90", "*.f95", "*.f03", "*.f08", "*.jl", "*.lua", "*.pl",
    "*.pm", "*.cs", "*.vb", "*.dart", "*.groovy", "*.elm", "*.erl", "*.hrl", "*.ex", "*.exs",
    "*.hs", "*.lhs", "*.clj", "*.cljs", "*.cljc", "*.cl", "*.lisp", "*.lsp", "*.scm", "*.ss",
    "*.rkt", "*.sql", "*.psql", "*.mysql", "*.sqlite", "*.zig", "*.cu", "*.cuh",
    "*.bash", "*.zsh", "*.fish", "*.csh", "*.tcsh", "*.ksh", "*.ps1", "*.psm1", "*.psd1",
    "*.bat", "*.cmd", "*.vbs", "*.wsf", "*.applescript", "*.scpt", "*.awk", "*.sed", "*.expect",
    "*.env", "*.env.*", ".env*", "Makefile*", "*.dockerfile", "Dockerfile*", "*.mk", "*.cmake",
    "CMakeLists.txt", "*.gradle", "*.gradle.kts", "build.gradle*", "settings.gradle*", "*.sbt",
    "*.mill", "*.bazel", "*.bzl", "BUILD*", "WORKSPACE*", "*.buck", "BUCK*", "*.ninja", "*.gyp",
    "*.gypi", "*.waf", "wscript*", "package.json", "package-lock.json", "yarn.lock",
    "pnpm-lock.yaml", "requirements*.txt", "Pipfile*", "pyproject.toml", "setup.cfg", "tox.ini",
    "poetry.lock", "Cargo.toml", "Cargo.lock", "go.mod", "go.sum", "composer.json",
    "composer.lock", "Gemfile*", "*.gemspec", "mix.exs", "mix.lock", "rebar.config",
    "rebar.lock", "*.so", "*.dll", "*.dylib", "*.lib", "*.a",
)  # fmt: skip
DOC_PATTERNS = (
    "*.txt", "*.md", "*.pdf", "LICENSE*", "README*", "SETUP*", "*requirements*", "*.log",
    "*.doc", "*.docx", "*.docm", "*.dot", "*.dotx", "*.dotm", "*.rtf", "*.odt", "*.ott",
    "*.fodt", "*.pages", "*.wpd", "*.xls", "*.xlsx", "*.xlsm", "*.xlsb", "*.xlt", "*.xltx",
    "*.xltm", "*.ods", "*.ots", "*.fods", "*.numbers", "*.csv", "*.ppt", "*.pptx", "*.pptm",
    "*.pps", "*.ppsx", "*.ppsm", "*.pot", "*.potx", "*.potm", "*.odp", "*.otp", "*.fodp",
    "*.key", "*.epub", "*.mobi", "*.azw", "*.azw3", "*.fb2", "*.fb3", "*.lit", "*.pdb",
    "*.djvu", "*.djv", "*.html", "*.htm", "*.xhtml", "*.mhtml", "*.mht", "*.xml", "*.xsl",
    "*.xslt", "*.tex", "*.latex", "*.ltx", "*.bib", "*.rst", "*.asciidoc", "*.adoc",
    "*.textile", "*.wiki", "*.mediawiki", "*.org", "*.texi", "*.texinfo", "*.info", "*.man",
    "*.chm", "*.hlp", "*.xps", "*.jpg", "*.jpeg", "*.png", "*.gif", "*.bmp", "*.tiff", "*.ico",
    "*.webp", "*.heic", "*.heif", "*.hevc", "*.svg", "*.mp4", "*.mov", "*.avi", "*.mkv",
    "*.webm", "*.m4v", "*.flv", "*.wmv", "*.mpg", "*.mpeg",
)  # fmt: skip
# Any path component matching one of these is skipped (modctl prunes such directories).
SKIP_PATTERNS = (".*", "modelfile", "__pycache__", "*.pyc", "*.pyo", "*.pyd")
DEFAULT_PATTERNS = (
    ("weight.config", CONFIG_PATTERNS),
    ("weight", MODEL_PATTERNS),
    ("code", CODE_PATTERNS),
    ("doc", DOC_PATTERNS),
)
# modctl: an unrecognised file above this size is "usually a weight" (128 * humanize.MByte,
# decimal megabytes); a smaller one becomes code. Either way it is marked untested.
WEIGHT_SIZE_THRESHOLD = 128 * 1000 * 1000


@dataclass
class Modelfile:
    """A parsed Modelfile. Pattern lists keep Modelfile order, de-duplicated."""

    name: str | None = None
    arch: str | None = None
    family: str | None = None
    format: str | None = None
    param_size: str | None = None
    precision: str | None = None
    quantization: str | None = None
    configs: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    # `--label=KEY=VALUE` flags per (kind, pattern), e.g. modctl's generated
    # `MODEL --label=org.cncf.model.file.mediatype.untested=true big.unknown`.
    labels: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    # the file as read, byte for byte as text (pack stores it as the manifest annotation)
    text: str = ""

    def patterns(self, kind: str) -> list[str]:
        """The patterns of one layer kind (``weight.config``, ``weight``, ``code``, ...)."""
        return {
            "weight.config": self.configs,
            "weight": self.models,
            "code": self.codes,
            "doc": self.docs,
            "dataset": self.datasets,
        }[kind]

    def is_untested(self, kind: str, pattern: str) -> bool:
        labels = self.labels.get((kind, pattern), {})
        return any(labels.get(key, "").lower() == "true" for key in UNTESTED_KEYS)


def load_modelfile(path: str | Path) -> Modelfile:
    """Read and parse the Modelfile at ``path`` (``.text`` keeps it as read, BOM included)."""
    from attest.yamlio import read_user_file  # the one capped reader of small user files

    p = Path(path)
    try:  # no FIFOs, nothing past the cap
        raw = read_user_file(p, "a Modelfile", MODELFILE_MAX_SIZE)
    except InputError as exc:
        reason = exc.message.removeprefix(f"cannot read {p}: ")
        raise InputError(f"cannot read Modelfile {p}: {reason}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read Modelfile {p}: not UTF-8 ({exc.reason})") from None
    parsed = parse_modelfile(text, source=str(p))
    parsed.text = text
    return parsed


def parse_modelfile(text: str, *, source: str = "Modelfile") -> Modelfile:
    """Parse Modelfile text; errors are InputError naming ``source`` and the 1-based line."""
    mf = Modelfile()
    first_seen: dict[str, int] = {}
    # Lines end at "\n" only (Go's bufio.ScanLines); a trailing "\r" goes with the whitespace.
    for lineno, raw in enumerate(text.lstrip("\ufeff").split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, *rest = line.split(None, 1)
        directive = word.upper()
        where = f"{source}:{lineno}"
        if directive not in FILE_DIRECTIVES and directive not in VALUE_DIRECTIVES:
            raise InputError(
                f"{where}: unknown Modelfile directive {word!r}",
                hint="directives: " + " ".join([*VALUE_DIRECTIVES, *FILE_DIRECTIVES]),
            )
        flags, value = _split_flags(rest[0].split() if rest else [])
        if not value:
            raise InputError(f"{where}: {directive} needs an argument")
        if directive in VALUE_DIRECTIVES:
            if flags:
                raise InputError(f"{where}: {directive} takes no flags, got {flags[0]!r}")
            if directive in first_seen:
                raise InputError(
                    f"{where}: duplicate {directive} (first given on line {first_seen[directive]})"
                )
            first_seen[directive] = lineno
            setattr(mf, VALUE_DIRECTIVES[directive], value)
            continue
        kind = FILE_DIRECTIVES[directive]
        pattern = _clean_pattern(value, where)
        patterns = mf.patterns(kind)
        if pattern not in patterns:
            patterns.append(pattern)
        labels = _parse_labels(flags, where)
        if labels:
            mf.labels.setdefault((kind, pattern), {}).update(labels)
    return mf


def classify_files(
    relpaths: Iterable[str],
    modelfile: Modelfile | None,
    *,
    sizes: Mapping[str, int] | None = None,
) -> list[tuple[str, str, bool]]:
    """``(path, kind, untested)`` for every file to package, in modctl's manifest layer order.

    ``relpaths`` are POSIX paths relative to the model directory. Without a Modelfile, modctl's
    default rules apply (skipped files are left out; ``sizes`` feeds the 128 MB weight guess, a
    missing size counts as small). With a Modelfile, only files its directives match are returned
    (modctl ignores the rest); a file two directives match takes the first kind in
    ``KIND_ORDER`` (modctl would emit it twice); a wildcard-free pattern that matches nothing is
    an error, as in modctl.
    """
    paths = sorted({_clean_relpath(p) for p in relpaths})
    if modelfile is None:
        size_of = {_clean_relpath(k): v for k, v in (sizes or {}).items()}
        result = []
        for p in paths:
            kind, untested = _default_kind(p, size_of.get(p, 0))
            if kind:
                result.append((p, kind, untested))
    else:
        result = _classify_with_modelfile(paths, modelfile)
    return sorted(result, key=lambda item: (KIND_ORDER.index(item[1]), item[0]))


# --- internals -----------------------------------------------------------------------------


def _split_flags(words: list[str]) -> tuple[list[str], str]:
    """Leading ``--flag`` words and the rest joined with single spaces (modctl's rules)."""
    flags: list[str] = []
    i = 0
    while i < len(words) and words[i].startswith("--"):
        if words[i] == "--":  # end of flags: what follows is the argument even if it is "--x"
            i += 1
            break
        flags.append(words[i])
        i += 1
    return flags, " ".join(words[i:])


def _parse_labels(flags: list[str], where: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for flag in flags:
        # modctl accepts any --name=value and keeps only the value; attest knows only --label
        # and refuses the rest, since a mistyped flag would otherwise vanish silently.
        if not flag.startswith(LABEL_FLAG) or len(flag) == len(LABEL_FLAG):
            raise InputError(f"{where}: unknown flag {flag!r}", hint="use --label=KEY=VALUE")
        key, _, value = flag[len(LABEL_FLAG) :].partition("=")
        labels[key] = value
    return labels


def _clean_pattern(pattern: str, where: str) -> str:
    # modctl joins the pattern to the work dir; attest refuses anything that could leave it.
    cleaned = posixpath.normpath(pattern)
    if pattern.startswith("/") or cleaned == ".." or cleaned.startswith("../"):
        raise InputError(f"{where}: path {pattern!r} is outside the model directory")
    if cleaned == ".":
        raise InputError(f"{where}: path {pattern!r} names the whole model directory")
    try:
        _go_glob_regexes(cleaned)  # refuse a malformed pattern now, with its line number
    except InputError as exc:
        raise InputError(f"{where}: {exc.message}") from None
    return cleaned


def _clean_relpath(path: str) -> str:
    cleaned = posixpath.normpath(path)
    if path.startswith("/") or cleaned in (".", "..") or cleaned.startswith("../"):
        raise InputError(f"file path {path!r} is not inside the model directory")
    return cleaned


def _default_kind(path: str, size: int) -> tuple[str | None, bool]:
    if any(_matches_any(part.lower(), SKIP_PATTERNS) for part in path.split("/")):
        return None, False
    base = posixpath.basename(path).lower()
    for kind, patterns in DEFAULT_PATTERNS:
        if _matches_any(base, patterns):
            return kind, False
    # modctl's fallback guess, recorded as untested.
    return ("weight" if size > WEIGHT_SIZE_THRESHOLD else "code"), True


def _classify_with_modelfile(paths: list[str], mf: Modelfile) -> list[tuple[str, str, bool]]:
    result: dict[str, tuple[str, bool]] = {}
    for kind in KIND_ORDER:
        for pattern in mf.patterns(kind):
            hits = [p for p in paths if _glob_covers(pattern, p)]
            if not hits and not _has_wildcards(pattern):
                raise InputError(f"file specified in Modelfile does not exist: {pattern}")
            for p in hits:
                result.setdefault(p, (kind, mf.is_untested(kind, pattern)))
    return [(p, kind, untested) for p, (kind, untested) in result.items()]


def _has_wildcards(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _glob_covers(pattern: str, path: str) -> bool:
    """Whether Go's ``filepath.Glob(pattern)`` yields ``path`` or a directory above it.

    A glob that names a directory makes modctl package the whole directory, so every file under
    it is covered.
    """
    regexes = _go_glob_regexes(pattern)
    parts = path.split("/")
    return len(parts) >= len(regexes) and all(
        rx.fullmatch(part) for rx, part in zip(regexes, parts[: len(regexes)], strict=True)
    )


def _matches_any(name: str, patterns: tuple[str, ...]) -> bool:
    return any(_go_match_regex(p.lower()).fullmatch(name) for p in patterns)


@cache
def _go_glob_regexes(pattern: str) -> tuple[re.Pattern[str], ...]:
    return tuple(_go_match_regex(part) for part in pattern.split("/"))


@cache
def _go_match_regex(pattern: str) -> re.Pattern[str]:
    """Translate one path element of a Go ``filepath.Match`` pattern into a regex.

    Go syntax: ``*`` any run of non-``/``, ``?`` one non-``/``, ``[...]`` a class with ``^`` for
    negation and ``lo-hi`` ranges, ``\\`` escapes. Unlike fnmatch, ``[!...]`` is not negation and
    a malformed class is an error.
    """
    out: list[str] = []
    i, n = 0, len(pattern)

    def bad() -> InputError:
        return InputError(f"malformed glob pattern {pattern!r}")

    def class_char(j: int) -> tuple[str, int]:
        if j >= n or pattern[j] in "-]":
            raise bad()
        if pattern[j] == "\\":
            j += 1
            if j >= n:
                raise bad()
        return pattern[j], j + 1

    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "\\":
            if i + 1 >= n:
                raise bad()
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif c == "[":
            i += 1
            negate = i < n and pattern[i] == "^"
            i += negate
            ranges: list[str] = []
            while True:
                if i < n and pattern[i] == "]" and ranges:
                    i += 1
                    break
                lo, i = class_char(i)
                hi = lo
                if i < n and pattern[i] == "-":
                    hi, i = class_char(i + 1)
                    if hi < lo:
                        raise bad()
                ranges.append(f"{re.escape(lo)}-{re.escape(hi)}")
            out.append(f"[{'^/' if negate else ''}{''.join(ranges)}]")
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out), re.DOTALL)
