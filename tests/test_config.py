"""attest.config: flags > ATTEST_* environment > project config > user config > defaults, through
the real CLI in process (click's default_map and envvar), with a temporary HOME/XDG_CONFIG_HOME."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from attest import config
from attest.cli import cli
from tests.helpers import make_model_dir

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean user: HOME and XDG_CONFIG_HOME in tmp, no ATTEST_* variables, cwd in a fresh
    git repository (tmp/repo/sub) so no config from the machine running the tests is read."""
    for name in list(os.environ):
        if name.startswith("ATTEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "repo" / "sub")
    return tmp_path


def user_config(home: Path, text: str) -> Path:
    path = home / "xdg" / "attest" / "config.toml"  # platformdirs' place on Linux
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def project_config(home: Path, text: str, name: str = "attest.toml") -> Path:
    path = home / "repo" / name
    path.write_text(text)
    return path


def attest(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def digest_format(home: Path, *flags: str) -> str:
    """What `attest digest` printed: json or text (its --format setting)."""
    model = home / "model"
    if not model.exists():
        make_model_dir(model)
    result = attest("digest", str(model), "--no-cache", *flags)
    assert result.exit_code == 0, result.output
    return "json" if result.stdout.lstrip().startswith("[") else "text"


def shown(*args: str) -> dict[str, tuple[object, str]]:
    result = attest("config", "show", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return {s["key"]: (s["value"], s["origin"]) for s in json.loads(result.stdout)["settings"]}


def test_each_precedence_step(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert digest_format(home) == "text"  # the default
    user = user_config(home, '[digest]\nformat = "json"\n')
    assert digest_format(home) == "json"  # user config over the default
    assert shown("digest")["digest.format"] == ("json", f"file:{user}")
    project = project_config(home, '[digest]\nformat = "text"\n')
    assert digest_format(home) == "text"  # project config over the user's
    assert shown("digest")["digest.format"] == ("text", f"file:{project}")
    monkeypatch.setenv("ATTEST_DIGEST_FORMAT", "json")
    assert digest_format(home) == "json"  # environment over the project config
    assert shown("digest")["digest.format"] == ("json", "env:ATTEST_DIGEST_FORMAT")
    assert digest_format(home, "--format", "text") == "text"  # the flag over everything


def test_shared_settings_top_level_and_env(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = user_config(home, 'referrers-mode = "tag"\n[copy]\nreferrers-mode = "api"\n')
    got = shown()
    assert got["verify.referrers-mode"] == ("tag", f"file:{user}")  # top level: every command
    assert got["copy.referrers-mode"] == ("api", f"file:{user}")  # the command's own wins
    project = project_config(home, 'referrers-mode = "auto"\n')
    got = shown()  # a higher level's shared key beats a lower level's command key
    assert got["copy.referrers-mode"] == ("auto", f"file:{project}")
    monkeypatch.setenv("ATTEST_REFERRERS_MODE", "api")
    monkeypatch.setenv("ATTEST_VERIFY_REFERRERS_MODE", "tag")
    got = shown()
    assert got["copy.referrers-mode"] == ("api", "env:ATTEST_REFERRERS_MODE")
    assert got["verify.referrers-mode"] == ("tag", "env:ATTEST_VERIFY_REFERRERS_MODE")


def test_click_receives_env_and_file_values(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The values reach the command itself: a bad one is refused by the option's own check."""
    project_config(home, 'referrers-mode = "tag"\n')
    monkeypatch.setenv("ATTEST_REFERRERS_MODE", "bogus")
    result = attest("referrers", f"oci:{home}/nothing")
    assert result.exit_code == 2 and "'bogus' is not one of" in result.output


def test_pyproject_tool_section_and_nested_commands(home: Path) -> None:
    pyproject = project_config(
        home, '[project]\nname = "x"\n[tool.attest.policy.test]\nrun = "only_this"\n',
        name="pyproject.toml",
    )  # fmt: skip
    assert shown("policy")["policy.test.run"] == ("only_this", f"file:{pyproject}")
    own = project_config(home, '[policy.test]\nrun = "that"\n')  # attest.toml wins beside it
    assert shown("policy")["policy.test.run"] == ("that", f"file:{own}")


def test_search_stops_at_the_repository_root(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "attest.toml").write_text('[digest]\nformat = "json"\n')  # above the repository
    assert "digest.format" not in shown()
    monkeypatch.chdir(home / "repo")
    (home / "repo" / ".git").rmdir()  # no repository: up to the filesystem root
    assert shown()["digest.format"][1] == f"file:{home / 'attest.toml'}"


def test_paths_are_relative_to_their_file(home: Path) -> None:
    project = project_config(home, '[pack]\nmodelfile = "model/Modelfile"\n')
    assert shown("pack")["pack.modelfile"][0] == str(project.parent / "model/Modelfile")
    user = user_config(home, '[verify]\ntrust-config = "~/trust/client.json"\n')
    assert shown("verify")["verify.trust-config"] == (
        str(home / "home" / "trust/client.json"), f"file:{user}")


@pytest.mark.parametrize(
    "text", ['[verify]\nidentity-regexp = ".*"\n', "[verify]\nallow-dev-key = true\n",
             "insecure = true\n", '[policy.test]\nengine = "opa"\n',
             '[tool.attest.verify]\npolicy = "permissive.rego"\n'],
)  # fmt: skip
def test_a_project_config_cannot_decide_trust(home: Path, text: str) -> None:
    """A cloned repository's attest.toml must not widen what `attest verify` accepts."""
    name = "pyproject.toml" if text.startswith("[tool.") else "attest.toml"
    path = project_config(home, text, name=name)
    result = attest("config", "show")
    assert result.exit_code == 2
    assert f"{path}: '" in result.output and "decides what attest trusts" in result.output
    path.unlink()
    user_config(home, text.replace("tool.attest.", ""))  # the user's own config may
    assert attest("config", "show").exit_code == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[verify]\npolcy = "x"\n', "unknown key 'verify.polcy' (did you mean 'verify.policy'?)"),
        ('verfy = 1\n', "unknown key 'verfy' (did you mean 'verify'?)"),
        ('[nosuchcommand]\n', "unknown key 'nosuchcommand'"),
        ('verify = "x"\n', "'verify' must be a table"),
        ('[copy]\nreferrers-mode = "sideways"\n', "copy.referrers-mode: 'sideways' is not one"),
        ('[copy]\ninsecure = "yes"\n', "copy.insecure: expected true or false"),
        ('[attach]\nannotation = "a=b"\n', "attach.annotation: expected a list"),
        ('[digest]\nconcurrency = 0\n', "digest.concurrency: 0 is not in the range"),
        ("[digest\n", "not valid TOML"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ],
)
def test_bad_config_is_one_usage_line_naming_file_and_key(
    home: Path, text: str, message: str
) -> None:
    path = user_config(home, text)
    result = attest("config", "show")
    assert result.exit_code == 2, result.output
    assert f"{path}: " in result.output and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_oversized_and_odd_files_are_refused(home: Path) -> None:
    path = user_config(home, "# " + "x" * config.MAX_CONFIG_BYTES + "\n")
    result = attest("config", "show")
    assert result.exit_code == 2 and f"{path}: config is larger than" in result.output
    path.unlink()
    path.mkdir()
    result = attest("config", "show")
    assert result.exit_code == 2 and "not a regular file" in result.output


def test_console_script_prints_attest_error_prefix(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from attest.cli import main

    user_config(home, "[verify]\nbogus = 1\n")
    monkeypatch.setattr("sys.argv", ["attest", "config", "show"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("attest: error: ")


def test_group_flags_are_settings_too(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = user_config(home, "quiet = true\n")
    assert shown()["quiet"] == (True, f"file:{user}")
    monkeypatch.setenv("ATTEST_VERBOSE", "2")
    assert shown()["verbose"] == ("2", "env:ATTEST_VERBOSE")


def test_show_lists_defaults_with_all_and_text_is_git_like(home: Path) -> None:
    result = attest("config", "show", "copy", "--all")
    assert result.exit_code == 0
    assert "default\tcopy.referrers-mode=auto" in result.stdout.splitlines()
    assert attest("config", "show", "nosuch").exit_code == 2
    paths = attest("config", "path").stdout
    assert f"user: {home / 'xdg' / 'attest' / 'config.toml'}" in paths


def test_user_config_dir_is_platformdirs_unless_overridden(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert config.user_config_file() == home / "home" / ".config" / "attest" / "config.toml"
    monkeypatch.setenv("ATTEST_CONFIG_DIR", str(home / "elsewhere"))
    assert config.user_config_file() == home / "elsewhere" / "config.toml"


def test_variable_names_are_unique_and_follow_the_flags() -> None:
    config.bind_environment(cli)
    owners: dict[str, str] = {}
    for s in config.settings(cli):
        own = s.envvars[0]
        assert own not in owners, f"{own} names both {owners[own]} and {s.dotted}"
        owners[own] = s.dotted
    names = {s.dotted: s.envvars for s in config.settings(cli)}
    assert names["verify.policy"] == ("ATTEST_VERIFY_POLICY",)
    assert names["verify.referrers-mode"] == ("ATTEST_VERIFY_REFERRERS_MODE",
                                              "ATTEST_REFERRERS_MODE")  # fmt: skip
    assert names["policy.test.run"] == ("ATTEST_POLICY_TEST_RUN",)
    assert "ATTEST_VERSION" not in owners  # --version holds no value (action.yml sets it)


def test_docs_list_every_setting() -> None:
    """docs/configuration.md's tables are generated from the command tree; a new option without
    a regenerated page fails here (run scripts/config_doc.py)."""
    import importlib.util

    script = DOC.parents[1] / "scripts" / "config_doc.py"
    spec = importlib.util.spec_from_file_location("config_doc", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = DOC.read_text()
    assert module.rewritten(text, cli) == text, "docs/configuration.md is stale: " \
        "run .venv/bin/python scripts/config_doc.py"
    for s in config.settings(cli):
        assert f"`{s.envvars[0]}`" in text
