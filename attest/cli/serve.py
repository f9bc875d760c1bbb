"""`attest serve`: the Gatekeeper external-data provider (see docs/admission.md)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from attest.cli.app import cli
from attest.cli.trust_options import verify_request_options
from attest.errors import UsageError

FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


def _address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UsageError(f"address {value!r}: expected HOST:PORT, e.g. 0.0.0.0:8443")
    return host.strip("[]") or "0.0.0.0", int(port)


@cli.command()
@click.option("--addr", default="0.0.0.0:8443", show_default=True, help="HOST:PORT to listen on.")
@click.option("--tls-cert", type=FILE, required=True, help="Server certificate chain (PEM).")
@click.option("--tls-key", type=FILE, required=True, help="Server private key (PEM).")
@click.option("--client-ca", type=FILE,
              help="Require client certificates signed by this CA (Gatekeeper's).")  # fmt: skip
@click.option("--health-addr", help="Plain-HTTP HOST:PORT for /healthz, /readyz and /metrics "
              "(probes and Prometheus present no client certificate), e.g. 0.0.0.0:8080.")
@click.option("--config", "config_file", type=FILE, help="Provider config: per-registry settings.")
@verify_request_options
@click.option("--deadline", type=click.FloatRange(0.1, 29.0), default=2.5, show_default=True,
              help="Seconds to answer /validate in; below the Provider timeout.")  # fmt: skip
@click.option("--cache-ttl", type=click.FloatRange(0), default=300.0, show_default=True,
              help="Seconds a verification result is reused (by digest).")  # fmt: skip
@click.option("--cache-size", type=click.IntRange(1), default=10_000, show_default=True,
              help="Most verification results kept.")  # fmt: skip
@click.option("--tag-ttl", type=click.FloatRange(0), default=10.0, show_default=True,
              help="Seconds a tag->digest resolution is reused (0: always resolve).")  # fmt: skip
@click.option("--workers", type=click.IntRange(1, 256), default=8, show_default=True,
              help="Verifications running at once.")  # fmt: skip
@click.option("--max-connections", type=click.IntRange(1, 10_000), default=256, show_default=True)
def serve(
    addr: str, tls_cert: Path, tls_key: Path, client_ca: Path | None, health_addr: str | None,
    config_file: Path | None, request: Any, deadline: float, cache_ttl: float,
    cache_size: int, tag_ttl: float, workers: int, max_connections: int,
) -> None:  # fmt: skip
    """Serve Gatekeeper external data over HTTPS: POST /validate verifies each model reference
    (as `attest verify --policy` does, with the same trust and policy flags) and answers a
    ProviderResponse."""
    from attest.admission.config import load_config
    from attest.admission.server import (
        HealthServer,
        ProviderServer,
        ServerSettings,
        configure_json_logging,
        serve_forever,
    )
    from attest.admission.validate import Validator, ValidatorSettings
    from attest.policy.loader import load_params, load_policy
    from attest.verify.verifier import load_trusted_root

    host, port = _address(addr)
    options = request.verify_options()
    if request.key is None and not request.identity.given and request.notation is None:
        raise UsageError(
            "attest serve trusts nothing by default: give --key, --identity/--identity-regexp "
            "with --issuer, or a notation trust policy",
            hint="a provider without trust would deny every model (docs/admission.md)",
        )
    if request.identity.given:
        request.identity.sigstore_policy()  # a bad identity flag fails now, not per request
        options.trusted_root = load_trusted_root(options)
    policy_source = request.policy_source
    if policy_source and not Path(policy_source).exists():
        # a policy from a registry is obeyed only once its own signature verifies, pinned
        from attest.policy.signing import verify_policy_bundle

        policy_source = verify_policy_bundle(policy_source, options, request.store_options)
    config = load_config(config_file)
    if request.plain_http or request.insecure:  # the flags are the default registry settings
        config = replace(config, default=replace(
            config.default, plain_http=request.plain_http, insecure=request.insecure))
    settings = ValidatorSettings(
        verify=options, policy=load_policy(policy_source), params=load_params(request.params),
        engine=request.engine, opa_url=request.opa_url, entrypoint=request.entrypoint,
        mode=request.mode, config=config, cache_ttl=cache_ttl, cache_size=cache_size,
        tag_ttl=tag_ttl, workers=workers, registry_timeout=max(0.5, deadline * 0.8),
        login=request.login,
    )  # fmt: skip
    configure_json_logging()
    server = ProviderServer(
        ServerSettings(host, port, tls_cert, tls_key, client_ca, deadline, max_connections),
        Validator(settings),
    )
    health = HealthServer(*_address(health_addr), server) if health_addr else None
    serve_forever(server, health)
