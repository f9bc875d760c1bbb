"""A STAND-IN for the Kubeflow Model Registry REST server (no real server can run here: it is
a Go build plus MySQL/PostgreSQL). It implements the paths the official 0.3.x client uses to
register and read a model version, in memory, under either API prefix (``v1`` as the client
speaks, or ``v1alpha3`` as the repository's OpenAPI document serves). Every request body it
receives and every response it sends is validated against the component schemas of the upstream
OpenAPI document (testdata/vectors/model-registry/model-registry.yaml); a mismatch answers 500
and is recorded in ``schema_errors`` so a test sees it.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

OPENAPI = Path(__file__).parent.parent / "testdata/vectors/model-registry/model-registry.yaml"


def _validator_factory() -> Any:
    document = yaml.safe_load(OPENAPI.read_text())
    # OpenAPI 3.0 schema objects are (close to) JSON Schema draft 7
    resource = Resource.from_contents(document, default_specification=DRAFT7)
    registry: Registry = Registry().with_resource("urn:mr", resource)

    def validate(name: str, instance: Any) -> None:
        schema = {"$ref": f"urn:mr#/components/schemas/{name}"}
        jsonschema.Draft7Validator(schema, registry=registry).validate(instance)

    return validate


@dataclass
class StandInState:
    prefix: str
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> artifact
    artifact_parent: dict[str, str] = field(default_factory=dict)  # artifact id -> version id
    requests: list[tuple[str, str]] = field(default_factory=list)
    schema_errors: list[str] = field(default_factory=list)
    next_id: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id - 1)


class ModelRegistryStandIn:
    """``with ModelRegistryStandIn(prefix="/api/model_registry/v1") as mr: mr.url ...``"""

    def __init__(self, prefix: str = "/api/model_registry/v1") -> None:
        self.state = StandInState(prefix)
        validate = _validator_factory()
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: Any, schema: str | None = None) -> None:
                if schema:
                    try:
                        validate(schema, body)
                    except jsonschema.ValidationError as e:
                        state.schema_errors.append(f"response {schema}: {e.message}")
                        status, body = 500, {"code": "500", "message": f"stand-in: {e.message}"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _not_found(self, what: str) -> None:
                self._send(404, {"code": "404", "message": f"{what} not found"}, "Error")

            def _body(self, schema: str) -> dict[str, Any] | None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                try:
                    validate(schema, body)
                except jsonschema.ValidationError as e:
                    state.schema_errors.append(f"request {schema}: {e.message}")
                    self._send(400, {"code": "400", "message": e.message}, "Error")
                    return None
                return body

            def _route(self, method: str) -> None:
                url = urlparse(self.path)
                state.requests.append((method, url.path))
                if not url.path.startswith(state.prefix + "/"):
                    self._not_found(url.path)
                    return
                parts = url.path[len(state.prefix) + 1 :].split("/")
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                with state.lock:
                    self._dispatch(method, parts, query)

            def _dispatch(self, method: str, parts: list[str], q: dict[str, str]) -> None:
                now = str(int(time.time() * 1000))
                if method == "GET" and parts == ["registered_models"]:
                    items = list(state.models.values())[: int(q.get("pageSize", "100"))]
                    self._send(200, _page(items), "RegisteredModelList")
                elif method == "GET" and parts == ["registered_model"]:
                    found = [m for m in state.models.values() if m["name"] == q.get("name")]
                    if found:
                        self._send(200, found[0], "RegisteredModel")
                    else:
                        self._not_found("registered model")
                elif method == "POST" and parts == ["registered_models"]:
                    body = self._body("RegisteredModelCreate")
                    if body is None:
                        return
                    if any(m["name"] == body["name"] for m in state.models.values()):
                        self._send(409, {"code": "409", "message": "exists"}, "Error")
                        return
                    model = {**body, "id": state.new_id(), "createTimeSinceEpoch": now,
                             "lastUpdateTimeSinceEpoch": now}  # fmt: skip
                    model.setdefault("customProperties", {})
                    state.models[model["id"]] = model
                    self._send(201, model, "RegisteredModel")
                elif method == "GET" and parts == ["model_version"]:
                    found = [v for v in state.versions.values()
                             if v["name"] == q.get("name")
                             and v["registeredModelId"] == q.get("parentResourceId")]  # fmt: skip
                    if found:
                        self._send(200, found[0], "ModelVersion")
                    else:
                        self._not_found("model version")
                elif method == "POST" and parts == ["model_versions"]:
                    body = self._body("ModelVersionCreate")
                    if body is None:
                        return
                    if body["registeredModelId"] not in state.models:
                        self._not_found("registered model")
                        return
                    version = {**body, "id": state.new_id(), "createTimeSinceEpoch": now,
                               "lastUpdateTimeSinceEpoch": now}  # fmt: skip
                    version.setdefault("customProperties", {})
                    state.versions[version["id"]] = version
                    self._send(201, version, "ModelVersion")
                elif len(parts) == 3 and parts[0] == "model_versions" and parts[2] == "artifacts":
                    if parts[1] not in state.versions:
                        self._not_found("model version")
                    elif method == "POST":
                        body = self._body("ModelArtifactCreate")
                        if body is None:
                            return
                        art = {**body, "id": state.new_id(), "createTimeSinceEpoch": now,
                               "lastUpdateTimeSinceEpoch": now}  # fmt: skip
                        art.setdefault("customProperties", {})
                        state.artifacts[art["id"]] = art
                        state.artifact_parent[art["id"]] = parts[1]
                        self._send(201, art, "ModelArtifact")
                    else:
                        items = [a for i, a in state.artifacts.items()
                                 if state.artifact_parent[i] == parts[1]]  # fmt: skip
                        self._send(200, _page(items), "ArtifactList")
                elif method == "GET" and parts == ["model_artifact"]:
                    found = [a for i, a in state.artifacts.items()
                             if state.artifact_parent[i] == q.get("parentResourceId")
                             and (not q.get("name") or a.get("name") == q.get("name"))]  # fmt: skip
                    if found:
                        self._send(200, found[0], "ModelArtifact")
                    else:
                        self._not_found("model artifact")
                else:
                    self._send(404, {"code": "404", "message": "no such path in the stand-in"})

            def do_GET(self) -> None:  # noqa: N802
                self._route("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._route("POST")

            def do_PATCH(self) -> None:  # noqa: N802
                self._route("PATCH")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ModelRegistryStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.state.requests if r[0] != "GET"]


def _page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": items, "nextPageToken": "", "pageSize": max(len(items), 1),
            "size": len(items)}  # fmt: skip


if __name__ == "__main__":  # scripts/tutorial: serve until killed, print the URL first
    import sys

    stand_in = ModelRegistryStandIn(sys.argv[1] if len(sys.argv) > 1 else "/api/model_registry/v1")
    print(stand_in.url, flush=True)
    stand_in.server.serve_forever()
