"""Registry credentials on the command line: ``--username`` with ``--password-stdin``,
``--registry-config``, and copy's ``--from-*``/``--to-*``, against the real docker-registry with
htpasswd auth, through the real CLI entry point in process (stdin fed by click's CliRunner)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from attest.cli import main
from attest.oci.registry import Credentials, Login, RegistryStore, resolve_credentials
from attest.oci.store import Descriptor
from tests.helpers import REPO_ROOT
from tests.referrers_api_server import ReferrersApiServer
from tests.registry_fixtures import Registry, RegistryServer, run_docker_registry

MODEL = REPO_ROOT / "testdata" / "models" / "tiny-llm"
OTHER_USER, OTHER_PASSWORD = "robot-b", "b-Pass-42!"


def attest(*args: str, stdin: str | None = None, tty: bool = False) -> tuple[int, str, str]:
    """The real entry point in process: (exit code, stdout, stderr)."""
    old_argv = sys.argv
    with CliRunner().isolation(input=stdin) as (out, err, _):
        sys.argv = ["attest", *args]
        master = slave = None
        try:
            if tty:
                master, slave = os.openpty()
                sys.stdin = open(slave, closefd=False)  # noqa: SIM115 - closed below
            main()
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        finally:
            sys.argv = old_argv
            if master is not None and slave is not None:
                sys.stdin.close()
                os.close(master)
                os.close(slave)
        return code, out.getvalue().decode(), err.getvalue().decode()


def one_error_line(err: str) -> str:
    """The error line; apart from it stderr holds at most its hint (and what -v/-vv asked)."""
    verbose = ("attest: DEBUG:", "attest: INFO:")
    lines = [ln for ln in err.splitlines() if not ln.startswith(verbose)]
    errors = [line for line in lines if line.startswith("attest: error:")]
    rest = [line for line in lines if not line.startswith(("attest: error:", "  hint:"))]
    assert len(errors) == 1 and not rest, err
    return errors[0]


def docker_config(path: Path, host: str, user: str, password: str) -> Path:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return path


@pytest.fixture(autouse=True)
def no_ambient_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the developer's ~/.docker nor ATTEST_REGISTRY_* may make a test pass."""
    (tmp_path / "default-docker").mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "default-docker"))
    monkeypatch.delenv("ATTEST_REGISTRY_USERNAME", raising=False)
    monkeypatch.delenv("ATTEST_REGISTRY_PASSWORD", raising=False)


@pytest.fixture(scope="module")
def other_auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A second htpasswd docker-registry whose only account differs from the first's."""
    pytest.importorskip("bcrypt", reason="bcrypt (test extra) makes the htpasswd file")
    root = tmp_path_factory.mktemp("registry-auth-b")
    with run_docker_registry(root, basic_auth=True, username=OTHER_USER,
                             password=OTHER_PASSWORD) as server:  # fmt: skip
        yield server


def pack(reg: Registry, tag: str = "v1") -> str:
    ref = f"{reg.ref}:{tag}"
    code, out, err = attest(
        "pack", str(MODEL), "--to", ref, "--no-creation-time", "--format", "json",
        "-u", reg.username or "", "--password-stdin", stdin=f"{reg.password}\n",
    )  # fmt: skip
    assert code == 0, err
    return str(json.loads(out)["digest"])


def test_pack_and_pull_with_username_and_password_stdin(
    registry_basic_auth: Registry, tmp_path: Path
) -> None:
    reg = registry_basic_auth
    digest = pack(reg)
    code, _, err = attest(
        "pull", f"{reg.ref}:v1", "-o", str(tmp_path / "out"),
        "--username", reg.username or "", "--password-stdin", stdin=reg.password,
    )  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in MODEL.iterdir()
    )
    # without credentials the same registry refuses: the flags did the work
    code, _, err = attest("inspect", f"{reg.ref}@{digest}")
    assert code == 3 and "denied" in one_error_line(err) and "--password-stdin" in err


