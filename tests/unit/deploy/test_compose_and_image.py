"""compose.yml and the Dockerfile agree with the process table, the workspace and the dev definitions."""

from __future__ import annotations

import importlib
import re
import tomllib
from urllib.parse import urlsplit

import pytest

from tests.support.deploy import DEPLOY, IMAGE, PROCESSES, ROOT, compose, dev_users, password_matches

SERVICES = compose()["services"]


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_every_process_runs_from_the_one_image_by_its_command(process) -> None:
    service = SERVICES[process.name]
    assert service["image"] == f"{IMAGE}:dev"
    assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert service["command"] == process.command


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_every_variable_a_process_reads_is_set(process) -> None:
    env = SERVICES[process.name]["environment"]
    assert set(process.env) <= set(env)
    assert env[process.port_variable] == str(process.port)
    assert env[f"{process.package.upper()}_HOST"] == "0.0.0.0"
    # APIs and workers alike: /healthz on their port (a worker's: every supervised task is running)
    assert env["HEALTHCHECK_URL"] == f"http://127.0.0.1:{process.port}/healthz"


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_every_process_is_restarted_when_it_exits(process) -> None:
    assert SERVICES[process.name]["restart"] == "unless-stopped"


@pytest.mark.parametrize("process", [p for p in PROCESSES if "AMQP_URL" in p.env], ids=lambda p: p.name)
def test_each_service_logs_in_as_its_own_least_privilege_user(process) -> None:
    url = urlsplit(SERVICES[process.name]["environment"]["AMQP_URL"])
    assert url.username == process.package
    assert password_matches(dev_users()[url.username], url.password or "")


def test_only_the_gateway_is_published_beyond_this_machine() -> None:
    public = {
        name for name, s in SERVICES.items() for port in s.get("ports", []) if not port.startswith("127.")
    }
    assert public == {"gateway"}
    assert SERVICES["gateway"]["ports"] == ["${GATEWAY_PORT:-8000}:8000"]


@pytest.mark.parametrize("process", [p for p in PROCESSES if p.package != "gateway"], ids=lambda p: p.name)
def test_internal_apis_and_workers_publish_no_port_on_the_host(process) -> None:
    # Issue 13: they answer on the compose network only (the gateway, and payments for orders).
    assert "ports" not in SERVICES[process.name]
    assert "network_mode" not in SERVICES[process.name]


def test_dependencies_wait_for_health_and_name_real_services() -> None:
    for name, service in SERVICES.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in SERVICES, (name, target)
            assert condition["condition"] == "service_healthy", (name, target)
            healthy = "healthcheck" in SERVICES[target] or "HEALTHCHECK_URL" in SERVICES[target].get(
                "environment", {}
            )
            assert healthy, f"{name} waits for {target}, which has no healthcheck"


def test_the_stripe_stand_in_is_dev_only_and_optional_for_payments() -> None:
    assert SERVICES["stripe-sim"]["profiles"] == ["dev"]
    assert SERVICES["payments-api"]["depends_on"]["stripe-sim"]["required"] is False
    sim = SERVICES["stripe-sim"]["environment"]
    assert sim["STRIPE_SIM_WEBHOOK_URL"] == "http://gateway:8000/payment/webhook/"


def test_rabbitmq_loads_the_dev_definitions_at_boot() -> None:
    rabbit = SERVICES["rabbitmq"]
    assert rabbit["image"] == "rabbitmq:3-management"
    mounts = dict(v.rsplit(":", 2)[:2] for v in rabbit["volumes"] if v.startswith("./"))
    assert mounts["./rabbitmq/definitions.dev.json"] == "/etc/rabbitmq/definitions.json"
    config = (DEPLOY / "rabbitmq" / "rabbitmq.conf").read_text()
    assert "load_definitions = /etc/rabbitmq/definitions.json" in config
    for source in mounts:
        assert (DEPLOY / source).is_file(), source
    assert "127.0.0.1:15672:15672" in rabbit["ports"]


@pytest.mark.parametrize("package", ["stripe_sim", "orders", "payments", "notifier", "gateway"])
def test_variables_set_for_a_package_are_ones_its_settings_read(package) -> None:
    """Catches typos: every variable compose sets is a field of the package's Settings (once it exists)."""
    settings = importlib.import_module(f"{package}.settings").Settings
    fields = {(f.alias or name).upper() for name, f in settings.model_fields.items()}
    name = package.replace("_", "-")
    services = [s for n, s in SERVICES.items() if n == name or n.startswith(f"{name}-")]
    for service in services:
        tracing = {v for v in service["environment"] if v.startswith("OTEL_")}  # the OpenTelemetry SDK's
        assert set(service["environment"]) - {"HEALTHCHECK_URL"} - tracing <= fields
        required = {n.upper() for n, f in settings.model_fields.items() if f.is_required()}
        assert required <= set(service["environment"])


def test_dockerfile_installs_the_locked_workspace_and_runs_unprivileged() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?", text, re.M)
    assert [alias for _, alias in stages][-1] == "runtime"
    assert len(stages) >= 3
    runtime = text.split("AS runtime", 1)[1]
    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    for member in members:
        for folder in sorted(ROOT.glob(member)):
            pyproject = folder.relative_to(ROOT) / "pyproject.toml"
            assert f"COPY {pyproject} " in text, f"the build stage must copy {pyproject}"
    assert "uv sync --frozen --no-dev" in text
    assert re.search(r"^USER 10001", runtime, re.M)
    assert "HEALTHCHECK" in runtime
    assert "COPY --from=uv" not in runtime
    assert "uv sync" not in runtime
    assert not re.search(r"apt-get|gcc|build-essential", runtime)


def test_every_paybus_process_sends_its_traces_to_the_jaeger_beside_it() -> None:
    assert SERVICES["jaeger"]["ports"] == ["127.0.0.1:16686:16686"]  # the UI; OTLP stays on the network
    for process in PROCESSES:
        endpoint = SERVICES[process.name]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
        assert endpoint == "${OTEL_EXPORTER_OTLP_ENDPOINT-http://jaeger:4318}", process.name
