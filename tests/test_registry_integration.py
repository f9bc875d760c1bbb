"""End to end against a real registry (Debian's docker-registry, CNCF Distribution 2.8.2:
no Referrers API, so the fallback tag is exercised) and the Referrers API stand-in."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import requests

from attest.oci import mediatypes as mt
from attest.oci.reference import fallback_tag
from tests.helpers import make_model_dir, run_attest


def attest(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_attest(*args, cwd=cwd)


def ok_json(*args: str) -> dict:
    proc = attest(*args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_round_trip_through_real_registry(registry, tmp_path: Path) -> None:
    model = make_model_dir(tmp_path / "model")
    packed = ok_json("pack", str(model), "--to", f"oci:{tmp_path}/a:v1")
    remote = f"{registry.ref}:v1"
    pushed = ok_json("copy", f"oci:{tmp_path}/a:v1", remote)
    assert pushed["digest"] == packed["digest"]

    (tmp_path / "sbom.json").write_text('{"bomFormat": "CycloneDX"}')
    (tmp_path / "card.md").write_text("# Card\n")
    sbom = ok_json("attach", remote, str(tmp_path / "sbom.json"),
                   "--artifact-type", "application/vnd.cyclonedx+json",
                   "--annotation", "org.example.kind=sbom")  # fmt: skip
    card = ok_json("attach", remote, str(tmp_path / "card.md"),
                   "--artifact-type", "text/markdown")  # fmt: skip
    # attaching twice the same content is idempotent in the index (no duplicate entry)
    listed = ok_json("referrers", remote)
    assert {r["digest"] for r in listed["referrers"]} == {sbom["digest"], card["digest"]}
    only = ok_json("referrers", remote, "--artifact-type", "text/markdown")
    assert [r["digest"] for r in only["referrers"]] == [card["digest"]]

    # the fallback index, read straight from the registry, is what the spec says
    tag = fallback_tag(packed["digest"])
    resp = requests.get(
        f"{registry.url}/v2/{registry.repo}/manifests/{tag}", headers={"Accept": mt.OCI_INDEX}
    )
    assert resp.status_code == 200 and resp.headers["Content-Type"] == mt.OCI_INDEX
    index = resp.json()
    assert index["schemaVersion"] == 2 and index["mediaType"] == mt.OCI_INDEX
    entries = {e["digest"]: e for e in index["manifests"]}
    assert set(entries) == {sbom["digest"], card["digest"]}
    assert entries[sbom["digest"]]["artifactType"] == "application/vnd.cyclonedx+json"
    assert entries[sbom["digest"]]["annotations"]["org.example.kind"] == "sbom"
    assert mt.ANNOTATION_CREATED in entries[card["digest"]]["annotations"]
    assert all(e["mediaType"] == mt.OCI_MANIFEST for e in entries.values())
    referrer = requests.get(
        f"{registry.url}/v2/{registry.repo}/manifests/{sbom['digest']}",
        headers={"Accept": mt.OCI_MANIFEST},
    ).json()
    assert referrer["subject"]["digest"] == packed["digest"]
    assert referrer["config"] == mt.EMPTY_DESCRIPTOR

    # copy back into a fresh layout: same digests, referrers included
    back = ok_json("copy", remote, f"oci:{tmp_path}/fresh:v1")
    assert back["digest"] == packed["digest"]
    assert set(back["referrers"]) == {sbom["digest"], card["digest"]}
    fresh = ok_json("referrers", f"oci:{tmp_path}/fresh:v1")
    assert {r["digest"] for r in fresh["referrers"]} == {sbom["digest"], card["digest"]}
    a = ok_json("inspect", f"oci:{tmp_path}/a:v1")
    b = ok_json("inspect", f"oci:{tmp_path}/fresh:v1")
    assert a["layers"] == b["layers"] and a["config"] == b["config"]
    pulled = tmp_path / "pulled"
    ok_json("pull", remote, "-o", str(pulled))
    assert (pulled / "model.safetensors").read_bytes() == (model / "model.safetensors").read_bytes()


def test_pack_straight_to_registry(registry, tmp_path: Path) -> None:
    model = make_model_dir(tmp_path / "model")
    first = ok_json("pack", str(model), "--to", f"{registry.ref}:v1", "--no-creation-time")
    again = ok_json("pack", str(model), "--to", f"{registry.ref}:v2", "--no-creation-time")
    assert first["digest"] == again["digest"]
    assert again["blobsUploaded"] == 0  # existing blobs are not re-uploaded
    info = ok_json("inspect", f"{registry.ref}@{first['digest']}")
    assert info["digest"] == first["digest"]


def test_referrers_api_stand_in(referrers_api_registry, tmp_path: Path) -> None:
    server = referrers_api_registry
    model = make_model_dir(tmp_path / "model")
    remote = f"{server.host}/models/tiny:v1"
    subject = ok_json("pack", str(model), "--to", remote)["digest"]
    digests = []
    for i in range(3):  # more than one page (page size 2)
        (tmp_path / f"doc{i}.md").write_text(f"# doc {i}\n")
        kind = "text/markdown" if i < 2 else "application/spdx+json"
        digests.append(
            ok_json("attach", remote, str(tmp_path / f"doc{i}.md"), "--artifact-type", kind)[
                "digest"
            ]
        )
    # the registry answered OCI-Subject: no fallback tag was written
    tags = requests.get(f"{server.url}/v2/models/tiny/tags/list").json()["tags"]
    assert fallback_tag(subject) not in tags
    listed = ok_json("referrers", remote, "--referrers-mode", "api")
    assert {r["digest"] for r in listed["referrers"]} == set(digests)
    # OCI-Filters-Applied absent: the client filters itself
    md = ok_json("referrers", remote, "--artifact-type", "text/markdown")
    assert {r["digest"] for r in md["referrers"]} == set(digests[:2])
    server.apply_filters = True
    md = ok_json("referrers", remote, "--artifact-type", "application/spdx+json")
    assert [r["digest"] for r in md["referrers"]] == [digests[2]]

    # the API goes away (404): pushes maintain the fallback tag, discovery reads it
    server.referrers_api = False
    (tmp_path / "late.md").write_text("# late\n")
    late = ok_json("attach", remote, str(tmp_path / "late.md"), "--artifact-type", "text/plain")
    assert (
        fallback_tag(subject)
        in requests.get(f"{server.url}/v2/models/tiny/tags/list").json()["tags"]
    )
    listed = ok_json("referrers", remote)
    assert [r["digest"] for r in listed["referrers"]] == [late["digest"]]
    proc = attest("referrers", remote, "--referrers-mode", "api")
    assert proc.returncode == 3 and "Referrers API" in proc.stderr


def test_pack_shows_upload_progress(registry, tmp_path: Path, monkeypatch) -> None:
    """On a terminal, pushing to a registry draws a byte bar on stderr (through the
    seekable progress reader), and the artifact is the same as without it."""
    import io
    import sys

    from attest.modelpack.pack import pack
    from attest.oci.registry import RegistryStore

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.delenv("CI", raising=False)
    model = make_model_dir(tmp_path / "model")
    store = RegistryStore(registry.host, registry.repo, plain_http=True)
    shown = pack(model, store, "v1", creation_time=False, progress=None)
    assert "push " in terminal.getvalue() and "100%" in terminal.getvalue()  # rich's bar
    quiet_from = len(terminal.getvalue())
    quiet = pack(model, store, "v2", creation_time=False, progress=False)
    assert "push" not in terminal.getvalue()[quiet_from:]
    assert shown.descriptor.digest == quiet.descriptor.digest