def test_wrong_password_exits_3_with_one_line_and_no_secret(
    registry_basic_auth: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "wrong-but-secret-Zq9"
    code, out, err = attest(
        "-vv", "pack", str(MODEL), "--to", f"{registry_basic_auth.ref}:v1",
        "-u", registry_basic_auth.username or "", "--password-stdin", stdin=secret,
    )  # fmt: skip
    assert code == 3
    line = one_error_line(err)
    assert "denied" in line and registry_basic_auth.host in line
    assert "--username/--password-stdin" in err  # the hint names where the credentials came from
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in out + err + logged
    assert base64.b64encode(f"attest:{secret}".encode()).decode() not in out + err + logged


def test_registry_config_replaces_the_default_and_flags_beat_it(
    registry_basic_auth: Registry, tmp_path: Path
) -> None:
    reg = registry_basic_auth
    digest = pack(reg)
    ref = f"{reg.ref}@{digest}"
    # the default docker config holds wrong credentials; the named one the right ones
    docker_config(tmp_path / "default-docker" / "config.json", reg.host, "attest", "stale")
    good = docker_config(tmp_path / "good.json", reg.host, reg.username or "", reg.password or "")
    bad = docker_config(tmp_path / "bad.json", reg.host, reg.username or "", "nope")
    assert attest("inspect", ref)[0] == 3  # the default config alone: refused
    code, out, err = attest("inspect", ref, "--registry-config", str(good))
    assert code == 0 and digest in out, err
    code, _, err = attest("inspect", ref, "--registry-config", str(bad))
    assert code == 3 and str(bad) in err  # the hint names the file the credentials came from
    # explicit flags win over --registry-config
    code, out, err = attest(
        "inspect", ref, "--registry-config", str(bad), "-u", reg.username or "",
        "--password-stdin", stdin=reg.password,
    )  # fmt: skip
    assert code == 0 and digest in out, err


def test_copy_between_registries_with_different_credentials(
    registry_basic_auth: Registry, other_auth_server: RegistryServer, tmp_path: Path
) -> None:
    src = registry_basic_auth
    digest = pack(src)
    dst_ref = f"{other_auth_server.host}/{src.repo}:copied"
    to_config = docker_config(tmp_path / "b.json", other_auth_server.host, OTHER_USER,
                              OTHER_PASSWORD)  # fmt: skip
    # one set of plain flags for both sides: the destination refuses the source's account
    code, _, err = attest(
        "copy", f"{src.ref}:v1", dst_ref, "-u", src.username or "", "--password-stdin",
        stdin=src.password,
    )  # fmt: skip
    assert code == 3 and other_auth_server.host in one_error_line(err)
    code, out, err = attest(
        "copy", f"{src.ref}:v1", dst_ref, "--format", "json",
        "--from-username", src.username or "", "--from-password-stdin",
        "--to-registry-config", str(to_config), stdin=src.password,
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["digest"] == digest
    code, out, err = attest(
        "inspect", dst_ref, "--format", "json", "--username", OTHER_USER, "--password-stdin",
        stdin=OTHER_PASSWORD,
    )  # fmt: skip
    assert code == 0 and json.loads(out)["digest"] == digest, err


def test_copy_credentials_stay_with_their_side(registry_basic_auth: Registry) -> None:
    """The source's credentials are not sent to the destination, although there they would
    be accepted: the stand-in's token service grants them to anyone who sends them."""
    src = registry_basic_auth
    pack(src)
    with ReferrersApiServer(
        token_auth=True, username=src.username, password=src.password
    ) as dst:  # fmt: skip
        dst_ref = f"{dst.host}/copied:v1"
        code, _, err = attest(
            "copy", f"{src.ref}:v1", dst_ref, "--from-username", src.username or "",
            "--from-password-stdin", stdin=src.password,
        )  # fmt: skip
        assert code == 3 and "anonymous access" in one_error_line(err)
        # the plain flags apply to both sides: now the destination gets them (control)
        code, _, err = attest(
            "copy", f"{src.ref}:v1", dst_ref, "-u", src.username or "", "--password-stdin",
            stdin=src.password,
        )  # fmt: skip
        assert code == 0, err


def test_explicit_credentials_go_only_to_the_registries_named() -> None:
    creds = Credentials("u", "pw-Secret-7", "--username/--password-stdin")
    login = Login.for_hosts(creds, ["reg.example:5000"])
    assert resolve_credentials("reg.example:5000", login=login) is creds
    assert resolve_credentials("reg.example", login=login) is None  # another port: another host
    assert resolve_credentials("other.example", login=login) is None
    assert "pw-Secret-7" not in repr(creds) + repr(login)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--password-stdin"], "pw", "--password-stdin needs --username"),
        (["-u", "me"], None, "--username needs --password-stdin"),
        (["-u", "me", "--password-stdin"], "", "--password-stdin: stdin is empty"),
        (["-u", "me", "--password-stdin"], "\n", "--password-stdin: stdin is empty"),
    ],
)
def test_credential_usage_errors(args: list[str], stdin: str | None, message: str) -> None:
    code, _, err = attest("inspect", "reg.example/m:v1", *args, stdin=stdin)
    assert code == 2 and message in one_error_line(err)


