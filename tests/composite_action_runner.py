"""A stand-in for the GitHub Actions runner, for composite actions only -- test code.

No runner for composite actions installs here (nektos/act needs Docker; @github/local-action runs
only JavaScript actions), so this module does what the runner does with a composite
``action.yml``, step by step, on this machine:

- inputs: the ``with:`` values, else each input's ``default`` (itself an expression, e.g.
  ``${{ github.actor }}``); a required input missing is an error, as on GitHub;
- expressions ``${{ ... }}`` over the ``inputs``, ``steps``, ``github``, ``runner`` and ``env``
  contexts with literals, ``==``/``!=``/``&&``/``||``/``!``, parentheses and the status functions
  ``success()``/``failure()``/``always()``/``cancelled()``; ``if:`` is an expression without
  braces, default ``success()``; comparisons of strings are case-insensitive, as on GitHub;
- ``run:`` steps in ``bash --noprofile --norc -eo pipefail {0}`` (GitHub's ``shell: bash``), with
  the ``GITHUB_*``/``RUNNER_*`` variables, ``GITHUB_ACTION_PATH``, the step's ``env:``, a fresh
  ``GITHUB_OUTPUT`` file per step, and ``GITHUB_ENV``/``GITHUB_PATH``/``GITHUB_STEP_SUMMARY``
  files whose content carries over to later steps as the runner's file commands do (both the
  ``name=value`` and the ``name<<DELIMITER`` forms);
- workflow commands on stdout: ``::add-mask::`` (the value is replaced by ``***`` in the log the
  runner keeps), ``::error``/``::warning`` (collected as annotations);
- the action's ``outputs`` evaluated after the last step.

Not implemented (the attest action uses none of it): ``uses:`` steps, ``shell`` other than bash,
``working-directory``, ``continue-on-error``, ``timeout-minutes``, functions other than the status
ones, object filters and indexing.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_.-]*(?:\(\))?))"
)
_COMMAND = re.compile(r"^::(?P<cmd>[a-z-]+)(?: [^:]*)?::(?P<value>.*)$")


class ActionError(Exception):
    """The action.yml is not something the runner would run."""


@dataclass
class StepResult:
    name: str
    id: str | None
    outcome: str  # success | failure | skipped
    outputs: dict[str, str]
    log: str


@dataclass
class ActionRun:
    """What a run of the action left behind."""

    conclusion: str  # success | failure
    outputs: dict[str, str]
    steps: list[StepResult]
    summary: str
    annotations: list[tuple[str, str]] = field(default_factory=list)  # (error|warning, text)
    masks: list[str] = field(default_factory=list)
    env_file: dict[str, str] = field(default_factory=dict)
    path_file: list[str] = field(default_factory=list)

    @property
    def log(self) -> str:
        return "\n".join(s.log for s in self.steps)


# -- expressions --------------------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ActionError(f"cannot parse expression at {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    """Recursive descent, GitHub's precedence: ``!`` > ``==``/``!=`` > ``&&`` > ``||``."""

    def __init__(self, text: str, contexts: dict[str, Any], status: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0
        self.contexts = contexts
        self.status = status

    def parse(self) -> Any:
        value = self._or()
        if self.i != len(self.tokens):
            raise ActionError(f"unexpected {self.tokens[self.i][1]!r}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self.i += 1
            right = self._and()
            left = left if _truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._eq()
        while self._peek() == "&&":
            self.i += 1
            right = self._eq()
            left = right if _truthy(left) else left
        return left

    def _eq(self) -> Any:
        left = self._unary()
        while self._peek() in ("==", "!="):
            op = self.tokens[self.i][1]
            self.i += 1
            right = self._unary()
            same = _loose(left) == _loose(right)
            left = same if op == "==" else not same
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self.i += 1
            return not _truthy(self._unary())
        if self._peek() == "(":
            self.i += 1
            value = self._or()
            if self._peek() != ")":
                raise ActionError("missing )")
            self.i += 1
            return value
        kind, text = self.tokens[self.i]
        self.i += 1
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if text.endswith("()"):
            return self._status_function(text[:-2])
        return self._lookup(text)

    def _status_function(self, name: str) -> bool:
        if name == "success":
            return self.status == "success"
        if name == "failure":
            return self.status == "failure"
        if name == "always":
            return True
        if name == "cancelled":
            return False
        raise ActionError(f"function {name}() is not supported by the stand-in runner")

    def _lookup(self, dotted: str) -> Any:
        parts = dotted.split(".")
        if parts[0] not in self.contexts:
            raise ActionError(f"unknown context {parts[0]!r} in {dotted!r}")
        value: Any = self.contexts[parts[0]]
        for part in parts[1:]:
            value = value.get(part) if isinstance(value, dict) else None
        return value


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, 0.0, "")


def _loose(value: Any) -> Any:
    """GitHub compares strings case-insensitively; null, booleans and numbers as themselves."""
    return value.casefold() if isinstance(value, str) else value


def _as_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def evaluate(text: str, contexts: dict[str, Any], status: str = "success") -> Any:
    return _Parser(text, contexts, status).parse()


def substitute(text: str, contexts: dict[str, Any], status: str = "success") -> str:
    """A string with every ``${{ expr }}`` replaced by its value."""
    return _EXPR.sub(lambda m: _as_string(evaluate(m.group(1), contexts, status)), text)


# -- file commands -----------------------------------------------------------------------------


def parse_file_command(text: str) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIM`` heredocs, as the runner reads GITHUB_OUTPUT/ENV."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ActionError(f"matching delimiter {delimiter!r} not found for {name!r}")
            i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        else:
            raise ActionError(f"invalid file command line {line!r}")
    return out


# -- the runner --------------------------------------------------------------------------------


def run_action(
    action_dir: Path,
    with_inputs: dict[str, str],
    *,
    workspace: Path,
    runner_temp: Path,
    env: dict[str, str],
    github: dict[str, Any] | None = None,
) -> ActionRun:
    """Run ``action_dir/action.yml`` the way the runner runs a ``uses: ./...`` step."""
    action = yaml.safe_load((action_dir / "action.yml").read_text())
    if action.get("runs", {}).get("using") != "composite":
        raise ActionError("not a composite action")
    github_ctx = {"actor": "release-bot", "workspace": str(workspace), **(github or {})}
    base_ctx: dict[str, Any] = {
        "github": github_ctx, "runner": {"temp": str(runner_temp), "os": "Linux"},
        "env": {}, "steps": {},
    }  # fmt: skip
    inputs: dict[str, str] = {}
    declared = action.get("inputs") or {}
    unknown = set(with_inputs) - set(declared)
    if unknown:
        raise ActionError(f"unexpected inputs {sorted(unknown)}")
    for name, spec in declared.items():
        if name in with_inputs:
            inputs[name] = with_inputs[name]
        elif spec.get("required") and "default" not in spec:
            raise ActionError(f"input required and not supplied: {name}")
        else:
            inputs[name] = substitute(str(spec.get("default", "")), {**base_ctx, "inputs": {}})
    contexts = {**base_ctx, "inputs": inputs}

    runner_temp.mkdir(parents=True, exist_ok=True)
    files = Path(tempfile.mkdtemp(prefix="file-commands-", dir=runner_temp))
    summary_file = files / "step_summary"
    env_file_values: dict[str, str] = {}
    path_entries: list[str] = []
    result = ActionRun("success", {}, [], "")
    status = "success"
    for index, step in enumerate(action["runs"]["steps"]):
        name = step.get("name") or step.get("id") or f"step {index}"
        if "run" not in step or step.get("shell") != "bash":
            raise ActionError(f"{name}: only `run:` steps with `shell: bash` are supported")
        condition = step.get("if", "success()")
        condition = condition.strip()
        if condition.startswith("${{") and condition.endswith("}}"):
            condition = condition[3:-2]
        if not re.search(r"\b(success|failure|always|cancelled)\(\)", condition):
            condition = f"success() && ({condition})"
        if not _truthy(evaluate(condition, contexts, status)):
            result.steps.append(StepResult(name, step.get("id"), "skipped", {}, ""))
            continue
        output_file = files / f"output_{index}"
        env_cmd_file = files / f"env_{index}"
        path_cmd_file = files / f"path_{index}"
        for f in (output_file, env_cmd_file, path_cmd_file):
            f.write_text("")
        step_env = {
            k: substitute(str(v), contexts, status) for k, v in (step.get("env") or {}).items()
        }
        script = files / f"step_{index}.sh"
        script.write_text(substitute(step["run"], contexts, status))
        full_env = {
            **env,
            **env_file_values,
            "PATH": ":".join([*reversed(path_entries), env.get("PATH", "/usr/bin:/bin")]),
            "CI": "true", "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace), "GITHUB_ACTION_PATH": str(action_dir),
            "GITHUB_ACTION": step.get("id") or f"__run_{index}",
            "GITHUB_OUTPUT": str(output_file), "GITHUB_ENV": str(env_cmd_file),
            "GITHUB_PATH": str(path_cmd_file), "GITHUB_STEP_SUMMARY": str(summary_file),
            "RUNNER_TEMP": str(runner_temp), "RUNNER_OS": "Linux",
            **step_env,
        }  # fmt: skip
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace, env=full_env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        log = _process_commands(proc.stdout, result) + proc.stderr
        for secret in result.masks:
            log = log.replace(secret, "***")
        outputs = parse_file_command(output_file.read_text())
        env_file_values.update(parse_file_command(env_cmd_file.read_text()))
        path_entries += [p for p in path_cmd_file.read_text().splitlines() if p.strip()]
        outcome = "success" if proc.returncode == 0 else "failure"
        result.steps.append(StepResult(name, step.get("id"), outcome, outputs, log))
        if step.get("id"):
            contexts["steps"][step["id"]] = {"outputs": outputs, "outcome": outcome,
                                             "conclusion": outcome}  # fmt: skip
        if outcome == "failure":
            status = "failure"
    result.conclusion = status
    result.outputs = {
        name: substitute(str(spec.get("value", "")), contexts, status)
        for name, spec in (action.get("outputs") or {}).items()
    }
    result.summary = summary_file.read_text() if summary_file.exists() else ""
    result.env_file = env_file_values
    result.path_file = path_entries
    return result


def _process_commands(stdout: str, result: ActionRun) -> str:
    """Act on workflow commands (mask, annotations) and return the log the runner would keep."""
    kept = []
    for line in stdout.splitlines():
        m = _COMMAND.match(line)
        if m and m.group("cmd") == "add-mask":
            if m.group("value"):
                result.masks.append(m.group("value"))
            continue
        if m and m.group("cmd") in ("error", "warning", "notice"):
            result.annotations.append((m.group("cmd"), m.group("value")))
        kept.append(line)
    return "\n".join(kept) + ("\n" if kept else "")


def expressions_in_scripts(action_dir: Path) -> list[str]:
    """Every ``${{ }}`` spliced into a ``run:`` script (the action must have none)."""
    action = yaml.safe_load((action_dir / "action.yml").read_text())
    steps = action["runs"]["steps"]
    return [m.group(0) for step in steps for m in _EXPR.finditer(step.get("run", ""))]


def os_environ_for_runner() -> dict[str, str]:
    """A clean environment like a hosted runner's: HOME, PATH, locale; nothing of the caller."""
    return {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR")}