def test_password_stdin_refuses_a_terminal() -> None:
    code, _, err = attest("inspect", "reg.example/m:v1", "-u", "me", "--password-stdin", tty=True)
    assert code == 2 and "stdin is a terminal" in one_error_line(err)


def test_copy_reads_one_password_from_stdin() -> None:
    code, _, err = attest(
        "copy", "a.example/m:v1", "b.example/m:v1", "--from-username", "a",
        "--from-password-stdin", "--to-username", "b", "--to-password-stdin", stdin="pw",
    )  # fmt: skip
    assert code == 2 and "stdin holds one password" in one_error_line(err)


def test_username_needs_a_registry_to_go_to(tmp_path: Path) -> None:
    code, _, err = attest(
        "inspect", f"oci:{tmp_path}/layout:v1", "-u", "me", "--password-stdin", stdin="pw"
    )
    assert code == 2 and "names none" in one_error_line(err)


def test_a_registry_config_that_is_not_json_is_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    code, _, err = attest("inspect", "reg.example/m:v1", "--registry-config", str(bad))
    assert code == 2 and str(bad) in one_error_line(err)


class _Recorder(BaseHTTPRequestHandler):
    """A stand-in for blob storage on another host: records the Authorization it gets."""

    seen: list[str | None]
    body: bytes

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).seen.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


class _RedirectingRegistry(BaseHTTPRequestHandler):
    """A stand-in registry: basic auth, then a 307 to storage on another host (as registries
    backed by S3 or GCS answer blob GETs)."""

    expected: str
    storage: str

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.headers.get("Authorization") != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="stand-in"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(307)
        self.send_header("Location", f"{self.storage}{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_explicit_credentials_do_not_follow_a_redirect_to_another_host() -> None:
    blob = b"model bytes"
    desc = Descriptor("application/octet-stream", f"sha256:{hashlib.sha256(blob).hexdigest()}",
                      len(blob))  # fmt: skip
    creds = Credentials("robot", "pw-Secret-7", "--username/--password-stdin")
    recorder = type("Recorder", (_Recorder,), {"seen": [], "body": blob})
    with ThreadingHTTPServer(("127.0.0.1", 0), recorder) as storage:
        threading.Thread(target=storage.serve_forever, daemon=True).start()
        # "localhost" and "127.0.0.1" are different hosts to HTTP clients: storage is elsewhere
        handler = type("Registry", (_RedirectingRegistry,), {
            "expected": creds.basic_header(),
            "storage": f"http://localhost:{storage.server_address[1]}",
        })  # fmt: skip
        with ThreadingHTTPServer(("127.0.0.1", 0), handler) as registry:
            threading.Thread(target=registry.serve_forever, daemon=True).start()
            host = f"127.0.0.1:{registry.server_address[1]}"
            login = Login.for_hosts(creds, [host])
            with RegistryStore(host, "x/y", plain_http=True, login=login, retries=0) as store:
                assert store.fetch_blob(desc) == blob  # the credentials did open the registry
            registry.shutdown()
        storage.shutdown()
    assert recorder.seen == [None]  # and storage on the other host never saw them


def test_a_credential_helper_is_a_name_on_path_never_a_path(
    registry_basic_auth: Registry, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credsStore": "../../tmp/evil"}))
    # read when the registry first asks for credentials
    code, _, err = attest("inspect", f"{registry_basic_auth.ref}:v1", "--registry-config",
                          str(config))  # fmt: skip
    assert code == 2 and "not a plain name" in one_error_line(err)
